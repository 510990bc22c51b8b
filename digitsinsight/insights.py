"""The model's figures, read from the training artifacts beside its weights.

`python -m training.train` writes metrics.json, `python -m training.baselines` baselines.json and
`python -m training.evaluate` the insights/ folder; the app shows what these files say and
types no figure of its own.
"""
import json
from pathlib import Path

from .weights import BUNDLED_WEIGHTS

INSIGHT_IMAGES = {  # file in insights/ -> caption
    "confusion_matrix.png": "Confusion matrix on the 10,000 MNIST test digits (rows: true digit)",
    "per_class_accuracy.png": "Accuracy per digit",
    "training_curves.png": "Training loss and validation accuracy per epoch",
    "misclassified.png": "Test digits the model gets wrong",
}


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def metrics(folder: Path = BUNDLED_WEIGHTS) -> dict:
    return _json(Path(folder) / "metrics.json") or {}


def key_figures(folder: Path = BUNDLED_WEIGHTS) -> dict:
    """The handful of figures the home page shows; empty when the model has no metrics.json."""
    m = metrics(folder)
    if not m:
        return {}
    figures = {"architecture": m.get("architecture", "?"), "test_accuracy": m.get("test_accuracy"),
               "test_errors": m.get("test_errors"), "test_digits": m.get("test_digits"),
               "parameters": m.get("parameters"), "weights_bytes": m.get("weights_bytes"),
               "val_accuracy": m.get("val_accuracy"), "train_digits": m.get("train_digits")}
    base = _json(Path(folder) / "baselines.json") or {}
    classical = [r for r in base.get("rows", []) if "CNN" not in r["model"]]
    if classical:
        best = max(classical, key=lambda r: r["test_accuracy"])
        figures["best_baseline"] = {"model": best["model"], "test_accuracy": best["test_accuracy"]}
    return figures


def key_figures_markdown(folder: Path = BUNDLED_WEIGHTS) -> str:
    f = key_figures(folder)
    if not f or f.get("test_accuracy") is None:
        return "*This model has no recorded figures (no metrics.json beside its weights).*"
    parts = [f"**{100 * f['test_accuracy']:.2f}%** of the {f['test_digits']:,} MNIST test digits read right "
             f"({f['test_errors']} errors)",
             f"**{f['parameters']:,}** parameters, {f['weights_bytes'] / 1e6:.1f} MB of weights "
             f"(`{f['architecture']}`)"]
    if "best_baseline" in f:
        b = f["best_baseline"]
        errors_cnn = 1 - f["test_accuracy"]
        errors_base = 1 - b["test_accuracy"]
        parts.append(f"{errors_base / errors_cnn:.1f}x fewer errors than the best classical baseline "
                     f"({b['model']}: {100 * b['test_accuracy']:.2f}%)")
    return "\n".join(f"- {p}" for p in parts)


def per_class_rows(folder: Path = BUNDLED_WEIGHTS) -> list:
    """[digit, test digits, errors, accuracy %, most often mistaken for] per class."""
    m = metrics(folder)
    cm = m.get("confusion_matrix")
    if not cm:
        return []
    rows = []
    for k, row in enumerate(cm):
        total = sum(row)
        wrong = {j: n for j, n in enumerate(row) if j != k and n}
        worst = max(wrong, key=wrong.get) if wrong else None
        rows.append([k, total, total - row[k], round(100 * row[k] / total, 2) if total else None,
                     f"{worst} ({wrong[worst]}x)" if worst is not None else "—"])
    return rows


def baseline_rows(folder: Path = BUNDLED_WEIGHTS) -> list:
    """[model, test accuracy %, errors per 10,000, fit s, predict s] per model, best last."""
    base = _json(Path(folder) / "baselines.json") or {}
    rows = sorted(base.get("rows", []), key=lambda r: r["test_accuracy"])
    return [[r["model"], round(100 * r["test_accuracy"], 2), round(10000 * (1 - r["test_accuracy"])),
             r.get("fit_seconds"), r.get("predict_seconds")] for r in rows]


def insight_images(folder: Path = BUNDLED_WEIGHTS) -> list:
    """[(path, caption)] of the evaluation plots that exist."""
    found = []
    for name, caption in INSIGHT_IMAGES.items():
        path = Path(folder) / "insights" / name
        if path.exists():
            found.append((str(path), caption))
    return found
