"""The shipped weights: accuracy, integrity, safe formats, and the same model through the Hub."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT, subprocess_env
from digitsinsight.weights import BUNDLED_WEIGHTS, WeightsError, load_model
from hf_cache import seed_hf_cache
from training.metrics import evaluate_arrays

HUB_FILES = ["config.json", "model.safetensors", "metrics.json"]


def test_shipped_weights_reach_99_70_on_the_full_test_set(mnist, bundled_model):
    result = evaluate_arrays(bundled_model, mnist.test_images, mnist.test_labels)
    print(f"bundled weights: {100 * result['accuracy']:.2f}% on 10,000 MNIST test digits")
    assert result["accuracy"] >= 0.9970
    # metrics.json (which the model card and the app quote) tells the truth about these weights.
    metrics = json.loads((BUNDLED_WEIGHTS / "metrics.json").read_text())
    assert metrics["test_errors"] == result["errors"]
    assert metrics["confusion_matrix"] == result["confusion_matrix"]


def test_shipped_folder_is_safetensors_only_and_small():
    names = {p.name for p in BUNDLED_WEIGHTS.iterdir()}
    assert {"config.json", "model.safetensors", "metrics.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt")) for n in names)
    assert (BUNDLED_WEIGHTS / "model.safetensors").stat().st_size <= 2 * 1024 * 1024
    config = json.loads((BUNDLED_WEIGHTS / "config.json").read_text())
    assert "num_classes" not in config.get("model_args", {})  # transformers' TimmWrapper needs this


def test_load_model_contract(bundled_model, test_subset):
    images, labels = test_subset
    assert load_model() is bundled_model  # loaded once, reused
    assert not bundled_model.training
    cfg = bundled_model.pretrained_cfg
    x = (torch.from_numpy(images).float()[:, None] / 255 - cfg["mean"][0]) / cfg["std"][0]
    with torch.no_grad():
        logits = bundled_model(x)
    assert logits.shape == (1000, 10) and logits.dtype == torch.float32
    assert (logits.argmax(1).numpy() == labels).mean() > 0.99


def test_loaded_models_have_batchnorm_folded_and_give_the_same_outputs(test_subset):
    # The reader's models run with each BatchNorm folded into its convolution (1.08-1.29x faster).
    # Same module names, no BatchNorm left, and the outputs of the plain timm model.
    import timm
    from digitsinsight.weights import load_line_reader, load_verifier
    from digitsinsight.normalise import to_model_input
    x = to_model_input(test_subset[0][:200])
    lines = torch.rand(3, 1, 32, 120)
    for loaded, sub, inputs in ((load_model(), "", x), (load_verifier(), "/verifier", x),
                                (load_line_reader(), "/sequence", lines)):
        plain = timm.create_model(f"local-dir:{BUNDLED_WEIGHTS}{sub}", pretrained=True).eval()
        assert any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in loaded.modules())
        assert [n for n, _ in loaded.named_modules()] == [n for n, _ in plain.named_modules()]
        with torch.no_grad():
            a, b = plain(inputs), loaded(inputs)
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4), (sub, float((a - b).abs().max()))
        assert torch.equal(a.argmax(-1), b.argmax(-1))


def test_altered_weights_are_refused(tmp_path):
    folder = tmp_path / "w"
    shutil.copytree(BUNDLED_WEIGHTS, folder, ignore=shutil.ignore_patterns("insights"))
    blob = bytearray((folder / "model.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(WeightsError, match="SHA-256"):
        load_model(f"local-dir:{folder}")


def test_pickled_weights_are_never_loaded(tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(BUNDLED_WEIGHTS / "config.json", folder)
    torch.save({"x": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(WeightsError, match="model.safetensors"):
        load_model(str(folder))


HUB_SCRIPT = r"""
import json, os, sys, numpy as np, torch, timm
import digitsinsight
from digitsinsight.normalise import to_model_input
images = np.load(sys.argv[1])
x = to_model_input(images)
hub = digitsinsight.load_model()  # from $DIGITSINSIGHT_MODEL
bundled = digitsinsight.load_model("local-dir:" + sys.argv[2])
# Laid out as load_model lays out its models (channels-last), so that outputs can be compared bit for bit.
direct = digitsinsight.weights.for_inference(timm.create_model(os.environ["DIGITSINSIGHT_MODEL"], pretrained=True))
with torch.no_grad():
    out = {"source": hub.pretrained_cfg["source"],
           "hub_equals_bundled": bool(torch.equal(hub(x), bundled(x))),
           "timm_hf_hub_equals_bundled": bool(torch.equal(direct(x), bundled(x))) and all(
               torch.equal(a, b) for a, b in zip(direct.state_dict().values(), bundled.state_dict().values()))}
try:
    digitsinsight.load_model("hf-hub:acme/digitnet-mnist@" + "f" * 40)
except Exception as e:
    out["unknown_revision"] = type(e).__name__
print(json.dumps(out))
"""


def test_hub_route_from_a_seeded_offline_cache_is_bit_identical(tmp_path, test_subset):
    commit = seed_hf_cache(tmp_path / "hf", "acme/digitnet-mnist", {n: BUNDLED_WEIGHTS / n for n in HUB_FILES})
    np.save(tmp_path / "digits.npy", test_subset[0])
    env = subprocess_env(HF_HOME=tmp_path / "hf", HF_HUB_OFFLINE=1, HF_ENDPOINT=None,
                         DIGITSINSIGHT_MODEL=f"hf-hub:acme/digitnet-mnist@{commit}")
    run = subprocess.run([sys.executable, "-c", HUB_SCRIPT, str(tmp_path / "digits.npy"), str(BUNDLED_WEIGHTS)],
                         env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["source"] == f"hf-hub:acme/digitnet-mnist@{commit}"
    assert out["hub_equals_bundled"] and out["timm_hf_hub_equals_bundled"]
    assert out["unknown_revision"]  # a revision that is not in the cache fails (offline), never silently
