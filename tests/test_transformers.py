"""The same weights/ folder loads through transformers (TimmWrapper) and agrees with the timm route."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO_ROOT, subprocess_env
from digitsinsight.normalise import to_model_input
from digitsinsight.weights import BUNDLED_WEIGHTS
from hf_cache import seed_hf_cache

transformers = pytest.importorskip("transformers", reason="transformers is in requirements-dev.txt")


@pytest.fixture(scope="module")
def timm_top1(bundled_model, test_subset):
    with torch.no_grad():
        return bundled_model(to_model_input(test_subset[0])).argmax(1).numpy()


def test_auto_model_matches_timm_on_1000_test_digits(timm_top1, test_subset):
    model = transformers.AutoModelForImageClassification.from_pretrained(str(BUNDLED_WEIGHTS)).eval()
    assert model.config.id2label == {d: str(d) for d in range(10)}
    with torch.no_grad():
        logits = model(pixel_values=to_model_input(test_subset[0])).logits
    assert np.array_equal(logits.argmax(1).numpy(), timm_top1)


def test_pipeline_matches_timm_on_1000_test_digits(timm_top1, test_subset):
    classify = transformers.pipeline("image-classification", model=str(BUNDLED_WEIGHTS))
    images = [Image.fromarray(d) for d in test_subset[0]]  # grey: the pipeline converts to RGB itself
    top1 = np.array([int(r[0]["label"]) for r in classify(images, top_k=1, batch_size=100)])
    assert np.array_equal(top1, timm_top1)
    assert (top1 == test_subset[1]).mean() > 0.99


HUB_SCRIPT = r"""
import json, sys, numpy as np, torch
import digitsinsight
from digitsinsight.normalise import to_model_input
from transformers import AutoModelForImageClassification
model = AutoModelForImageClassification.from_pretrained("acme/digitnet-mnist", revision=sys.argv[2]).eval()
with torch.no_grad():
    print(json.dumps(model(pixel_values=to_model_input(np.load(sys.argv[1]))).logits.argmax(1).tolist()))
"""


def test_auto_model_from_the_hub_repo(tmp_path, timm_top1, test_subset):
    commit = seed_hf_cache(tmp_path / "hf", "acme/digitnet-mnist",
                           {n: BUNDLED_WEIGHTS / n for n in ("config.json", "model.safetensors", "metrics.json")})
    np.save(tmp_path / "digits.npy", test_subset[0])
    run = subprocess.run([sys.executable, "-c", HUB_SCRIPT, str(tmp_path / "digits.npy"), commit],
                         env=subprocess_env(HF_HOME=tmp_path / "hf", HF_HUB_OFFLINE=1, HF_ENDPOINT=None),
                         capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert np.array_equal(np.array(json.loads(run.stdout.strip().splitlines()[-1])), timm_top1)
