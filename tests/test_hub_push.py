"""python -m training.push_to_hub against a stand-in Hub on 127.0.0.1: the bytes that arrive are ours."""
import json
import subprocess
import sys

import pytest
from huggingface_hub import ModelCard

from conftest import REPO_ROOT, subprocess_env
from digitsinsight.weights import BUNDLED_WEIGHTS
from hub_server import FakeHub

TOKEN = "hf_test_token"


def push(hub, *args, token=TOKEN):
    env = subprocess_env(HF_ENDPOINT=hub.url, HF_TOKEN=token, HF_HUB_OFFLINE=None, HF_HOME=None)
    return subprocess.run([sys.executable, "-m", "training.push_to_hub", "--repo-id", "acme/digitnet-mnist", *args],
                          env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)


@pytest.fixture()
def hub():
    with FakeHub(expected_token=TOKEN) as server:
        yield server


def assert_uploaded_our_files(files: dict):
    for name in ("config.json", "model.safetensors", "metrics.json",
                 "verifier/model.safetensors", "sequence/model.safetensors", "sequence/config.json"):
        assert files[name] == (BUNDLED_WEIGHTS / name).read_bytes(), name  # the reader's companions too
    card = ModelCard(files["README.md"].decode())
    assert card.data.library_name == "timm" and card.data.datasets == ["mnist"]
    accuracy = json.loads((BUNDLED_WEIGHTS / "metrics.json").read_text())["test_accuracy"]
    assert card.data.eval_results[0].metric_value == round(100 * accuracy, 2)
    assert "hf-hub:acme/digitnet-mnist" in card.text  # loading examples name this repo
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)


def test_push_to_main(hub):
    run = push(hub)
    assert run.returncode == 0, run.stderr[-3000:]
    assert_uploaded_our_files(hub.repos["acme/digitnet-mnist"]["main"])
    assert hub.commits[0]["header"]["summary"] == "Upload DigitNet weights"
    assert hub.validated, "the model card's metadata was validated before the commit"
    assert not hub.unhandled
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for _, _, h in hub.requests)


def test_push_to_a_branch_and_as_a_pull_request(hub):
    assert push(hub, "--revision", "v1", "--message", "weights v1").returncode == 0
    assert_uploaded_our_files(hub.repos["acme/digitnet-mnist"]["v1"])
    assert hub.repos["acme/digitnet-mnist"]["main"] == {}
    run = push(hub, "--create-pr")
    assert run.returncode == 0, run.stderr[-3000:]
    assert_uploaded_our_files(hub.repos["acme/digitnet-mnist"]["refs/pr/1"])
    assert hub.prs[0]["is_pull_request"]
    assert "/discussions/1" in run.stdout
    assert not hub.unhandled


def test_bad_token_fails_loudly(hub):
    run = push(hub, token="hf_wrong")
    assert run.returncode != 0
    assert "401" in run.stderr
    assert hub.repos == {}


def test_dry_run_builds_the_exact_folder_and_uploads_nothing(hub, tmp_path):
    run = push(hub, "--dry-run", "--stage-dir", str(tmp_path / "stage"))
    assert run.returncode == 0, run.stderr[-3000:]
    listed = json.loads(run.stdout)["files"]
    assert {"README.md", "config.json", "model.safetensors", "metrics.json"} <= set(listed)
    staged = {p: (tmp_path / "stage" / p).read_bytes() for p in listed}
    assert_uploaded_our_files(staged)
    assert hub.requests == []

    # What a real push sends is byte for byte what the dry run built.
    assert push(hub).returncode == 0
    assert hub.repos["acme/digitnet-mnist"]["main"] == staged
