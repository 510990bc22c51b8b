"""Supply-chain safety: weights only from safetensors, no code-running loads anywhere in the project,
Hub downloads pinned, checksums enforced. (File routes and upload limits: tests/test_app.py.)"""
import pickle
import re
import warnings
from pathlib import Path

import pytest

from conftest import REPO_ROOT

OUR_CODE = [p for d in ("digitsinsight", "training", "bench", "tests") for p in (REPO_ROOT / d).rglob("*.py")] + [
    REPO_ROOT / "app.py"]


def _code(path: Path) -> str:
    """Source without comments and docstrings' prose lines that merely mention the words."""
    return "\n".join(line.split("#")[0] for line in path.read_text().splitlines())


def test_no_code_running_loaders_in_our_code():
    offenders = []
    for path in OUR_CODE:
        if path.name == "test_safety.py":
            continue
        code = _code(path)
        for call in re.findall(r"torch\.load\([^)]*\)", code):
            if "weights_only=True" not in call:
                offenders.append(f"{path.name}: {call}")
        if re.search(r"trust_remote_code\s*=\s*True", code):
            offenders.append(f"{path.name}: trust_remote_code=True")
        if re.search(r"allow_pickle\s*=\s*True", code):
            offenders.append(f"{path.name}: allow_pickle=True")
        if re.search(r"\bpickle\.(loads?|Unpickler)\b", code) and path.relative_to(REPO_ROOT).as_posix() != "training/data.py":
            offenders.append(f"{path.name}: pickle")
    assert not offenders, offenders


def test_the_one_unpickler_loads_arrays_and_nothing_else():
    import io
    import os

    import numpy as np

    from training.data import _ArraysOnly

    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], np.int64))
    loaded = _ArraysOnly(io.BytesIO(pickle.dumps(arrays, protocol=2))).load()
    assert all(np.array_equal(a, b) for a, b in zip(arrays, loaded))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        _ArraysOnly(io.BytesIO(pickle.dumps(os.system))).load()


def test_shipped_weights_are_safetensors_and_json_only():
    pickled = [p for p in (REPO_ROOT / "weights").rglob("*")
               if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt", ".pickle", ".npy", ".npz")]
    assert not pickled
    assert (REPO_ROOT / "weights" / "model.safetensors").exists()
    assert (REPO_ROOT / "weights" / "verifier" / "model.safetensors").exists()


def test_checksums_are_enforced_for_the_verifier_too(tmp_path):
    import shutil

    from digitsinsight.weights import WeightsError, check_folder

    folder = tmp_path / "verifier"
    shutil.copytree(REPO_ROOT / "weights" / "verifier", folder)
    check_folder(folder)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="SHA-256"):
        check_folder(folder)


def test_hub_sources_are_pinned_or_warned(monkeypatch):
    from digitsinsight.weights import REVISION_ENV, resolve_source

    monkeypatch.delenv(REVISION_ENV, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert resolve_source("hf-hub:org/name") == "hf-hub:org/name"
    assert any("no pinned revision" in str(w.message) for w in caught)
    monkeypatch.setenv(REVISION_ENV, "a" * 40)
    assert resolve_source("hf-hub:org/name") == f"hf-hub:org/name@{'a' * 40}"
    assert resolve_source("hf-hub:org/name@v1") == "hf-hub:org/name@v1"


def test_hub_downloads_fetch_only_the_listed_files():
    from digitsinsight.weights import HUB_FILES

    assert all(f.endswith((".json", ".safetensors")) for f in HUB_FILES)
