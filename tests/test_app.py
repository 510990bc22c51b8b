"""The Gradio app through its API, with gradio_client, against app.py launched in-process."""
import io
import json
import urllib.error
import urllib.request
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT

gradio_client = pytest.importorskip("gradio_client", reason="the app's tests need gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

EXAMPLES = json.loads((REPO_ROOT / "examples" / "examples.json").read_text())


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def _wav(path) -> tuple:
    with wave.open(str(path)) as w:
        rate, n = w.getframerate(), w.getnframes()
        samples = np.frombuffer(w.readframes(n), np.int16)
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
    return rate, samples


def test_only_the_named_endpoints_are_public(client):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert sorted(named) == ["/read_number", "/read_sketch", "/speak"]
    assert not client.view_api(return_format="dict", print_info=False)["unnamed_endpoints"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["file"] for e in EXAMPLES])
def test_read_number_reads_every_example(client, example):
    result = client.predict(handle_file(str(REPO_ROOT / "examples" / example["file"])), api_name="/read_number")
    assert result["number"] == example["number"] and result["written"] == example.get("written", example["number"])
    assert result["status"] in ("ok", "unsure")
    assert len(result["digits"]) == len(example["number"].replace("\n", ""))
    assert all(0 <= d["confidence"] <= 1 and len(d["alternatives"]) == 3 for d in result["digits"])


def test_read_number_over_http_equals_in_process(client, tmp_path, bundled_model):
    import digitsinsight
    from bench.synth import make_set

    for i, sample in enumerate(make_set("hard", 3, seed=11)):
        path = tmp_path / f"hard{i}.png"
        Image.fromarray(sample.image).save(path)
        remote = client.predict(handle_file(str(path)), api_name="/read_number")
        local = digitsinsight.read_number(path, bundled_model).to_dict()
        assert remote["number"] == local["number"]
        assert [d["box"] for d in remote["digits"]] == [d["box"] for d in local["digits"]]


def _sketch_layer(number_png: Path) -> np.ndarray:
    """A sketchpad layer: black ink on transparent pixels, as the browser sends it."""
    grey = np.asarray(Image.open(number_png).convert("L"))
    layer = np.zeros(grey.shape + (4,), np.uint8)
    layer[..., 3] = 255 - grey
    return layer


def test_read_sketch_takes_the_sketchpad_dict(client, tmp_path):
    drawn = next(e for e in EXAMPLES if e["kind"] == "drawn")
    composite_only = {"background": None, "layers": [], "id": None,
                      "composite": handle_file(str(REPO_ROOT / "examples" / drawn["file"]))}
    assert client.predict(composite_only, api_name="/read_sketch")["number"] == drawn["number"]

    layer = tmp_path / "layer.png"
    Image.fromarray(_sketch_layer(REPO_ROOT / "examples" / drawn["file"]), "RGBA").save(layer)
    layers_only = {"background": None, "layers": [handle_file(str(layer))], "composite": None, "id": None}
    assert client.predict(layers_only, api_name="/read_sketch")["number"] == drawn["number"]


def test_blank_sketch_says_no_digits(client, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGBA", (800, 400), (0, 0, 0, 0)).save(blank)
    result = client.predict({"background": None, "layers": [], "composite": handle_file(str(blank)), "id": None},
                            api_name="/read_sketch")
    assert result["status"] == "no_digits" and result["number"] == ""
    assert "blank" in result["warnings"][0]


@pytest.mark.parametrize("name, content, says", [
    ("notes.png", b"these are not pixels", "not an image"),
    ("empty.png", b"", "empty"),
    ("cut.png", None, "damaged"),
])
def test_read_number_explains_bad_files(client, tmp_path, name, content, says):
    if content is None:  # a PNG cut in half
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(buf, "PNG")
        content = buf.getvalue()[:2000]
    path = tmp_path / name
    path.write_bytes(content)
    result = client.predict(handle_file(str(path)), api_name="/read_number")
    assert result["status"] == "error" and result["number"] == ""
    assert says in result["error"].lower() and "Traceback" not in result["error"]


def test_speak_returns_playable_audio(client):
    from digitsinsight import speech
    rate, short = _wav(client.predict("7", "en", "number", api_name="/speak"))
    _, long = _wav(client.predict("0427", "en", "digits", api_name="/speak"))
    _, amount = _wav(client.predict("1,250.50", "en", "number", api_name="/speak"))  # a reading's "written"
    assert rate >= 16000
    for samples in (short, long, amount):
        assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # not silence
    assert len(long) > len(short)
    assert np.array_equal(amount, speech.speak("1,250.50", "en", "number").samples)


def test_speak_explains_bad_requests(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="(?i)language"):
        client.predict("42", "xx", "number", api_name="/speak")
    with pytest.raises(AppError, match="(?i)digit"):
        client.predict("hello", "en", "number", api_name="/speak")
    with pytest.raises(AppError, match="between two digits"):
        client.predict("4..2", "en", "number", api_name="/speak")


def test_files_outside_gradio_are_not_served(app_url):
    for target in ("/etc/passwd", str(REPO_ROOT / "weights" / "model.safetensors")):
        for route in (f"/gradio_api/file={target}", f"/file={target}"):
            try:
                with urllib.request.urlopen(app_url.rstrip("/") + route, timeout=10) as response:
                    body = response.read()
                    assert b"root:" not in body and not body.startswith(b"\x00"), route
                    assert response.status != 200 or b"<html" in body[:200].lower(), route
            except urllib.error.HTTPError as e:
                assert e.code in (403, 404), route


def test_home_and_insights_show_figures_from_the_artifacts():
    from digitsinsight import insights

    metrics = json.loads((REPO_ROOT / "weights" / "metrics.json").read_text())
    text = insights.key_figures_markdown()
    assert f"{100 * metrics['test_accuracy']:.2f}%" in text and f"{metrics['parameters']:,}" in text
    rows = insights.per_class_rows()
    # metrics.json keeps 5 decimals, the rows 2 decimals of the exact share: equal within a rounding step.
    assert [r[3] for r in rows] == pytest.approx([100 * a for a in metrics["per_class_accuracy"]], abs=0.0051)
    assert sum(r[2] for r in rows) == metrics["test_errors"]
    names = [Path(p).name for p, _ in insights.insight_images()]
    assert "confusion_matrix.png" in names and "misclassified.png" in names


def test_python_app_py_serves_on_loopback(tmp_path):
    """`python app.py` as people run it: GRADIO_SERVER_PORT respected, 127.0.0.1 by default, no network."""
    import subprocess
    import sys
    import time

    from conftest import free_port, subprocess_env

    port = free_port()
    env = subprocess_env(GRADIO_SERVER_PORT=port, GRADIO_ANALYTICS_ENABLED="False", GRADIO_SERVER_NAME=None,
                         HF_HUB_OFFLINE="1", DIGITSINSIGHT_CORRECTIONS_DIR=tmp_path)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2) as r:
                    info = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("python app.py did not answer within 120 s")
        assert "/read_number" in info["named_endpoints"]
        reading = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            handle_file(str(REPO_ROOT / "examples" / EXAMPLES[0]["file"])), api_name="/read_number")
        assert reading["number"] == EXAMPLES[0]["number"]
    finally:
        proc.terminate()
        proc.wait(20)


def test_uploads_over_the_limit_are_refused(app_url):
    import httpx

    from digitsinsight.image import MAX_BYTES

    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_BYTES + 1024)
    response = httpx.post(app_url.rstrip("/") + "/gradio_api/upload", files={"files": ("big.png", big)}, timeout=60)
    assert response.status_code == 413, response.text[:200]
    assert "size" in response.text.lower()
