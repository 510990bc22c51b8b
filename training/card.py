"""Generate model_card.md from weights/metrics.json and weights/baselines.json.

    python -m training.card                 # writes model_card.md at the repository root
    python -m training.card --out -         # prints it

No figure is typed by hand: every number comes from the JSON files the training,
evaluation and baseline commands wrote.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from digitsinsight.weights import HUB_REPO_ID as DEFAULT_REPO_ID
from training.data import REPO_ROOT

TEMPLATE = """---
{{ card_data }}
---

# DigitNet for handwritten digits ({{ arch }})

A compact convolutional network that classifies a single 28x28 handwritten digit
(0-9, MNIST style). It is the classifier inside **DigitsInSight**, an app that reads
whole handwritten numbers: the app finds and normalises each digit, then asks this model.

| | |
|---|---|
| MNIST test accuracy | **{{ acc }}%** ({{ errors }} errors in {{ test_digits }} digits) |
| Parameters | {{ params }} |
| Weights | {{ size_kb }} KB, safetensors |
| Training time | {{ minutes }} min wall on {{ device }} ({{ cpus }} CPU cores); median epoch {{ epoch_s }} s x {{ epochs }} epochs |
| Validation accuracy (held out of training) | {{ val_acc }}% |

## Intended use and limits

- **Use:** classifying one handwritten digit 0-9 that has been prepared the way MNIST
  was: grey 28x28, ink bright on black, the digit fitted into a 20x20 box and centred
  by its centre of mass. DigitsInSight's reader does that preparation for whole numbers.
- **Not for:** letters, symbols, several digits in one image, or raw photos without that
  preparation; it always answers one of ten digits, so callers must reject
  non-digits themselves (DigitsInSight's reader adds a second small model, the split
  verifier in `verifier/`, that tells one digit from fragments, pairs and scribbles, and a
  line reader in `sequence/`, a CRNN (digitline_m: convolutions and two stacked bidirectional
  LSTMs, 1.46M parameters) trained with CTC on whole lines of MNIST training digits, that reads
  each line again without cutting it into digits, unless the line is plainly one digit).
- **Confidence:** trained with label smoothing, its raw softmax tops out near 0.9; divide
  the logits by the temperature in `metrics.json` ("calibration", {{ temperature }}, fitted on the
  validation digits) for probabilities that mean what they say.
- **Data:** MNIST (L. Deng, "The MNIST Database of Handwritten Digit Images for Machine
  Learning Research", IEEE Signal Processing Magazine, 2012): writers from the US Census
  Bureau and American high-school students. Digits written in other styles (for example
  a crossed 7 or a 1 with a long flag) are under-represented.

## Training recipe

Trained with `python -m training.train` from the DigitsInSight repository on
{{ train_digits }} training digits; {{ val_digits }} further training digits were held out
to choose the settings{{ split_note }}. The test set was used once, for the figures on this
card.{{ reader_note }}

| setting | value |
|---|---|
{{ recipe_rows }}

Augmentation (batched, one `grid_sample` per batch): {{ augment }}.

## Per-class accuracy (test set)

| digit | {{ digit_header }} |
|---|{{ digit_rule }}
| accuracy (%) | {{ per_class }} |

## Confusion matrix (rows: true digit, columns: predicted)

| true \\ pred | {{ digit_header }} |
|---|{{ digit_rule }}
{{ confusion_rows }}

## Compared with classical baselines

Same training split, same test digits, measured in one run by `python -m training.baselines`.

| model | test accuracy | fit (s) | predict 10,000 (s) |
|---|---|---|---|
{{ baseline_rows }}

## Inside DigitsInSight: whole numbers

{{ bench_section }}

## How to load it

With timm (the architecture is registered by the `digitsinsight` package):

```python
import timm, torch
import digitsinsight  # registers DigitNet with timm

model = timm.create_model("hf-hub:{{ repo_id }}", pretrained=True).eval()
x = torch.rand(1, 1, 28, 28)  # ink bright, pixels in [0, 1]
x = (x - model.pretrained_cfg["mean"][0]) / model.pretrained_cfg["std"][0]
print(model(x).softmax(-1))
```

With transformers (through its TimmWrapper classes):

```python
import digitsinsight  # registers DigitNet with timm
from transformers import AutoModelForImageClassification, pipeline

model = AutoModelForImageClassification.from_pretrained("{{ repo_id }}")
classify = pipeline("image-classification", model="{{ repo_id }}")
print(classify("digit.png"))  # a 28x28 MNIST-style digit
```

Or read whole numbers with DigitsInSight: `digitsinsight.load_model("hf-hub:{{ repo_id }}@<revision>")`.
"""


def table_rows(pairs) -> str:
    return "\n".join(f"| {k} | {v} |" for k, v in pairs)


BENCH_SUMMARY = REPO_ROOT / "bench" / "results" / "summary.json"


def load_bench_summary(path: Path = BENCH_SUMMARY) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def bench_section(summary: dict | None) -> str:
    """The reader's figures from the last `python -m bench` run, with the command that made them."""
    if not summary:
        return "Run `python -m bench` in the DigitsInSight repository for the reader's figures."
    lines = [f"Measured by `{summary['command'].strip()}` ({summary['machine']['cpu_count']} CPU cores, no GPU) "
             "on numbers generated from MNIST **test** digits, beside a typical demo that resizes the whole "
             "image to 28x28:", "", "| set | whole number right | typical demo | p50 latency |", "|---|---|---|---|"]
    for r in summary["reading"]["sets"]:
        if r["set"] == "negative":
            lines.append(f"| images with no digits | {100 * (1 - r['confident_wrong']):.1f}% rejected or flagged unsure "
                         f"| | {r['p50_ms']:.0f} ms |")
        else:
            name = r["set"] + (f" (as written, {r['written_label']}: {100 * r['written_match']:.1f}%)"
                               if "written_match" in r else "")
            lines.append(f"| {name} | {100 * r['exact_match']:.1f}% | {100 * r['typical_demo_exact_match']:.1f}% | "
                         f"{r['p50_ms']:.0f} ms |")
    speed = summary.get("digits_per_second", {})
    if speed:
        lines += ["", "Classifier throughput: " + ", ".join(f"{v:,} digits/s at batch {b}" for b, v in speed.items())
                  + "."]
    return "\n".join(lines)


READER_NOTE = (" `reader_style` is the share of training digits shown re-drawn the way the reader prepares "
               "them (binary ink at a random size and pen width, then the reader's own normalisation).")
SKETCH_NOTE = (" `sketch_style` is the share shown as drawn on a sketchpad (traced into strokes, redrawn with a "
               "round brush, then the reader's own normalisation).")


def split_note(recipe: dict) -> str:
    """What `held_out` "last" means, for the sentence on the held-out digits."""
    if recipe.get("held_out") != "last":
        return ""
    if recipe.get("val_size", 5000) == 5000:  # the digits training.sequence leaves out too (SPLIT = 55,000)
        return (" (`held_out` \"last\": training digits 55,000+, which the line reader and the reader's "
                "validation benchmark also keep unseen)")
    return " (`held_out` \"last\": the last ones)"


def render(metrics: dict, baselines: dict | None, repo_id: str, bench: dict | None = None) -> str:
    acc = 100 * metrics["test_accuracy"]
    eval_results = [EvalResult(task_type="image-classification", dataset_type="mnist", dataset_name="MNIST",
                               dataset_split="test", metric_type="accuracy", metric_value=round(acc, 2),
                               task_name="Image Classification", metric_name="Test accuracy (%)")]
    card_data = ModelCardData(
        library_name="timm", license="mit", datasets=["mnist"], metrics=["accuracy"],
        pipeline_tag="image-classification", tags=["image-classification", "timm", "transformers", "mnist"],
        model_name=f"DigitNet ({metrics['architecture']})", eval_results=eval_results)
    recipe = metrics.get("recipe", {})
    shown = ["model", "epochs", "batch_size", "optimizer", "lr", "schedule", "weight_decay",
             "label_smoothing", "ema", "ema_decay", "drop_rate", "reader_style", "sketch_style", "held_out", "seed",
             "processes"]
    augment = recipe.get("augment") or {}
    digits = range(10)
    cm = metrics["confusion_matrix"]
    base_rows = "| (run `python -m training.baselines`) | | | |"
    if baselines:
        base_rows = "\n".join(
            f"| {r['model']} | {100 * r['test_accuracy']:.2f}% | {r['fit_seconds']} | {r['predict_seconds']} |"
            for r in baselines["rows"])
    machine = metrics.get("machine", {})
    return ModelCard.from_template(
        card_data, template_str=TEMPLATE,
        arch=metrics["architecture"], repo_id=repo_id,
        acc=f"{acc:.2f}", errors=metrics["test_errors"], test_digits=f"{metrics['test_digits']:,}",
        params=f"{metrics.get('parameters', 0):,}", size_kb=round(metrics["weights_bytes"] / 1024),
        minutes=round(metrics.get("training_wall_seconds", 0) / 60, 1), device=machine.get("device", "?"),
        cpus=machine.get("cpu_count", "?"),
        val_acc=f"{100 * metrics['val_accuracy']:.2f}" if metrics.get("val_accuracy") is not None else "n/a",
        train_digits=f"{metrics.get('train_digits', 0):,}", val_digits=f"{metrics.get('val_digits', 0):,}",
        # sketch_style is listed only when used: recipes from before it, and most since, have none.
        recipe_rows=table_rows((k, recipe[k]) for k in shown
                               if k in recipe and (k != "sketch_style" or recipe[k])),
        split_note=split_note(recipe),
        reader_note=((READER_NOTE if recipe.get("reader_style") else "")
                     + (SKETCH_NOTE if recipe.get("sketch_style") else "")),
        augment=", ".join(f"{k} {v}" for k, v in augment.items()) or "none",
        digit_header=" | ".join(str(d) for d in digits), digit_rule="---|" * 10,
        per_class=" | ".join(f"{100 * a:.2f}" for a in metrics["per_class_accuracy"]),
        confusion_rows="\n".join(f"| **{d}** | " + " | ".join(str(c) for c in cm[d]) + " |" for d in digits),
        baseline_rows=base_rows,
        temperature=(metrics.get("calibration") or {}).get("temperature", 1.0),
        epoch_s=round(statistics.median([h["seconds"] for h in metrics.get("history", [])] or [0]), 1),
        epochs=len(metrics.get("history", [])),
        bench_section=bench_section(bench),
    ).content


def main(argv=None) -> str:
    p = argparse.ArgumentParser(prog="python -m training.card", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=REPO_ROOT / "weights")
    p.add_argument("--repo-id", default=DEFAULT_REPO_ID, help="Hub repo named in the loading examples")
    p.add_argument("--out", default=str(REPO_ROOT / "model_card.md"), help="file to write, or - for stdout")
    args = p.parse_args(argv)
    metrics = json.loads((args.weights / "metrics.json").read_text())
    baselines_file = args.weights / "baselines.json"
    baselines = json.loads(baselines_file.read_text()) if baselines_file.exists() else None
    text = render(metrics, baselines, args.repo_id, load_bench_summary())
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return text


if __name__ == "__main__":
    main()
