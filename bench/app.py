"""python -m bench.app: how fast the app starts and what HTTP adds to a reading.

1. Start-up: `python app.py` is started --runs times; the time until its HTTP API answers
   (GET /gradio_api/info) is the time to ready. `python -c "import torch, timm, gradio"` is
   timed beside it: the part no app code can remove.
2. Round trip: /read_number through gradio_client on two payloads, a drawn number as the
   sketchpad sends it (PNG, 1000x400) and an 8-digit photo (JPEG, 1600x1200), against a bare
   Gradio app (same input and output components) that returns a constant for the same payload.
   Both servers run at once and calls alternate, so both see the same machine.

Writes bench/results/app.md and app.json.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results"

BARE_APP = '''
import os, gradio as gr
with gr.Blocks() as demo:
    f = gr.File(type="filepath"); out = gr.JSON()
    gr.Button().click(lambda path: {"number": "12345678", "status": "ok"}, f, out, api_name="read_number")
demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1", server_port=int(os.environ["PORT"]))
'''


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc, timeout: float = 120.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("server not ready")


def start(cmd: list, port: int) -> tuple:
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False", PORT=str(port),
               PYTHONPATH=str(REPO_ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc, wait_ready(port, proc) - t0
    except BaseException:
        stop(proc)
        raise


def peak_rss_mb(proc) -> float:
    """The process's peak resident memory so far (VmHWM)."""
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def photo(path: Path) -> str:
    """An 8-digit number on a 1600x1200 page, as the hard set makes them, saved as a phone would (JPEG)."""
    from PIL import Image

    from bench.synth import DigitPool, default_pool, hard_number  # noqa: F401

    rng = np.random.default_rng(8)
    pool = default_pool()
    while True:
        s = hard_number(rng, pool)
        if len(s.text) == 8 and s.image.shape[:2] == (1200, 1600):
            Image.fromarray(s.image).save(path, quality=90)
            return s.text


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="start-ups to time")
    p.add_argument("--calls", type=int, default=40, help="round trips per server")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    imports = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, timm, gradio"], check=True, cwd=REPO_ROOT,
                       env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False"))
        imports.append(time.perf_counter() - t0)
    startups = []
    for _ in range(args.runs):
        proc, seconds = start([sys.executable, "app.py"], free_port())
        startups.append(seconds)
        stop(proc)
    print(f"start-up to ready: median {statistics.median(startups):.1f} s {['%.1f' % s for s in startups]}; "
          f"imports alone {statistics.median(imports):.1f} s")

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as tmp:
        made = json.loads((REPO_ROOT / "examples" / "examples.json").read_text())
        drawn = next(e for e in made if e["kind"] == "drawn")
        payloads = {"drawn number, PNG 1000x400": (REPO_ROOT / "examples" / drawn["file"], drawn["number"])}
        jpeg = Path(tmp) / "photo.jpg"
        payloads["8-digit photo, JPEG 1600x1200"] = (jpeg, photo(jpeg))
        bare_file = Path(tmp) / "bare_app.py"
        bare_file.write_text(BARE_APP)
        ours_port, bare_port = free_port(), free_port()
        ours, _ = start([sys.executable, "app.py"], ours_port)
        try:
            bare, _ = start([sys.executable, str(bare_file)], bare_port)
        except BaseException:
            stop(ours)
            raise
        trips = {}
        try:
            clients = {"ours": Client(f"http://127.0.0.1:{ours_port}/", verbose=False),
                       "bare": Client(f"http://127.0.0.1:{bare_port}/", verbose=False)}
            for label, (image, truth) in payloads.items():
                times, read = {"ours": [], "bare": []}, None
                for i in range(args.calls + 3):
                    for name in (("ours", "bare") if i % 2 else ("bare", "ours")):
                        t0 = time.perf_counter()
                        out = clients[name].predict(handle_file(str(image)), api_name="/read_number")
                        if i >= 3:  # the first calls warm connections and caches
                            times[name].append(time.perf_counter() - t0)
                        if name == "ours":
                            read = out["number"]
                med = {k: statistics.median(v) for k, v in times.items()}
                trips[label] = {"ours_median_ms": round(1000 * med["ours"], 1),
                                "ours_p95_ms": round(1000 * float(np.percentile(times["ours"], 95)), 1),
                                "bare_median_ms": round(1000 * med["bare"], 1),
                                "bare_p95_ms": round(1000 * float(np.percentile(times["bare"], 95)), 1),
                                "ratio_median": round(med["ours"] / med["bare"], 3), "truth": truth, "read": read}
                print(f"/read_number, {label}: ours {1000 * med['ours']:.0f} ms, bare {1000 * med['bare']:.0f} ms, "
                      f"ratio {med['ours'] / med['bare']:.2f} (read {read!r}, truth {truth!r})")
        finally:
            server_peak_mb = peak_rss_mb(ours)
            stop(ours)
            stop(bare)

    result = {"startup_seconds": [round(x, 2) for x in startups],
              "startup_median_s": round(statistics.median(startups), 2),
              "imports_median_s": round(statistics.median(imports), 2), "round_trips": trips, "calls": args.calls,
              "server_peak_rss_mb": round(server_peak_mb, 1),
              "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "app.json").write_text(json.dumps(result, indent=1) + "\n")
    rows = "".join(f"| /read_number round trip, {label} (median / p95) | {t['ours_median_ms']:.0f} / "
                   f"{t['ours_p95_ms']:.0f} ms; bare Gradio {t['bare_median_ms']:.0f} / {t['bare_p95_ms']:.0f} ms; "
                   f"**ratio {t['ratio_median']:.2f}** |\n" for label, t in trips.items())
    (args.out / "app.md").write_text(
        "# App start-up and HTTP overhead (`python -m bench.app`)\n\n"
        "| what | figure |\n|---|---|\n"
        f"| `python app.py` to ready, model loaded and warmed (median of {args.runs}) | "
        f"{result['startup_median_s']:.1f} s |\n"
        f"| `import torch, timm, gradio` alone | {result['imports_median_s']:.1f} s |\n"
        f"| server peak memory (VmHWM) after the round trips | {server_peak_mb:.0f} MB |\n" + rows +
        f"\nRatio: our round trip over a bare Gradio app's that returns a constant for the same payload "
        f"(target ≤ 1.3). {args.calls} calls each, alternating; {platform.platform()}, {os.cpu_count()} CPUs.\n")
    return result


if __name__ == "__main__":
    main()
