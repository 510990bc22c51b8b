"""bench.synth: deterministic, honest synthetic number images from MNIST test digits."""
import json

import numpy as np
import pytest
from PIL import Image

from bench import synth


@pytest.fixture(scope="module")
def pool(mnist):
    return synth.DigitPool(mnist.test_images, mnist.test_labels)


@pytest.fixture(scope="module")
def hard50(pool):
    return synth.make_set("hard", 50, seed=0, pool=pool)


@pytest.fixture(scope="module")
def small_sets(pool):
    return {k: synth.make_set(k, 12, seed=3, pool=pool) for k in synth.KINDS}


def _line_boxes(sample):
    """Boxes split per text line (boxes are in reading order)."""
    out, i = [], 0
    for line in sample.text.split("\n") if sample.text else []:
        out.append(sample.boxes[i:i + len(line)])
        i += len(line)
    return out


def test_pool_holds_only_test_digits(mnist, pool):
    assert np.array_equal(pool.images, mnist.test_images)
    for d in range(10):
        idx = pool.sample_index(np.random.default_rng(d), d)
        assert mnist.test_labels[idx] == d
        assert np.array_equal(pool.sample(np.random.default_rng(d), d), mnist.test_images[idx])


@pytest.mark.parametrize("kind", ["clean", "hard", "sketch", "punctuated", "boxed"])
def test_digits_come_from_labelled_test_images(kind, small_sets, mnist):
    for s in small_sets[kind]:
        digits = [int(c) for c in s.text if c.isdigit()]
        assert [int(mnist.test_labels[i]) for i in s.meta["mnist_indices"]] == digits


@pytest.mark.parametrize("kind", synth.KINDS)
def test_deterministic(kind, pool):
    a = synth.make_set(kind, 3, seed=7, pool=pool)
    b = synth.make_set(kind, 3, seed=7, pool=pool)
    for x, y in zip(a, b):
        assert np.array_equal(x.image, y.image)
        assert (x.text, x.meta, x.boxes) == (y.text, y.meta, y.boxes)
    c = synth.make_set(kind, 3, seed=8, pool=pool)
    assert any(x.image.shape != z.image.shape or not np.array_equal(x.image, z.image) for x, z in zip(a, c))
    # Sample i depends only on (kind, seed, i): a shorter set is a prefix of a longer one.
    assert np.array_equal(synth.make_set(kind, 1, seed=7, pool=pool)[0].image, a[0].image)


@pytest.mark.parametrize("kind", synth.KINDS)
def test_labels_and_boxes_consistent(kind, small_sets):
    for s in small_sets[kind]:
        assert s.kind == kind
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] in (3, 4)
        json.dumps(s.meta)
        assert set(s.text) <= set("0123456789\n")
        assert len(s.boxes) == sum(c.isdigit() for c in s.text)
        H, W = s.image.shape[:2]
        for x0, y0, x1, y1 in s.boxes:
            assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
        for line in _line_boxes(s):
            centres = [(b[0] + b[2]) / 2 for b in line]
            assert all(c1 < c2 for c1, c2 in zip(centres, centres[1:])), (s.text, line)
        if kind != "negative":
            assert 1 <= max(len(t) for t in s.text.split("\n")) <= (10 if kind == "hyphenated" else 8)


def test_boxes_sit_on_ink(small_sets):
    # Each box of a clean sample holds dark pixels and its border ring is mostly paper.
    for s in small_sets["clean"]:
        grey = s.image.mean(axis=2)
        for x0, y0, x1, y1 in s.boxes:
            assert grey[y0:y1, x0:x1].min() < 128


def test_clean_is_clean(small_sets):
    for s in small_sets["clean"]:
        assert s.meta["touching_pairs"] == 0
        assert 28 <= s.meta["digit_height"] <= 120
        for a, b in zip(s.boxes, s.boxes[1:]):
            assert a[2] < b[0]  # a real gap between neighbours
        g = s.image.astype(int)
        assert np.median(g) > 230  # white paper


def test_boxed_numbers_are_written_in_printed_boxes(pool):
    samples = synth.make_set("boxed", 24, seed=5, pool=pool)
    assert {s.meta["style"] for s in samples} == {"answer box", "row of boxes"}
    assert {s.meta["line_colour"] for s in samples} == {"grey", "blue"}
    for s in samples:
        assert abs(s.meta["rotation"]) <= 3
        drawn = s.meta["boxes_drawn"]
        assert drawn == 1 if s.meta["style"] == "answer box" else len(s.text) <= drawn <= len(s.text) + 2
        # A box's top runs above each digit, dark, all along it.
        grey = s.image.mean(axis=2)
        paper = np.median(grey)
        for x0, y0, x1, y1 in s.boxes:
            assert (grey[:y0, x0:x1] < paper - 40).any(axis=0).mean() > 0.95, s.meta


def test_hard_set_has_every_difficulty(hard50):
    metas = [s.meta for s in hard50]
    pairs = sum(max(0, len(t) - 1) for s in hard50 for t in s.text.split("\n"))
    touching = sum(m["touching_pairs"] for m in metas)
    assert 0.15 * pairs <= touching <= 0.5 * pairs
    assert any(abs(m["rotation"]) > 5 for m in metas) and all(abs(m["rotation"]) <= 8 for m in metas)
    assert any(abs(m["shear"]) > 0.15 for m in metas) and all(abs(m["shear"]) <= 0.25 for m in metas)
    assert any(m["jpeg_quality"] for m in metas)
    assert all(30 <= m["jpeg_quality"] <= 85 for m in metas if m["jpeg_quality"])
    assert {"ruled", "grid", "none"} <= {m["ruling"] for m in metas}
    assert {"blue", "black", "red"} <= {m["ink"] for m in metas}
    assert any(m["blur_sigma"] > 0 for m in metas)
    assert any(m["pen"] < 0.7 for m in metas) and any(m["pen"] > 1.5 for m in metas)
    assert {"linear", "radial"} <= {m["lighting"] for m in metas}
    assert any(m["shadow"] > 0 for m in metas)
    pages = [s for s in hard50 if s.meta["page"] == "page"]
    assert 5 <= len(pages) <= 25
    assert all(s.image.shape[:2] == (1200, 1600) for s in pages)


def test_hard_touching_pairs_really_touch(hard50):
    # A touching pair's boxes overlap or abut; the count matches the per-pair flags.
    for s in hard50:
        flags = s.meta["touching"]
        assert sum(flags) == s.meta["touching_pairs"]
        k = 0
        for line in _line_boxes(s):
            for a, b in zip(line, line[1:]):
                if flags[k]:
                    assert a[2] >= b[0] - 1
                k += 1


def test_sketch_canvases(pool):
    sketches = synth.make_set("sketch", 30, seed=0, pool=pool)
    assert {s.meta["transparent"] for s in sketches} == {True, False}
    for s in sketches:
        H, W = s.image.shape[:2]
        assert 500 <= W <= 800 and 500 <= H <= 800 and [W, H] == s.meta["canvas"]
        assert 8 <= s.meta["brush"] <= 30
        assert len(s.text) == 1 and len(s.boxes) == 1
        x0, y0, x1, y1 = s.boxes[0]
        assert 0.1 * H <= y1 - y0 <= 0.95 * H
        if s.meta["transparent"]:
            assert s.image.shape[2] == 4
            a = s.image[..., 3]
            assert (a == 255).any() and (a == 0).mean() > 0.5
            assert a[0, 0] == a[0, -1] == a[-1, 0] == a[-1, -1] == 0
            assert (s.image[..., :3][a == 255] == 0).all()  # ink is black
        else:
            assert s.image.shape[2] == 3
            assert s.image.min() == 0 and np.median(s.image) == 255


def test_negatives_have_no_digits(pool):
    negs = synth.make_set("negative", 45, seed=0, pool=pool)
    assert all(s.text == "" and s.boxes == [] for s in negs)
    assert {s.meta["type"] for s in negs} == set(synth.NEGATIVE_TYPES)
    assert any(s.image.shape[2] == 4 and (s.image[..., 3] == 0).all() for s in negs)
    for s in negs:
        if s.meta["type"] == "letters":
            assert not set(s.meta["words"]) & set("OoQDlIijJTSsZzBGbgq0123456789")


def test_punctuated_amounts_are_written_with_points_and_commas(pool):
    samples = synth.make_set("punctuated", 40, seed=5, pool=pool)
    for s in samples:
        written = s.meta["written"].lstrip("-")
        assert written.replace(",", "").replace(".", "") == s.text and written[0] != "0"
        if s.meta["written"].startswith("-"):  # a dash left of the first digit, level with its middle
            x0, y0, x1, y1 = s.boxes[0]
            ink = s.image[y0:y1, :x0].min(axis=2) < 128
            rows = np.flatnonzero(ink.any(axis=1))
            assert ink.any() and 0.2 < rows.mean() / (y1 - y0) < 0.8
        whole = written.split(".")[0]
        if "," in whole:  # thousands commas every three digits from the right
            groups = whole.split(",")
            assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    assert {"," in s.meta["written"] for s in samples} == {True, False}
    assert {"." in s.meta["written"] for s in samples} == {True, False}
    signs = [synth.make_sample("punctuated", i, seed=6, pool=pool).meta["written"][0] == "-" for i in range(200)]
    assert 25 <= sum(signs) <= 55  # one in five is signed: 40 expected


def _between_groups(samples, mark: str, sizes: tuple):
    """Each sample's written groups, joined by `mark`, checked against its text, its boxes and the
    group sizes allowed; yields (sample, box of a group's last digit, box of the next group's first)."""
    for s in samples:
        groups = s.meta["written"].split(mark)
        assert tuple(map(len, groups)) in sizes and "".join(groups) == s.text
        assert len(s.boxes) == len(s.text)
        for e in np.cumsum([len(g) for g in groups])[:-1]:
            yield s, s.boxes[e - 1], s.boxes[e]


def test_dated_numbers_are_written_in_groups_with_a_slash_between(pool):
    samples = synth.make_set("dated", 40, seed=5, pool=pool)
    # Between the last digit of each group and the next: a stroke leaning right (its top right of its
    # foot), at least 0.8 times as tall as the digits.
    for s, (_, ay0, ax1, ay1), (bx0, by0, _, by1) in _between_groups(samples, "/", synth.SLASH_GROUPS):
        ink = s.image[:, ax1:bx0].min(axis=2) < 128
        rows = np.flatnonzero(ink.any(axis=1))
        assert rows.max() - rows.min() >= 0.8 * min(ay1 - ay0, by1 - by0)
        top, foot = np.flatnonzero(ink[rows.min()]).mean(), np.flatnonzero(ink[rows.max()]).mean()
        assert top > foot + 0.1 * (rows.max() - rows.min())
    assert len({tuple(map(len, s.meta["written"].split("/"))) for s in samples}) >= 6


def test_hyphenated_numbers_are_written_in_groups_with_a_dash_between(pool):
    samples = synth.make_set("hyphenated", 40, seed=5, pool=pool)
    # Between the last digit of each group and the next: a dash level with their middle, no higher than
    # the digits' middle half, and clear of both.
    for s, (_, ay0, ax1, ay1), (bx0, by0, _, by1) in _between_groups(samples, "-", synth.HYPHEN_GROUPS):
        top, bottom = max(ay0, by0), min(ay1, by1)
        ink = s.image[top:bottom, ax1:bx0].min(axis=2) < 128
        rows = np.flatnonzero(ink.any(axis=1))
        assert ink.any() and 0.2 < rows.mean() / (bottom - top) < 0.8
        assert rows.max() - rows.min() < 0.35 * (bottom - top)  # a flat dash, not a digit
    assert len({tuple(map(len, s.meta["written"].split("-"))) for s in samples}) >= 5


def test_printed(small_sets):
    fonts = {s.meta["font"] for s in small_sets["printed"]}
    assert len(fonts) >= 3
    for s in small_sets["printed"]:
        assert 24 <= s.meta["font_size"] <= 120 and abs(s.meta["rotation"]) <= 4


def test_cli_writes_images_and_labels(tmp_path, pool):
    synth.main(["--kind", "clean", "--n", "3", "--seed", "2", "--out", str(tmp_path)])
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert [r["file"] for r in rows] == ["clean_0.png", "clean_1.png", "clean_2.png"]
    expect = synth.make_set("clean", 3, seed=2, pool=pool)
    for r, s in zip(rows, expect):
        assert np.array_equal(np.asarray(Image.open(tmp_path / r["file"])), s.image)
        assert r["text"] == s.text and r["boxes"] == [list(b) for b in s.boxes]
