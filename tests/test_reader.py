"""read_number on real generated images (MNIST test digits only): every condition of the reader's brief.

The sets come from bench/synth.py, the same generator the benchmark uses; here they are
small, so the thresholds sit below the benchmark's measured figures with room for a few
hard samples. The benchmark (python -m bench.reader) gives the full figures.
"""
import csv
import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

import digitsinsight
from bench.synth import DigitPool, hard_number, make_sample, make_set
from conftest import REPO_ROOT, subprocess_env
from digitsinsight import ImageError, read_number


@pytest.fixture(scope="module")
def pool():
    return DigitPool()


def exact(samples) -> float:
    return float(np.mean([read_number(s.image).text == s.text for s in samples]))


def test_clean_numbers():
    assert exact(make_set("clean", 40, seed=11)) >= 0.95


def test_single_sketched_digits_white_and_transparent():
    samples = make_set("sketch", 40, seed=12)
    assert {s.image.shape[2] for s in samples} == {3, 4}  # both white and transparent canvases
    assert exact(samples) >= 0.9


def test_printed_numbers():
    assert exact(make_set("printed", 30, seed=13)) >= 0.9


def test_hard_numbers_overall():
    # 36/40 here; the benchmark measures about 90% (the brief asks 95%). It was 40% before the line reader.
    samples = make_set("hard", 40, seed=14)
    assert exact(samples) >= 0.75


def hard_with(condition: str, n: int = 10, touching: bool = False) -> list:
    """Hard samples that have `condition`; without touching digits unless asked, so each test
    isolates one condition (ink colour, paper, compression, page placement...)."""
    picked = []
    for s in make_set("hard", 300, seed=15):
        m = s.meta
        if (m.get("touching_pairs", 0) > 0) != touching or "\n" in s.text:
            continue
        has = {
            "touching": True,
            "rotated": abs(m.get("rotation", 0)) > 4,
            "slanted": abs(m.get("shear", 0)) > 0.15,
            "small_on_page": m.get("page") == "page",
            "ruled_or_grid": m.get("ruling") in ("ruled", "grid"),
            "jpeg": (m.get("jpeg_quality") or 100) < 60,
            "blurred": m.get("blur_sigma", 0) > 0.8,
            "red_ink": m.get("ink") == "red",
            "blue_ink": m.get("ink") == "blue",
            "thick_pen": m.get("pen", 1) > 1.4,
            "thin_pen": m.get("pen", 1) < 0.75,
            "shadow_or_vignette": m.get("shadow", 0) > 0.1 or m.get("vignette", 0) > 0.15,
        }[condition]
        if has:
            picked.append(s)
        if len(picked) == n:
            break
    assert len(picked) >= n // 2, f"the generator made too few '{condition}' samples"
    return picked


@pytest.mark.parametrize("condition", ["rotated", "slanted", "small_on_page", "ruled_or_grid", "jpeg", "blurred",
                                       "red_ink", "blue_ink", "thick_pen", "thin_pen", "shadow_or_vignette"])
def test_each_hard_condition_is_read(condition):
    assert exact(hard_with(condition)) >= 0.7


def test_touching_digits_are_read():
    # Once the weak spot (about 45% with cuts alone), now read whole by the line reader: 18/20 here.
    samples = hard_with("touching", n=20, touching=True)
    assert exact(samples) >= 0.75


def test_reading_structure_boxes_and_crops(pool):
    rng = np.random.default_rng(3)
    sample = next(s for s in (hard_number(rng, pool) for _ in range(50)) if s.meta.get("touching_pairs", 0) == 0
                  and "\n" not in s.text and len(s.text) >= 3)
    r = read_number(sample.image)
    d = r.to_dict()
    assert set(d) >= {"number", "status", "confidence", "lines", "digits", "warnings"}
    assert d["number"] == r.text and json.dumps(d)
    if r.text == sample.text:
        for digit, truth in zip(r.digits, sample.boxes):
            iou_x = min(digit.box[2], truth[2]) - max(digit.box[0], truth[0])
            assert iou_x > 0.5 * (truth[2] - truth[0])  # the box is round the right digit
    for digit in r.digits:
        assert digit.crop.shape == (28, 28) and digit.crop.dtype == np.uint8
        probs = [p for _, p in digit.alternatives]
        assert len(digit.alternatives) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001
        assert digit.alternatives[0] == (digit.digit, digit.confidence)
        h, w = sample.image.shape[:2]
        x0, y0, x1, y1 = digit.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h


def test_leading_zeros_and_multiple_lines():
    samples = make_set("clean", 200, seed=16)
    zeros = [s for s in samples if s.text.startswith("0")][:5]
    assert zeros and np.mean([read_number(s.image).text == s.text for s in zeros]) >= 0.8
    # Two generated numbers written one above the other, as on a form.
    pairs = [(samples[i], samples[i + 1]) for i in range(0, 20, 2)]
    right = 0
    for top, bottom in pairs:
        w = max(top.image.shape[1], bottom.image.shape[1])
        pad = lambda a: np.pad(a, ((0, 0), (0, w - a.shape[1]), (0, 0)), constant_values=255)  # noqa: E731
        page = np.concatenate([pad(top.image), pad(bottom.image)], axis=0)
        r = read_number(page)
        assert r.lines == r.text.split("\n")
        right += r.text == f"{top.text}\n{bottom.text}"
    assert right >= 8


def test_negatives_are_not_read_as_confident_numbers():
    samples = make_set("negative", 40, seed=18)
    readings = [read_number(s.image) for s in samples]
    confident = [r for r in readings if r.status == "ok" and r.text]
    assert len(confident) <= 0.15 * len(samples)
    assert all(r.warnings for r in readings if r.status == "no_digits")


def test_blank_and_odd_inputs_give_clear_answers():
    for blank in (np.full((300, 400), 255, np.uint8), np.zeros((300, 400, 4), np.uint8),
                  np.full((300, 400, 3), 128, np.uint8)):
        r = read_number(blank)
        assert r.status == "no_digits" and r.text == "" and "No digits" in r.warnings[0]
    with pytest.raises(ImageError):
        read_number(b"not an image")


def test_model_is_loaded_once():
    assert digitsinsight.load_model() is digitsinsight.load_model()
    before = digitsinsight.load_model()
    read_number(np.full((100, 100), 255, np.uint8))
    assert digitsinsight.load_model() is before


def test_cli_reads_files_and_folders(tmp_path):
    samples = make_set("clean", 3, seed=19)
    for i, s in enumerate(samples):
        Image.fromarray(s.image).save(tmp_path / f"n{i}.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    run = subprocess.run([sys.executable, "-m", "digitsinsight", str(tmp_path), "--json"], env=subprocess_env(),
                         capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert run.returncode == 1  # one file was not an image
    rows = {json.loads(line)["file"].rsplit("/", 1)[1]: json.loads(line) for line in run.stdout.splitlines()}
    assert rows["broken.png"]["status"] == "error" and "not an image" in rows["broken.png"]["warnings"][0]
    assert sum(rows[f"n{i}.png"]["number"] == s.text for i, s in enumerate(samples)) >= 2
    amount = make_set("punctuated", 1, seed=13)[0]  # "964,997.13" (MNIST test digits)
    Image.fromarray(amount.image).save(tmp_path / "amount.png")
    csv_run = subprocess.run([sys.executable, "-m", "digitsinsight", str(tmp_path / "n0.png"),
                              str(tmp_path / "amount.png")],
                             env=subprocess_env(), capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert csv_run.returncode == 0
    rows = list(csv.DictReader(io.StringIO(csv_run.stdout)))
    assert len(rows) == 2 and list(rows[0]) == ["file", "number", "written", "status", "confidence", "warnings"]
    assert rows[0]["number"] == rows[0]["written"] == samples[0].text
    assert rows[1]["number"] == amount.text and rows[1]["written"] == amount.meta["written"]


def test_bytes_and_pil_inputs_read_the_same(pool):
    s = make_set("clean", 1, seed=20)[0]
    buf = io.BytesIO()
    Image.fromarray(s.image).save(buf, format="PNG")
    assert read_number(buf.getvalue()).text == read_number(Image.fromarray(s.image)).text == read_number(s.image).text


def test_fast_stages_match_the_plain_numpy_they_replace():
    # ink.high_percentile and the bounding boxes from cv2.boundingRect are speed-ups: they must give
    # exactly what np.percentile and np.nonzero give, ties, zeros and small arrays included.
    import cv2

    from digitsinsight.ink import high_percentile
    from digitsinsight.normalise import normalise_digit
    rng = np.random.default_rng(5)
    for _ in range(300):
        a = (rng.random((int(rng.integers(3, 300)), int(rng.integers(3, 300)))) ** rng.uniform(1, 20))
        a = a.astype(np.float32)
        if rng.random() < 0.3:
            a[a < 0.5] = 0
        if rng.random() < 0.2:
            a = np.round(a * 4) / 4  # many ties
        for q in (99.5, 99.9):
            assert high_percentile(a, q) == pytest.approx(float(np.percentile(a, q)), rel=1e-6, abs=1e-7)
    digit = np.zeros((90, 70), np.uint8)
    cv2.circle(digit, (35, 45), 25, 1, 6)
    ys, xs = np.nonzero(digit)
    tight = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert np.array_equal(normalise_digit(digit), normalise_digit(tight))
    assert normalise_digit(np.zeros((10, 10), np.uint8)).max() == 0
    # normalise._median stands in for np.median on the stroke's ridge: equal to the bit, for odd
    # and even counts, ties, and the float32 distances distanceTransform gives.
    from digitsinsight.normalise import _median
    for n in range(1, 120):
        values = (rng.integers(1, 9, n) * np.float32(0.955)).astype(np.float32)
        assert _median(values) == np.median(values) and _median(values).dtype == np.median(values).dtype
    dist = cv2.distanceTransform(digit, cv2.DIST_L2, 3)
    assert _median(dist[dist > 0]) == np.median(dist[dist > 0])


def test_crops_the_verifier_rejects_are_classified_only_where_a_best_path_needs_them(monkeypatch):
    # A speed-up, not a change: the reading is the one with every crop classified, in at most three
    # batches, from fewer crops (on 200 validation photos, 1,576 of 4,038, where reading every one the
    # verifier does not reject, p >= 0.1, took 2,482; on printed lines and digit-free images many
    # lines need a second look, so more).
    import digitsinsight.reader as reader
    sizes = []
    real = reader.classify
    monkeypatch.setattr(reader, "classify", lambda crops, model: sizes.append(len(crops)) or real(crops, model))
    rule, lazy_crops, all_crops = reader.CLASSIFY_FROM, 0, 0
    for s in make_set("hard", 12, seed=49) + make_set("negative", 6, seed=49):
        sizes.clear()
        lazy = read_number(s.image).to_dict()
        lazy_crops += sum(sizes) if s.text else 0
        assert len(sizes) <= 3
        monkeypatch.setattr(reader, "CLASSIFY_FROM", 0.0)  # every crop classified, in one batch
        sizes.clear()
        full = read_number(s.image).to_dict()
        all_crops += sum(sizes) if s.text else 0
        monkeypatch.setattr(reader, "CLASSIFY_FROM", rule)
        lazy.pop("seconds"), full.pop("seconds")
        assert lazy == full
    assert 0 < lazy_crops < 0.5 * all_crops, (lazy_crops, all_crops)


def test_digits_in_pieces_are_offered_as_one_digit_and_lines_of_writing_stay_lines():
    from digitsinsight.segment import Blob, group_lines, merge_stacked, merge_strokes, stacked_digit

    def lines(boxes):
        blobs = [Blob(*box, labels=[k + 1], area=(box[2] - box[0]) * (box[3] - box[1]))
                 for k, box in enumerate(boxes)]
        return [merge_strokes(line) for line in group_lines(merge_stacked(blobs))]

    # The marks of a sketched 8 (sketch validation set, seed 7): top loop, crossing tail, the knot
    # where the loops should meet, and the bottom loop. Two "lines" that touch: offered as one digit.
    eight = lines([(38, 33, 274, 222), (218, 185, 390, 242), (112, 224, 205, 329), (32, 292, 165, 425)])
    assert len(eight) == 2 and stacked_digit(eight) is not None
    # "2914" over "7502" (hard test set, seed 1), two touching digits per line: once joined as one
    # digit in pieces and read as "37"; now two lines, and never offered as one digit.
    two = lines([(78, 53, 149, 116), (166, 62, 240, 124), (116, 135, 145, 190), (165, 136, 293, 203)])
    assert [len(line) for line in two] == [2, 2] and stacked_digit(two) is None
    # "604" over "0" (hard test set, seed 1), once read as "84".
    two = lines([(840, 1019, 902, 1058), (912, 1022, 938, 1056), (844, 1061, 882, 1100)])
    assert [len(line) for line in two] == [2, 1] and stacked_digit(two) is None


def test_a_piece_inside_a_digit_does_not_start_a_line_of_its_own():
    from digitsinsight.segment import Blob, group_lines, merge_stacked, merge_strokes

    # "2627648" (clean validation set, seed 11): its 2 is a top arc, a middle stroke and a base that
    # do not meet. Lines grow greedily from the highest mark, so the middle stroke, which barely
    # overlaps the arc, started a line of its own and the number read "2627648" over "1".
    boxes = [(182, 23, 222, 79), (65, 25, 93, 39), (124, 25, 158, 79), (303, 24, 347, 80), (438, 25, 471, 83),
             (243, 26, 284, 79), (367, 29, 415, 82), (89, 37, 98, 56), (56, 57, 107, 77)]
    blobs = [Blob(*box, labels=[k + 1], area=(box[2] - box[0]) * (box[3] - box[1])) for k, box in enumerate(boxes)]
    lines = [merge_strokes(line) for line in group_lines(merge_stacked(blobs))]
    assert [len(line) for line in lines] == [7]
    assert (lines[0][0].x0, lines[0][0].y0, lines[0][0].x1, lines[0][0].y1) == (56, 25, 107, 77)

    # The same on a drawn "29": a 2 in three strokes. It read "29" over "1".
    img = np.full((220, 300), 245, np.uint8)
    cv2.ellipse(img, (72, 70), (34, 22), 0, 200, 360, 20, 8)
    cv2.line(img, (98, 86), (64, 126), 20, 8)
    cv2.line(img, (40, 158), (108, 158), 20, 8)
    cv2.circle(img, (195, 80), 27, 20, 8)
    cv2.line(img, (221, 86), (210, 160), 20, 8)
    reading = read_number(img)
    assert reading.text == "29" and len(reading.lines) == 1


def test_a_digit_broken_in_three_joins_its_foot_once_its_middle_has_joined():
    from bench.reader import validation_pool
    from digitsinsight.segment import Blob, merge_stacked

    # "033533" (hard validation set, seed 7): the last 3 broke into its top, a short middle piece
    # and its foot. The foot is too far below the top alone, so in one pass it stayed apart and,
    # with its own line, the number read "033532" over "88".
    top, middle = Blob(245, 81, 270, 102, [6], 159), Blob(262, 101, 273, 110, [7], 52)
    foot = Blob(241, 112, 271, 122, [8], 141)
    joined = merge_stacked([top, middle, foot])
    assert len(joined) == 1 and sorted(joined[0].labels) == [6, 7, 8]
    assert (joined[0].y0, joined[0].y1) == (81, 122)
    # Two digits of one size above one another are still two.
    assert len(merge_stacked([Blob(0, 0, 30, 40, [1], 600), Blob(0, 45, 30, 85, [2], 600)])) == 2
    sample = make_sample("hard", 751, 7, validation_pool())
    assert sample.text == "033533" and read_number(sample.image).text == "033533"


def test_a_line_left_out_as_marks_unlike_digits_is_read_when_the_line_reader_is_sure():
    from bench.reader import validation_pool

    # "7" over "91" written small on a page (hard validation set, seed 7), the 9 and the 1 touching
    # and not parted by the cuts: the verifier, rightly, takes the pair for no single digit, and the
    # line was left out as a stray mark ("7"). The line reader reads it; flagged, as a guess.
    sample = make_sample("hard", 752, 7, validation_pool())
    reading = read_number(sample.image)
    assert sample.text == "7\n91" and reading.text == "7\n91"
    assert reading.status == "unsure" and all(d.unsure for d in reading.digits if d.line == 1)
    assert any("line reader alone" in w for w in reading.warnings)
    assert not any(w.startswith("Ignored") for w in reading.warnings)
    # Without the line reader the pair stays left out, and says so.
    plain = read_number(sample.image, line_reader=None)
    assert plain.text == "7" and plain.warnings[0].startswith("Ignored 1 mark")


def test_small_pieces_of_a_digit_join_it_and_specks_apart_are_dropped():
    from digitsinsight.segment import find_marks

    # "747" with the end of the first 7's bar broken off (a faint stroke) and a speck far away.
    img = np.full((220, 420), 245, np.uint8)
    for x in (40, 260):
        cv2.line(img, (x + 20, 50), (x + 70, 50), 20, 7)
        cv2.line(img, (x + 70, 50), (x + 35, 150), 20, 7)
    cv2.polylines(img, [np.int32([(200, 50), (175, 115), (240, 115)])], False, 20, 7)
    cv2.line(img, (225, 70), (225, 150), 20, 7)
    cv2.line(img, (49, 50), (50, 50), 20, 5)
    cv2.circle(img, (400, 200), 3, 20, -1)
    marks, labels, dropped, _ = find_marks((img < 128).astype(np.uint8))
    dash, seven, speck = labels[50, 49], labels[100, 90], labels[200, 400]
    assert [sorted(m.labels) for m in marks][0] == sorted([seven, dash])
    assert all(speck not in m.labels for m in marks) and dropped == 1
    assert (marks[0].x0, marks[0].x1) == (46, 115)
    # A frame round the page is taller than any digit: it collects no pieces.
    framed = img.copy()
    cv2.rectangle(framed, (3, 3), (416, 216), 20, 3)
    marks, labels, _, _ = find_marks((framed < 128).astype(np.uint8))
    frame = next(m for m in marks if m.x0 < 10)
    assert len(frame.labels) == 1 and any(labels[50, 49] in m.labels and len(m.labels) == 2 for m in marks)
    # Clean test set, seed 1: a 7 whose bar's left end broke off (read as 1), and a 4 whose right
    # stroke is a row of dashes (read as 1). The pieces were dropped as specks.
    for i, text in ((754, "4700838"), (966, "642364")):
        sample = make_sample("clean", i, seed=1)
        assert sample.text == text and read_number(sample.image).text == text


def test_a_sketched_digit_in_pieces_reads_as_one_digit_but_two_lines_stay_two(pool):
    from digitsinsight.segment import Blob, stacked_digit
    # A sketched 8 (MNIST test digit) whose loops do not meet: the marks fall into two "lines",
    # once read as "8" over "0". The marks taken together read better as one digit.
    eight = make_set("sketch", 34, seed=21)[33]
    assert eight.text == "8"
    reading = read_number(eight.image)
    assert reading.text == "8" and len(reading.digits) == 1
    assert reading.status == "unsure" and "8 over 0" in reading.warnings[0]  # a guess, said so
    # Two lines of writing of one size, apart, are never offered as one digit (lines that touch are:
    # then the reader takes one digit only if it reads surely and better than the lines).
    one, other = Blob(0, 0, 60, 100, [1], 3000), Blob(5, 120, 65, 220, [2], 3000)
    assert stacked_digit([[one], [other]]) is None
    assert stacked_digit([[one], [Blob(5, 105, 65, 160, [2], 1500)]]) is not None  # a piece below
    assert stacked_digit([[one], [Blob(5, 140, 65, 200, [2], 1500)]]) is None       # ... too far below
    # Loosely, lines of one mark each are offered up to STACKED_LOOSE_GAP apart, whatever their sizes
    # (a 5 whose hat was drawn apart); lines of several marks never are.
    assert stacked_digit([[one], [other]], loose=True) is not None
    assert stacked_digit([[one], [Blob(5, 140, 65, 200, [2], 1500)]], loose=True) is not None
    assert stacked_digit([[one], [Blob(5, 150, 65, 250, [2], 3000)]], loose=True) is None   # too far apart
    beside_one, beside_other = Blob(70, 0, 130, 100, [3], 3000), Blob(75, 120, 135, 220, [4], 3000)
    assert stacked_digit([[one, beside_one], [other, beside_other]], loose=True) is None


def _ink_of(sample, height: int = 200) -> np.ndarray:
    """A sketched digit's ink, cropped and scaled to `height` (float, ink 1)."""
    image = sample.image
    ink = image[..., 3] > 128 if image.shape[2] == 4 else image[..., :3].mean(2) < 128
    ys, xs = np.nonzero(ink)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    return cv2.resize(ink, (max(1, round(ink.shape[1] * height / ink.shape[0])), height), interpolation=cv2.INTER_AREA)


def test_a_digit_drawn_in_strokes_apart_reads_as_one_digit_but_two_digits_one_above_the_other_do_not():
    from bench.reader import validation_pool
    from digitsinsight.image import load_image
    from digitsinsight.reader import find_lines
    from digitsinsight.segment import stacked_digit

    # A 5 whose hat was drawn apart from its body, a fifth of its height above it, the two of nearly
    # one size (sketch validation set, seed 13, #241): read as "8" over "0" before. Now one digit,
    # unsure, with the lines' reading said.
    five = make_sample("sketch", 241, 13, validation_pool())
    reading = read_number(five.image)
    assert five.text == "5" and reading.text == "5" and len(reading.digits) == 1
    assert reading.status == "unsure" and any("over" in w for w in reading.warnings)
    # Two sketched digits (MNIST test digits) written one above the other, 0.3 of their height
    # apart: offered loosely as one digit too, but the verifier takes each for a digit of its own,
    # so they stay two lines. Without that condition 4 of these 20 read as one digit ("0" over "4"
    # as "9", "3" over "0" as "8").
    sketches, offered = make_set("sketch", 40, seed=12), 0
    for top, bottom in zip(sketches[0::2], sketches[1::2]):
        a, b = _ink_of(top), _ink_of(bottom)
        canvas = np.zeros((660, max(a.shape[1], b.shape[1]) + 300), np.float32)
        canvas[100:300, 150:150 + a.shape[1]] = a
        canvas[360:560, 150:150 + b.shape[1]] = b
        image = np.dstack([(255 - 255 * np.clip(canvas, 0, 1)).astype(np.uint8)] * 3)
        lines = find_lines(load_image(image)).layout.lines
        assert stacked_digit(lines) is None
        if stacked_digit(lines, loose=True) is None:  # a digit in two marks; a 4 whose stem the 7 below took
            continue
        offered += 1
        assert read_number(image).text == f"{top.text}\n{bottom.text}"
    assert offered >= 15


def test_two_lines_of_digits_written_close_together_stay_two_lines(monkeypatch):
    from digitsinsight import segment
    from digitsinsight.segment import Blob, group_lines, merge_stacked

    def lines_of(blobs):
        return [sorted(label for b in line for label in b.labels) for line in group_lines(merge_stacked(blobs))]

    # "8625" over "8404", a quarter of their height apart (clean validation digits, seed 7): the 5's
    # body, a short mark, sat just above the 4 below it and was joined to it as a 5's hat would be;
    # the joined mark spanned both lines, which became one, read "7935".
    top = [Blob(57, 57, 94, 117, [1], 1500), Blob(105, 60, 158, 115, [2], 1500), Blob(177, 58, 227, 116, [3], 1500),
           Blob(238, 103, 262, 116, [4], 200), Blob(256, 60, 304, 84, [5], 500)]
    bottom = [Blob(57, 133, 100, 186, [6], 1500), Blob(125, 131, 164, 182, [7], 1200),
              Blob(189, 133, 235, 186, [8], 1500), Blob(248, 131, 289, 183, [9], 1000)]
    assert lines_of(top + bottom) == [[1, 2, 3, 4, 5], [6, 7, 8, 9]]
    # A 7 whose bar was drawn apart, beside a 1 of the same line: still one digit.
    one, bar, stem = Blob(0, 0, 10, 50, [1], 400), Blob(20, 0, 50, 8, [2], 200), Blob(30, 12, 45, 50, [3], 400)
    assert lines_of([one, bar, stem]) == [[1, 2, 3]] and len(merge_stacked([one, bar, stem])) == 2

    # Real numbers (MNIST test digits), two lines a fifth of their height apart: 84 pairs, of which
    # three (#0, #45, #68) had merged into one line.
    def ink_of(sample):
        ink = 1 - sample.image[..., :3].mean(2) / 255
        ys, xs = np.nonzero(ink > 0.5)
        return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]

    samples = [s for s in make_set("clean", 300, seed=6) if s.meta["ink"] == "black" and len(s.text) >= 3]
    pairs = list(zip(samples[0::2], samples[1::2]))
    images = []
    for a, b in pairs:  # the second number scaled to the first one's digit height
        ia, ib = ink_of(a), ink_of(b)
        f = a.meta["digit_height"] / b.meta["digit_height"]
        ib = cv2.resize(ib, (max(1, round(ib.shape[1] * f)), max(1, round(ib.shape[0] * f))), interpolation=cv2.INTER_AREA)
        gap, m = round(0.2 * a.meta["digit_height"]), 60
        canvas = np.zeros((ia.shape[0] + ib.shape[0] + gap + 2 * m, max(ia.shape[1], ib.shape[1]) + 2 * m), np.float32)
        canvas[m:m + ia.shape[0], m:m + ia.shape[1]] = ia
        canvas[m + ia.shape[0] + gap:m + ia.shape[0] + gap + ib.shape[0], m:m + ib.shape[1]] = ib
        images.append(np.dstack([(250 - 240 * np.clip(canvas, 0, 1)).astype(np.uint8)] * 3))

    def two_lines(which):
        return [read_number(images[i]).text.split("\n") == [pairs[i][0].text, pairs[i][1].text] for i in which]

    assert len(pairs) == 84
    assert sum(two_lines(range(84))) >= 77  # 79 when written; the rest are digits misread, as on one line
    merged = [0, 45, 68]
    assert all(two_lines(merged))
    monkeypatch.setattr(segment, "_in_another_line", lambda piece, big, blobs: False)  # the check off
    assert not any(two_lines(merged))
    assert lines_of(top + bottom) == [[1, 2, 3, 4, 5, 6, 7, 8, 9]]  # the 5's body joined to the 4: one line


def _sketchpad_with(draw) -> np.ndarray:
    canvas = np.full((500, 640, 3), 255, np.uint8)
    draw(canvas)
    return canvas


BOX = _sketchpad_with(lambda c: cv2.polylines(c, [cv2.boxPoints(((320, 250), (200, 300), 25)).astype(np.int32)],
                                              True, (0, 0, 0), 8, cv2.LINE_AA))
WIDE_BOX = _sketchpad_with(lambda c: cv2.rectangle(c, (120, 150), (520, 350), (0, 0, 0), 8, cv2.LINE_AA))
TRIANGLE = _sketchpad_with(lambda c: cv2.polylines(c, [np.array([[200, 420], [330, 80], [450, 400]], np.int32)],
                                                   True, (30, 30, 160), 10, cv2.LINE_AA))
DISC = _sketchpad_with(lambda c: cv2.ellipse(c, (320, 250), (150, 110), 20, 0, 360, (40, 40, 200), -1, cv2.LINE_AA))
RING = _sketchpad_with(lambda c: cv2.ellipse(c, (320, 250), (90, 150), 0, 0, 360, (0, 0, 0), 14, cv2.LINE_AA))
_t = np.linspace(0, 2 * np.pi, 800)
TANGLE = _sketchpad_with(lambda c: cv2.polylines(
    c, [np.stack([320 + 150 * np.cos(_t) + 60 * np.cos(5 * _t), 250 + 150 * np.sin(_t) + 60 * np.sin(5 * _t)],
                 1).astype(np.int32)], True, (0, 0, 0), 7, cv2.LINE_AA))


def test_drawn_shapes_are_not_read_as_numbers_but_a_ring_is_a_zero():
    from digitsinsight.image import load_image
    from digitsinsight.ink import extract_ink, fill_inked_holes
    from digitsinsight.reader import working_image

    # Before: the box read as a sure "0", the wide box, cut in two, as "52", the triangle as an unsure
    # "4", the disc as a sure "0": the background opening, narrower than the disc, took its inside for
    # paper and left a ring.
    for image in (BOX, WIDE_BOX, TRIANGLE):
        reading = read_number(image)
        assert reading.status == "no_digits" and reading.text == "" and not reading.digits
        assert reading.warnings == ["No digits found: the mark looks like a straight-sided shape, not a digit."]
    # A filled blob is flagged, not refused: a 0 written small with a thick pen can close up into one.
    assert read_number(DISC).status == "unsure"
    grey, _, shrink = working_image(load_image(DISC))  # what read_number reads: the region, made smaller
    assert shrink < 1.0
    ring_of_the_disc = extract_ink(grey).mask
    assert cv2.connectedComponents(1 - ring_of_the_disc, connectivity=4)[0] == 3  # the hole
    assert cv2.connectedComponents(1 - fill_inked_holes(ring_of_the_disc, grey, True), connectivity=4)[0] == 2
    # A tangle of loops is flagged, not refused: two digits touching can have as many.
    tangle = read_number(TANGLE)
    assert tangle.status == "unsure" and all(d.shape == "a tangle of loops" for d in tangle.digits)
    # A closed 4 drawn with straight strokes is a triangle on a stem: its loop spans a quarter of its
    # height, so it is no outline (sketch test set, seed 0; read as "a straight-sided shape" without that).
    closed_four = make_sample("sketch", 27, 0)
    assert closed_four.text == "4" and read_number(closed_four.image).text == "4"
    # A ring drawn with a pen is a zero, and its inside stays paper.
    ring = read_number(RING)
    assert ring.text == "0" and ring.status == "ok" and not ring.digits[0].shape
    ring_grey = load_image(RING).grey
    ring_ink = extract_ink(ring_grey).mask
    assert fill_inked_holes(ring_ink, ring_grey, True) is ring_ink


def test_the_bays_of_a_broken_rim_as_dark_as_its_ink_are_filled_but_a_c_stays_open():
    from digitsinsight.ink import fill_inked_holes
    # A square coloured in, wider than the background opening: the ink keeps a broken rim, a "[" and
    # a "]" whose bays are the square's dark inside.
    grey = np.full((300, 400), 0.85, np.float32)
    grey[60:240, 100:280] = 0.25
    rim = np.zeros(grey.shape, np.uint8)
    rim[60:240, 100:112] = rim[60:72, 100:170] = rim[228:240, 100:170] = 1      # "["
    rim[60:240, 268:280] = rim[60:72, 210:280] = rim[228:240, 210:280] = 1      # "]"
    filled = fill_inked_holes(rim, grey, True)
    assert filled[72:228, 112:170].all() and filled[72:228, 210:268].all()
    assert not filled[:, 175:205].any()                      # between the two hulls: left as it was
    # A "C" in ink on paper: its bay is paper, and stays so.
    c_grey = np.full((300, 400), 0.85, np.float32)
    c_ink = np.zeros(c_grey.shape, np.uint8)
    cv2.ellipse(c_ink, (200, 150), (80, 100), 0, 45, 315, 1, 14)
    c_grey[c_ink > 0] = 0.25
    assert fill_inked_holes(c_ink, c_grey, True) is c_ink
    # A mark the picture's edge cuts off (a shadow reaching it) bounds no bay: its hull is not its shape.
    edge_grey = np.full((300, 400), 0.85, np.float32)
    edge_grey[:, :120] = 0.45
    edge = np.zeros(edge_grey.shape, np.uint8)
    edge[:, :20] = edge[:15, :120] = edge[-15:, :120] = 1
    assert fill_inked_holes(edge, edge_grey, True) is edge
    # Filled squares on shaded paper (digit-free validation pages, seed 17) that read as a sure "7"
    # and a sure "0" from their rims:
    for i in (540, 959):
        sample = make_sample("negative", i, 17)
        assert sample.meta["shapes"] == ["rect"]
        assert read_number(sample.image).status == "no_digits"


def test_a_box_beside_a_number_is_flagged_and_the_line_reader_does_not_read_it_as_digits():
    sample = make_sample("clean", 1, 3)
    assert sample.text == "454" and read_number(sample.image).status == "ok"
    (h, w), top, bottom = sample.image.shape[:2], sample.boxes[0][1], sample.boxes[0][3]
    right = max(b[2] for b in sample.boxes)
    image = np.full((h, w + 2 * (bottom - top), 3), 255, np.uint8)
    image[:, :w] = sample.image
    cv2.rectangle(image, (right + 40, top), (right + 110, bottom), (0, 0, 0), 9, cv2.LINE_AA)
    reading = read_number(image)
    # Before: the line reader's "45417" (the box as a 1 and a 7) overruled the cut path's "4540".
    assert reading.text == "4540" and reading.status == "unsure"
    assert [bool(d.shape) for d in reading.digits] == [False, False, False, True]
    assert "Mark 4 looks like a straight-sided shape, not a digit (read as 0)." in reading.warnings
    assert reading.to_dict()["digits"][3]["shape"] == "a straight-sided shape"
    from digitsinsight import present
    assert present.digit_cards_html(reading).count("looks like a straight-sided shape") == 1


def test_numbers_in_printed_boxes_are_read_without_the_boxes():
    # An answer box round the number, or a row of boxes with a digit in each, some left empty (bench/synth.py
    # "boxed", MNIST test digits). Before, the box's sides and the walls between boxes were read as digits.
    samples = make_set("boxed", 30, seed=13)
    assert {s.meta["style"] for s in samples} == {"answer box", "row of boxes"}
    readings = [read_number(s.image) for s in samples]
    assert np.mean([r.text == s.text for r, s in zip(readings, samples)]) >= 0.8
    assert sum(r.status == "ok" and r.text != s.text for r, s in zip(readings, samples)) <= 1


def test_a_frame_goes_and_its_writing_stays_but_an_empty_box_is_left(pool):
    from digitsinsight.ink import remove_frames
    # A row of four boxes with 2 pixel lines, MNIST test digits in the first three, the third touching
    # the top of its box (one mark with the frame); then the same photographed 5 degrees off level.
    frame = np.zeros((220, 520), np.uint8)
    cv2.rectangle(frame, (20, 40), (480, 180), 1, 2)
    for x in (135, 250, 365):
        cv2.line(frame, (x, 40), (x, 180), 1, 2)
    digits = np.zeros_like(frame)
    for k, (x, y) in enumerate(((40, 60), (155, 62), (270, 13))):
        ink = cv2.resize(pool.sample(np.random.default_rng(k), k + 3), (100, 100), interpolation=cv2.INTER_CUBIC)
        digits[y:y + 100, x:x + 100] |= (ink >= 128).astype(np.uint8)
    assert cv2.connectedComponents(frame | digits)[0] == 1 + 1 + 2  # paper, the frame with the third, two digits
    for turn in (0.0, 5.0):
        m = cv2.getRotationMatrix2D((260, 110), turn, 1.0)
        lines, writing = (cv2.warpAffine(a, m, (520, 220), flags=cv2.INTER_NEAREST) for a in (frame, digits))
        kept = remove_frames(lines | writing, lines | writing)
        clear = cv2.dilate(lines, np.ones((7, 7), np.uint8)) == 0
        assert not (kept & lines & (1 - writing)).any(), turn              # no line left
        assert (kept[clear] == writing[clear]).all(), turn                   # the writing off the lines, whole
    # Nothing inside: a drawn box, or a row of empty boxes (read as drawn shapes, not digits), left as they are.
    for walls in ((), (135, 250, 365)):
        empty = np.zeros((220, 520), np.uint8)
        cv2.rectangle(empty, (20, 40), (480, 180), 1, 2)
        for x in walls:
            cv2.line(empty, (x, 40), (x, 180), 1, 2)
        assert remove_frames(empty, empty) is empty
    # A mark larger than FRAME_WORK is looked at on a smaller copy, where a line 1 pixel wide must not vanish.
    page = np.full((1600, 1600, 3), 255, np.uint8)
    cv2.circle(page, (800, 800), 700, (0, 0, 0), 1)
    assert read_number(page).status in ("no_digits", "unsure")


def test_no_mnist_test_digit_is_taken_for_a_drawn_shape(test_subset):
    from digitsinsight.ink import remove_frames
    from digitsinsight.segment import drawn_shape
    images, _ = test_subset
    for image in images:  # at the reader's working size, thin and thick
        big = cv2.resize(image, (112, 112), interpolation=cv2.INTER_CUBIC)
        assert drawn_shape(big >= 128) == "" and drawn_shape(big >= 40) == ""
        for mask in ((big >= 128).astype(np.uint8), (big >= 40).astype(np.uint8)):  # nor for a frame
            assert remove_frames(mask, mask) is mask


def test_light_ink_on_dark_and_a_small_number_on_a_page_lit_from_one_side():
    from digitsinsight.image import load_image
    from digitsinsight.ink import extract_ink
    clean = make_set("clean", 6, seed=16)
    assert np.mean([read_number(255 - s.image).text == s.text for s in clean]) >= 5 / 6  # chalk on a board
    # "143" in red, 29 px tall on a 1600x1200 page with a lighting gradient (hard test set, seed 1):
    # the shaded paper is darker than the few ink pixels are many, so polarity was read backwards
    # and the page came back blank.
    page = make_set("hard", 52, seed=1)[51]
    assert page.text == "143" and page.image.shape[:2] == (1200, 1600)
    assert extract_ink(load_image(page.image).grey).dark_on_light
    assert read_number(page.image).text == "143"


def test_a_number_half_in_shadow_is_read_whole():
    # A hand or a phone over the page dims the paper and the ink alike. Measured against the paper
    # around it, ink in the shadow is as strong as in the light; measured as a plain difference it
    # was weak, and the digits in the shadow were lost (1 of these 12 was read whole before).
    def shaded(image, depth):
        w = image.shape[1]
        x = np.arange(w, dtype=np.float32)
        light = 1.0 - depth / (1.0 + np.exp(-(x - 0.55 * w) / (0.02 * w)))  # soft edge, right part dark
        return np.clip(image.astype(np.float32) * light[None, :, None], 0, 255).astype(np.uint8)

    samples = make_set("clean", 12, seed=17)
    assert np.mean([read_number(shaded(s.image, 0.5)).text == s.text for s in samples]) >= 11 / 12


def test_a_page_on_a_dark_desk_gives_no_ink_on_the_desk():
    # A dark surround is no paper: measuring ink against it would turn its noise and the page's
    # edge into "ink" (up to 280,000 pixels of it on these images before the surround was recognised).
    from digitsinsight.image import load_image
    from digitsinsight.ink import extract_ink
    rng = np.random.default_rng(0)
    for s in make_set("clean", 12, seed=17):
        h, w = s.image.shape[:2]
        p = int(0.6 * max(h, w))
        desk = np.full((h + 2 * p, w + 2 * p, 3), 60, np.float32) + rng.normal(0, 3, (h + 2 * p, w + 2 * p, 3))
        desk[p:p + h, p:p + w] = s.image[..., :3]
        mask = extract_ink(load_image(np.clip(desk, 0, 255).astype(np.uint8)).grey).mask.copy()
        mask[p - 10:p + h + 10, p - 10:p + w + 10] = 0  # the page and its edge
        assert mask.sum() < 2000


def test_flat_paper_skips_the_background_and_gives_the_same_ink(monkeypatch):
    # A sketchpad canvas has no lighting to take out: the opening leaves nothing, and smoothing,
    # scaling up and dividing by that nothing is skipped. The ink must be exactly what it was.
    import digitsinsight.ink as ink
    from digitsinsight.image import load_image
    flat = [load_image(s.image).grey for s in make_set("sketch", 6, seed=3)]
    lit = [load_image(s.image).grey for s in make_set("hard", 4, seed=3)]
    # ink_region's preview of a canvas too: its INTER_AREA resize leaves white paper at 1 +- 1e-7,
    # which the opening had taken for lighting (the long way round, on 88 of 300 validation sketches).
    previews = [cv2.resize(g, (400, round(400 * g.shape[0] / g.shape[1])), interpolation=cv2.INTER_AREA)
                for g in flat if max(g.shape) >= ink.PREVIEW_FROM * 400]
    assert previews and any((1.0 - g).min() < 0 for g in previews)
    assert all(ink.estimate_background(1.0 - g) is None for g in flat + previews)
    assert all(ink.estimate_background(1.0 - g) is not None for g in lit)   # lit paper is measured
    fast = [ink.extract_ink(g) for g in flat]
    fast_previews = [ink.extract_ink(g, faint_rules=False) for g in previews]
    real_background = ink.estimate_background
    monkeypatch.setattr(ink, "estimate_background", lambda g: np.zeros_like(g))  # the long way round
    for g, shortcut in zip(flat, fast):
        slow = ink.extract_ink(g)
        assert slow.mask.any() and np.array_equal(slow.mask, shortcut.mask)
        assert np.array_equal(slow.strength, shortcut.strength) and slow.contrast == shortcut.contrast
    # On a preview the long way round is the opening's own 1e-7 "lighting": the same ink, to float rounding.
    monkeypatch.setattr(ink, "FLAT_PAPER", -1.0)
    for g, shortcut in zip(previews, fast_previews):
        assert real_background(1.0 - g) is not None
        slow = ink.extract_ink(g, faint_rules=False)
        assert slow.mask.any() and np.array_equal(slow.mask, shortcut.mask)
        assert np.abs(slow.strength - shortcut.strength).max() < 1e-6


def test_the_preview_measures_the_marks_and_the_pen_but_not_lines_run_in_from_the_edges():
    from digitsinsight.ink import ink_region
    from digitsinsight.reader import working_scale
    canvas = np.full((600, 800), 255, np.uint8)
    cv2.line(canvas, (300, 100), (300, 500), 0, 20)            # a "1" 420 px tall (the pen adds its width)
    cv2.circle(canvas, (500, 300), 190, 0, 20)                 # a "0" 400 px tall
    region = ink_region(canvas.astype(np.float32) / 255)
    assert region.mark_height == pytest.approx(410, rel=0.05) and region.stroke == pytest.approx(20, rel=0.25)
    assert working_scale(region) == pytest.approx(120 / region.mark_height)
    # Rules run in from the page's edges: they are not marks, and the digits' size stays what it was.
    ruled = canvas.copy()
    for y in (40, 560):
        cv2.line(ruled, (0, y), (799, y), 90, 3)
    cv2.line(ruled, (40, 0), (40, 599), 90, 3)
    assert ink_region(ruled.astype(np.float32) / 255).mark_height == pytest.approx(region.mark_height, rel=0.02)
    # Nothing but lines from edge to edge (a frame, a grid): nothing measured, nothing made smaller.
    grid = np.full((600, 800), 255, np.uint8)
    for x in range(0, 800, 100):
        cv2.line(grid, (x, 0), (x, 599), 0, 12)
    assert working_scale(ink_region(grid.astype(np.float32) / 255)) == 1.0


def test_large_drawings_are_read_from_a_smaller_copy_in_the_same_boxes(monkeypatch):
    # A digit drawn across a canvas is read from a copy in which it is about WORK_MARK_HEIGHT tall:
    # the same digits, boxed where reading at full size boxes them. A number written small on a
    # photographed page keeps its size.
    import digitsinsight.reader as reader
    from digitsinsight.image import load_image
    big = [s for s in make_set("sketch", 30, seed=21) if reader.working_image(load_image(s.image))[2] < 0.6][:5]
    assert len(big) == 5
    smaller = [read_number(s.image) for s in big]
    monkeypatch.setattr(reader, "WORK_MARK_HEIGHT", float("inf"))
    full = [read_number(s.image) for s in big]
    for s, a, b in zip(big, smaller, full):
        assert a.text == b.text == s.text and len(a.digits) == len(b.digits)
        h, w = s.image.shape[:2]
        for d, e in zip(a.digits, b.digits):
            size = max(e.box[2] - e.box[0], e.box[3] - e.box[1])
            assert max(abs(p - q) for p, q in zip(d.box, e.box)) <= max(3, 0.03 * size)
            assert 0 <= d.box[0] < d.box[2] <= w and 0 <= d.box[1] < d.box[3] <= h
    page = next(s for s in make_set("hard", 40, seed=22) if s.meta["page"] == "page")
    assert reader.working_image(load_image(page.image))[2] == 1.0


def test_level_runs_are_the_plain_opening_done_on_fewer_rows():
    from digitsinsight.ink import level_runs
    rng = np.random.default_rng(5)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 120, 2))
        mask = (rng.random((h, w)) < rng.uniform(0.02, 0.95)).astype(np.uint8)
        mask[rng.integers(h), : rng.integers(1, w + 1)] = 1  # a run from the left edge, of any length
        for vertical in (False, True):
            length = int(rng.integers(1, (h if vertical else w) + 3))
            bar = cv2.getStructuringElement(cv2.MORPH_RECT, (1, length) if vertical else (length, 1))
            counts = mask.sum(0 if vertical else 1, dtype=np.int32)
            assert np.array_equal(level_runs(mask, vertical, length, counts),
                                  cv2.morphologyEx(mask, cv2.MORPH_OPEN, bar))


def _small_on_a_tilted_page(image, height, rng, ruling, tilt, size=(1200, 1600)):
    """A clean number's picture made small (digits 28 px tall, as on a form) and pasted on a
    1600x1200 page of its own paper, ruled (a rule every 1.5 digit heights) or squared (every 0.9)
    with rules 2 px wide and about a third as dark as the ink, photographed `tilt` degrees off level."""
    H, W = size
    f = 28 / height
    grey = cv2.resize(image[..., :3].astype(np.float32), None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    paper = float(np.median(grey))
    big = max(H, W) * 2
    page = np.full((big, big, 3), paper, np.float32)
    pitch = int((1.5 if ruling == "ruled" else 0.9) * 28)  # else squared
    for offset in (0, 1):
        page[pitch // 2 + offset::pitch, :] = paper * 0.7
        if ruling == "squared":
            page[:, pitch // 2 + offset::pitch] = paper * 0.7
    page = cv2.GaussianBlur(page, (0, 0), 0.7)
    h, w = grey.shape[:2]
    y, x = (big - h) // 2, (big - w) // 2
    page[y:y + h, x:x + w] = np.minimum(page[y:y + h, x:x + w], grey)  # ink over the rules
    turn = cv2.getRotationMatrix2D((big / 2, big / 2), tilt, 1.0)
    page = cv2.warpAffine(page, turn, (big, big), flags=cv2.INTER_LINEAR)
    page = page[(big - H) // 2:(big + H) // 2, (big - W) // 2:(big + W) // 2] + rng.normal(0, 4.0, (H, W, 3))
    return np.clip(page, 0, 255).astype(np.uint8)


def test_a_hard_shadow_over_a_page_is_not_taken_for_ink():
    # Hard-set pages (test digits) with a hand's shadow over part of them and light ink. The
    # shadow's width was measured as a stroke's, so the paper estimate was made too coarse to follow
    # it, and the shadow became one huge mark: these were read as "2222222", "1 / 54" and "8 / 1".
    for seed, i in ((1, 25), (3, 76), (3, 276)):
        s = make_sample("hard", i, seed)
        assert s.meta["shadow"] > 0.3
        assert read_number(s.image).text == s.text


@pytest.mark.parametrize("ruling", ["ruled", "squared"])
def test_ruled_and_squared_paper_photographed_off_level(ruling):
    # Rules are found along their own tilt (up to 10 degrees), with one-pixel breaks bridged, and
    # what is left of them between the found stretches goes too. Only level rules were found
    # before: a tilted grid joined the digits into one big mark (4 of these 12 were read right).
    rng = np.random.default_rng(4)
    samples = make_set("clean", 12, seed=22)
    tilts = [-9, -7, -5, -3, -2, -1, 1, 2, 3, 5, 7, 9]
    pages = [_small_on_a_tilted_page(s.image, s.meta["digit_height"], rng, ruling, t) for s, t in zip(samples, tilts)]
    assert np.mean([read_number(p).text == s.text for p, s in zip(pages, samples)]) >= 10 / 12


def test_a_blank_ruled_or_squared_page_whose_lines_vanish_at_digit_size_has_no_digits():
    # Rules left in the ink can make one page-wide mark of thin lines. Brought to digit size its
    # strokes vanish and the crop is empty, which the classifier read as a sure "1", exempt from the
    # verifier's doubt as a fair lone 1: these digit-free pages of the benchmark's generator (seed 17,
    # where the fix was chosen) were read as "1", "1111111111111111111111111111", "1 / 1 / 1 / 1 / 1 / 8"
    # and "1", all flagged unsure.
    from digitsinsight.image import load_image
    from digitsinsight.normalise import normalise_digit
    from digitsinsight.reader import find_lines
    from digitsinsight.segment import blob_mask
    for i in (360, 750, 862, 874):
        s = make_sample("negative", i, 17)
        assert s.meta["type"] == "ruled_paper"
        reading = read_number(s.image)
        assert reading.status == "no_digits" and reading.text == "", (i, reading.text)
    grid = make_sample("negative", 360, 17).image
    page = find_lines(load_image(grid))
    (mark,), = page.layout.lines                 # the grid is one mark the size of the page ...
    assert (mark.w, mark.h) == grid.shape[1::-1]
    assert not normalise_digit(blob_mask(page.layout.labels, mark)).any()  # ... that leaves no ink at digit size


def _squared_page_photo(pitch: int, w=938, h=788, angle=3.0) -> bytes:
    """A photo of a blank squared page: blue lines every `pitch` px, tilted, as a JPEG."""
    big = np.full((3 * h, 3 * w, 3), (236, 234, 228), np.uint8)
    for x in range(0, 3 * w, pitch):
        cv2.line(big, (x, 0), (x, 3 * h), (200, 210, 235), 2)
    for y in range(0, 3 * h, pitch):
        cv2.line(big, (0, y), (3 * w, y), (200, 210, 235), 2)
    big = cv2.warpAffine(big, cv2.getRotationMatrix2D((1.5 * w, 1.5 * h), angle, 1.0), (3 * w, 3 * h))
    buf = io.BytesIO()
    Image.fromarray(big[h:2 * h, w:2 * w]).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def test_a_blank_squared_page_or_a_scribble_is_a_mesh_of_lines_not_digits(test_subset):
    # A squared page's lines, where they stay in the ink, are one mark with a hole per square. Cut up
    # and read, that mark was read as "18" and "111" (pitch 26 and 34 px), flagged unsure.
    from digitsinsight.segment import LATTICE, drawn_shape
    for pitch in (26, 34, 45):
        reading = read_number(_squared_page_photo(pitch))
        assert reading.status == "no_digits" and reading.text == "" and not reading.digits
        assert reading.warnings == ["No digits found: the mark looks like a mesh of crossing lines, not a digit."]
    # A scribble is a mesh too: of 109 scribbles among the digit-free validation pages (seed 17, where
    # the rule was chosen), 39 more are refused; these four were read as "38", "5", "337" and "8", unsure.
    for i in (1, 18, 43, 62):
        sample = make_sample("negative", i, 17)
        assert sample.meta["type"] == "scribble"
        reading = read_number(sample.image)
        assert reading.status == "no_digits" and "mesh of crossing lines" in reading.warnings[0], (i, reading.text)
    squares = np.zeros((201, 241), np.uint8)
    squares[::20, :] = squares[:, ::20] = 1
    assert drawn_shape(squares) == LATTICE                # 10 x 12 squares
    assert drawn_shape(squares[:21]) != LATTICE           # but a row of 12 loops is as many per height as 0s
    # Digits that overlap into one mark are no mesh: eight MNIST test 8s, 11 px apart at 28 px.
    images, labels = test_subset
    eights = images[labels == 8][:8]
    row = np.zeros((40, 30 + 11 * 8), np.uint8)
    for k, eight in enumerate(eights):
        row[6:34, 6 + 11 * k:34 + 11 * k] = np.maximum(row[6:34, 6 + 11 * k:34 + 11 * k], eight)
    row = cv2.resize(row, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    assert cv2.connectedComponents((row > 127).astype(np.uint8))[0] == 2  # one mark
    assert drawn_shape(row > 127) != LATTICE
    reading = read_number(255 - row)
    assert reading.status != "no_digits" and reading.text.count("8") >= 6, reading.text
    # ... and a number on a squared page is still read: there the rules are found and taken out.
    sample = make_sample("clean", 0, 5)
    page = np.array(Image.open(io.BytesIO(_squared_page_photo(26))).convert("RGB"))
    h, w = sample.image.shape[:2]
    page[100:100 + h, 20:20 + w] = np.minimum(page[100:100 + h, 20:20 + w], sample.image[..., :3])
    assert read_number(page).text == sample.text


def test_only_lines_at_one_pitch_away_from_the_edges_count_as_ruling():
    from digitsinsight.ink import _ruling_lines
    ruled = np.zeros((300, 400), np.uint8)
    ruled[30:270:40, :] = 1                     # six rules, every 40 px
    ruled[130, 100:300] = 1                     # ... and a long stroke of a digit among them
    assert _ruling_lines(ruled, vertical=False, length=66) >= 3
    assert _ruling_lines(np.ascontiguousarray(ruled.T), vertical=True, length=66) >= 3
    frame = np.zeros((300, 400), np.uint8)      # a vignette's or a page's edges, and one stroke
    frame[:4, :] = frame[-4:, :] = 1
    frame[120, :] = 1
    assert _ruling_lines(frame, vertical=False, length=66) < 3
    uneven = np.zeros((300, 400), np.uint8)     # long strokes at no common pitch
    uneven[[40, 52, 200], :] = 1
    assert _ruling_lines(uneven, vertical=False, length=66) < 3


def test_faint_rules_on_a_noisy_page_are_found_before_faint_marks_are_dropped():
    # Marks without a strong pixel are dropped before rules are looked for. On a noisy page with
    # faint rules, that took the rules away from the digits first, and the stubs left on the digits
    # were too short to be found as rules: they stayed on the digits. Hard test numbers, seed 1:
    for i, text, before in ((618, "450850", "9"), (999, "68636\n4770", "68636")):
        sample = make_sample("hard", i, seed=1)
        assert sample.text == text and sample.meta["ruling"] in ("ruled", "grid")
        assert read_number(sample.image).text == text, f"read as {before!r} before"
    # Blank ruled and squared pages (the no-digit set, seed 1), once read as a sure "1" each.
    for i in (600, 932):
        page = make_sample("negative", i, seed=1)
        assert page.meta["type"] == "ruled_paper" and read_number(page.image).status == "no_digits"
    # A blank squared page, noisy and unevenly lit (seed 7): its strongest rule pixels are left as
    # dashes once the faint rule between them goes. They are rule, not writing: still no digits.
    page = make_sample("negative", 136, seed=7)
    assert page.meta["ruling"] == "grid" and read_number(page.image).status == "no_digits"


@pytest.mark.parametrize("tilt", [-8.0, -2.5, 0.0, 1.0, 6.0])
def test_the_tilt_of_ruled_lines_is_found_and_they_are_taken_whole(tilt):
    from digitsinsight.ink import long_lines, ruling_tilt
    mask = np.zeros((900, 1200), np.uint8)
    t = np.tan(np.radians(tilt))
    for y0 in range(-200, 1100, 40):  # rules 2 px wide, every 40 px, with a gap every 150 px
        for x in range(1200):
            y = int(round(y0 + x * t))
            if 0 <= y < 899 and x % 150:
                mask[y:y + 2, x] = 1
    cv2.circle(mask, (600, 450), 20, 1, 3)  # a "0" written across a rule
    assert abs(ruling_tilt(mask) - tilt) <= 0.25
    found = long_lines(mask, vertical=False, length=200)
    ring = np.zeros_like(mask)
    cv2.circle(ring, (600, 450), 20, 1, 3)
    rules = mask & (1 - ring)
    assert (found & rules).sum() >= 0.95 * rules.sum()   # the rules, gaps and all
    # Not the digit, apart from where it crosses a rule (which the strengths decide later).
    off_the_rules = ring & (1 - cv2.dilate(rules, np.ones((7, 7), np.uint8)))
    assert (found & off_the_rules).sum() <= 0.02 * off_the_rules.sum()


def test_the_benchmark_judges_another_classifier_inside_the_bundled_reader(tmp_path):
    """bench.reader --model swaps the classifier alone: a copy of the shipped one whose last layer
    always says 3 reads sketched digits as 3, while the bundled model reads them right; --compare
    reads each image with both and lists what the new one breaks."""
    import shutil
    from safetensors.torch import load_file, save_file
    from bench import reader as bench_reader
    from digitsinsight.weights import BUNDLED_WEIGHTS, sha256_file

    folder = tmp_path / "always3"
    shutil.copytree(BUNDLED_WEIGHTS, folder, ignore=shutil.ignore_patterns("insights", "verifier", "sequence"))
    state = load_file(folder / "model.safetensors")
    state["fc.bias"][3] += 1000.0
    save_file(state, folder / "model.safetensors")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["weights_sha256"] = sha256_file(folder / "model.safetensors")  # else refused as corrupt
    (folder / "metrics.json").write_text(json.dumps(metrics))

    args = ["--n", "4", "--seed", "7", "--sets", "sketch", "--digits", "validation", "--no-latency"]
    bundled = bench_reader.main(args + ["--out", str(tmp_path / "bundled")])
    other = bench_reader.main(args + ["--out", str(tmp_path / "other"), "--model", f"local-dir:{folder}",
                                      "--compare"])
    texts = [s.text for s in make_set("sketch", 4, 7, bench_reader.validation_pool())]
    threes = texts.count("3") / len(texts)
    assert other["model"] == f"local-dir:{folder}" and other["baseline_model"] == bundled["model"] != other["model"]
    row, base = other["sets"][0], bundled["sets"][0]
    assert base["exact_match"] >= 0.75
    assert row["exact_match"] == threes and row["typical_demo_exact_match"] == threes
    # The baseline reads exactly as the bundled run did; what the always-3 model lost is listed.
    assert row["baseline_exact_match"] == base["exact_match"] and row["fixed"] == []
    assert len(row["broken"]) == round(4 * (base["exact_match"] - threes)) > 0
    assert all(b["read"] == "3" and b["baseline_read"] == b["truth"] != "3" for b in row["broken"])
    saved = json.loads((tmp_path / "other" / "reader.json").read_text())
    assert saved["model"] == f"local-dir:{folder}" and saved["sets"][0]["broken"] == row["broken"]
    assert "| sketch | " in (tmp_path / "other" / "reader.md").read_text().split("Against")[1]


def test_amounts_with_points_and_commas_read_their_digits_and_show_them_as_written(monkeypatch):
    # Amounts written with thousands commas and decimal points (bench/synth.py, MNIST test digits).
    # A comma's tail runs below the line: it made a line of its own, read as a sure "1". A point
    # was dropped as a speck, or joined its digit, without a word.
    from digitsinsight import segment
    from digitsinsight.present import number_html

    samples = make_set("punctuated", 40, seed=13)
    readings = [read_number(s.image) for s in samples]
    assert all(len(r.lines) == 1 for r in readings)
    assert np.mean([r.text == s.text for r, s in zip(readings, samples)]) >= 0.95
    as_written = [r.to_dict()["written"] == s.meta["written"] for r, s in zip(readings, samples)]
    assert np.mean(as_written) >= 0.9
    for r, s, ok in zip(readings, samples, as_written):
        if ok and r.text == s.text:  # the digits alone are the number; the page shows it as written
            assert r.to_dict()["number"] == s.text and r.written_lines == [s.meta["written"]]
            assert f"Written as {s.meta['written']}" in " ".join(r.warnings)
            assert f">{s.meta['written']}</div>" in number_html(r)
    # Without the separator check, commas come back as lines of their own.
    monkeypatch.setattr(segment, "separator_kind", lambda mark, marks, labels: "")
    commas = [s for s in samples if "," in s.meta["written"]][:8]
    assert sum(len(read_number(s.image).lines) > 1 for s in commas) >= len(commas) // 2


def _read_written_set(kind: str, mark: str, least: float) -> list:
    """30 generated numbers of `kind` (MNIST test digits), groups joined by `mark`: at least `least` of
    them read right, digits and as written; each read as written is shown so and said group by group.
    -> (sample, reading, read as written) for each."""
    from digitsinsight import speech
    from digitsinsight.present import number_html

    samples = make_set(kind, 30, seed=13)
    readings = [read_number(s.image) for s in samples]
    as_written = [r.to_dict()["written"] == s.meta["written"] for r, s in zip(readings, samples)]
    assert np.mean([r.text == s.text for r, s in zip(readings, samples)]) >= least
    assert np.mean(as_written) >= least
    for r, s, ok in zip(readings, samples, as_written):
        if ok:
            assert r.to_dict()["number"] == s.text and f"Written as {s.meta['written']}" in " ".join(r.warnings)
            assert f">{s.meta['written']}</div>" in number_html(r)
            # said group by group: as many numbers as groups, a pause between them
            assert speech.number_words(r.to_dict()["written"]).count(";") == s.meta["written"].count(mark)
    return list(zip(samples, readings, as_written))


def _sketched(digits: tuple, stroke: list, brush: int, height: int) -> np.ndarray:
    """A transparent sketchpad layer 1300 px wide: MNIST test digits (x, digit) drawn 2.5 times their
    size from y 60, and one more stroke (a list of points) between them."""
    from bench.synth import default_pool, digit_strokes, draw_strokes
    pool = default_pool()
    mask = np.zeros((height, 1300), np.uint8)
    for x, digit in digits:
        idx = int(pool.by_digit[digit][0])
        draw_strokes(mask, [p * 2.5 + (x, 60) for p in digit_strokes(pool.images[idx], digit)], brush)
    draw_strokes(mask, [np.array(stroke, float)], brush)
    sketch = np.zeros(mask.shape + (4,), np.uint8)
    sketch[..., 3] = mask
    return sketch


def test_hyphenated_numbers_read_their_digits_and_show_them_with_their_hyphens():
    # Phone numbers, dates and codes in groups joined by hyphens (bench/synth.py, MNIST test digits).
    # Before, each hyphen was left out as "a mark that does not look like a digit".
    for _, r, ok in _read_written_set("hyphenated", "-", 0.9):
        if ok:
            assert " ".join(r.warnings).count("does not look like a digit") == 0

    # Drawn on a transparent sketchpad: MNIST test digits 3 7 - 5 2, with a thin and a thick brush.
    for brush in (4, 18):
        reading = read_number(_sketched(((60, 3), (300, 7), (660, 5), (900, 2)), [[550, 210], [640, 205]], brush, 420))
        assert reading.text == "3752" and reading.to_dict()["written"] == "37-52", brush


def test_dated_numbers_read_their_digits_and_show_them_with_their_slashes():
    # Dates and fractions in groups joined by slashes (bench/synth.py, MNIST test digits). Before, each
    # slash was read as a 1. A slash drawn no taller than the digits, ending level with them, still is
    # (about a third of these: see README), so the share asked for is lower than for hyphens.
    _read_written_set("dated", "/", 0.55)

    # Drawn on a transparent sketchpad: MNIST test digits 1 2 / 0 5, the slash reaching below the digits.
    for brush in (6, 18):
        reading = read_number(_sketched(((60, 1), (300, 2), (660, 0), (900, 5)), [[540, 370], [630, 80]], brush, 460))
        assert reading.text == "1205" and reading.to_dict()["written"] == "12/05", brush


def test_a_slash_stands_out_of_its_line_or_is_drawn_like_one_that_does():
    from digitsinsight.segment import find_marks

    # Upright strokes 100 px tall (y 50-150) at x 100, 200, 400, 500 and 700, and strokes leaning right
    # in the gaps: a slash 1.3 times as tall as they are; one a little taller than they are, leaning as
    # far, its foot as low (a 1, alone; a slash, beside the first); one level with them; one leaning
    # left; one after the last stroke, and a tall upright one.
    def separators(*strokes):
        img = np.full((260, 820), 245, np.uint8)
        for (x0, y0), (x1, y1) in tuple(((x, 50), (x, 150)) for x in (100, 200, 400, 500, 700)) + strokes:
            cv2.line(img, (x0, y0), (x1, y1), 20, 9)
        return [s.kind for s in find_marks((img < 128).astype(np.uint8))[3]]

    slash, alike = ((250, 160), (295, 30)), ((550, 160), (590, 42))
    assert separators(slash) == ["slash"]
    assert separators(alike) == []
    assert separators(slash, alike) == ["slash", "slash"]
    # A 1 as tall as a slash and leaning as far, but standing on the line where the slash reaches
    # below it, is drawn otherwise: it stays a digit.
    assert separators(((250, 180), (290, 60))) == ["slash"]
    assert separators(((250, 170), (285, 68)), ((440, 150), (475, 48))) == ["slash"]
    assert separators(((250, 150), (300, 50))) == []
    assert separators(((250, 60), (290, 180))) == []
    assert separators(((750, 180), (790, 60))) == []
    assert separators(((270, 180), (272, 40))) == []
    # Leaning 11 or 13 degrees, as a 1 may, it is a 1 even reaching below the line (at 13, flagged as a
    # slash it may be: below); 17 degrees is a slash.
    assert separators(((250, 160), (275, 30))) == []
    assert separators(((250, 160), (280, 30))) == []
    assert separators(((250, 160), (290, 30))) == ["slash"]


def test_strokes_drawn_alike_are_flagged_with_a_digit_of_their_line_between_them():
    from digitsinsight.segment import find_marks

    # Upright strokes 100 px tall (y 50-150) and two straight strokes leaning 19 degrees, drawn alike.
    def marks(*strokes, width=620):
        img = np.full((420, width), 245, np.uint8)
        for (x0, y0), (x1, y1) in strokes:
            cv2.line(img, (x0, y0), (x1, y1), 20, 9)
        keep, _, _, separators = find_marks((img < 128).astype(np.uint8))
        return [s.kind for s in separators], [b.x0 for b in keep if b.slash_like]

    line, pair = (((100, 50), (100, 150)), ((500, 50), (500, 150))), (((220, 150), (255, 50)), ((320, 150), (355, 50)))
    assert marks(*line, *pair) == ([], [])  # side by side: 1s, as a date has no empty group
    assert marks(*line, *pair, ((290, 50), (290, 150))) == ([], [215, 315])  # a digit between: a date's slashes, maybe
    assert marks(*line, *pair, ((290, 260), (290, 360))) == ([], [])  # a digit of another line under them is not between
    # "11/11", its 1s leaning alike round a slash that stands out: the slash is no digit between them,
    # and a 1 beside a slash is no slash (before: "Marks 2 and 3 may be slashes, not 1s: 1///1?").
    ones = ((100, 50), (100, 150)), ((230, 150), (265, 50)), ((530, 150), (565, 50)), ((700, 50), (700, 150))
    assert marks(*ones, ((380, 175), (420, 30)), width=820) == (["slash"], [])


def test_a_1_that_may_be_a_slash_is_flagged_with_the_number_it_would_be():
    from bench.synth import draw_strokes
    from digitsinsight import present, speech

    # MNIST test digits 2 and 8 on a sketchpad (about 170 px tall, feet at y 270-285) and between them a
    # straight stroke as tall, leaning 22 degrees. It does not stand out of the line as a slash must, so
    # it is read as the 1 it looks like; before, the reading came back sure. Its foot reaches 10 px
    # below theirs, as a slash's often does and a 1's does not: the reading is unsure, and offers the
    # fraction. Standing on the line, the stroke is a 1, and the reading is sure.
    for brush in (8, 18):
        reading = read_number(_sketched(((60, 2), (660, 8)), [[400, 288], [470, 118]], brush, 460))
        assert reading.text == "218" and reading.status == "unsure", brush
        assert reading.warnings == ["Mark 2 may be a slash, not a 1: 2/8?"]
        assert [d["maybe_slash"] for d in reading.to_dict()["digits"]] == [False, True, False]
        assert "or a slash?" in present.digit_cards_html(reading)
        # said as "maybe two hundred eighteen": a slash has no digit to offer instead of the 1
        assert present.unsure_runners(reading.to_dict()) == {1: None}
        assert speech.unsure_from_reading(reading) == {1: None}

        reading = read_number(_sketched(((60, 2), (660, 8)), [[400, 272], [470, 102]], brush, 460))
        assert reading.text == "218" and reading.status == "ok" and reading.warnings == [], brush

    # Two such strokes in one line: one warning, with the date they would make.
    sketch = _sketched(((60, 2), (560, 8), (1000, 4)), [[400, 288], [470, 118]], 12, 460)
    layer = sketch[..., 3].copy()
    draw_strokes(layer, [np.array([[890, 288], [960, 118]], float)], 12)
    sketch[..., 3] = layer
    reading = read_number(sketch)
    assert reading.text == "21814" and reading.warnings == ["Marks 2 and 4 may be slashes, not 1s: 2/8/4?"]

    # A stroke 1.5 times as tall as the digits, reaching below them: upright (9 degrees), a sure 1; leaning
    # 14 degrees, as a 1 may and as a slash drawn 15 degrees off with a thick pen measures, a 1 flagged as
    # the slash it may be (before, a sure 218); leaning 19 degrees, a slash.
    for brush in (8, 28):
        for top_x, written, status in ((440, "218", "ok"), (462, "218", "unsure"), (485, "2/8", "ok")):
            reading = read_number(_sketched(((60, 2), (660, 8)), [[400, 330], [top_x, 80]], brush, 460))
            assert (reading.to_dict()["written"], reading.status) == (written, status), (brush, top_x)
        assert reading.text == "28"

    # Standing on the line, one such stroke is a 1 and the reading sure (above); two drawn alike with a
    # digit between them may be a date's two slashes (before, a sure 21814), and are flagged. Side by
    # side, with no digit between them, they are 1s ("2114"): a date has no empty group.
    for brush in (8, 18):
        for second, digits, text, warnings in (
                (890, ((60, 2), (560, 8), (1000, 4)), "21814", ["Marks 2 and 4 may be slashes, not 1s: 2/8/4?"]),
                (600, ((60, 2), (1000, 4)), "2114", [])):
            sketch = _sketched(digits, [[400, 272], [470, 102]], brush, 460)
            layer = sketch[..., 3].copy()
            draw_strokes(layer, [np.array([[second, 272], [second + 70, 102]], float)], brush)
            sketch[..., 3] = layer
            reading = read_number(sketch)
            assert reading.text == text and reading.warnings == warnings, (brush, second)
            assert reading.status == ("unsure" if warnings else "ok")

    # A number written with a hyphen is a code, not a date: the same stroke in it is a 1, and it is sure.
    for brush in (8, 18):
        sketch = _sketched(((60, 2), (560, 8), (900, 4)), [[400, 288], [470, 118]], brush, 460)
        reading = read_number(sketch)  # without the hyphen, flagged
        assert reading.text == "2184" and reading.warnings == ["Mark 2 may be a slash, not a 1: 2/84?"], brush
        layer = sketch[..., 3].copy()
        draw_strokes(layer, [np.array([[820, 200], [900, 196]], float)], brush)
        sketch[..., 3] = layer
        reading = read_number(sketch)
        assert reading.to_dict()["written"] == "218-4" and reading.status == "ok", brush


def test_a_fair_1_standing_alone_is_not_flagged_for_the_verifiers_doubt():
    # A 1 drawn as one straight stroke between an MNIST test 3 and 7 on a sketchpad. The split
    # verifier, trained on fragments of digits, puts such a 1 at 0.37 (6 px brush) and 0.43 (24 px):
    # before, the number came back unsure, "Mark 2 may not be a digit (read as 1)".
    for brush in (6, 24):
        reading = read_number(_sketched(((60, 3), (660, 7)), [[420, 90], [405, 330]], brush, 420))
        assert reading.text == "317" and reading.status == "ok" and reading.warnings == [], brush
        assert reading.digits[1].is_digit < 0.5 and reading.digits[1].fair_one

    from digitsinsight import Digit

    def one(crop, is_digit=0.4, stands_alone=True, digit=1):
        return Digit(digit, 0.99, [(digit, 0.99)], (0, 0, 10, 28), crop, 0, is_digit, stands_alone=stands_alone)

    def stroke(top_x, bottom_x):
        crop = np.zeros((28, 28), np.uint8)
        cv2.line(crop, (top_x, 4), (bottom_x, 23), 255, 3)
        return crop

    upright, leaning = stroke(14, 13), stroke(17, 10)  # 4 and 20 degrees right of upright
    assert one(upright).fair_one and not one(upright).unsure
    assert one(stroke(10, 17)).fair_one                # leaning left: no slash leans so
    assert one(stroke(17, 12)).unsure                  # 15 degrees right: past the 12 a fair 1 may lean
    assert one(upright, stands_alone=False).unsure   # a piece cut from a mark: maybe a sliver of a digit
    assert one(upright, is_digit=0.05).unsure        # the verifier is sure it is no digit
    assert one(leaning).unsure                       # leaning as a slash may: maybe one read as a 1
    assert one(upright, digit=7).unsure
    blob = np.zeros((28, 28), np.uint8)
    cv2.circle(blob, (14, 14), 6, 255, -1)
    assert one(blob).unsure                          # not a straight stroke


def test_a_plain_digit_in_a_number_is_not_flagged_for_the_verifiers_doubt():
    # Printed numbers (bench/synth.py, seed 13) "02948" and "44135618": the split verifier, trained on
    # fragments of handwritten digits, doubts the printed 4 of the first (0.08) and two 1s of the
    # second (0.09, 0.19), each a mark of its own read above 99% beside other digits. Before, each came
    # back unsure: "Mark 4 may not be a digit (read as 4)".
    for s in make_set("printed", 5, seed=13)[3:5]:
        reading = read_number(s.image)
        assert reading.text == s.text and reading.status == "ok" and reading.warnings == [], s.text
        assert any(d.is_digit < 0.1 and d.plain_in_company for d in reading.digits)

    from digitsinsight import Digit

    def mark(digit, crop, confidence=0.998, in_company=True, stands_alone=True):
        return Digit(digit, confidence, [(digit, confidence)], (0, 0, 10, 28), crop, 0, 0.08,
                     stands_alone=stands_alone, in_company=in_company)

    def stroke(top_x, bottom_x):
        crop = np.zeros((28, 28), np.uint8)
        cv2.line(crop, (top_x, 4), (bottom_x, 23), 255, 3)
        return crop

    ring = np.zeros((28, 28), np.uint8)
    cv2.circle(ring, (14, 14), 8, 255, 3)
    assert not mark(0, ring).unsure
    assert mark(0, ring, in_company=False).unsure      # alone on the page, as a scribble or a shape comes
    assert mark(0, ring, stands_alone=False).unsure    # a piece cut from a mark, or marks joined
    assert mark(0, ring, confidence=0.98).unsure       # read less surely
    assert not mark(1, stroke(14, 13)).unsure          # an upright 1
    assert mark(1, stroke(17, 10)).unsure              # a 1 leaning 20 degrees, as a slash may: still flagged


def test_two_straight_1s_a_digit_apart_are_not_taken_together_for_one_digit():
    # Two upright strokes 100 px tall, a stroke's height apart: together they are no wider than a
    # digit, and were offered as one mark in pieces, read as one "1": the verifier doubts each thin 1
    # (0.14) and the pair (0.04), and one doubted piece cost less than two. Strokes of one digit all
    # but meet: marks further apart than half the line's height are not joined.
    img = np.full((260, 820), 245, np.uint8)
    for x in (100, 200):
        cv2.line(img, (x, 50), (x, 150), 20, 9)
    reading = read_number(img)
    assert reading.text == "11" and [d.box[0] < 110 for d in reading.digits] == [True, False]


def test_lines_read_with_slashes_are_told_apart_in_the_warning():
    # Two generated fractions ("6/5" and "94/31", MNIST test digits), one above the other on one page.
    a, b = make_set("dated", 4, seed=13)[2:4]
    width = max(a.image.shape[1], b.image.shape[1])
    page = np.full((a.image.shape[0] + b.image.shape[0] + 40, width, 3), 255, np.uint8)
    page[:a.image.shape[0], :a.image.shape[1]] = a.image
    page[a.image.shape[0] + 40:, :b.image.shape[1]] = b.image
    reading = read_number(page)
    assert reading.written_lines == [a.meta["written"], b.meta["written"]] == ["6/5", "94/31"]
    assert "Written as 6/5; 94/31: the number holds its digits only." in reading.warnings


def test_a_point_or_comma_is_told_from_pieces_of_digits_and_specks():
    from digitsinsight.segment import find_marks

    # Five strokes 100 px tall (y 50-150) with, between them: a point on the baseline, a comma whose
    # tail runs below it, a dot high up, a piece under a stroke; and a point after the last stroke.
    img = np.full((260, 520), 245, np.uint8)
    for x in (40, 140, 240, 340, 440):
        cv2.line(img, (x, 50), (x, 150), 20, 9)
    cv2.circle(img, (90, 144), 6, 20, -1)                # point
    cv2.line(img, (196, 142), (186, 178), 20, 8)         # comma
    cv2.circle(img, (290, 60), 6, 20, -1)                # high dot: not punctuation
    cv2.line(img, (340, 150), (340, 168), 20, 9)         # the foot of the stroke at 340, broken off
    cv2.line(img, (336, 160), (344, 160), 245, 3)
    cv2.circle(img, (490, 144), 6, 20, -1)               # after the last mark: no digit to its right
    marks, labels, dropped, separators = find_marks((img < 128).astype(np.uint8))
    assert len(separators) == 2  # the point and the comma, nothing else
    assert [(s.kind, s.blob.x0 < x < s.blob.x1) for s, x in zip(separators, (90, 191))] == [
        ("point", True), ("comma", True)]
    assert all(labels[144, 90] not in m.labels and labels[170, 188] not in m.labels for m in marks)


def test_a_minus_sign_is_written_before_the_number():
    # A dash level with the middle of a line's first digit, just left of it: "-42". The number is its
    # digits; the reading shows the sign. Before, the dash was left out as "a mark that does not look
    # like a digit", and the line reader, which saw it, often left the number unsure.
    signed = [s for s in make_set("punctuated", 60, seed=13) if s.meta["written"].startswith("-")]
    assert len(signed) >= 8
    readings = [read_number(s.image) for s in signed]
    assert np.mean([r.text == s.text for r, s in zip(readings, signed)]) >= 0.9
    assert np.mean([r.to_dict()["written"] == s.meta["written"] for r, s in zip(readings, signed)]) >= 0.9
    assert all(f"Written as {s.meta['written']}" in " ".join(r.warnings)
               for r, s in zip(readings, signed) if r.to_dict()["written"] == s.meta["written"])

    # Drawn on a transparent sketchpad: a dash, then an MNIST test 3 and 7, with an 18 px brush; with
    # a 4 px one, whose dash is as flat as a piece of a ruled line (dropped as one before); and with a
    # 24 px one, the dash rising 22 degrees, as drawn in haste (its box too tall for a sign before).
    from bench.synth import default_pool, digit_strokes, draw_strokes
    pool = default_pool()
    for brush, length, rise in ((18, 110, 5), (4, 160, 5), (24, 110, 44)):
        mask = np.zeros((420, 900), np.uint8)
        draw_strokes(mask, [np.array([[190.0 - length, 210.0 + rise], [190.0, 210.0]])], brush)
        for x, digit in ((250, 3), (520, 7)):
            idx = int(pool.by_digit[digit][0])
            draw_strokes(mask, [p * 2.5 + (x, 60) for p in digit_strokes(pool.images[idx], digit)], brush)
        sketch = np.zeros((420, 900, 4), np.uint8)
        sketch[..., 3] = mask
        reading = read_number(sketch)
        assert reading.text == "37" and reading.to_dict()["written"] == "-37", brush


def test_a_dash_is_a_minus_sign_before_the_digits_and_a_hyphen_between_them():
    from digitsinsight.segment import find_marks

    # Strokes 100 px tall (y 50-150), and dashes: before the first ("-1234"), between two of them
    # ("12-34"), after the last, level with the top of the first (a 5's hat drawn apart) or its
    # foot, too far from it, and under the top bar of a 7 (its crossbar, drawn apart).
    def separators(*dashes, first=((200, 50), (200, 150))):
        img = np.full((260, 700), 245, np.uint8)
        for (x0, y0), (x1, y1) in (first, ((300, 50), (300, 150)), ((420, 50), (420, 150)),
                                   ((520, 50), (520, 150))) + dashes:
            cv2.line(img, (x0, y0), (x1, y1), 20, 9)
        return [s.kind for s in find_marks((img < 128).astype(np.uint8))[3]]

    assert separators(((120, 100), (170, 100))) == ["minus"]
    assert separators(((335, 100), (385, 100))) == ["dash"]
    assert separators(((120, 100), (170, 100)), ((335, 100), (385, 100))) == ["minus", "dash"]
    assert separators(((335, 100), (350, 100))) == []  # too short for a hyphen: a 4's bar broken off, say
    # A dash drawn tilted, as by hand, is measured along its ink: 20 degrees off level is a hyphen or
    # a minus sign still, 35 degrees is neither.
    assert separators(((325, 113), (395, 87))) == ["dash"]
    assert separators(((100, 113), (170, 87))) == ["minus"]
    assert separators(((115, 91), (165, 109))) == ["minus"]
    assert separators(((325, 120), (385, 78))) == []
    assert separators(((110, 120), (170, 78))) == []
    assert separators(((570, 100), (620, 100))) == []
    assert separators(((120, 58), (170, 58))) == []
    assert separators(((120, 142), (170, 142))) == []
    assert separators(((20, 100), (70, 100))) == []
    seven = ((150, 50), (230, 50)), ((230, 50), (190, 150))
    assert separators(seven[1], first=seven[0]) == []  # the 7 alone
    assert separators(seven[1], ((165, 100), (195, 100)), first=seven[0]) == []
    assert separators(seven[1], ((95, 100), (135, 100)), first=seven[0]) == ["minus"]  # "-7"
    # A 5 written small after the 1 at 200, its hat drawn apart level with the line's middle: the
    # 5's body reaches under the hat, or lies below and left of it. Neither hat is a hyphen.
    body = ((330, 105), (330, 125)), ((330, 125), (345, 150))
    assert separators(body[0], body[1], ((325, 100), (375, 100)), first=((230, 50), (230, 150))) == []
    assert separators(body[0], body[1], ((352, 100), (392, 100)), first=((230, 50), (230, 150))) == []


def test_a_plus_sign_is_a_sign_before_the_digits_and_joins_two_of_them():
    # "+44" (a phone number's country code) and "3+4" (a sum on a worksheet). Before, the classifier
    # read the cross as a sure 4: "+44 20" came back as a sure 44420 and "3+4" as a sure 344.
    from PIL import ImageDraw, ImageFont

    from bench.synth import _font_paths, default_pool, digit_strokes, draw_strokes
    from digitsinsight import speech
    from digitsinsight.segment import find_marks

    fonts = _font_paths()
    assert len(fonts) >= 4
    for path in fonts[:4]:  # sans, bold, oblique and serif
        for text, number, written in (("+44 20", "4420", "+4420"), ("3+4", "34", "3+4")):
            page = Image.new("L", (900, 200), 255)
            ImageDraw.Draw(page).text((40, 40), text, font=ImageFont.truetype(path, 90), fill=0)
            reading = read_number(np.asarray(page))
            assert (reading.text, reading.to_dict()["written"]) == (number, written), (path, text)

    # Drawn on a transparent sketchpad with an 18 px brush: MNIST test digits 3 and 7, and a cross
    # drawn as by hand (strokes a little off level and upright, crossing a little off their middles)
    # before them, or between them.
    pool = default_pool()

    def sketch(plus_x, digits_x):
        mask = np.zeros((420, 1000), np.uint8)
        cross = [np.array([[plus_x - 55.0, 215.0], [plus_x + 50.0, 205.0]]),
                 np.array([[plus_x - 4.0, 160.0], [plus_x + 6.0, 262.0]])]
        draw_strokes(mask, cross, 18)
        for x, digit in zip(digits_x, (3, 7)):
            idx = int(pool.by_digit[digit][0])
            draw_strokes(mask, [p * 2.5 + (x, 60) for p in digit_strokes(pool.images[idx], digit)], 18)
        layer = np.zeros((420, 1000, 4), np.uint8)
        layer[..., 3] = mask
        return layer

    before, between = read_number(sketch(150, (250, 520))), read_number(sketch(430, (100, 480)))
    assert (before.text, before.to_dict()["written"], before.status) == ("37", "+37", "ok")
    assert (between.text, between.to_dict()["written"], between.status) == ("37", "3+7", "ok")
    assert speech.number_words(between.to_dict()["written"]) == "three plus seven"

    # The geometry: strokes 100 px tall (y 50-150) and a mark between the first two.
    def separators(*strokes):
        img = np.full((260, 700), 245, np.uint8)
        for (x0, y0), (x1, y1) in (((200, 50), (200, 150)), ((330, 50), (330, 150)), ((450, 50), (450, 150))) + strokes:
            cv2.line(img, (x0, y0), (x1, y1), 20, 9)
        return [s.kind for s in find_marks((img < 128).astype(np.uint8))[3]]

    assert separators(((235, 100), (295, 100)), ((265, 70), (265, 130))) == ["plus"]
    # As tall as the digits, a cross may be a 4 drawn so: doubted, read as a digit, the reading unsure.
    def plus_of(img):
        return [s for s in find_marks((img < 128).astype(np.uint8))[3] if s.kind == "plus"]
    for size, doubted in ((30, False), (48, True)):
        img = np.full((260, 700), 245, np.uint8)
        for x in (200, 330, 450):
            cv2.line(img, (x, 50), (x, 150), 20, 9)
        cv2.line(img, (265 - size, 100), (265 + size, 100), 20, 9)
        cv2.line(img, (265, 100 - size), (265, 100 + size), 20, 9)
        assert [s.doubtful for s in plus_of(img)] == [doubted]
        reading = read_number(img)
        if doubted:
            assert len(reading.text) == 4 and "+" not in reading.to_dict()["written"] and reading.status == "unsure"
            assert "Mark 2 may be a plus sign, not a digit: 1+11?" in reading.warnings
        else:
            assert (reading.text, reading.to_dict()["written"]) == ("111", "1+11")
    assert separators(((120, 100), (170, 100)), ((145, 75), (145, 125))) == ["plus"]  # before the first
    assert separators(((237, 106), (293, 94)), ((262, 72), (268, 128))) == ["plus"]  # tilted a little
    assert separators(((235, 100), (295, 100)), ((245, 70), (245, 130))) == []  # crossing near an end: no plus
    assert separators(((235, 130), (295, 70)), ((235, 70), (295, 130))) == []  # an x, not a plus
    assert separators(((235, 65), (295, 65)), ((265, 55), (265, 145))) == []  # a t: the bar near the top
    # An open 4: a cross and the stroke rising from the left end of its bar.
    assert separators(((230, 110), (300, 110)), ((280, 50), (280, 150)), ((230, 110), (245, 50))) == []
    # A filled square as tall as a plus, where a plus would be (a bullet, a box blacked out): no plus,
    # and no failure either (its crop holds no paper to measure a pen's width against).
    img = np.full((260, 700), 245, np.uint8)
    for x in (200, 330, 450):
        cv2.line(img, (x, 50), (x, 150), 20, 9)
    cv2.rectangle(img, (240, 75), (290, 125), 20, -1)
    assert [s.kind for s in find_marks((img < 128).astype(np.uint8))[3]] == []
    assert read_number(img).status in ("ok", "unsure")


def test_plus_signs_and_brackets_are_written_where_they_stand():
    from digitsinsight import Digit
    from digitsinsight.reader import written_text
    from digitsinsight.segment import Blob, Separator

    def digit(d, box, line):
        return Digit(d, 0.99, [(d, 0.99)], box, np.zeros((28, 28), np.uint8), line)

    # "35" over "7": a plus level with the 7, before it, is its sign, not a plus between the 3 and the 5
    # above (whose comma or point could hang that low); level with the 3 and the 5, it joins them.
    top = [digit(3, (100, 50, 140, 120), 0), digit(5, (200, 50, 240, 120), 0)]
    low = [digit(7, (200, 150, 240, 220), 1)]
    assert written_text(top + low, [Separator("plus", Blob(150, 170, 185, 200))], 1.0, 0, 0, (400, 300)) == "35\n+7"
    assert written_text(top + low, [Separator("plus", Blob(150, 70, 185, 100))], 1.0, 0, 0, (400, 300)) == "3+5\n7"
    # Brackets round digits, in pairs: one without its partner, or facing away, is left out.
    def bracket(kind, x):
        return Separator(kind, Blob(x, 40, x + 20, 130))
    assert written_text(top, [bracket("open", 60), bracket("close", 250)], 1.0, 0, 0, (400, 300)) == "(35)"
    assert written_text(top, [bracket("open", 150), bracket("close", 250)], 1.0, 0, 0, (400, 300)) == "3(5)"
    assert written_text(top, [bracket("close", 60)], 1.0, 0, 0, (400, 300)) == "35"
    assert written_text(top, [bracket("open", 150)], 1.0, 0, 0, (400, 300)) == "35"
    assert written_text(top, [bracket("open", 250), bracket("close", 60)], 1.0, 0, 0, (400, 300)) == "35"


def test_brackets_round_digits_are_written_and_not_read_as_ones():
    # "(555) 123-4567": before, each bracket was read as a sure 1 ("15551123-4567", sure).
    from PIL import ImageDraw, ImageFont

    from bench.synth import _font_paths, default_pool, digit_strokes, draw_strokes
    from digitsinsight import speech
    from digitsinsight.segment import find_marks

    fonts = _font_paths()
    assert len(fonts) >= 4
    for path in fonts[:4]:
        page = Image.new("L", (1300, 200), 255)
        ImageDraw.Draw(page).text((40, 40), "(555) 123-4567", font=ImageFont.truetype(path, 90), fill=0)
        reading = read_number(np.asarray(page))
        assert (reading.text, reading.to_dict()["written"]) == ("5551234567", "(555)123-4567"), path

    # Drawn on a transparent sketchpad with an 18 px brush: MNIST test digits 3 and 7 in brackets
    # drawn as arcs a little taller than them, and a 5 after them.
    pool = default_pool()

    def bracket(x, bow):  # from y 100 to 330, its middle `bow` px left of its ends ("(" for bow > 0)
        t = np.linspace(0, 1, 20)
        return np.stack([x + bow * 4 * (t - 0.5) ** 2, 100 + 230 * t], axis=1)

    mask = np.zeros((420, 1300), np.uint8)
    draw_strokes(mask, [bracket(150, 45), bracket(800, -45)], 18)
    for x, digit in ((140, 3), (400, 7), (850, 5)):
        idx = int(pool.by_digit[digit][0])
        draw_strokes(mask, [p * 2.5 + (x, 60) for p in digit_strokes(pool.images[idx], digit)], 18)
    layer = np.zeros((420, 1300, 4), np.uint8)
    layer[..., 3] = mask
    reading = read_number(layer)
    assert (reading.text, reading.to_dict()["written"], reading.status) == ("375", "(37)5", "ok")
    assert speech.number_words(reading.to_dict()["written"]) == "thirty-seven; five"

    # The geometry: strokes 100 px tall (y 50-150), and bowed strokes 110 px tall round the middle two.
    def separators(*arcs):
        img = np.full((260, 800), 245, np.uint8)
        for x in (100, 330, 450, 680):
            cv2.line(img, (x, 50), (x, 150), 20, 9)
        for x, bow in arcs:
            t = np.linspace(0, 1, 20)
            pts = np.stack([x + bow * 4 * (t - 0.5) ** 2, 45 + 110 * t], axis=1)
            cv2.polylines(img, [np.round(pts).astype(np.int32)], False, 20, 9)
        return [s.kind for s in find_marks((img < 128).astype(np.uint8))[3]]

    assert separators((250, 25), (530, -25)) == ["open", "close"]
    # No taller than the digits between them, they may be two 1s bowed towards each other: doubted, and
    # read as digits, flagged with the number as the brackets would write it.
    def brackets_of(height):
        img = np.full((260, 800), 245, np.uint8)
        for x in (100, 330, 450, 680):
            cv2.line(img, (x, 50), (x, 150), 20, 9)
        for x, bow in ((250, 25), (530, -25)):
            t = np.linspace(0, 1, 20)
            pts = np.stack([x + bow * 4 * (t - 0.5) ** 2, 100 - height / 2 + height * t], axis=1)
            cv2.polylines(img, [np.round(pts).astype(np.int32)], False, 20, 9)
        return img
    assert [s.doubtful for s in find_marks((brackets_of(110) < 128).astype(np.uint8))[3]] == [False, False]
    assert [s.doubtful for s in find_marks((brackets_of(96) < 128).astype(np.uint8))[3]] == [True, True]
    reading = read_number(brackets_of(96))
    assert "(" not in reading.to_dict()["written"] and reading.status == "unsure"
    assert any(w.startswith("Marks ") and " may be brackets, not digits: " in w and "(" in w for w in reading.warnings)
    assert separators((250, 25)) == []  # one bowed stroke alone: the 1 it may be
    assert separators((250, -25), (530, 25)) == []  # facing away from each other
    assert separators((250, 25), (530, -4)) == []  # the second one hardly bowed: a 1


def test_a_minus_sign_is_written_once_before_the_line_it_stands_before():
    from digitsinsight import Digit
    from digitsinsight.reader import written_text
    from digitsinsight.segment import Blob, Separator

    def digit(d, box, line):
        return Digit(d, 0.99, [(d, 0.99)], box, np.zeros((28, 28), np.uint8), line)

    # "75" and, level with it further right, a stray piece read as a line "5" of its own: the sign
    # goes before the "75" it was written before, not before every line it is level with.
    digits = [digit(7, (100, 50, 140, 120), 0), digit(5, (150, 50, 190, 120), 0), digit(5, (300, 60, 330, 125), 1)]
    minus = Separator("minus", Blob(40, 80, 80, 90))
    assert written_text(digits, [minus], 1.0, 0, 0, (400, 200)) == "-75\n5"
    assert written_text(digits, [Separator("minus", Blob(200, 80, 240, 90))], 1.0, 0, 0, (400, 200)) == "75\n-5"
    assert written_text(digits, [Separator("minus", Blob(40, 10, 80, 20))], 1.0, 0, 0, (400, 200)) == "75\n5"
    # Level with the digits' top fifth, not their middle: a stub beside the top piece of a digit drawn
    # in pieces (a sketched 8 whose top loop stood apart), which the mark check alone took for a sign.
    assert written_text(digits, [Separator("minus", Blob(40, 58, 80, 66))], 1.0, 0, 0, (400, 200)) == "75\n5"
    # A hyphen between the 7 and the 5 of the first line; between no two digits of a line, it is left out.
    hyphen = Separator("dash", Blob(141, 82, 149, 86))
    assert written_text(digits, [minus, hyphen], 1.0, 0, 0, (400, 200)) == "-7-5\n5"
    assert written_text(digits, [Separator("dash", Blob(250, 82, 280, 86))], 1.0, 0, 0, (400, 200)) == "75\n5"
