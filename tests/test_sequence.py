"""The line reader (digitsinsight/sequence.py): its input (segment.line_image), its decoding,
its weights, and what it adds to read_number on touching digits (MNIST test digits only)."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import timm

from bench.synth import make_set
from conftest import REPO_ROOT, subprocess_env
from digitsinsight import read_number
from digitsinsight.image import load_image
from digitsinsight.reader import find_lines
from digitsinsight.segment import LINE_HEIGHT, line_image
from digitsinsight.sequence import BLANK, decode, read_lines, to_line_input
from digitsinsight.weights import BUNDLED_WEIGHTS, WeightsError, check_folder, load_line_reader


def test_decode_collapses_repeats_and_blanks():
    # Frames: 4 4 blank 4 7 7 blank -> "447"; each character keeps its best frame's probability.
    frames = [(5, 0.9), (5, 0.95), (BLANK, 0.99), (5, 0.8), (8, 0.7), (8, 0.6), (BLANK, 0.9)]
    probs = np.full((len(frames), 11), 1e-3)
    for t, (c, p) in enumerate(frames):
        probs[t, c] = p
        probs[t] /= probs[t].sum()
    d = decode(np.log(probs))
    assert d.text == "447"
    assert d.spans == [(0, 1), (3, 3), (4, 5)]
    assert d.probs[0] == pytest.approx(probs[1, 5]) and d.probs[2] == pytest.approx(probs[4, 8])
    assert d.alternatives[0][0][0] == 4 and d.confidence == pytest.approx(np.prod(d.probs))


def test_an_empty_line_decodes_to_nothing():
    probs = np.full((6, 11), 0.001)
    probs[:, BLANK] = 0.99
    assert decode(np.log(probs)).text == ""


def _lines_of(image):
    page = find_lines(load_image(image))
    return page.layout, [line_image(page.layout.labels, line) for line in page.layout.lines]


def test_line_image_levels_a_rotated_line():
    # A row of bars written at 10 degrees: levelled, the ink spans few rows of the line image.
    canvas = np.full((400, 900), 255, np.uint8)
    for i in range(8):
        cv2.rectangle(canvas, (60 + 100 * i, 150), (100 + 100 * i, 230), 0, -1)
    rot = cv2.getRotationMatrix2D((450, 200), -10, 1.0)
    tilted = cv2.warpAffine(canvas, rot, (900, 400), borderValue=255)
    _, images = _lines_of(tilted)
    assert len(images) == 1
    li = images[0]
    assert li.pixels.shape[0] == LINE_HEIGHT and li.pixels.dtype == np.uint8
    # Each bar stands upright: its columns are ink top to bottom, its neighbours' gaps empty.
    columns = (li.pixels > 128).sum(0)
    assert (columns > 20).sum() > 0.25 * li.pixels.shape[1]
    # to_source maps the line image back onto the input: the middle of the line lands on ink.
    u, v = li.pixels.shape[1] / 2, LINE_HEIGHT / 2
    x, y = li.to_source @ [u, v, 1]
    assert 120 < y < 280 and 300 < x < 600


def test_line_image_draws_only_its_own_line():
    samples = make_set("clean", 2, seed=40)
    w = max(s.image.shape[1] for s in samples)
    page = np.concatenate([np.pad(s.image, ((0, 0), (0, w - s.image.shape[1]), (0, 0)), constant_values=255)
                           for s in samples])
    _, images = _lines_of(page)
    assert len(images) == 2
    for li, s in zip(images, samples):
        assert li.pixels.shape[0] == LINE_HEIGHT
        assert li.pixels[0].max() < 64 and li.pixels[-1].max() < 64  # margins above and below stay empty


def test_bundled_line_reader_is_checked_safetensors():
    folder = BUNDLED_WEIGHTS / "sequence"
    assert (folder / "model.safetensors").exists() and not list(folder.glob("*.pth")) + list(folder.glob("*.bin"))
    check_folder(folder)
    reader = load_line_reader()
    assert reader is not None and reader is load_line_reader()
    assert json.loads((folder / "config.json").read_text())["architecture"] == "digitline_m"


def test_altered_line_reader_is_refused(tmp_path):
    import shutil
    shutil.copytree(BUNDLED_WEIGHTS / "sequence", tmp_path / "sequence")
    data = bytearray((tmp_path / "sequence" / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "sequence" / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError):
        check_folder(tmp_path / "sequence")


def test_line_reader_reads_clean_lines():
    samples = make_set("clean", 30, seed=41)
    reader = load_line_reader()
    right = 0
    for s in samples:
        _, images = _lines_of(s.image)
        if len(images) == 1:
            right += read_lines([images[0].pixels], reader)[0].text == s.text
    assert right >= 27


def test_reading_lines_leaves_the_callers_thread_count_and_reads_as_the_whole_model(monkeypatch):
    """read_lines runs the LSTM on one thread (see sequence.read_lines): the caller's torch threads are
    given back, even when the model fails, and the reading is the model's own on the same line."""
    import torch

    s = make_set("clean", 1, seed=43)[0]
    _, images = _lines_of(s.image)
    reader = load_line_reader()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        seen, lstm = [], reader.rnn.forward

        def counted(*args):  # the LSTM, noting the threads it runs on
            seen.append(torch.get_num_threads())
            return lstm(*args)
        monkeypatch.setattr(reader.rnn, "forward", counted)
        got = read_lines([images[0].pixels], reader)[0]
        assert seen == [1] and torch.get_num_threads() == 2
        with torch.no_grad():
            cfg = reader.pretrained_cfg
            x, frames = to_line_input([images[0].pixels], cfg["mean"], cfg["std"])
            whole = decode(torch.log_softmax(reader(x).float(), dim=2)[0, :frames[0]].numpy())
        assert got.text == whole.text == s.text and abs(got.confidence - whole.confidence) < 1e-5

        def broken(*a):
            raise RuntimeError("out of memory")
        monkeypatch.setattr(reader.rnn, "forward", broken)
        with pytest.raises(RuntimeError):
            read_lines([images[0].pixels], reader)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_touching_digits_read_better_with_the_line_reader():
    touching = [s for s in make_set("hard", 200, seed=42) if s.meta["touching_pairs"] > 0][:40]
    with_reader = sum(read_number(s.image).text == s.text for s in touching)
    without = sum(read_number(s.image, line_reader=None).text == s.text for s in touching)
    assert with_reader >= without + 4, (with_reader, without)


def test_disagreement_is_reported_as_unsure():
    # Where the two readers differ, the reading says so rather than passing as sure.
    for s in make_set("hard", 200, seed=43):
        r = read_number(s.image)
        for i, d in enumerate(r.digits):
            if d.disputed:
                assert d.unsure and r.status == "unsure"
                assert any("also read as" in w or "but also as" in w for w in r.warnings)
                return
    pytest.skip("no disagreement between the readers in 200 hard samples")


def test_a_clear_digit_of_its_own_keeps_its_reading_against_the_line_reader(monkeypatch):
    import digitsinsight.reader as reader
    from bench.reader import validation_pool
    from bench.synth import make_sample

    pool = validation_pool()
    # "4059" (clean validation set, seed 7): the 4 is a mark of its own with space around it, read 4 at
    # 0.99 and surely one digit; the line reader reads the line "9059", surely enough to take its 9.
    clean = make_sample("clean", 348, 7, pool)
    reading = read_number(clean.image)
    assert clean.text == "4059" and reading.text == "4059"
    first = reading.digits[0]
    assert first.stands_alone and first.disputed == "9" and first.unsure and reading.status == "unsure"
    assert "Digit 1 is unsure: read as 4, but also as 9." in reading.warnings
    # "9736001" (hard validation set, seed 7): the 0 after the 6 is crowded by it (or was cut from it),
    # the classifier reads 8 there and the line reader's 0 is taken, as before.
    crowded = make_sample("hard", 96, 7, pool)
    hard = read_number(crowded.image)
    assert crowded.text == hard.text == "9736001"
    assert not hard.digits[4].stands_alone and hard.digits[4].disputed == "8"
    # With the rule off, the line reader's 9 is taken on the clean number too.
    monkeypatch.setattr(reader, "ALONE_READ_OVER", 2.0)
    off = read_number(clean.image)
    assert off.text == "9059" and off.digits[0].disputed == "4"


def test_a_plain_lone_digit_skips_the_line_reader(monkeypatch):
    # A sketched digit read surely, and no wider than a digit, is one the line reader can only
    # confirm: it is not asked (about a quarter of a sketch's time), and the number is the same.
    import digitsinsight.reader as reader
    asked = []
    real = reader.read_lines
    monkeypatch.setattr(reader, "read_lines", lambda pixels, model: asked.append(len(pixels)) or real(pixels, model))
    rule, skipped = reader.PLAIN_DIGIT_OVER, 0
    for s in make_set("sketch", 20, seed=46):
        asked.clear()
        fast = read_number(s.image)
        if sum(asked):  # lines sent to the line reader
            continue
        skipped += 1
        monkeypatch.setattr(reader, "PLAIN_DIGIT_OVER", 2.0)  # the rule off: every line is checked
        checked = read_number(s.image)
        monkeypatch.setattr(reader, "PLAIN_DIGIT_OVER", rule)
        assert sum(asked) == 1 and fast.text == checked.text == s.text
        assert fast.digits[0].confidence == pytest.approx(checked.digits[0].confidence)
    assert skipped >= 10, skipped
    # A line read as several digits was checked, whoever read it so.
    several = 0
    for s in make_set("hard", 30, seed=47):
        asked.clear()
        r = read_number(s.image)
        if len(r.text) > 1 and "\n" not in r.text:
            several += 1
            assert asked == [1], (s.text, r.text, asked)
    assert several >= 10, several


def test_plainly_one_digit_needs_a_sure_reading_and_a_digit_wide_line():
    from digitsinsight.reader import Digit, plainly_one_digit
    from digitsinsight.segment import Blob
    crop = np.zeros((28, 28), np.uint8)
    sure = Digit(8, 0.999, [(8, 0.999)], (0, 0, 50, 80), crop, 0, 0.99)
    digit_wide = [Blob(10, 0, 60, 80)]
    assert plainly_one_digit([sure], digit_wide)
    # "810" run together, the "10" left out as a stray mark: the line's marks are wider than a digit.
    assert not plainly_one_digit([sure], digit_wide + [Blob(70, 5, 150, 78)])
    assert not plainly_one_digit([Digit(8, 0.95, [(8, 0.95)], (0, 0, 50, 80), crop, 0, 0.99)], digit_wide)
    assert not plainly_one_digit([Digit(8, 0.999, [(8, 0.999)], (0, 0, 50, 80), crop, 0, 0.6)], digit_wide)
    assert not plainly_one_digit([sure, sure], digit_wide)


def test_training_runs_and_saves_a_loadable_reader(tmp_path):
    run = subprocess.run([sys.executable, "-m", "training.sequence", "--samples", "60", "--val-samples", "20",
                          "--epochs", "1", "--output", str(tmp_path / "sequence"), "--data-dir", str(tmp_path)],
                         env=subprocess_env(), capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    check_folder(tmp_path / "sequence")
    metrics = json.loads((tmp_path / "sequence" / "metrics.json").read_text())
    assert metrics["training_lines"] > 40 and len(metrics["history"]) == 1
    model = timm.create_model(f"local-dir:{tmp_path / 'sequence'}", pretrained=True).eval()
    _, images = _lines_of(make_set("clean", 1, seed=44)[0].image)
    assert isinstance(read_lines([images[0].pixels], model)[0].text, str)


def test_line_reader_digits_have_boxes_and_crops():
    # Readings the line reader changed still show their work: a box inside the image round ink,
    # and a 28x28 crop, for every digit.
    changed = 0
    for s in make_set("hard", 60, seed=45):
        r = read_number(s.image)
        h, w = s.image.shape[:2]
        for d in r.digits:
            x0, y0, x1, y1 = d.box
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            assert d.crop.shape == (28, 28) and d.crop.dtype == np.uint8 and d.crop.max() > 100
        changed += any(d.other_line or d.disputed for d in r.digits)
    assert changed >= 3  # the line reader does change readings on hard photos
