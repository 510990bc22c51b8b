"""Synthetic test images of handwritten *numbers*, built only from MNIST **test** digits.

Every handwritten digit drawn here is an MNIST test image (`training.data.load_mnist().test_*`),
never a training image, so a number reader whose classifier was trained on MNIST train can be
benchmarked on these without leakage. `meta["mnist_indices"]` lists the test indices used.

Sets (`make_set(kind, n, seed)`; sample i depends only on (kind, seed, i), so a longer set is
a superset of a shorter one):

clean     1-8 digits (leading zeros sometimes), dark ink on white paper, clear gaps between
          digits, digit height 28-120 px, faint noise, no geometric distortion.
hard      1-8 digits per line (about 10% of samples have two lines, joined by "\\n" in `text`)
          with, varied across the set: about 30% of neighbouring pairs really touching or
          overlapping by up to 15% of the digit width (the count measured on the ink is
          `meta["touching_pairs"]`), rotation +-8 deg and slant (shear) +-0.25, pen width from
          thin to thick (grey-level erosion/dilation of each digit; a thin pen keeps the
          stroke's centre line so faint MNIST strokes do not vanish), blue/black/red ink,
          off-white paper with a linear or radial lighting gradient, shadows and vignetting,
          Gaussian noise, faint ruled or squared-grid lines on about 45% of images (aligned
          under the writing for ruled paper), Gaussian blur on some, JPEG quality 30-85 on
          about 80%, and 25% of numbers written small on a 1600x1200 page.
sketch    one digit as drawn on a web sketchpad: the MNIST digit is thinned (Zhang-Suen),
          traced into strokes, smoothed and redrawn with a round brush 8-30 px wide (at most
          1/7 of the digit height) on a 500-800 px canvas, 15-90% of the canvas height,
          anywhere on it, rotated +-6 deg. Loops that MNIST shows as filled blobs (the eye of
          a 6, 8 or 9) are redrawn as loops, not as the line thinning leaves. Half the
          canvases are white RGB with black ink, half are RGBA like a Gradio sketchpad layer
          (ink alpha 255, background alpha 0, background RGB black or, sometimes, white).
printed   1-8 digits typeset with PIL in the fonts matplotlib ships (DejaVu Sans / Serif /
          Mono in several weights, STIX, Computer Modern) plus any extra DejaVu faces in
          /usr/share/fonts; 24-120 px, rotation +-4 deg, dark on light. No handwriting-style
          font exists on this machine (fc-list shows DejaVu only), so none is used.
negative  no digits at all (text ""): blank white, blank transparent, uniform grey/black,
          Gaussian noise, lit paper, ruled/grid paper, words made of letters that do not look
          like digits, scribbles (long multi-segment Bezier tangles), and geometric shapes
          (filled discs and stars, filled or outlined rectangles and triangles -- no rings or
          lone strokes, which read as 0 or 1). Scribbles and shapes are on a sketchpad canvas
          (white or transparent) or on lit paper.
punctuated  a clean number of at most 8 digits written as an amount, with thousands commas, a
          decimal point or both, one in five with a minus sign before it: `meta["written"]` is the
          number as written ("-1,250.50"), `text` its digits.
hyphenated  a clean number of 5-10 digits in groups joined by hyphens, as phone numbers, dates and
          postcodes are written ("555-1234", "12-05-2026", "12345-6789"): `meta["written"]` is the
          number as written, `text` its digits.
dated     a clean number of 2-8 digits in groups joined by slashes, as dates and fractions are written
          ("12/05/2026", "2026/05/12", "3/4"): a hand-drawn stroke leaning right 15-40 deg from upright,
          its ink 0.9-1.4 times as tall as the digits, its foot from a little above their baseline to
          a quarter of their height below it; one number's slashes alike (each within +-3 deg, +-5% in
          height and +-0.03 of the digits' height at the foot of that number's style).
          `meta["written"]` is the number as written, `text` its digits.
boxed     a clean number of 1-8 digits (28-100 px) written in printed boxes: half in one box round the
          number (an answer box on a worksheet, 0.1-0.5 digit heights of room inside), half in a form's
          row of boxes (1.1-1.6 digit heights wide, one digit each, off the box's centre by up to a
          third of the room, 0-2 boxes left empty at the end). Lines 1.5-5% of the digit height thick,
          grey or blue; the page turned up to 3 deg; JPEG quality 60-90 on about 30%.

Boxes are per digit (x0, y0, x1, y1), x1/y1 exclusive, the tight box of the digit's ink
(alpha >= 0.25) after every geometric transform, in reading order (lines top to bottom,
digits left to right). Images are uint8 RGB (RGBA for transparent canvases); JPEG artefacts,
where applied, are already in the pixels (`meta["jpeg_quality"]`).

Regenerate (PNG files + labels.jsonl + contact_sheet_<kind>.png):

    python -m bench.synth --kind all --n 200 --seed 0 --out DIR --sheet
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
KINDS = ("clean", "hard", "sketch", "printed", "negative", "punctuated", "hyphenated", "dated", "boxed")  # new kinds go last: seeds follow the index
INK_T = 0.25  # alpha at or above which a pixel counts as ink (boxes, touching)


@dataclass
class Sample:
    image: np.ndarray  # uint8 HxWx3 RGB, or HxWx4 RGBA for transparent canvases
    text: str  # digits; lines joined by "\n"; "" for negatives
    kind: str  # clean | hard | sketch | printed | negative | punctuated | hyphenated | dated
    meta: dict = field(default_factory=dict)  # what was applied; JSON-serialisable
    boxes: list = field(default_factory=list)  # per digit (x0, y0, x1, y1), reading order


# --------------------------------------------------------------------------- MNIST pool

class DigitPool:
    """MNIST digits grouped by label: test digits by default (the benchmark's only source);
    training.sequence and tuning pass training digits (training_pool)."""

    def __init__(self, images=None, labels=None):
        if images is None:
            images, labels = _load_mnist_test()
        self.images = np.asarray(images, dtype=np.uint8)
        self.labels = np.asarray(labels).astype(np.int64)
        self.by_digit = [np.flatnonzero(self.labels == d) for d in range(10)]

    def sample_index(self, rng: np.random.Generator, digit: int) -> int:
        idx = self.by_digit[int(digit)]
        return int(idx[rng.integers(len(idx))])

    def sample(self, rng: np.random.Generator, digit: int) -> np.ndarray:
        return self.images[self.sample_index(rng, digit)]


def _load_mnist():
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from training.data import load_mnist
    return load_mnist(verbose=False)


def _load_mnist_test():
    d = _load_mnist()
    return d.test_images, d.test_labels


def training_pool(lo: int, hi: int) -> DigitPool:
    """MNIST *training* digits lo..hi-1: what the line reader's training and validation lines are made
    from (training.sequence), and what the reader is tuned on. Never for reported figures."""
    d = _load_mnist()
    return DigitPool(d.train_images[lo:hi], d.train_labels[lo:hi])


@functools.lru_cache(maxsize=1)
def default_pool() -> DigitPool:
    return DigitPool()


# --------------------------------------------------------------------------- small helpers

def _f(x, nd=3):
    return round(float(x), nd)


def _random_number(rng, max_len=8) -> str:
    n = int(rng.integers(1, max_len + 1))
    digits = [int(v) for v in rng.integers(0, 10, n)]
    if n > 1:
        # Leading zeros happen (codes, "0427") but are not the rule.
        digits[0] = 0 if rng.random() < 0.12 else int(rng.integers(1, 10))
    return "".join(map(str, digits))


def _ink_bbox(a, t=INK_T):
    ys = np.flatnonzero((a >= t).any(axis=1))
    xs = np.flatnonzero((a >= t).any(axis=0))
    if len(ys) == 0:
        return None
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def _jpeg(img, quality):
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _morph(a, radius):
    """Grey-level dilation (radius > 0, thicker pen) or erosion (radius < 0, thinner pen)."""
    if radius == 0:
        return a
    r = abs(radius)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    a = np.pad(a, r + 1)
    if radius > 0:
        a = cv2.dilate(a, k)
    else:
        # Erosion alone wipes out MNIST's faint strokes; a fine pen still draws them, so keep
        # the stroke's centre line (skeleton, ~3 px wide) under the eroded ink.
        core = cv2.dilate(_zhang_suen(a >= 0.5).astype(np.uint8), np.ones((3, 3), np.uint8))
        core = cv2.GaussianBlur(core.astype(np.float32), (0, 0), 0.6)
        a = np.maximum(cv2.erode(a, k), np.minimum(core * 1.4, 1.0))
    box = _ink_bbox(a, 0.02)
    return a if box is None else a[box[1]:box[3], box[0]:box[2]]


# --------------------------------------------------------------------------- handwriting layout

def _digit_patch(rng, pool, digit, height, pen_radius=0):
    """An MNIST test digit cropped to its ink, scaled to `height`, as float alpha in [0, 1]."""
    idx = pool.sample_index(rng, digit)
    img = pool.images[idx]
    ys, xs = np.nonzero(img)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    # One blank pixel of margin (MNIST always has it) so smoothing never meets the border.
    crop = np.pad(img, 1)[y0:y1 + 2, x0:x1 + 2].astype(np.float32) / 255.0
    f = height / (y1 - y0)
    nh = max(4, int(round(crop.shape[0] * f)))
    nw = max(4, int(round(crop.shape[1] * f)))
    a = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
    if f > 1.5:
        # Upscaled MNIST pixels show as lumps along the stroke edges; a pen line is smooth.
        a = cv2.GaussianBlur(a, (0, 0), 0.35 * f)
    # Upscaling smears the edges over ~f px; pen ink on paper has an edge of 1-2 px, so
    # steepen the ramp around 0.5 in proportion to the upscale.
    k = min(4.0, max(1.0, f / 1.5))
    a = np.clip((a - 0.5) * k + 0.5, 0.0, 1.0).astype(np.float32)
    a = _morph(a, pen_radius)
    box = _ink_bbox(a, 0.02)
    return a[box[1]:box[3], box[0]:box[2]], idx


def _touches(a, b):
    """Whether two placed patches' ink is within one pixel (8-connected contact or overlap)."""
    pa, xa, ya = a
    pb, xb, yb = b
    x0, y0 = max(xa, xb) - 1, max(ya, yb) - 1
    x1 = min(xa + pa.shape[1], xb + pb.shape[1]) + 1
    y1 = min(ya + pa.shape[0], yb + pb.shape[0]) + 1
    if x1 <= x0 or y1 <= y0:
        return False

    def window(p, x, y):
        w = np.zeros((y1 - y0, x1 - x0), bool)
        sx0, sy0 = max(x0, x), max(y0, y)
        sx1, sy1 = min(x1, x + p.shape[1]), min(y1, y + p.shape[0])
        if sx1 > sx0 and sy1 > sy0:
            w[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = p[sy0 - y:sy1 - y, sx0 - x:sx1 - x] >= INK_T
        return w

    ma = cv2.dilate(window(pa, xa, ya).astype(np.uint8), np.ones((3, 3), np.uint8))
    return bool((ma.astype(bool) & window(pb, xb, yb)).any())


def _layout_line(rng, pool, text, h, *, touch_p, gap, size_jit, y_jit, pen_radius):
    """Place digits left to right. Returns items [(patch, x, y)], MNIST indices, touch flags."""
    items, indices = [], []
    for ch in text:
        dh = h * (1.0 + rng.uniform(-size_jit, size_jit))
        patch, idx = _digit_patch(rng, pool, int(ch), dh, pen_radius)
        indices.append(idx)
        ph, pw = patch.shape
        y = int(round((h - ph) / 2 + rng.uniform(-y_jit, y_jit) * h))
        want_touch = rng.random() < touch_p
        overlap = rng.uniform(0.0, 0.15) * pw
        g = max(2.0, rng.uniform(*gap) * h)
        if not items:
            items.append((patch, 0, y))
            continue
        pp, px, py = items[-1]
        x = int(round(px + pp.shape[1] + g))
        if want_touch:
            # Slide the new digit left until its ink meets the previous digit's ink in some
            # row, then push it a further 0-15% of its width into it.
            r0, r1 = max(y, py), min(y + ph, py + pp.shape[0])
            if r1 > r0:
                prev = pp[r0 - py:r1 - py] >= INK_T
                new = patch[r0 - y:r1 - y] >= INK_T
                ok = prev.any(axis=1) & new.any(axis=1)
                if ok.any():
                    right = pp.shape[1] - 1 - np.argmax(prev[:, ::-1], axis=1)
                    left = np.argmax(new, axis=1)
                    x = int(px + np.max((right - left)[ok]) + 1 - round(overlap))
                else:
                    x = int(round(px + pp.shape[1] - overlap))
            else:
                x = int(round(px + pp.shape[1] - overlap))
            # Keep reading order: the new digit may tuck under a 7's bar, not pass its middle.
            x = max(x, px + int(0.45 * pp.shape[1]), px + (pp.shape[1] - pw) // 2 + 2)
        items.append((patch, x, y))
    touching = [_touches(items[i], items[i + 1]) for i in range(len(items) - 1)]
    return items, indices, touching


def _affine(rotation_deg, shear):
    """2x2 matrix: slant (top leans right for shear > 0), then rotation (CCW on screen > 0)."""
    t = math.radians(rotation_deg)
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    sh = np.array([[1.0, -shear], [0.0, 1.0]])
    return rot @ sh


def _write_block(rng, pool, lines, h, *, touch_p, gap, size_jit, y_jit, pen_radius, pitch,
                 rotation=0.0, shear=0.0):
    """Lay out lines of digits, slant + rotate them as one block (each digit warped on its own
    so its box stays tight). Returns alpha (H, W) float32, boxes, info dict."""
    items, indices, touching, line_bottoms, line_spans = [], [], [], [], []
    for k, text in enumerate(lines):
        its, idx, tch = _layout_line(rng, pool, text, h, touch_p=touch_p, gap=gap,
                                     size_jit=size_jit, y_jit=y_jit, pen_radius=pen_radius)
        dy = int(round(k * pitch))
        indent = int(round(rng.uniform(0, 0.6) * h)) if k else 0
        items += [(p, x + indent, y + dy) for p, x, y in its]
        indices += idx
        touching += tch
        line_bottoms.append(dy + h)
        line_spans.append((indent, max(x + indent + p.shape[1] for p, x, y in its)))
    bx0 = min(x for p, x, y in items)
    by0 = min(y for p, x, y in items)
    bx1 = max(x + p.shape[1] for p, x, y in items)
    by1 = max(y + p.shape[0] for p, x, y in items)

    A = _affine(rotation, shear)
    corners = np.array([[bx0, by0], [bx1, by0], [bx0, by1], [bx1, by1]], float) @ A.T
    lo = np.floor(corners.min(axis=0)) - 2
    hi = np.ceil(corners.max(axis=0)) + 2
    b = -lo  # block coords -> output coords: A @ p + b
    W, H = int(hi[0] - lo[0]), int(hi[1] - lo[1])
    alpha = np.zeros((H, W), np.float32)
    boxes = []
    for p, x, y in items:
        ph, pw = p.shape
        pc = (np.array([[0, 0], [pw, 0], [0, ph], [pw, ph]], float) + (x, y)) @ A.T + b
        ox, oy = int(math.floor(pc[:, 0].min())) - 2, int(math.floor(pc[:, 1].min())) - 2
        ow = int(math.ceil(pc[:, 0].max())) + 2 - ox
        oh = int(math.ceil(pc[:, 1].max())) + 2 - oy
        if rotation == 0.0 and shear == 0.0:
            wp, ox, oy = p, int(x + b[0]), int(y + b[1])
        else:
            M = np.hstack([A, (A @ np.array([x, y], float) + b - (ox, oy))[:, None]])
            wp = cv2.warpAffine(p, M, (ow, oh), flags=cv2.INTER_LINEAR, borderValue=0)
        # Clip to the block canvas (the 2 px slack can poke out by a pixel).
        sx0, sy0 = max(ox, 0), max(oy, 0)
        sx1, sy1 = min(ox + wp.shape[1], W), min(oy + wp.shape[0], H)
        wp = wp[sy0 - oy:sy1 - oy, sx0 - ox:sx1 - ox]
        np.maximum(alpha[sy0:sy1, sx0:sx1], wp, out=alpha[sy0:sy1, sx0:sx1])
        bb = _ink_bbox(wp)
        boxes.append((bb[0] + sx0, bb[1] + sy0, bb[2] + sx0, bb[3] + sy0))
    baselines = []
    for yb, (xa, xb) in zip(line_bottoms, line_spans):
        ends = np.array([[xa, yb], [xb, yb]], float) @ A.T + b
        baselines.append(ends.tolist())
    info = {"mnist_indices": indices, "touching": touching, "baselines": baselines,
            "direction": (A @ np.array([1.0, 0.0])).tolist()}
    return alpha, boxes, info


def _place(alpha, boxes, W, H, x, y):
    canvas = np.zeros((H, W), np.float32)
    canvas[y:y + alpha.shape[0], x:x + alpha.shape[1]] = alpha
    return canvas, [(x0 + x, y0 + y, x1 + x, y1 + y) for x0, y0, x1, y1 in boxes]


# --------------------------------------------------------------------------- paper, ink, light

INKS = {  # ranges per channel (RGB); each sample draws its own shade
    "blue": ((10, 60), (25, 80), (110, 190)),
    "black": ((10, 55), (10, 55), (10, 60)),
    "red": ((150, 205), (10, 50), (20, 60)),
}


def _ink_rgb(rng, name):
    if name == "black":  # a grey, slightly tinted: pencils, felt tips, ballpoints
        g = rng.uniform(10, 55)
        return [float(g + rng.uniform(-4, 4)), float(g + rng.uniform(-4, 4)), float(g + rng.uniform(-2, 8))]
    return [float(rng.uniform(*r)) for r in INKS[name]]


def _paper_rgb(rng, lo, hi):
    base = rng.uniform(lo, hi)
    tint = [(0, 0, 0), (4, 1, -8), (-3, 0, 4), (3, 2, -3)][int(rng.integers(4))]  # neutral/warm/cool/cream
    return [float(min(255.0, base + t)) for t in tint]


def _illumination(rng, W, H):
    """Low-frequency lighting map (multiplicative): a gradient, maybe a shadow and a vignette."""
    sw, sh = max(2, W // 8), max(2, H // 8)
    s = max(sw, sh)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) / s
    cx, cy = (sw - 1) / (2 * s), (sh - 1) / (2 * s)
    L = np.ones((sh, sw), np.float32)
    meta = {}
    if rng.random() < 0.5:
        t = rng.uniform(0, 2 * math.pi)
        g = rng.uniform(0.05, 0.3)
        proj = (xx - cx) * math.cos(t) + (yy - cy) * math.sin(t)
        proj = (proj - proj.min()) / max(1e-6, float(np.ptp(proj)))
        L *= 1 - g * proj
        meta["lighting"] = "linear"
    else:
        px, py = rng.uniform(-0.2, 1.2) * sw / s, rng.uniform(-0.2, 1.2) * sh / s
        r = np.hypot(xx - px, yy - py)
        g = rng.uniform(0.05, 0.3)
        L *= 1 - g * (r / r.max()) ** 1.5
        meta["lighting"] = "radial"
    meta["gradient"] = _f(g)
    if rng.random() < 0.35:  # a hand or phone shadow: a soft-edged darker half-plane
        t = rng.uniform(0, 2 * math.pi)
        d = rng.uniform(0.12, 0.4)
        proj = (xx - cx) * math.cos(t) + (yy - cy) * math.sin(t)
        edge = rng.uniform(0.1, 0.45) * (sw / s + sh / s) / 2
        soft = rng.uniform(0.01, 0.06)
        L *= 1 - d / (1 + np.exp(np.clip(-(proj - edge) / soft, -50, 50)))
        meta["shadow"] = _f(d)
    else:
        meta["shadow"] = 0.0
    if rng.random() < 0.5:
        v = rng.uniform(0.08, 0.35)
        r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (cx ** 2 + cy ** 2)
        L *= 1 - v * r2
        meta["vignette"] = _f(v)
    else:
        meta["vignette"] = 0.0
    return cv2.resize(L, (W, H), interpolation=cv2.INTER_LINEAR), meta


def _ruling(rng, W, H, style, spacing, direction=(1.0, 0.0), anchor=None):
    """Faint ruled (one family) or grid (two families) lines as an alpha map, lines drawn
    along `direction`; one line passes through `anchor` when given (writing on the line)."""
    u = np.array(direction, float)
    dev = math.radians(rng.uniform(-1.5, 1.5))  # the writing never follows the ruling exactly
    u = np.array([u[0] * math.cos(dev) - u[1] * math.sin(dev), u[0] * math.sin(dev) + u[1] * math.cos(dev)])
    u /= np.linalg.norm(u)
    mask = np.zeros((H, W), np.uint8)
    thick = 1 if max(W, H) < 1000 or rng.random() < 0.5 else 2
    corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], float)
    families = [(u, spacing, anchor)]
    if style == "grid":
        families.append((np.array([-u[1], u[0]]), spacing, None))
    for dirv, sp, anc in families:
        n = np.array([-dirv[1], dirv[0]])
        c0 = float(n @ anc) if anc is not None else rng.uniform(0, sp)
        proj = corners @ n
        kmin, kmax = math.floor((proj.min() - c0) / sp), math.ceil((proj.max() - c0) / sp)
        L = W + H
        for k in range(kmin, kmax + 1):
            p = n * (c0 + k * sp)
            a = np.round((p - dirv * L) * 16).astype(np.int64)
            b = np.round((p + dirv * L) * 16).astype(np.int64)
            cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, thick, cv2.LINE_AA, 4)
    strength = rng.uniform(0.3, 0.75)
    color = ([rng.uniform(160, 205), rng.uniform(185, 220), rng.uniform(225, 250)] if rng.random() < 0.65
             else [rng.uniform(165, 200)] * 3)
    return mask.astype(np.float32) * (strength / 255.0), [float(c) for c in color], thick


def _render(rng, alpha, paper, ink, *, lines=None, line_rgb=None, illum=None, texture=0.0,
            blur=0.0, noise=0.0, jpeg=None):
    """paper (+texture, +ruling) -> ink with alpha -> lighting -> blur -> noise -> JPEG."""
    H, W = alpha.shape
    img = np.empty((H, W, 3), np.float32)
    img[:] = np.asarray(paper, np.float32)
    if texture:
        t = rng.standard_normal((H // 24 + 2, W // 24 + 2)).astype(np.float32)
        t = cv2.resize(t, (W, H), interpolation=cv2.INTER_CUBIC) * (texture * 0.6)
        t += rng.standard_normal((H, W), dtype=np.float32) * (texture * 0.5)  # paper fibre
        img += t[..., None]
    if lines is not None:
        la = lines[..., None]
        img = img * (1 - la) + np.asarray(line_rgb, np.float32) * la
    a = alpha[..., None]
    img = img * (1 - a) + np.asarray(ink, np.float32) * a
    if illum is not None:
        img *= illum[..., None]
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise > 0:
        img += rng.standard_normal(img.shape, dtype=np.float32) * noise
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if jpeg:
        out = _jpeg(out, jpeg)
    return out


# --------------------------------------------------------------------------- clean / hard

def clean_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    text = _random_number(rng)
    h = rng.uniform(28, 120)
    alpha, boxes, info = _write_block(rng, pool, [text], h, touch_p=0.0, gap=(0.12, 0.45),
                                      size_jit=0.05, y_jit=0.04, pen_radius=0, pitch=h)
    img, boxes, look = _on_clean_paper(rng, alpha, boxes, h)
    meta = look | {"touching_pairs": int(sum(info["touching"])), "mnist_indices": info["mnist_indices"]}
    return Sample(img, text, "clean", meta, [tuple(b) for b in boxes])


def _on_clean_paper(rng, alpha, boxes, h) -> tuple:
    """Ink `alpha` (digits `h` tall) on a white page with margins: black or blue ink, a little noise.
    -> (RGB image, boxes on it, what was drawn for the sample's meta)."""
    m = [int(round(rng.uniform(0.25, 1.2) * h)) for _ in range(4)]  # left, top, right, bottom
    W, H = alpha.shape[1] + m[0] + m[2], alpha.shape[0] + m[1] + m[3]
    alpha, boxes = _place(alpha, boxes, W, H, m[0], m[1])
    ink_name = "black" if rng.random() < 0.75 else "blue"
    ink = ([rng.uniform(5, 40)] * 3 if ink_name == "black"
           else [rng.uniform(10, 35), rng.uniform(15, 45), rng.uniform(80, 130)])
    paper = [rng.uniform(242, 255)] * 3
    noise = rng.uniform(0, 2.0)
    img = _render(rng, alpha, paper, ink, noise=noise)
    return img, boxes, {"digit_height": _f(h, 1), "ink": ink_name, "ink_rgb": [_f(c, 1) for c in ink],
                        "paper_rgb": [_f(c, 1) for c in paper], "noise_sigma": _f(noise), "canvas": [W, H]}


def _written_amount(rng) -> str:
    """A number as people write amounts: thousands commas ("12,480"), a decimal point ("3.75"), or both."""
    style = rng.choice(["thousands", "decimal", "both"])
    extra = {"thousands": (3, 7), "both": (3, 6), "decimal": (0, 5)}[style]  # at most 8 digits in all
    whole = str(int(rng.integers(1, 10))) + "".join(str(int(v)) for v in rng.integers(0, 10, int(rng.integers(*extra))))
    if style != "decimal":
        head = len(whole) % 3 or 3
        whole = ",".join([whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)])
    if style == "thousands":
        return whole
    return whole + "." + "".join(str(int(v)) for v in rng.integers(0, 10, int(rng.integers(1, 3))))


def punctuated_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    """A clean number written with a decimal point and/or thousands commas, as on a receipt or a
    form, one in five with a minus sign: the text is its digits, meta["written"] the number as
    written. The point is a dot on the baseline, the comma a short stroke whose tail runs below it,
    each in the gap between two digits; the minus a dash level with the middle of the digits."""
    return _marked_number(rng, pool, _written_amount(rng), "punctuated", sign_p=0.2)


# Groups of digits as people join them with hyphens: phone numbers, dates, postcodes, sort codes.
HYPHEN_GROUPS = ((3, 4), (3, 3, 4), (2, 2, 4), (4, 2, 2), (2, 2, 2), (5, 4), (3, 2, 4), (2, 3), (4, 4))


def hyphenated_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    """A clean number written in groups joined by hyphens ("555-1234", "12-05-2026", "12345-6789"):
    the text is its digits, meta["written"] the number as written. The hyphen is a dash level with
    the middle of the digits, in the gap between two of them, like the minus sign."""
    return _grouped_number(rng, pool, HYPHEN_GROUPS, "-", "hyphenated")


def _grouped_number(rng, pool, group_sizes: tuple, mark: str, kind: str) -> Sample:
    """Random digits in groups of one of `group_sizes`, joined by `mark`, drawn by _marked_number."""
    sizes = group_sizes[int(rng.integers(len(group_sizes)))]
    digits = "".join(str(int(v)) for v in rng.integers(0, 10, sum(sizes)))
    cuts = np.cumsum((0,) + sizes)
    return _marked_number(rng, pool, mark.join(digits[i:j] for i, j in zip(cuts, cuts[1:])), kind)


# Groups of digits as people join them with slashes: dates day first, month first or year first, and fractions.
SLASH_GROUPS = ((2, 2, 4), (1, 2, 4), (2, 1, 4), (1, 1, 4), (2, 2, 2), (1, 1, 2), (4, 2, 2), (1, 1), (1, 2), (2, 2))


def dated_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    """A clean number written in groups joined by slashes ("12/05/2026", "2026/05/12", "3/4"): the
    text is its digits, meta["written"] the number as written. The slash is a straight stroke leaning
    right, in the gap between two digits."""
    return _grouped_number(rng, pool, SLASH_GROUPS, "/", "dated")


def _slash(rng, alpha, x, h, base, pen, style) -> int:
    """A hand-drawn slash from x beside digits `h` tall standing on `base`, in the writer's `style`
    (_slash_style), a little different each time. -> its width."""
    tilt, tall, drop = style
    height = h * tall * rng.uniform(0.95, 1.05) - pen  # the pen's round ends add half its width at each end
    foot = base + h * (drop + rng.uniform(-0.03, 0.03)) - pen / 2
    width = height * math.tan(math.radians(tilt + rng.uniform(-3, 3)))
    cv2.line(alpha, (x, int(foot)), (x + int(width), int(foot - height)), 1.0, pen, cv2.LINE_AA)
    return int(width)


def _slash_style(rng) -> tuple:
    """How one writer draws the slashes of a number: leaning right 15-40 deg from upright, the ink
    0.9-1.4 times the digits' height, the foot from a little above their baseline to a quarter of
    their height below it."""
    return rng.uniform(15, 40), rng.uniform(0.9, 1.4), rng.uniform(-0.05, 0.25)


def _dash(rng, alpha, x, h, base, pen) -> int:
    """A hand-drawn dash from x, level with the middle of digits `h` tall standing on `base`, a little
    tilted (a minus sign or a hyphen). -> its length."""
    length, y = h * rng.uniform(0.3, 0.6), base - h * rng.uniform(0.4, 0.6)
    tilt = length * rng.uniform(-0.1, 0.1)
    cv2.line(alpha, (x, int(y + tilt)), (x + int(length), int(y - tilt)), 1.0, pen, cv2.LINE_AA)
    return int(length)


def _marked_number(rng, pool, written: str, kind: str, sign_p: float = 0.0) -> Sample:
    """`written` (digits with points, commas, hyphens or slashes between them) drawn with MNIST digits on clean
    paper, and a minus sign before it with probability `sign_p`."""
    h = rng.uniform(28, 120)
    pen = max(2, int(round(h * rng.uniform(0.08, 0.13))))
    # The digits' baseline, with room above for size jitter (and a slash, which may stand taller).
    slashed = "/" in written
    base = int(round(h * (1.5 if slashed else 1.2)))
    # The sign comes from a generator of its own (spawning draws nothing from `rng`): the amounts
    # without one are the very images they were before signs were written.
    sign_rng = rng.spawn(1)[0]
    signed = sign_rng.random() < sign_p
    W = int((len(written) + signed) * 1.6 * h) + 4
    alpha = np.zeros((int(round(h * 1.6)) + base, W), np.float32)
    x, boxes, indices = 0, [], []
    style = _slash_style(rng) if slashed else None
    if signed:
        x = 2 * pen + _dash(sign_rng, alpha, pen, h, base, pen) + int(round(sign_rng.uniform(0.15, 0.45) * h))
    for ch in written:
        if ch.isdigit():
            patch, idx = _digit_patch(rng, pool, int(ch), h * rng.uniform(0.95, 1.05))
            y = base - patch.shape[0] + int(round(rng.uniform(-0.04, 0.04) * h))
            alpha[y:y + patch.shape[0], x:x + patch.shape[1]] = np.maximum(
                alpha[y:y + patch.shape[0], x:x + patch.shape[1]], patch)
            boxes.append((x, y, x + patch.shape[1], y + patch.shape[0]))
            indices.append(idx)
            x += patch.shape[1] + int(round(rng.uniform(0.12, 0.45) * h))
            continue
        x -= int(round(rng.uniform(0.0, 0.6) * (x - boxes[-1][2])))  # the mark sits close to its digit, or not
        if ch == ".":
            r = max(1.5, pen * rng.uniform(0.5, 0.8))
            cv2.circle(alpha, (int(x + r), int(base - r)), int(round(r)), 1.0, -1, cv2.LINE_AA)
            x += int(2 * r)
        elif ch == ",":
            tail = int(round(h * rng.uniform(0.18, 0.35)))
            cv2.line(alpha, (x + pen, base - pen // 2), (x, base + tail), 1.0, pen, cv2.LINE_AA)
            x += pen + pen // 2
        elif ch == "/":
            x += 2 * pen + _slash(rng, alpha, x + pen, h, base, pen, style)
        else:  # a hyphen
            x += 2 * pen + _dash(rng, alpha, x + pen, h, base, pen)
        x += int(round(rng.uniform(0.15, 0.35) * h))
    ys, xs = np.nonzero(alpha > 0.02)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    alpha = alpha[y0:y1, x0:x1]
    boxes = [(bx0 - x0, by0 - y0, bx1 - x0, by1 - y0) for bx0, by0, bx1, by1 in boxes]
    img, boxes, look = _on_clean_paper(rng, alpha, boxes, h)
    text = "".join(ch for ch in written if ch.isdigit())
    meta = {"written": "-" * signed + written, "pen": pen} | look | {"mnist_indices": indices}
    return Sample(img, text, kind, meta, [tuple(b) for b in boxes])


def boxed_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    """A clean number written in printed boxes: one box round it (an answer box on a worksheet) or a row
    of boxes with a digit in each (a form's field, its last boxes sometimes left empty)."""
    text = _random_number(rng)
    h = rng.uniform(28, 100)
    comb = rng.random() < 0.5
    line_px = max(1, int(round(h * rng.uniform(0.015, 0.05))))
    patches, indices = [], []
    for ch in text:
        patch, idx = _digit_patch(rng, pool, int(ch), h * rng.uniform(0.95, 1.05))
        patches.append(patch)
        indices.append(idx)
    margin = int(round(rng.uniform(0.4, 1.2) * h))  # paper round the box
    if comb:
        cell_w, cell_h = h * rng.uniform(1.1, 1.6), h * rng.uniform(1.15, 1.5)
        cells = len(text) + int(rng.integers(0, 3))
        frame = (margin, margin, margin + int(round(cells * cell_w)), margin + int(round(cell_h)))
        spots = []
        for k, patch in enumerate(patches):  # each digit in its box, off its centre by up to a third of the room left
            ph, pw = patch.shape
            cx = frame[0] + (k + 0.5) * cell_w + rng.uniform(-1, 1) * max(0.0, cell_w - pw) / 3
            cy = frame[1] + cell_h / 2 + rng.uniform(-1, 1) * max(0.0, cell_h - ph) / 3
            spots.append((int(round(cx - pw / 2)), int(round(cy - ph / 2))))
    else:
        cells, x, spots = 1, 0, []
        for patch in patches:
            spots.append((x, int(round((h - patch.shape[0]) / 2 + rng.uniform(-0.04, 0.04) * h))))
            x += patch.shape[1] + int(round(rng.uniform(0.12, 0.45) * h))
        room = [int(round(rng.uniform(0.1, 0.5) * h)) for _ in range(4)]  # left, top, right, bottom
        spots = [(sx + margin + room[0], sy + margin + room[1]) for sx, sy in spots]
        right = max(sx + p.shape[1] for (sx, _), p in zip(spots, patches))
        bottom = max(sy + p.shape[0] for (_, sy), p in zip(spots, patches))
        frame = (margin, margin, right + room[2], bottom + room[3])
    W, H = frame[2] + margin, frame[3] + margin
    lines = np.zeros((H, W), np.float32)
    cv2.rectangle(lines, frame[:2], frame[2:], 1.0, line_px)
    for k in range(1, cells):
        x = int(round(frame[0] + k * (frame[2] - frame[0]) / cells))
        cv2.line(lines, (x, frame[1]), (x, frame[3]), 1.0, line_px)
    layers = []
    for (sx, sy), patch in zip(spots, patches):
        layer = np.zeros((H, W), np.float32)
        sx, sy = min(max(sx, 0), W - patch.shape[1]), min(max(sy, 0), H - patch.shape[0])
        layer[sy:sy + patch.shape[0], sx:sx + patch.shape[1]] = patch
        layers.append(layer)
    rotation = float(rng.uniform(-3, 3))  # a scan or a photo, a little off level
    turn = cv2.getRotationMatrix2D((W / 2, H / 2), rotation, 1.0)
    lines = cv2.warpAffine(lines, turn, (W, H), flags=cv2.INTER_LINEAR)
    layers = [cv2.warpAffine(layer, turn, (W, H), flags=cv2.INTER_LINEAR) for layer in layers]
    alpha = np.max(layers, axis=0)
    boxes = [tuple(_ink_bbox(layer)) for layer in layers]
    blue_lines = rng.random() < 0.4
    line_rgb = ([rng.uniform(30, 90), rng.uniform(60, 120), rng.uniform(150, 210)] if blue_lines
                else [rng.uniform(20, 90)] * 3)
    ink_name = "black" if rng.random() < 0.75 else "blue"
    ink = ([rng.uniform(5, 40)] * 3 if ink_name == "black"
           else [rng.uniform(10, 35), rng.uniform(15, 45), rng.uniform(80, 130)])
    paper = _paper_rgb(rng, 232, 255)
    jpeg = int(rng.integers(60, 91)) if rng.random() < 0.3 else None
    img = _render(rng, alpha, paper, ink, lines=lines, line_rgb=line_rgb, noise=rng.uniform(0, 2.0), jpeg=jpeg)
    meta = {"style": "row of boxes" if comb else "answer box", "boxes_drawn": cells, "line_px": line_px,
            "line_colour": "blue" if blue_lines else "grey", "rotation": _f(rotation, 2), "digit_height": _f(h, 1),
            "ink": ink_name, "jpeg_quality": jpeg, "mnist_indices": indices}
    return Sample(img, text, "boxed", meta, boxes)


def hard_number(rng: np.random.Generator, pool: DigitPool) -> Sample:
    n_lines = 2 if rng.random() < 0.1 else 1
    lines = [_random_number(rng) for _ in range(n_lines)]
    on_page = rng.random() < 0.25
    h = rng.uniform(18, 42) if on_page else rng.uniform(24, 110)
    rotation = rng.uniform(-8, 8)
    shear = rng.uniform(-0.25, 0.25)
    # Pen width relative to MNIST's stroke (~11% of digit height): 0.5x (fine liner) to 2x (marker).
    pen = float(np.exp(rng.uniform(math.log(0.5), math.log(2.0))))
    pen_radius = int(round((pen - 1.0) * 0.11 * h / 2))
    if pen_radius < 0 and h < 36:  # eroding strokes of small digits would break them apart
        pen_radius = 0
    pitch = h * rng.uniform(1.3, 1.8)
    alpha, boxes, info = _write_block(rng, pool, lines, h, touch_p=0.3, gap=(0.04, 0.35),
                                      size_jit=0.1, y_jit=0.08, pen_radius=pen_radius,
                                      pitch=pitch, rotation=rotation, shear=shear)
    if on_page:
        W, H = 1600, 1200
        x = int(rng.integers(40, max(41, W - alpha.shape[1] - 40)))
        y = int(rng.integers(40, max(41, H - alpha.shape[0] - 40)))
    else:
        m = [int(round(rng.uniform(0.2, 1.5) * h)) for _ in range(4)]
        W, H = alpha.shape[1] + m[0] + m[2], alpha.shape[0] + m[1] + m[3]
        x, y = m[0], m[1]
    alpha, boxes = _place(alpha, boxes, W, H, x, y)

    r = rng.random()
    ruling = "ruled" if r < 0.25 else "grid" if r < 0.45 else "none"
    lines_a, line_rgb, line_thick = None, None, 0
    if ruling == "ruled":
        # Written on the line: one rule passes just under the first line's digits.
        base = np.array(info["baselines"][0], float).mean(axis=0) + (x, y)
        anchor = base + np.array([-info["direction"][1], info["direction"][0]]) * rng.uniform(-0.05, 0.15) * h
        lines_a, line_rgb, line_thick = _ruling(rng, W, H, "ruled", pitch, info["direction"], anchor)
    elif ruling == "grid":
        lines_a, line_rgb, line_thick = _ruling(rng, W, H, "grid", h * rng.uniform(0.6, 1.2), info["direction"])

    ink_name = ["blue", "black", "red"][int(rng.choice(3, p=[0.4, 0.4, 0.2]))]
    ink = _ink_rgb(rng, ink_name)
    pressure = rng.uniform(0.7, 1.0)  # light pens / pencils never reach full ink density
    paper = _paper_rgb(rng, 205, 250)
    illum, light_meta = _illumination(rng, W, H)
    blur = rng.uniform(0.5, min(1.6, max(0.6, h / 30))) if rng.random() < 0.3 else 0.0
    noise = rng.uniform(2, 10)
    jpeg = int(rng.integers(30, 86)) if rng.random() < 0.8 else None
    img = _render(rng, alpha * pressure, paper, ink, lines=lines_a, line_rgb=line_rgb, illum=illum,
                  texture=rng.uniform(1, 4), blur=blur, noise=noise, jpeg=jpeg)
    meta = {"lines": n_lines, "digit_height": _f(h, 1), "page": "page" if on_page else "tight",
            "canvas": [W, H], "touching_pairs": int(sum(info["touching"])),
            "touching": [bool(t) for t in info["touching"]], "rotation": _f(rotation),
            "shear": _f(shear), "pen": _f(pen), "pen_radius": pen_radius, "ink": ink_name,
            "ink_rgb": [_f(c, 1) for c in ink], "pressure": _f(pressure),
            "paper_rgb": [_f(c, 1) for c in paper], **light_meta, "ruling": ruling,
            "ruling_rgb": [_f(c, 1) for c in line_rgb] if line_rgb else None,
            "ruling_thickness": line_thick, "blur_sigma": _f(blur), "noise_sigma": _f(noise),
            "jpeg_quality": jpeg, "mnist_indices": info["mnist_indices"]}
    return Sample(img, "\n".join(lines), "hard", meta, [tuple(b) for b in boxes])


# --------------------------------------------------------------------------- sketch

def _zhang_suen(mask):
    """Zhang-Suen thinning of a boolean mask to a one-pixel-wide 8-connected skeleton."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in range(2):
            c = img[1:-1, 1:-1]
            p2, p3, p4, p5 = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:]
            p6, p7, p8, p9 = img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            b = sum(p.astype(np.int32) for p in ring[:8])
            a = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.int32) for i in range(8))
            if step == 0:
                cond = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                cond = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            rm = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & cond
            if rm.any():
                c[rm] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def _trace(skel):
    """Skeleton pixels -> list of polylines [(x, y), ...] between end/junction pixels."""
    pts = set(zip(*(v.tolist() for v in np.nonzero(skel))))

    def adj(p):
        y, x = p
        out = [q for q in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)) if q in pts]
        for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
            # A diagonal step that a 4-neighbour already bridges would make a triangle.
            if (y + dy, x + dx) in pts and (y + dy, x) not in pts and (y, x + dx) not in pts:
                out.append((y + dy, x + dx))
        return out

    graph = {p: adj(p) for p in pts}
    seen, paths = set(), []

    def walk(a, b):
        path = [a, b]
        seen.add(frozenset((a, b)))
        prev, cur = a, b
        while len(graph[cur]) == 2:
            nxt = graph[cur][1] if graph[cur][0] == prev else graph[cur][0]
            e = frozenset((cur, nxt))
            if e in seen:
                break
            seen.add(e)
            path.append(nxt)
            prev, cur = cur, nxt
        return path

    order = sorted(pts)
    for p in order:
        if len(graph[p]) == 0:
            paths.append([p])
        elif len(graph[p]) != 2:
            for q in graph[p]:
                if frozenset((p, q)) not in seen:
                    paths.append(walk(p, q))
    for p in order:  # closed loops with no end or junction (a plain 0)
        for q in graph[p]:
            if frozenset((p, q)) not in seen:
                paths.append(walk(p, q))
    deg = {p: len(v) for p, v in graph.items()}
    return [(np.array([(x, y) for y, x in path], np.float64), [deg[path[0]], deg[path[-1]]]) for path in paths]


def _smooth(pts, passes=3, win=5):
    """Moving-average a traced polyline (ends pinned, loops wrapped) to remove pixel steps."""
    if len(pts) < 4:
        return pts
    closed = np.allclose(pts[0], pts[-1])
    k = np.ones(win) / win
    out = pts.copy()
    for _ in range(passes):
        if closed:
            body = out[:-1]
            ext = np.vstack([body[-(win // 2):], body, body[:win // 2]])
            sm = np.stack([np.convolve(ext[:, i], k, mode="valid") for i in range(2)], axis=1)
            out = np.vstack([sm, sm[:1]])
        else:
            ext = np.vstack([np.repeat(out[:1], win // 2, 0), out, np.repeat(out[-1:], win // 2, 0)])
            sm = np.stack([np.convolve(ext[:, i], k, mode="valid") for i in range(2)], axis=1)
            sm[0], sm[-1] = out[0], out[-1]
            out = sm
    return out


def _fill_holes(img):
    """Grey-level hole filling (morphological reconstruction by erosion from the border)."""
    marker = np.full_like(img, 255)
    marker[0, :], marker[-1, :], marker[:, 0], marker[:, -1] = img[0, :], img[-1, :], img[:, 0], img[:, -1]
    k = np.ones((3, 3), np.uint8)
    while True:
        nxt = np.maximum(cv2.erode(marker, k), img)
        if np.array_equal(nxt, marker):
            return marker
        marker = nxt


LOOPS = {0: 1, 6: 1, 8: 2, 9: 1}  # closed loops each digit's shape needs


@functools.lru_cache(maxsize=4096)
def _strokes_for(img_bytes, digit):
    """Strokes of one MNIST digit at 4x resolution (cached: thinning is the slow part)."""
    img = np.frombuffer(img_bytes, np.uint8).reshape(28, 28)
    big = cv2.resize(img, (112, 112), interpolation=cv2.INTER_CUBIC)
    # A high threshold keeps small loops (the eye of a 9, the holes of an 8) open, so the
    # skeleton goes round them instead of collapsing them into a line; fall back to the
    # middle threshold when the high one would break a faint stroke apart.
    mask = big >= 128
    for t in (190, 160):
        m = big >= t
        if cv2.connectedComponents(m.astype(np.uint8))[0] <= cv2.connectedComponents(mask.astype(np.uint8))[0]:
            mask = m
            break
    # Holes that survive only as a dim dip inside the ink (a loop nearly closed up) are
    # opened too: grey-level hole filling finds dips enclosed by brighter ink.
    mask &= ~((_fill_holes(big).astype(np.int32) - big) > 60)
    skel = _zhang_suen(mask)
    strokes = []
    # A loop written small or with a fat pen is a filled blob in MNIST (the eye of a 6 or 9);
    # its skeleton is a line through it, which reads as an L or a J. When the digit has
    # fewer holes than its shape needs, draw the outline of its largest blobs (inset by half
    # a stroke: where the writer's pen went round) as closed loops instead. Only then: on
    # other digits a fat spot is just ink, and a loop drawn there would be an invention.
    m8 = mask.astype(np.uint8)
    holes = cv2.connectedComponents(1 - m8, connectivity=4)[0] - 2
    missing = LOOPS.get(digit, 0) - holes
    dt = cv2.distanceTransform(m8, cv2.DIST_L2, 5)
    # Typical half stroke width: a low percentile, as the blob itself inflates the median.
    w = float(np.percentile(dt[skel], 25)) if skel.any() else 0.0
    if missing > 0 and w > 0:
        height = np.ptp(np.nonzero(mask)[0])
        blob = min(2.0 * w, 0.13 * height)  # twice the stroke, or wider than any pen
        r = max(1, int(round(w / 2)))
        inner = cv2.morphologyEx((dt > w).astype(np.uint8), cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        n, lab, stats, _ = cv2.connectedComponentsWithStats(inner)
        cands = [k for k in range(1, n)
                 if dt[lab == k].max() >= blob and stats[k, cv2.CC_STAT_AREA] >= 0.02 * height ** 2]
        cands = sorted(cands, key=lambda k: -stats[k, cv2.CC_STAT_AREA])[:missing]
        keep = np.isin(lab, cands).astype(np.uint8) if cands else None
        if keep is not None:
            contours, _ = cv2.findContours(keep, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            for c in contours:
                if len(c) >= 8:
                    c = c[:, 0, :].astype(np.float64)
                    strokes.append(_smooth(np.vstack([c, c[:1]])))
            grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 3, 2 * r + 3))
            skel = skel & ~cv2.dilate(keep, grow).astype(bool)
    paths = _trace(skel)
    sk_h = max(1, np.ptp(np.nonzero(mask)[0]))
    for pts, (d0, d1) in paths:
        length = np.abs(np.diff(pts, axis=0)).sum() if len(pts) > 1 else 0.0
        # Thinning leaves short spurs off junctions; a person never draws those.
        if len(pts) > 1 and length < 0.08 * sk_h and (d0 >= 3 or d1 >= 3) and not (d0 >= 3 and d1 >= 3):
            continue
        strokes.append(_smooth(pts))
    return strokes


def digit_strokes(image: np.ndarray, digit: int) -> list:
    """The pen strokes of one uint8 28x28 MNIST digit: float (x, y) point arrays at 4x resolution
    (112 px square). training.render redraws training digits with these too."""
    return _strokes_for(np.ascontiguousarray(image, np.uint8).tobytes(), int(digit))


def draw_strokes(mask: np.ndarray, strokes: list, brush: int) -> np.ndarray:
    """Draw strokes (point arrays in `mask`'s pixels) into uint8 `mask` with a round, anti-aliased
    brush `brush` px wide, as a sketchpad does; returns `mask`."""
    for p in strokes:
        pts = np.round(p * 16).astype(np.int32)  # 4 fractional bits: sub-pixel placement
        if len(pts) > 1:
            cv2.polylines(mask, [pts.reshape(-1, 1, 2)], False, 255, brush, cv2.LINE_AA, 4)
        for e in (pts[0], pts[-1]):  # round caps, as a sketchpad brush has
            cv2.circle(mask, (int(e[0]), int(e[1])), brush * 8, 255, -1, cv2.LINE_AA, 4)
    return mask


def sketch_digit(rng: np.random.Generator, pool: DigitPool) -> Sample:
    digit = int(rng.integers(10))
    idx = pool.sample_index(rng, digit)
    strokes = digit_strokes(pool.images[idx], digit)
    W, H = int(rng.integers(500, 801)), int(rng.integers(500, 801))
    frac = rng.uniform(0.15, 0.9)
    target = frac * H
    # A big brush on a tiny digit fills its holes; people pick a brush that suits the size.
    brush = int(rng.integers(8, max(8, min(30, int(target / 7))) + 1))
    rotation = rng.uniform(-6, 6)
    aspect = rng.uniform(0.85, 1.2)
    allp = np.vstack(strokes)
    centre = (allp.min(axis=0) + allp.max(axis=0)) / 2
    sk_h = max(1.0, np.ptp(allp[:, 1]))
    t = math.radians(rotation)
    R = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]) @ np.diag([aspect, 1.0])
    s = max(1.0, target - brush) / sk_h
    while True:  # shrink until the drawing fits the canvas with the brush's radius to spare
        tr = [(p - centre) * s @ R.T for p in strokes]
        q = np.vstack(tr)
        lo, hi = q.min(axis=0) - brush / 2 - 2, q.max(axis=0) + brush / 2 + 2
        if hi[0] - lo[0] <= W and hi[1] - lo[1] <= H:
            break
        s *= 0.95
    off = np.array([rng.uniform(-lo[0], W - hi[0]), rng.uniform(-lo[1], H - hi[1])])
    mask = draw_strokes(np.zeros((H, W), np.uint8), [p + off for p in tr], brush)
    transparent = rng.random() < 0.5
    if transparent:
        img = np.zeros((H, W, 4), np.uint8)
        bg = 0 if rng.random() < 0.7 else 255  # what RGB hides under alpha 0 varies by app
        img[..., :3] = np.where(mask[..., None] > 0, 0, bg).astype(np.uint8)
        img[..., 3] = mask
    else:
        bg = 255
        img = np.repeat((255 - mask)[..., None], 3, axis=2)
    bb = _ink_bbox(mask.astype(np.float32) / 255.0)
    meta = {"canvas": [W, H], "brush": brush, "transparent": transparent, "background_rgb": bg,
            "digit_height": _f(bb[3] - bb[1], 1), "height_frac": _f((bb[3] - bb[1]) / H),
            "rotation": _f(rotation), "aspect": _f(aspect), "mnist_indices": [idx]}
    return Sample(img, str(digit), "sketch", meta, [bb])


# --------------------------------------------------------------------------- printed

def _font_paths():
    import matplotlib
    names = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
             "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf",
             "DejaVuSansMono-Bold.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf",
             "STIXGeneralItalic.ttf", "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmti10.ttf"]
    mpl = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = [str(mpl / n) for n in names if (mpl / n).exists()]
    # Extra faces installed system-wide (condensed, light) widen the style range.
    for n in ["DejaVuSans-ExtraLight.ttf", "DejaVuSansCondensed.ttf", "DejaVuSerifCondensed-Bold.ttf"]:
        p = Path("/usr/share/fonts/truetype/dejavu") / n
        if p.exists():
            paths.append(str(p))
    return paths


FONT_PATHS = _font_paths()


@functools.lru_cache(maxsize=512)
def _font(path, size):
    return ImageFont.truetype(path, size)


def _glyph_items(font, text, tracking):
    """One alpha patch per character, placed by the font's advance widths plus tracking."""
    items, pen_x = [], 0.0
    for ch in text:
        if ch == " ":
            pen_x += font.getlength(ch) + tracking
            continue
        l, t, r, b = font.getbbox(ch)
        im = Image.new("L", (r - l + 4, b - t + 4), 0)
        ImageDraw.Draw(im).text((2 - l, 2 - t), ch, font=font, fill=255)
        a = np.asarray(im, np.float32) / 255.0
        bb = _ink_bbox(a, 0.02)
        if bb is None:
            pen_x += font.getlength(ch) + tracking
            continue
        x0, y0, x1, y1 = bb
        items.append((a[y0:y1, x0:x1], int(round(pen_x + l - 2 + x0)), int(t - 2 + y0)))
        pen_x += font.getlength(ch) + tracking
    return items


def _items_block(items, rotation):
    """Rotate placed patches as one block; alpha canvas and tight per-item boxes."""
    A = _affine(rotation, 0.0)
    bx0 = min(x for p, x, y in items)
    by0 = min(y for p, x, y in items)
    bx1 = max(x + p.shape[1] for p, x, y in items)
    by1 = max(y + p.shape[0] for p, x, y in items)
    corners = np.array([[bx0, by0], [bx1, by0], [bx0, by1], [bx1, by1]], float) @ A.T
    lo, hi = np.floor(corners.min(axis=0)) - 2, np.ceil(corners.max(axis=0)) + 2
    b = -lo
    W, H = int(hi[0] - lo[0]), int(hi[1] - lo[1])
    alpha = np.zeros((H, W), np.float32)
    boxes = []
    for p, x, y in items:
        M = np.hstack([A, (A @ np.array([x, y], float) + b)[:, None]])
        wp = cv2.warpAffine(p, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
        np.maximum(alpha, wp, out=alpha)
        boxes.append(_ink_bbox(wp))
    return alpha, boxes


def printed_number(rng: np.random.Generator) -> Sample:
    text = _random_number(rng)
    path = FONT_PATHS[int(rng.integers(len(FONT_PATHS)))]
    size = int(rng.integers(24, 121))
    font = _font(path, size)
    tracking = rng.uniform(-0.02, 0.12) * size
    rotation = rng.uniform(-4, 4)
    alpha, boxes = _items_block(_glyph_items(font, text, tracking), rotation)
    m = [int(round(rng.uniform(0.15, 1.0) * size)) for _ in range(4)]
    W, H = alpha.shape[1] + m[0] + m[2], alpha.shape[0] + m[1] + m[3]
    alpha, boxes = _place(alpha, boxes, W, H, m[0], m[1])
    ink = [rng.uniform(0, 70)] * 3 if rng.random() < 0.8 else [rng.uniform(0, 40), rng.uniform(0, 60), rng.uniform(60, 140)]
    paper = _paper_rgb(rng, 225, 255)
    blur = rng.uniform(0.4, 1.0) if rng.random() < 0.2 else 0.0
    noise = rng.uniform(0, 4)
    jpeg = int(rng.integers(50, 96)) if rng.random() < 0.3 else None
    img = _render(rng, alpha, paper, ink, blur=blur, noise=noise, jpeg=jpeg)
    meta = {"font": Path(path).name, "font_size": size, "rotation": _f(rotation),
            "tracking": _f(tracking), "ink_rgb": [_f(c, 1) for c in ink],
            "paper_rgb": [_f(c, 1) for c in paper], "blur_sigma": _f(blur),
            "noise_sigma": _f(noise), "jpeg_quality": jpeg, "canvas": [W, H]}
    return Sample(img, text, "printed", meta, [tuple(bb) for bb in boxes])


# --------------------------------------------------------------------------- negative

# Letters that a reader could honestly take for a digit are left out:
# O o Q D (0), l I i j J T (1/7), S s (5), Z z (2), B (8), G b (6), g q (9).
SAFE_LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy"
NEGATIVE_TYPES = ("blank_white", "blank_transparent", "uniform", "noise", "paper", "ruled_paper",
                  "letters", "scribble", "shapes")


def _bezier(p0, p1, p2, p3, n=24):
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3


def _canvas_or_paper(rng):
    """Either a sketchpad canvas (white or transparent) or a photographed sheet of paper."""
    r = rng.random()
    if r < 0.3:
        W, H = int(rng.integers(500, 801)), int(rng.integers(500, 801))
        return W, H, "canvas_white"
    if r < 0.5:
        W, H = int(rng.integers(500, 801)), int(rng.integers(500, 801))
        return W, H, "canvas_transparent"
    W, H = int(rng.integers(300, 1001)), int(rng.integers(250, 801))
    return W, H, "paper"


def _finish_negative(rng, alpha, W, H, surface, ink):
    if surface == "canvas_transparent":
        img = np.zeros((H, W, 4), np.uint8)
        m = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        img[..., :3] = np.where(m[..., None] > 0, np.asarray(ink, np.uint8), 0)
        img[..., 3] = m
        return img, {}
    if surface == "canvas_white":
        return _render(rng, alpha, [255.0] * 3, ink), {}
    illum, lm = _illumination(rng, W, H)
    jpeg = int(rng.integers(40, 90)) if rng.random() < 0.6 else None
    noise = rng.uniform(1, 8)
    img = _render(rng, alpha, _paper_rgb(rng, 205, 250), ink, illum=illum, texture=rng.uniform(1, 4),
                  noise=noise, jpeg=jpeg)
    return img, {**lm, "noise_sigma": _f(noise), "jpeg_quality": jpeg}


def negative_image(rng: np.random.Generator, pool: DigitPool | None = None) -> Sample:
    kind = NEGATIVE_TYPES[int(rng.integers(len(NEGATIVE_TYPES)))]
    meta = {"type": kind}
    if kind in ("blank_white", "blank_transparent"):
        W, H = int(rng.integers(500, 801)), int(rng.integers(500, 801))
        img = (np.full((H, W, 3), 255, np.uint8) if kind == "blank_white" else np.zeros((H, W, 4), np.uint8))
    elif kind == "uniform":
        W, H = int(rng.integers(200, 1001)), int(rng.integers(200, 1001))
        level = 0 if rng.random() < 0.3 else int(rng.integers(0, 256))
        img = np.full((H, W, 3), level, np.uint8)
        meta["level"] = level
    elif kind == "noise":
        W, H = int(rng.integers(200, 1001)), int(rng.integers(200, 1001))
        mean, sd = rng.uniform(60, 200), rng.uniform(10, 60)
        img = np.clip(rng.normal(mean, sd, (H, W, 3)), 0, 255).astype(np.uint8)
        meta.update(mean=_f(mean), sigma=_f(sd))
    elif kind in ("paper", "ruled_paper"):
        W, H = (1600, 1200) if rng.random() < 0.25 else (int(rng.integers(300, 1001)), int(rng.integers(250, 801)))
        lines, line_rgb = None, None
        if kind == "ruled_paper":
            style = "ruled" if rng.random() < 0.5 else "grid"
            t = math.radians(rng.uniform(-8, 8))
            lines, line_rgb, _ = _ruling(rng, W, H, style, rng.uniform(18, 60), (math.cos(t), -math.sin(t)))
            meta["ruling"] = style
        illum, lm = _illumination(rng, W, H)
        noise = rng.uniform(1, 8)
        jpeg = int(rng.integers(30, 86)) if rng.random() < 0.7 else None
        img = _render(rng, np.zeros((H, W), np.float32), _paper_rgb(rng, 205, 250), [0, 0, 0], lines=lines,
                      line_rgb=line_rgb, illum=illum, texture=rng.uniform(1, 4), noise=noise, jpeg=jpeg)
        meta.update(lm, noise_sigma=_f(noise), jpeg_quality=jpeg, canvas=[W, H])
    elif kind == "letters":
        words = ["".join(SAFE_LETTERS[int(i)] for i in rng.integers(0, len(SAFE_LETTERS), int(rng.integers(1, 8))))
                 for _ in range(int(rng.integers(1, 4)))]
        path = FONT_PATHS[int(rng.integers(len(FONT_PATHS)))]
        size = int(rng.integers(24, 101))
        items = _glyph_items(_font(path, size), " ".join(words), rng.uniform(0, 0.08) * size)
        alpha, _ = _items_block(items, rng.uniform(-6, 6))
        m = [int(round(rng.uniform(0.2, 1.5) * size)) for _ in range(4)]
        W, H = alpha.shape[1] + m[0] + m[2], alpha.shape[0] + m[1] + m[3]
        alpha, _ = _place(alpha, [], W, H, m[0], m[1])
        ink = _ink_rgb(rng, ["blue", "black", "red"][int(rng.integers(3))])
        img, extra = _finish_negative(rng, alpha, W, H, "paper", ink)
        meta.update(extra, words=" ".join(words), font=Path(path).name, font_size=size)
    else:  # scribble or shapes, on a sketchpad canvas or on paper
        W, H, surface = _canvas_or_paper(rng)
        mask = np.zeros((H, W), np.uint8)
        if kind == "scribble":
            n = int(rng.integers(1, 4))
            for _ in range(n):
                # A tangle of 4-8 Bezier segments spread over a wide area: no single stroke of
                # digit size and shape (short S or loop shapes would be honest 5s, 2s or 0s).
                cx, cy = rng.uniform(0.25, 0.75) * W, rng.uniform(0.25, 0.75) * H
                sx, sy = rng.uniform(0.15, 0.4) * W, rng.uniform(0.1, 0.35) * H
                p = np.array([cx, cy])
                pts = []
                for _ in range(int(rng.integers(4, 9))):
                    c1, c2, e = (np.array([cx, cy]) + rng.uniform(-1, 1, (3, 2)) * (sx, sy))
                    pts.append(_bezier(p, c1, c2, e))
                    p = e
                poly = np.round(np.clip(np.vstack(pts), 0, [W - 1, H - 1]) * 16).astype(np.int32)
                cv2.polylines(mask, [poly.reshape(-1, 1, 2)], False, 255, int(rng.integers(2, 16)), cv2.LINE_AA, 4)
            meta["strokes"] = n
        else:
            n = int(rng.integers(1, 5))
            shapes = []
            for _ in range(n):
                s = ["disc", "rect", "rect_outline", "triangle", "triangle_outline", "star"][int(rng.integers(6))]
                shapes.append(s)
                c = np.array([rng.uniform(0.15, 0.85) * W, rng.uniform(0.15, 0.85) * H])
                r = rng.uniform(0.06, 0.25) * min(W, H)
                th = int(rng.integers(2, 12))
                if s == "disc":
                    cv2.ellipse(mask, (int(c[0]), int(c[1])), (int(r), int(r * rng.uniform(0.5, 1.0))),
                                rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
                elif s.startswith("rect"):
                    a = rng.uniform(0, 2 * math.pi)
                    d = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
                    q = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * (r, r * rng.uniform(0.5, 1.0))
                    poly = np.round(q @ d.T + c).astype(np.int32)
                    if s == "rect":
                        cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA)
                    else:
                        cv2.polylines(mask, [poly], True, 255, th, cv2.LINE_AA)
                elif s.startswith("triangle"):
                    a0 = rng.uniform(0, 2 * math.pi)
                    poly = np.round([c + r * np.array([math.cos(a0 + k * 2.094), math.sin(a0 + k * 2.094)])
                                     for k in range(3)]).astype(np.int32)
                    if s == "triangle":
                        cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA)
                    else:
                        cv2.polylines(mask, [poly], True, 255, th, cv2.LINE_AA)
                else:
                    a0 = rng.uniform(0, 2 * math.pi)
                    poly = np.round([c + (r if k % 2 == 0 else r * 0.45) *
                                     np.array([math.cos(a0 + k * math.pi / 5), math.sin(a0 + k * math.pi / 5)])
                                     for k in range(10)]).astype(np.int32)
                    cv2.fillPoly(mask, [poly], 255, cv2.LINE_AA)
            meta["shapes"] = shapes
        ink = [0.0, 0.0, 0.0] if surface.startswith("canvas") else _ink_rgb(rng, ["blue", "black", "red"][int(rng.integers(3))])
        img, extra = _finish_negative(rng, mask.astype(np.float32) / 255.0, W, H, surface, ink)
        meta.update(extra, surface=surface)
    meta["canvas"] = [int(img.shape[1]), int(img.shape[0])]
    return Sample(img, "", "negative", meta, [])


# --------------------------------------------------------------------------- sets, CLI

_KIND_ID = {k: i for i, k in enumerate(KINDS)}


def make_sample(kind: str, i: int, seed: int = 0, pool: DigitPool | None = None) -> Sample:
    """Sample i of a set: its own generator seeded by (seed, kind, i)."""
    rng = np.random.default_rng([int(seed), _KIND_ID[kind], int(i)])
    if kind == "printed":
        return printed_number(rng)
    if kind == "negative":
        return negative_image(rng)
    pool = pool or default_pool()
    return {"clean": clean_number, "hard": hard_number, "sketch": sketch_digit,
            "punctuated": punctuated_number, "hyphenated": hyphenated_number, "dated": dated_number,
            "boxed": boxed_number}[kind](rng, pool)


def make_set(kind: str, n: int, seed: int = 0, pool: DigitPool | None = None) -> list[Sample]:
    """n samples of `kind`; identical pixels for the same (kind, n, seed)."""
    if kind not in _KIND_ID:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return [make_sample(kind, i, seed, pool) for i in range(n)]


def contact_sheet(samples, cols=6, cell=260, draw_boxes=True) -> np.ndarray:
    """RGB grid of samples, each fitted in a cell, boxes in green, text underneath;
    transparent canvases shown over a checkerboard."""
    rows = max(1, math.ceil(len(samples) / cols))
    lab = 30
    sheet = np.full((rows * (cell + lab), cols * cell, 3), 90, np.uint8)
    for k, s in enumerate(samples):
        img = s.image
        if img.shape[2] == 4:
            yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
            chk = np.where(((yy // 16 + xx // 16) % 2)[..., None] == 0, 200, 150).astype(np.float32)
            a = img[..., 3:].astype(np.float32) / 255
            img = (img[..., :3] * a + chk * (1 - a)).astype(np.uint8)
        img = img.copy()
        if draw_boxes:
            t = max(1, int(max(img.shape[:2]) / cell))
            for x0, y0, x1, y1 in s.boxes:
                cv2.rectangle(img, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), (0, 200, 0), t)
        f = min((cell - 4) / img.shape[1], (cell - 4) / img.shape[0])
        small = cv2.resize(img, (max(1, int(img.shape[1] * f)), max(1, int(img.shape[0] * f))),
                           interpolation=cv2.INTER_AREA)
        r, c = divmod(k, cols)
        y, x = r * (cell + lab) + 2, c * cell + 2
        sheet[y:y + small.shape[0], x:x + small.shape[1]] = small
        label = (s.text.replace("\n", "/") or "-") + " " + str(s.meta.get("type", ""))
        cv2.putText(sheet, label[:24], (x, y + cell + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return sheet


def write_set(samples, out: Path, start_jsonl=False):
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.jsonl", "a" if not start_jsonl else "w") as f:
        for i, s in enumerate(samples):
            name = f"{s.kind}_{i}.png"  # JPEG'd samples hold the decoded pixels (artefacts kept)
            Image.fromarray(s.image).save(out / name)
            f.write(json.dumps({"file": name, "text": s.text, "kind": s.kind, "meta": s.meta,
                                "boxes": [list(map(int, b)) for b in s.boxes]}) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", default="all", choices=KINDS + ("all",))
    ap.add_argument("--n", type=int, default=50, help="samples per kind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sheet", action="store_true", help="also write contact_sheet_<kind>.png (first 36)")
    args = ap.parse_args(argv)
    kinds = KINDS if args.kind == "all" else (args.kind,)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "labels.jsonl").write_text("")
    for kind in kinds:
        samples = make_set(kind, args.n, args.seed)
        write_set(samples, args.out)
        if args.sheet:
            Image.fromarray(contact_sheet(samples[:36])).save(args.out / f"contact_sheet_{kind}.png")
        print(f"{kind}: {len(samples)} images -> {args.out}")


if __name__ == "__main__":
    main()
