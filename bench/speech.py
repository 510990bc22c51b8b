"""Benchmark speech synthesis: how long a 6-digit number takes to say, per language and mode.

    python -m bench.speech                 # 50 timed runs per case
    python -m bench.speech --repeats 200 --no-neural

Offline voice (espeak-ng): median/p95 ms of speech.speak(..., voice="offline", cache=False) for
a 6-digit number in "number" and "digits" mode, every language; the cache is bypassed, so each
run synthesises. The target is a median of at most 50 ms.
Neural voice: the same number through coqui's TTS.api with a TINY RANDOM-WEIGHT VITS built
locally (tests/tiny_voice.py): real voices cannot be downloaded here, so this times the code
path (text processing, a VITS forward pass, conversion), not a real voice, which has far more
parameters (the count of the tiny one is recorded). Also the cost of `import TTS.api` (time and memory, in a fresh
process). Writes bench/results/speech.json and speech.md.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from digitsinsight import speech

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NUMBER = "427815"
TARGET_MS = 50.0


def timed(fn, repeats: int) -> dict:
    fn()  # warm-up: first-call set-up (library load, voice switch) is not what is measured
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(1000 * (time.perf_counter() - t))
    return {"median_ms": round(float(np.median(times)), 2), "p95_ms": round(float(np.percentile(times, 95)), 2),
            "audio_s": round(out.duration, 3), "runs": repeats}


def offline_rows(repeats: int) -> list:
    rows = []
    for language in speech.LANGUAGES:
        for mode in speech.MODES:
            row = timed(lambda lang=language, m=mode: speech.speak(NUMBER, lang, m, voice="offline", cache=False),
                        repeats)
            row.update(language=language, mode=mode, words=speech.number_words(NUMBER, language, mode))
            rows.append(row)
            print(f"offline {language} {mode:6s} median {row['median_ms']:6.2f} ms  p95 {row['p95_ms']:6.2f} ms"
                  f"  audio {row['audio_s']:.2f} s", file=sys.stderr, flush=True)
    return rows


def first_call_ms() -> float:
    """Cold start in a fresh process: loading libespeak-ng and its English voice, then one number."""
    code = ("import time; from digitsinsight import speech; t = time.perf_counter(); "
            f"speech.speak('{NUMBER}', voice='offline', cache=False); print(1000 * (time.perf_counter() - t))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return round(float(out.stdout.strip().splitlines()[-1]), 2)


def import_cost(runs: int = 3) -> dict:
    """Seconds (median of `runs` fresh processes) and peak RSS of `import torch` alone and of `import TTS.api`."""
    out = {}
    for module in ("torch", "TTS.api"):
        # VmHWM, not ru_maxrss: the latter keeps the parent's high-water mark across fork + exec
        code = ("import re, time; t = time.perf_counter(); import " + module + "; s = time.perf_counter() - t; "
                "print(s, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
        seconds, peaks = [], []
        for _ in range(runs):
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
            if res.returncode != 0:
                out[module] = {"error": (res.stderr.strip().splitlines() or ["failed"])[-1]}
                break
            s, kib = res.stdout.split()[-2:]
            seconds.append(float(s))
            peaks.append(int(kib) / 1024)
        else:
            out[module] = {"seconds": round(float(np.median(seconds)), 2), "peak_rss_mb": round(max(peaks))}
    return out


def neural_rows(repeats: int) -> dict:
    import importlib.util

    if importlib.util.find_spec("TTS") is None:
        return {"error": "coqui-tts is not installed"}

    with tempfile.TemporaryDirectory() as tmp:
        # built in another process, so that the load below pays for `import TTS.api`, as the app does
        subprocess.run([sys.executable, str(ROOT / "tests" / "tiny_voice.py"), tmp], check=True, cwd=ROOT,
                       capture_output=True)
        model_path, config_path = str(Path(tmp) / "model.pth"), str(Path(tmp) / "config.json")
        t = time.perf_counter()
        speech.start_neural_voice(f"en={model_path}:{config_path}")
        status = speech._wait_neural(timeout=300)
        load_s = time.perf_counter() - t
        if status["state"] != "ready":
            return {"error": status["error"]}
        tts = speech._neural_voices["en"].tts
        params = sum(p.numel() for p in tts.synthesizer.tts_model.parameters())
        out = {"model": f"tiny random-weight VITS (tests/tiny_voice.py, {params / 1e3:.0f}k parameters, "
                        f"{Path(model_path).stat().st_size / 2**20:.1f} MB; its audio is noise)",
               "load_s": round(load_s, 2), "parameters": params, "language": "en", "rows": []}
        for mode in speech.MODES:
            row = timed(lambda m=mode: speech.speak(NUMBER, "en", m, voice="neural", cache=False), repeats)
            row["mode"] = mode
            out["rows"].append(row)
            print(f"tiny neural en {mode:6s} median {row['median_ms']:6.2f} ms  p95 {row['p95_ms']:6.2f} ms",
                  file=sys.stderr, flush=True)
        speech._reset_neural()
    return out


def to_markdown(result: dict) -> str:
    lines = [(f"Speech for the 6-digit number {NUMBER}, cache bypassed, median of {result['repeats']} runs "
              f"(target: offline median ≤ {TARGET_MS:.0f} ms)."), "",
             "| voice | language | mode | median ms | p95 ms | audio s | words |", "|---|---|---|---|---|---|---|"]
    for r in result["offline"]:
        lines.append(f"| espeak-ng (offline) | {r['language']} | {r['mode']} | {r['median_ms']:.2f} | "
                     f"{r['p95_ms']:.2f} | {r['audio_s']:.2f} | {r['words']} |")
    neural = result.get("neural", {})
    for r in neural.get("rows", []):
        lines.append(f"| coqui, tiny random VITS (not a real voice) | en | {r['mode']} | {r['median_ms']:.2f} | "
                     f"{r['p95_ms']:.2f} | {r['audio_s']:.2f} | (noise) |")
    worst = max(r["median_ms"] for r in result["offline"])
    lines.append(f"\nOffline: slowest median {worst:.2f} ms: {'meets' if worst <= TARGET_MS else 'MISSES'} "
                 f"the ≤ {TARGET_MS:.0f} ms target. First call in a fresh process (library and voice load): "
                 f"{result['first_call_ms']:.1f} ms.")
    if "load_s" in neural:
        lines.append(f"\nNeural: {neural['model']}; loaded through TTS.api in {neural['load_s']:.2f} s in the "
                     "background thread, the import of TTS.api included. Real coqui voices cannot be downloaded "
                     "here, so only this code path is timed.")
    elif neural:
        lines.append(f"\nNeural: not measured ({neural.get('error')}).")
    for name, c in result.get("import_cost", {}).items():
        if "seconds" in c:
            lines.append(f"\n`import {name}` in a fresh process: {c['seconds']:.2f} s (median of 3), "
                         f"peak RSS {c['peak_rss_mb']} MB")
    lines.append(f"\nMachine: {result['machine']}; command: `{result['command']}`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.speech", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=50, help="timed runs per case")
    p.add_argument("--no-neural", action="store_true", help="skip the tiny neural model and the import cost")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    result = {"command": "python -m bench.speech " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                         f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
              "number": NUMBER, "repeats": args.repeats, "target_ms": TARGET_MS,
              "first_call_ms": first_call_ms(), "offline": offline_rows(args.repeats)}
    if not args.no_neural:
        result["neural"] = neural_rows(args.repeats)
        result["import_cost"] = import_cost()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speech.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (args.out / "speech.md").write_text(to_markdown(result))
    print(to_markdown(result))
    return result


if __name__ == "__main__":
    main()
