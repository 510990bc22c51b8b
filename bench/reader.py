"""Benchmark the number reader on generated sets (MNIST test digits only) and time it.

    python -m bench.reader                    # all sets, 200 images each, seed 0
    python -m bench.reader --n 50 --sets hard sketch
    python -m bench.reader --digits validation --seed 7 --model local-dir:runs/new --compare --no-latency --out runs/new

For each set (see bench/synth.py): exact-match accuracy (the whole number right), the
share read as confidently wrong, p50/p95 latency of read_number with the model loaded,
and, side by side on the same images, a "typical demo" reader (whole image resized to
28x28, one digit, no segmentation). On the negative set (no digits at all) it reports how
often a confident number is returned; on the punctuated set (amounts written with a decimal point
or thousands commas, one in five with a minus sign), the hyphenated set (phone numbers, dates and
codes in groups joined by hyphens) and the dated set (dates and fractions in groups joined by
slashes) also how often the number as written, its marks in place, is right. The boxed set holds
numbers written in printed boxes (an answer box, a form's row of boxes).
Writes bench/results/reader.json and reader.md.

--model reads with another classifier (a freshly trained weights/ folder, say) while the split
verifier and the line reader stay those of the bundled weights/ (or $DIGITSINSIGHT_MODEL), so a
new classifier is judged in the reader it would ship in; --compare reads every image with the
default classifier too and lists the images each reads right that the other does not.
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.synth import DigitPool, make_set, training_pool
from digitsinsight import load_model, read_number
from digitsinsight.image import load_image
from digitsinsight.reader import classify

RESULTS = Path(__file__).resolve().parent / "results"
SETS = ("clean", "hard", "sketch", "printed", "negative", "punctuated", "hyphenated", "dated", "boxed")
TARGETS = {"clean": 0.99, "hard": 0.95, "sketch": 0.995, "printed": 0.99}
# Sets written with marks besides digits (meta["written"]), and what "right as written" asks of them.
WRITTEN = {"punctuated": "sign, points and commas in place", "hyphenated": "hyphens in place",
           "dated": "slashes in place"}


def typical_demo(image, model) -> str:
    """What most public sketchpad demos do: the whole canvas resized to 28x28, one digit."""
    grey = load_image(image).grey
    if np.median(grey) > 0.5:  # they do at least invert white paper
        grey = 1 - grey
    small = cv2.resize(grey, (28, 28), interpolation=cv2.INTER_AREA)
    probs = classify((small * 255).astype(np.uint8)[None], model)
    return str(int(probs.argmax()))


def validation_pool() -> DigitPool:
    """MNIST training digits 55,000-59,999, for tuning the reader without looking at the test digits
    the figures are measured on. None of the reader's models trained on them: the classifier, the
    split verifier and the line reader (training.sequence.SPLIT) all hold them out."""
    from training.sequence import SPLIT
    return training_pool(SPLIT, 60_000)


def _right(kind: str, sample, reading) -> bool:
    if kind == "negative":  # right when nothing is read
        return reading.status == "no_digits" or reading.text == ""
    return reading.text == sample.text


def run_set(kind: str, n: int, seed: int, model, pool: DigitPool | None = None, baseline=None) -> dict:
    """One set read by `model`; with `baseline` (another classifier), each image is read by that one
    too, and the row says which images the model reads right that the baseline does not, and back."""
    t0 = time.perf_counter()
    samples = make_set(kind, n, seed, pool)
    gen_s = time.perf_counter() - t0
    read_number(samples[0].image, model)  # warm-up
    right = confident_wrong = demo_right = baseline_right = written_right = 0
    times, failures, misplaced, fixed, broken = [], [], [], [], []
    for i, s in enumerate(samples):
        t = time.perf_counter()
        r = read_number(s.image, model)
        times.append(time.perf_counter() - t)
        ok = _right(kind, s, r)
        right += ok
        if baseline is not None:
            b = read_number(s.image, baseline)
            b_ok = _right(kind, s, b)
            baseline_right += b_ok
            if ok != b_ok:
                (fixed if ok else broken).append({"image": i, "truth": s.text, "read": r.text,
                                                  "baseline_read": b.text})
        if kind == "negative":
            confident_wrong += r.status == "ok" and r.text != ""
            continue
        confident_wrong += (not ok) and r.status == "ok"
        demo_right += typical_demo(s.image, model) == s.text
        written = "\n".join(r.written_lines)
        written_ok = written == s.meta.get("written", s.text)
        written_right += written_ok
        if not ok and len(failures) < 50:
            failures.append({"truth": s.text, "read": r.text, "status": r.status, "meta": s.meta}
                            | ({"written": written} if "written" in s.meta else {}))
        if ok and not written_ok and len(misplaced) < 50:  # the digits right, a mark not
            misplaced.append({"truth": s.meta.get("written", s.text), "written": written, "meta": s.meta})
    ms = 1000 * np.array(times)
    row = {"set": kind, "images": n, "exact_match": right / n, "confident_wrong": confident_wrong / n,
           "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
           "generate_s": round(gen_s, 1), "failures": failures, "misplaced_separators": misplaced}
    if kind != "negative":
        row["typical_demo_exact_match"] = demo_right / n
        row["target"] = TARGETS.get(kind)
    if kind in WRITTEN:  # the digits, and the number as written (its marks in place)
        row.update(written_match=written_right / n, written_label=WRITTEN[kind])
    if baseline is not None:
        row.update(baseline_exact_match=baseline_right / n, fixed=fixed, broken=broken)
    return row


def single_digit_latency(model, repeats: int = 200) -> dict:
    """p50 of read_number on one sketched digit (the ≤ 20 ms target) and one 8-digit 1600x1200 photo."""
    from bench.synth import hard_number, sketch_digit

    rng = np.random.default_rng(123)
    pool = DigitPool()
    sketch = sketch_digit(rng, pool).image
    photo = None
    for _ in range(200):  # an 8-digit number on a full 1600x1200 page
        s = hard_number(rng, pool)
        if len(s.text) == 8 and max(s.image.shape[:2]) >= 1600:
            photo = s.image
            break
    out = {}
    for name, image in (("sketch_digit", sketch), ("photo_8_digits_1600x1200", photo)):
        if image is None:
            continue
        read_number(image, model)
        times = []
        for _ in range(repeats if name == "sketch_digit" else repeats // 4):
            t = time.perf_counter()
            read_number(image, model)
            times.append(time.perf_counter() - t)
        out[name] = {"p50_ms": round(1000 * float(np.median(times)), 2),
                     "p95_ms": round(1000 * float(np.percentile(times, 95)), 2),
                     "size": list(image.shape[:2][::-1])}
    return out


def to_markdown(result: dict) -> str:
    lines = ["| set | images | exact match | target | typical demo | confidently wrong | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["sets"]:
        if r["set"] == "negative":
            lines.append(f"| negative (no digits) | {r['images']} | rejected {100 * r['exact_match']:.1f}% | | "
                         f"| {100 * r['confident_wrong']:.1f}% | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |")
        else:
            target = f"{100 * r['target']:.1f}%" if r.get("target") else ""
            lines.append(f"| {r['set']} | {r['images']} | {100 * r['exact_match']:.1f}% | "
                         f"{target} | {100 * r['typical_demo_exact_match']:.1f}% | "
                         f"{100 * r['confident_wrong']:.1f}% | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |")
    for r in result["sets"]:
        if "written_match" in r:
            lines.append(f"\n{r['set']}: the digits right in {100 * r['exact_match']:.1f}%, the number as written "
                         f"({r['written_label']}) in {100 * r['written_match']:.1f}%.")
    compared = [r for r in result["sets"] if "baseline_exact_match" in r]
    if compared:
        lines += ["", f"Against `{result['baseline_model']}` on the same images (right: whole number; "
                      "negatives: nothing read):", "",
                  "| set | right, this model | right, baseline | fixed | broken |", "|---|---|---|---|---|"]
        lines += [f"| {r['set']} | {round(r['exact_match'] * r['images'])} | "
                  f"{round(r['baseline_exact_match'] * r['images'])} | {len(r['fixed'])} | {len(r['broken'])} |"
                  for r in compared]
    for name, t in result.get("latency", {}).items():
        lines.append(f"\n{name}: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms ({t['size'][0]}x{t['size'][1]})")
    lines.append(f"\nMachine: {result['machine']}; torch threads {result['threads']}; "
                 f"command: `{result['command']}`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.reader", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="images per set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    p.add_argument("--digits", choices=("test", "validation"), default="test",
                   help="MNIST digits to draw numbers from: test (the reported figures) or validation "
                        "(training digits 55,000+, for tuning; use another --seed too for printed/negative)")
    p.add_argument("--no-latency", action="store_true", help="skip the single-image latency runs")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--model", default=None,
                   help="classifier source (local-dir:PATH, hf-hub:ORG/NAME); default: bundled weights/ or "
                        "$DIGITSINSIGHT_MODEL, whose split verifier and line reader are used either way")
    p.add_argument("--compare", action="store_true",
                   help="with --model: read every image with the default classifier too, and list the images "
                        "each reads right that the other does not")
    args = p.parse_args(argv)
    if args.compare and not args.model:
        p.error("--compare needs --model (the classifier to compare with the default one)")

    model = load_model(args.model)
    result = {"command": "python -m bench.reader " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": model.pretrained_cfg["source"],
              "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
              "threads": torch.get_num_threads(), "sets": []}
    pool = validation_pool() if args.digits == "validation" else None
    baseline = load_model() if args.compare else None
    if baseline is not None:
        result["baseline_model"] = baseline.pretrained_cfg["source"]
    for kind in args.sets:
        row = run_set(kind, args.n, args.seed, model, pool, baseline)
        result["sets"].append(row)
        print(f"{kind:9s} exact {100 * row['exact_match']:5.1f}%  confident-wrong {100 * row['confident_wrong']:4.1f}%"
              f"  demo {100 * row.get('typical_demo_exact_match', float('nan')):5.1f}%  p50 {row['p50_ms']:.1f} ms",
              file=sys.stderr, flush=True)
    if not args.no_latency:
        result["latency"] = single_digit_latency(model)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reader.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "reader.md").write_text(to_markdown(result))
    print(to_markdown(result))
    return result


if __name__ == "__main__":
    main()
