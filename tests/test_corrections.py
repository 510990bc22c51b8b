"""Corrections: saved only with consent, clear messages for bad input, pushed to a dataset repo in
batches, and turned into training digits by the reader."""
import json

import numpy as np
import pytest
from PIL import Image

from digitsinsight import corrections
from digitsinsight.corrections import CorrectionError, clean_label, save_correction
from hub_server import FakeHub


def _number_image(seed: int):
    from bench.synth import make_set
    sample = make_set("clean", 1, seed=seed)[0]
    return sample.image, sample.text


def test_nothing_is_saved_without_consent(tmp_path):
    image, text = _number_image(1)
    with pytest.raises(CorrectionError, match="tick the box"):
        save_correction(image, text, consent=False, path=tmp_path, repo_id="")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("typed, message", [("", "Type the right number"), ("   ", "Type the right number"),
                                            ("twelve", "digits 0-9"), ("12a", "digits 0-9"), ("++5", "digits 0-9"), ("--5", "digits 0-9"), ("5+", "digits 0-9"), ("+", "digits 0-9"), ("()", "digits 0-9"),
                                            ("1/", "digits 0-9"), ("/1", "digits 0-9"),
                                            ("1" * 65, "more than 64")])
def test_bad_labels_get_plain_messages(typed, message):
    with pytest.raises(CorrectionError, match=message):
        clean_label(typed)


def test_labels_are_tidied():
    assert clean_label(" 04 27 ") == "0427"
    assert clean_label("1,234.5") == "12345"
    assert clean_label("12\n\n34") == "12\n34"
    assert clean_label("-1,250.50\n−7") == "125050\n7"  # as the app shows a number written with a sign
    assert clean_label("+44 20\n3+4") == "4420\n34"
    assert clean_label("(555) 123-4567\n+1 (555)") == "5551234567\n1555"
    assert clean_label("555-1234\n12/05/2026") == "5551234\n12052026"  # hyphens and slashes between digits


def test_not_an_image_is_refused_with_the_reason(tmp_path):
    with pytest.raises(CorrectionError, match="Nothing was saved: .*not an image"):
        save_correction(b"plain text", "42", consent=True, path=tmp_path, repo_id="")
    assert not (tmp_path / corrections.LOG_NAME).exists()


def test_saved_corrections_become_training_digits(tmp_path, bundled_model):
    truths = []
    for seed in (2, 3, 4):
        image, text = _number_image(seed)
        record = save_correction(image, text, consent=True, read_as="?", path=tmp_path, repo_id="")
        assert (tmp_path / record["file"]).exists()
        truths.append(text)
    image, text = _number_image(5)
    save_correction(image, text[:-1] or "1", consent=True, path=tmp_path, repo_id="")  # too few digits: skipped
    lines = (tmp_path / corrections.LOG_NAME).read_text().splitlines()
    assert [json.loads(line)["label"] for line in lines][:3] == truths
    saved = Image.open(tmp_path / json.loads(lines[0])["file"])
    assert saved.mode == "L" and max(saved.size) <= 1600

    crops, labels, used, skipped = corrections.digit_crops(str(tmp_path), bundled_model)
    assert (used, skipped) == (3, 1)
    assert labels.tolist() == [int(c) for c in "".join(truths)]
    assert crops.shape == (len(labels), 28, 28) and crops.dtype == np.uint8
    # The crops are what the model reads: it agrees with the labels people typed.
    from digitsinsight.reader import classify
    assert (classify(crops, bundled_model).argmax(1) == labels).mean() >= 0.9


def test_corrections_are_pushed_to_a_dataset_repo_in_the_background(tmp_path):
    from huggingface_hub import HfApi

    image, text = _number_image(6)
    with FakeHub(expected_token=None) as hub:
        api = HfApi(endpoint=hub.url, token="hf_test")
        save_correction(image, text, consent=True, path=tmp_path, repo_id="people/digit-corrections", hf_api=api)
        starting = corrections.start_uploads(tmp_path, "people/digit-corrections", api)
        if starting is not None:
            starting.join(60)
        scheduler = corrections._schedulers[(str(tmp_path), "people/digit-corrections")]
        try:
            scheduler.trigger().result(timeout=60)
        finally:
            scheduler.stop()
            corrections._schedulers.clear()
        files = hub.repos["people/digit-corrections"]["main"]
    assert json.loads(files["corrections/corrections.jsonl"].decode())["label"] == text
    pngs = [f for f in files if f.endswith(".png")]
    assert len(pngs) == 1 and files[pngs[0]] == (tmp_path / pngs[0].split("/")[-1]).read_bytes()


def test_training_takes_extra_data(tmp_path, bundled_model):
    from training.train import add_corrections

    for seed in (7, 8):
        image, text = _number_image(seed)
        save_correction(image, text, consent=True, path=tmp_path, repo_id="")
    x, y = add_corrections([str(tmp_path)], repeat=3, log=lambda *a: None)
    assert len(x) == len(y) > 0 and len(y) % 3 == 0
    assert x.shape[1:] == (28, 28) and x.dtype == np.uint8


def test_a_hub_that_is_down_does_not_lose_the_correction(tmp_path):
    from huggingface_hub import HfApi

    from conftest import free_port

    image, text = _number_image(9)
    api = HfApi(endpoint=f"http://127.0.0.1:{free_port()}", token="hf_test")  # nothing listens there
    record = save_correction(image, text, consent=True, path=tmp_path, repo_id="people/down", hf_api=api)
    assert (tmp_path / record["file"]).exists() and corrections.records(tmp_path)[0]["label"] == text
    starting = corrections.start_uploads(tmp_path, "people/down", api)
    if starting is not None:
        starting.join(60)
    assert (str(tmp_path), "people/down") not in corrections._schedulers


def test_blank_images_and_odd_file_names_are_refused(tmp_path):
    with pytest.raises(CorrectionError, match="blank"):
        save_correction(np.full((300, 600), 255, np.uint8), "42", consent=True, path=tmp_path, repo_id="")
    (tmp_path / corrections.LOG_NAME).write_text(
        json.dumps({"file": "../../etc/passwd", "label": "1"}) + "\n" + json.dumps({"file": "/abs.png", "label": "2"})
        + "\n" + json.dumps({"file": "ok.png", "label": "3"}) + "\nnot json\n")
    assert corrections.records(tmp_path) == [{"file": "ok.png", "label": "3"}]
    crops, labels, used, skipped = corrections.digit_crops(str(tmp_path))  # ok.png does not exist: skipped
    assert (used, skipped) == (0, 1) and len(labels) == 0
