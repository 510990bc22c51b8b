"""Evaluation artifacts, classical baselines and the generated model card."""
import json
import subprocess
import sys

from huggingface_hub import ModelCard
from PIL import Image

from conftest import REPO_ROOT, subprocess_env
from digitsinsight.weights import BUNDLED_WEIGHTS
from training import card


def run_module(*args, timeout=600):
    run = subprocess.run([sys.executable, "-m", *args], env=subprocess_env(), capture_output=True, text=True,
                         timeout=timeout, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_evaluate_prints_a_summary_and_draws_the_insights(tmp_path):
    run = run_module("training.evaluate", "--out", str(tmp_path))
    summary = json.loads(run.stdout)
    metrics = json.loads((BUNDLED_WEIGHTS / "metrics.json").read_text())
    assert summary["test_digits"] == 10000
    assert summary["test_accuracy"] == metrics["test_accuracy"]
    for png in ("confusion_matrix.png", "per_class_accuracy.png", "misclassified.png", "training_curves.png"):
        with Image.open(tmp_path / png) as im:
            assert im.size[0] > 300 and im.size[1] > 150, png
    gallery = json.loads((tmp_path / "misclassified.json").read_text())
    assert len(gallery) == min(60, summary["test_errors"])
    assert all(g["true"] != g["predicted"] for g in gallery)


def test_baselines_sit_beside_the_cnn(tmp_path):
    out = tmp_path / "baselines.json"
    run_module("training.baselines", "--limit", "3000", "--out", str(out))
    rows = {r["model"].split(" ")[0]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"k-NN", "SVM", "DigitNet"}
    assert 0.85 < rows["k-NN"]["test_accuracy"] < rows["DigitNet"]["test_accuracy"]
    assert 0.85 < rows["SVM"]["test_accuracy"] < rows["DigitNet"]["test_accuracy"]
    assert all(r["predict_seconds"] > 0 for r in rows.values())


def test_model_card_is_generated_from_the_metrics_and_up_to_date():
    metrics = json.loads((BUNDLED_WEIGHTS / "metrics.json").read_text())
    bench = card.load_bench_summary()
    text = card.render(metrics, json.loads((BUNDLED_WEIGHTS / "baselines.json").read_text()), card.DEFAULT_REPO_ID,
                       bench)
    assert (REPO_ROOT / "model_card.md").read_text() == text, "run: python -m training.card"
    if bench:  # the reader's figures are quoted with the command that measured them
        assert f"`{bench['command'].strip()}`" in text
        clean = next(r for r in bench["reading"]["sets"] if r["set"] == "clean")
        assert f"{100 * clean['exact_match']:.1f}%" in text
    parsed = ModelCard(text)
    assert parsed.data.library_name == "timm" and parsed.data.datasets == ["mnist"]
    assert "transformers" in parsed.data.tags  # earned by tests/test_transformers.py
    result = parsed.data.eval_results[0]
    assert result.metric_type == "accuracy" and result.dataset_type == "mnist"
    assert result.metric_value == round(100 * metrics["test_accuracy"], 2)
    assert f"{100 * metrics['test_accuracy']:.2f}%" in text
    assert " | ".join(str(c) for c in metrics["confusion_matrix"][3]) in text
    for section in ("Intended use and limits", "Training recipe", "classical baselines", "How to load it"):
        assert section in text
    assert "sketch_style" not in text  # the shipped recipe shows no sketch-style digits ...
    sketched = dict(metrics, recipe=dict(metrics["recipe"], sketch_style=0.3))
    text = card.render(sketched, None, card.DEFAULT_REPO_ID, bench)
    assert "| sketch_style | 0.3 |" in text and "drawn on a sketchpad" in text  # ... a recipe that does, says so
