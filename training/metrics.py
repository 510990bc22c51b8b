"""Measure a model on labelled digits and write the shipped `weights/` folder.

`weights/` is a timm Hub-format folder: config.json + model.safetensors (never a
pickle), plus metrics.json, which the model card, the app's insights tab and the
benchmarks read their figures from.
"""
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import confusion_matrix
from timm.models import save_for_hf

from digitsinsight.model import LABEL_NAMES
from digitsinsight.normalise import to_model_input
from digitsinsight.reader import classify
from digitsinsight.weights import sha256_file


def machine_info(device) -> dict:
    """Where a model was trained, for its metrics.json."""
    import timm
    info = {"platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "device": str(device), "torch": torch.__version__, "timm": timm.__version__}
    if str(device).startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def predict_proba(model, images: np.ndarray, device="cpu", batch_size: int = 1000) -> np.ndarray:
    """Softmax probabilities (N, 10) for uint8 digits (N, 28, 28): the reader's own classify(),
    in batches (with the model's fitted temperature, where it has one)."""
    was_training = model.training
    model.eval()
    out = [classify(images[i:i + batch_size], model, device) for i in range(0, len(images), batch_size)]
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 10), np.float32)


def evaluate_arrays(model, images, labels, device="cpu", batch_size: int = 1000) -> dict:
    probs = predict_proba(model, images, device, batch_size)
    pred = probs.argmax(1)
    labels = np.asarray(labels).astype(int)
    cm = confusion_matrix(labels, pred, labels=list(range(10)))
    per_class = cm.diagonal() / np.maximum(cm.sum(1), 1)
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else float("nan"),
        "errors": int((pred != labels).sum()),
        "per_class_accuracy": [round(float(a), 5) for a in per_class],
        "confusion_matrix": cm.tolist(),  # rows: true digit, columns: predicted digit
        "predictions": pred,
        "probabilities": probs,
    }


def write_weights(model, architecture: str, out_dir: Path, test_x, test_y, device="cpu",
                  extra: dict | None = None) -> dict:
    """Evaluate `model` on the test digits, save it with timm and write metrics.json."""
    out_dir = Path(out_dir)
    model = model.eval().to("cpu", memory_format=torch.contiguous_format)
    result = evaluate_arrays(model, test_x, test_y, "cpu")
    save_for_hf(model, out_dir, safe_serialization=True)
    # timm records num_classes in model_args too; transformers' TimmWrapper then passes it twice
    # ("got multiple values for keyword argument 'num_classes'"). timm reloads the same without it.
    config_path = out_dir / "config.json"
    config = json.loads(config_path.read_text())
    config.get("model_args", {}).pop("num_classes", None)
    # TimmWrapper takes its id2label from a top-level label_names (timm keeps them in pretrained_cfg).
    config["label_names"] = list(model.pretrained_cfg.get("label_names") or LABEL_NAMES)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    weights_file = out_dir / "model.safetensors"
    metrics = {
        "architecture": architecture,
        "test_accuracy": round(result["accuracy"], 5),
        "test_errors": result["errors"],
        "test_digits": int(len(test_y)),
        "per_class_accuracy": result["per_class_accuracy"],
        "confusion_matrix": result["confusion_matrix"],
        "weights_bytes": weights_file.stat().st_size,
        "weights_sha256": sha256_file(weights_file),
        **(extra or {}),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


@torch.no_grad()
def logits_of(model, images: np.ndarray, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    cfg = model.pretrained_cfg
    return torch.cat([model(to_model_input(images[i:i + batch_size], cfg["mean"], cfg["std"]))
                      for i in range(0, len(images), batch_size)])


def fit_temperature(model, images: np.ndarray, labels: np.ndarray) -> dict:
    """Temperature scaling (Guo et al., 2017) on held-out digits: one scalar T, logits / T.

    Label smoothing caps the softmax near 0.9 even for perfect digits; dividing the logits by a
    fitted T makes the confidence the reader reports mean what it says. Accuracy is unchanged.
    """
    logits = logits_of(model, images)
    y = torch.as_tensor(np.asarray(labels).astype(np.int64))
    grid = torch.exp(torch.linspace(np.log(0.05), np.log(2.0), 200))
    nll = torch.stack([torch.nn.functional.cross_entropy(logits / t, y) for t in grid])
    best = int(nll.argmin())
    return {"temperature": round(float(grid[best]), 4), "digits": int(len(y)),
            "nll_before": round(float(torch.nn.functional.cross_entropy(logits, y)), 5),
            "nll_after": round(float(nll[best]), 5)}
