"""python -m bench.load: many people at once against `python app.py` on 127.0.0.1.

1. --sessions gradio_client sessions (default 50), each sending --requests (default 20)
   /read_number calls one after another, all sessions at once: failures, p50/p95/p99 latency,
   throughput, and the server's RSS growth from after warm-up to the end.
2. Past the queue's limit: a server started with a queue of 4 gets 40 calls at once; the ones
   beyond the limit must fail fast with a message saying the app is busy, not hang.

Writes bench/results/load.md and load.json. tests/test_load.py runs a small version.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.app import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results"
EXAMPLES = REPO_ROOT / "examples"


class Server:
    """`python app.py` in a subprocess, on a free port, with extra environment."""

    def __init__(self, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        full = dict(os.environ, GRADIO_SERVER_PORT=str(self.port), GRADIO_ANALYTICS_ENABLED="False",
                    PYTHONPATH=str(REPO_ROOT), **{k: str(v) for k, v in env.items()})
        full.pop("GRADIO_SERVER_NAME", None)
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=full,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "gradio_api/info", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError("app.py did not start")

    def rss_mb(self) -> float:
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def example_files() -> list:
    made = json.loads((EXAMPLES / "examples.json").read_text())
    return [(EXAMPLES / e["file"], e["number"]) for e in made]


def sessions(url: str, n_sessions: int, n_requests: int, timeout: float = 600.0) -> dict:
    """n_sessions clients at once, each n_requests calls in turn. Returns latencies and failures."""
    from gradio_client import Client, handle_file

    files = example_files()
    latencies, failures, wrong = [], [], 0
    lock = threading.Lock()
    start = threading.Barrier(n_sessions)

    def one_session(k: int):
        nonlocal wrong
        client = Client(url, verbose=False)
        start.wait(timeout)
        for i in range(n_requests):
            path, number = files[(k + i) % len(files)]
            t0 = time.perf_counter()
            try:
                result = client.predict(handle_file(str(path)), api_name="/read_number")
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    wrong += result["number"] != number
            except Exception as e:
                with lock:
                    failures.append(str(e)[:200])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(n_sessions) as pool:
        for f in [pool.submit(one_session, k) for k in range(n_sessions)]:
            f.result(timeout=timeout)
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1000
    return {"sessions": n_sessions, "requests_each": n_requests, "ok": len(latencies), "failed": len(failures),
            "wrong_numbers": wrong, "failures": failures[:5], "wall_s": round(wall, 1),
            "requests_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "p95_ms": round(float(np.percentile(ms, 95)), 1) if len(ms) else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None}


def overflow(url: str, n_calls: int = 40) -> dict:
    """n_calls at once against a server with a small queue: how many were told it is busy, how fast."""
    from gradio_client import Client, handle_file

    path = EXAMPLES / "hard-3.png"
    client = Client(url, verbose=False)
    outcomes = []
    lock = threading.Lock()

    def call():
        t0 = time.perf_counter()
        try:
            client.predict(handle_file(str(path)), api_name="/read_number")
            kind, message = "ok", ""
        except Exception as e:
            kind, message = "refused", str(e)
        with lock:
            outcomes.append((kind, message, time.perf_counter() - t0))

    threads = [threading.Thread(target=call) for _ in range(n_calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    failed = [o for o in outcomes if o[0] == "refused"]
    busy = [o for o in failed if "queue is full" in o[1].lower()]  # told to come back, as it should be
    other = [o for o in failed if o not in busy]
    return {"calls": n_calls, "answered": len(outcomes) - len(failed), "refused": len(busy),
            "other_failures": len(other), "other_failure_message": other[0][1][:200] if other else "",
            "hung": n_calls - len(outcomes), "refusal_message": busy[0][1][:200] if busy else "",
            "slowest_refusal_s": round(max((o[2] for o in busy), default=0.0), 2)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    with Server(DIGITSINSIGHT_QUEUE_SIZE=max(64, args.sessions * 2)) as server:
        started = server.rss_mb()
        # Warm-up: one burst as wide as the run, so threads, arenas and caches exist before memory
        # is measured; what grows after that over the run is what would keep growing.
        sessions(server.url, args.sessions, 2)
        before = server.rss_mb()
        load = sessions(server.url, args.sessions, args.requests)
        load["rss_started_mb"], load["rss_before_mb"] = round(started, 1), round(before, 1)
        load["rss_after_mb"] = round(server.rss_mb(), 1)
        load["rss_growth_mb"] = round(load["rss_after_mb"] - before, 1)
    print(json.dumps(load, indent=1))
    with Server(DIGITSINSIGHT_QUEUE_SIZE=4, DIGITSINSIGHT_WORKERS=1) as server:
        busy = overflow(server.url)
    print(json.dumps(busy, indent=1))

    result = {"load": load, "overflow": busy, "machine": {"platform": platform.platform(),
                                                         "cpu_count": os.cpu_count()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "load.md").write_text(
        "# Load (`python -m bench.load`)\n\n"
        f"{load['sessions']} gradio_client sessions x {load['requests_each']} `/read_number` calls at once, "
        "on the app's example images, against `python app.py` on 127.0.0.1.\n\n"
        "| what | figure |\n|---|---|\n"
        f"| requests answered / failed | {load['ok']} / {load['failed']} |\n"
        f"| numbers read wrong | {load['wrong_numbers']} |\n"
        f"| latency p50 / p95 / p99 | {load['p50_ms']} / {load['p95_ms']} / {load['p99_ms']} ms |\n"
        f"| throughput | {load['requests_per_s']} requests/s ({load['wall_s']} s in all) |\n"
        f"| server RSS: started → after a warm-up burst of {load['sessions']} x 2 → after the run | "
        f"{load['rss_started_mb']} → {load['rss_before_mb']} → {load['rss_after_mb']} MB "
        f"({load['rss_growth_mb']:+} MB over the run) |\n"
        f"| past the queue limit (queue 4, 1 worker, {busy['calls']} calls at once) | {busy['answered']} answered, "
        f"{busy['refused']} told \"{busy['refusal_message'][:80]}\" within {busy['slowest_refusal_s']} s, "
        f"{busy['other_failures']} other failures, {busy['hung']} hung |\n")
    return result


if __name__ == "__main__":
    main()
