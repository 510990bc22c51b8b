import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def mnist():
    from training.data import load_mnist
    return load_mnist(verbose=False)


@pytest.fixture(scope="session")
def bundled_model():
    import digitsinsight
    return digitsinsight.load_model()


@pytest.fixture(scope="session")
def test_subset(mnist):
    """The first 1,000 MNIST test digits and labels."""
    return mnist.test_images[:1000], mnist.test_labels[:1000].astype(np.int64)


def subprocess_env(**extra) -> dict:
    """The current environment with the repo importable, plus `extra` (None removes a key)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def free_port() -> int:
    from bench.app import free_port as any_free_port
    return any_free_port()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """app.py's app, launched in this process on a free port, as `python app.py` sets it up."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["DIGITSINSIGHT_CORRECTIONS_DIR"] = str(tmp_path_factory.mktemp("corrections"))
    import app
    from digitsinsight import ui

    ui.warm_up()
    demo = app.create()
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **app.launch_options())
    yield demo.local_url
    demo.close()
