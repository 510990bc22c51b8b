"""Evaluate a model on the 10,000 MNIST test digits and draw what the insights tab shows.

    python -m training.evaluate                      # the bundled weights/
    python -m training.evaluate --model hf-hub:ORG/NAME@<rev> --out /tmp/insights

Prints a JSON summary and writes, into --out (default weights/insights/):
confusion_matrix.png, per_class_accuracy.png, misclassified.png + misclassified.json,
training_curves.png (from metrics.json's history) and evaluation.json.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from digitsinsight.weights import BUNDLED_WEIGHTS, load_model  # noqa: E402
from training.data import load_mnist  # noqa: E402
from training.metrics import evaluate_arrays  # noqa: E402


def plot_confusion(cm: np.ndarray, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    # Log colour scale: the diagonal (about 1,000) would otherwise hide every mistake.
    shown = np.log10(cm + 1)
    im = ax.imshow(shown, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > shown.max() * 0.6 else "#1f2937")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title("Confusion matrix, MNIST test set (10,000 digits)")
    fig.colorbar(im, ax=ax, label="log10(count + 1)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_per_class(per_class: list, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    acc = 100 * np.array(per_class)
    ax.bar(range(10), acc, color="#2563eb")
    for d, a in enumerate(acc):
        ax.text(d, a + 0.02, f"{a:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(10))
    ax.set_ylim(max(0.0, acc.min() - 0.6), 100.15)
    ax.set_xlabel("digit")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Per-class accuracy, MNIST test set")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_misclassified(images, labels, pred, probs, path: Path, limit: int = 60) -> list:
    wrong = np.flatnonzero(pred != labels)[:limit]
    cols = 10
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.35), dpi=110, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    gallery = []
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"true {labels[i]} → {pred[i]}\n{100 * probs[i, pred[i]]:.0f}%", fontsize=7)
        gallery.append({"index": int(i), "true": int(labels[i]), "predicted": int(pred[i]),
                        "confidence": round(float(probs[i, pred[i]]), 4)})
    fig.suptitle("Misclassified test digits (true → predicted, confidence)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return gallery


def plot_history(history: list, path: Path) -> bool:
    if not history:
        return False
    epochs = [h["epoch"] for h in history]
    fig, ax1 = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    ax1.plot(epochs, [h["train_loss"] for h in history], color="#dc2626", label="training loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss (label-smoothed)", color="#dc2626")
    ax2 = ax1.twinx()
    ax2.plot(epochs, [100 * h["val_accuracy"] for h in history], color="#2563eb", label="validation accuracy")
    ax2.set_ylabel("validation accuracy (%)", color="#2563eb")
    ax1.set_title("Training curves (validation: 5,000 digits held out of training)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model source (default: bundled weights/)")
    p.add_argument("--out", type=Path, default=BUNDLED_WEIGHTS / "insights")
    p.add_argument("--limit", type=int, default=0, help="evaluate on only the first N test digits")
    args = p.parse_args(argv)

    data = load_mnist(verbose=False)
    images, labels = data.test_images, data.test_labels.astype(int)
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    model = load_model(args.model)
    t0 = time.perf_counter()
    result = evaluate_arrays(model, images, labels)
    seconds = time.perf_counter() - t0

    args.out.mkdir(parents=True, exist_ok=True)
    cm = np.array(result["confusion_matrix"])
    plot_confusion(cm, args.out / "confusion_matrix.png")
    plot_per_class(result["per_class_accuracy"], args.out / "per_class_accuracy.png")
    gallery = plot_misclassified(images, labels, result["predictions"], result["probabilities"],
                                 args.out / "misclassified.png")
    (args.out / "misclassified.json").write_text(json.dumps(gallery, indent=1) + "\n")
    metrics_file = Path(model.pretrained_cfg["folder"]) / "metrics.json"
    history = json.loads(metrics_file.read_text()).get("history", []) if metrics_file.exists() else []
    plot_history(history, args.out / "training_curves.png")

    summary = {
        "model": model.pretrained_cfg.get("source"),
        "test_digits": int(len(labels)),
        "test_accuracy": round(result["accuracy"], 5),
        "test_errors": result["errors"],
        "per_class_accuracy": result["per_class_accuracy"],
        "confusion_matrix": result["confusion_matrix"],
        "seconds": round(seconds, 3),
        "digits_per_second": round(len(labels) / seconds),
    }
    (args.out / "evaluation.json").write_text(json.dumps(summary, indent=1) + "\n")
    summary["artifacts"] = sorted(f.name for f in args.out.iterdir())
    json.dump(summary, sys.stdout, indent=1)
    print()
    return summary


if __name__ == "__main__":
    main()
