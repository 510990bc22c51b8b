"""python -m bench: every figure DigitsInSight quotes, in one run on one machine.

    python -m bench                 # about 10 minutes on 2 CPU cores
    python -m bench --n 50 --quick  # a few minutes: smaller sets, no load test

1. MNIST test accuracy: the CNN beside the classical baselines the project trains (k-NN, RBF SVM)
   on the same 10,000 test digits (training/baselines.py).
2. Whole numbers read right on the generated sets (bench/synth.py, MNIST test digits only),
   beside a "typical demo" reader (whole image resized to 28x28) on the same images, and
   p50/p95 latency of read_number in-process (bench/reader.py).
3. Digits per second through the classifier at batch 1, 64 and 256.
4. Hostile inputs (bench/hostile.py, 200+ broken, odd or empty files): time per case through the
   Python API, p50 / p95 / slowest.
5. The app: cold start of `python app.py`, /read_number over HTTP (p50/p95) and its ratio to
   a bare Gradio app on the same payload, the server's peak memory (bench/app.py).
6. Load: 50 sessions x 20 requests, and the queue's "busy" answer (bench/load.py; --quick skips it).
7. Peak memory of this process (reader and classifier in-process).

Each part also writes its own file in bench/results/; this writes summary.md and summary.json.
"""
import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"


def throughput(model, images: np.ndarray, batches=(1, 64, 256), seconds: float = 3.0) -> dict:
    """Digits per second through the classifier (the reader's classify(), calibrated softmax included)."""
    from digitsinsight.reader import classify

    out = {}
    for b in batches:
        batch = images[:b]
        classify(batch, model)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            classify(batch, model)
            n += b
        out[str(b)] = round(n / (time.perf_counter() - t0))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="images per generated set")
    p.add_argument("--quick", action="store_true", help="skip the load test and time fewer app calls")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    from bench import app as app_bench
    from bench import hostile as hostile_bench
    from bench import load as load_bench
    from bench import reader as reader_bench
    from digitsinsight import load_model
    from training import baselines
    from training.data import load_mnist

    print("1/6 MNIST: CNN and baselines", file=sys.stderr, flush=True)
    mnist = baselines.main(["--out", str(args.out / "baselines.json")])
    print("2/6 reading generated numbers", file=sys.stderr, flush=True)
    reading = reader_bench.main(["--n", str(args.n), "--out", str(args.out)])
    print("3/6 digits per second", file=sys.stderr, flush=True)
    model = load_model()
    speed = throughput(model, load_mnist(verbose=False).test_images)
    print("4/6 hostile inputs", file=sys.stderr, flush=True)
    hostile = hostile_bench.main(["--out", str(args.out)])
    print("5/6 the app over HTTP", file=sys.stderr, flush=True)
    web = app_bench.main(["--runs", "3", "--calls", "20" if args.quick else "40", "--out", str(args.out)])
    load = None
    if not args.quick:
        print("6/6 load", file=sys.stderr, flush=True)
        load = load_bench.main(["--out", str(args.out)])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    summary = {"command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
               "mnist": mnist, "reading": reading, "digits_per_second": speed, "hostile": hostile, "app": web, "load": load,
               "bench_process_peak_rss_mb": round(peak_mb, 1), "wall_minutes": round((time.perf_counter() - t_start) / 60, 1),
               "machine": {"platform": platform.platform(), "processor": platform.processor(),
                           "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "torch": torch.__version__}}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    (args.out / "summary.md").write_text(to_markdown(summary))
    print(to_markdown(summary))
    return summary


def to_markdown(s: dict) -> str:
    L = [f"# DigitsInSight benchmark (`{s['command'].strip()}`)", "",
         f"{s['machine']['platform']}, {s['machine']['cpu_count']} CPUs, torch {s['machine']['torch']} "
         f"({s['machine']['torch_threads']} threads); {s['wall_minutes']} min in all.", "",
         "## MNIST test digits (10,000)", "", "| model | accuracy | errors | fit s | predict s |", "|---|---|---|---|---|"]
    for r in s["mnist"]["rows"]:
        L.append(f"| {r['model']} | {100 * r['test_accuracy']:.2f}% | {round(10000 * (1 - r['test_accuracy']))} | "
                 f"{r['fit_seconds']} | {r['predict_seconds']} |")
    L += ["", "## Whole numbers read right (generated from MNIST test digits)", "",
          "| set | images | DigitsInSight | typical demo (resize to 28x28) | gain | target | confidently wrong | "
          "p50 / p95 ms |", "|---|---|---|---|---|---|---|---|"]
    for r in s["reading"]["sets"]:
        if r["set"] == "negative":
            L.append(f"| no digits at all | {r['images']} | rejected or flagged {100 * (1 - r['confident_wrong']):.1f}% "
                     f"(rejected outright {100 * r['exact_match']:.1f}%) | | | | {100 * r['confident_wrong']:.1f}% | "
                     f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} |")
        else:
            demo = r["typical_demo_exact_match"]
            gain = f"{r['exact_match'] / demo:.1f}x" if demo else "∞"
            target = f"{100 * r['target']:.1f}%" if r.get("target") else ""
            name = r["set"] + (f" (as written, {r['written_label']}: {100 * r['written_match']:.1f}%)"
                               if "written_match" in r else "")
            L.append(f"| {name} | {r['images']} | {100 * r['exact_match']:.1f}% | {100 * demo:.1f}% | {gain} | "
                     f"{target} | {100 * r['confident_wrong']:.1f}% | {r['p50_ms']:.0f} / "
                     f"{r['p95_ms']:.0f} |")
    lat = s["reading"].get("latency", {})
    L += ["", "## Speed", "", "| what | figure |", "|---|---|"]
    for name, t in lat.items():
        L.append(f"| read_number in-process, {name.replace('_', ' ')} (p50 / p95) | {t['p50_ms']} / {t['p95_ms']} ms |")
    for b, v in s["digits_per_second"].items():
        L.append(f"| classifier, batch {b} | {v:,} digits/s |")
    h = s.get("hostile")
    if h:
        L.append(f"| read_number in-process, {h['cases']} hostile inputs (p50 / p95 / slowest) | {h['p50_ms']} / "
                 f"{h['p95_ms']} / {h['max_ms']} ms ({h['slowest'][0]['case']}) |")
    a = s["app"]
    L.append(f"| cold start, `python app.py` to serving (median of 3) | {a['startup_median_s']} s |")
    for label, t in a["round_trips"].items():
        L.append(f"| /read_number over HTTP, {label} (p50 / p95) | {t['ours_median_ms']:.0f} / {t['ours_p95_ms']:.0f} ms "
                 f"(bare Gradio app {t['bare_median_ms']:.0f} ms: ratio {t['ratio_median']:.2f}) |")
    L.append(f"| peak memory: app server / this bench process | {a.get('server_peak_rss_mb')} / "
             f"{s['bench_process_peak_rss_mb']} MB |")
    if s.get("load"):
        ld, busy = s["load"]["load"], s["load"]["overflow"]
        L += ["", "## Load", "", "| what | figure |", "|---|---|",
              f"| {ld['sessions']} sessions x {ld['requests_each']} requests: answered / failed | {ld['ok']} / {ld['failed']} |",
              f"| latency p50 / p95 / p99 | {ld['p50_ms']} / {ld['p95_ms']} / {ld['p99_ms']} ms |",
              f"| server RSS: started / after a warm-up burst / after the run | {ld.get('rss_started_mb')} / "
              f"{ld['rss_before_mb']} / {ld['rss_after_mb']} MB ({ld['rss_growth_mb']:+} MB over the run) |",
              f"| past the queue limit | {busy['refused']} of {busy['calls']} told \"{busy['refusal_message'][:40]}\" "
              f"within {busy['slowest_refusal_s']} s; {busy['hung']} hung |"]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
