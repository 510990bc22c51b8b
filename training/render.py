"""MNIST digits re-drawn the way the reader sees digits, then normalised by the reader's own code
(digitsinsight.normalise.normalise_digit):

- `render_as_reader`: binary ink at a random size and pen width (a pen on paper);
- `render_as_sketch`: traced into strokes and redrawn with a round brush (a finger or mouse on a
  sketchpad), by the same tracer and brush as the benchmark's sketch set (bench.synth).

Used by training.train (so the classifier learns from what the reader will show it) and by
training.verifier (its positives, and the pieces of its negatives).
"""
import hashlib
import multiprocessing as mp
import os
from pathlib import Path

import cv2
import numpy as np

from digitsinsight.normalise import normalise_digit


def ink_mask(digit: np.ndarray, height: int, rng) -> np.ndarray:
    """An MNIST digit re-drawn as a binary mask `height` pixels tall, pen width jittered."""
    ys, xs = np.nonzero(digit > 40)
    crop = digit[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    s = height / crop.shape[0]
    big = cv2.resize(crop, (max(2, round(crop.shape[1] * s)), height), interpolation=cv2.INTER_CUBIC)
    mask = (big > rng.uniform(90, 160)).astype(np.uint8)
    r = int(rng.integers(-1, 3)) * max(1, height // 30)
    if r:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(r) + 1, 2 * abs(r) + 1))
        thicker = cv2.dilate(mask, kernel) if r > 0 else cv2.erode(mask, kernel)
        if thicker.sum() > 0.3 * mask.sum():
            mask = thicker
    return mask


def render_as_reader(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 (N, 28, 28) MNIST digits -> uint8 (N, 28, 28) as the reader would normalise them."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, digit in enumerate(images):
        out[i] = normalise_digit(ink_mask(digit, int(rng.integers(24, 90)), rng)) if digit.max() > 40 else digit
    return out


def sketch_mask(digit: np.ndarray, label: int, height: int, brush_ratio: float) -> np.ndarray:
    """An MNIST digit traced into strokes and redrawn `height` px tall with a round brush
    `brush_ratio` x `height` wide (at least 2 px), as a binary mask."""
    from bench.synth import digit_strokes, draw_strokes  # the sketch set's tracer and brush

    strokes = digit_strokes(digit, label)
    pts = np.vstack(strokes)
    brush = max(2, int(round(brush_ratio * height)))
    scale = max(1.0, height - brush) / max(1.0, np.ptp(pts[:, 1]))
    margin = brush / 2 + 2
    placed = [(p - pts.min(axis=0)) * scale + margin for p in strokes]
    w, h = (np.ptp(pts, axis=0) * scale + 2 * margin + 1).astype(int)
    return draw_strokes(np.zeros((h, w), np.uint8), placed, brush) > 127


def _sketch_chunk(job) -> np.ndarray:
    images, labels, seed = job
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, (digit, label) in enumerate(zip(images, labels)):
        # Brush widths from 1/90 to 1/7 of the digit's height: the benchmark's 8-30 px brushes
        # on digits 75-720 px tall.
        height, brush_ratio = int(rng.integers(60, 241)), rng.uniform(0.011, 0.143)
        if digit.max() <= 40:  # no stroke to trace (as render_as_reader, the digit is kept)
            out[i] = digit
            continue
        out[i] = normalise_digit(sketch_mask(digit, int(label), height, brush_ratio))
    return out


def render_as_sketch(images: np.ndarray, labels: np.ndarray, seed: int = 0, processes: int = 0,
                     cache_dir: Path | None = None) -> np.ndarray:
    """uint8 (N, 28, 28) MNIST digits -> uint8 (N, 28, 28) as the reader would normalise them when
    drawn on a sketchpad. Tracing takes about 7 ms a digit, so chunks run in `processes` (0: all
    cores) and, given `cache_dir`, the result is kept there, keyed by the digits and the seed."""
    key = hashlib.sha256(images.tobytes() + np.asarray(labels, np.int64).tobytes()).hexdigest()[:16]
    cached = Path(cache_dir) / f"sketch_{key}_{seed}.npz" if cache_dir else None
    if cached is not None and cached.exists():
        with np.load(cached) as data:
            return data["images"]
    chunk = 500
    jobs = [(images[i:i + chunk], labels[i:i + chunk], (seed, i)) for i in range(0, len(images), chunk)]
    with mp.get_context("fork").Pool(processes or os.cpu_count()) as pool:
        out = np.concatenate(pool.map(_sketch_chunk, jobs)) if jobs else images.copy()
    if cached is not None:  # written aside, then renamed: other processes (DDP ranks) never see half a file
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial.npz")
        np.savez_compressed(partial, images=out)
        os.replace(partial, cached)
    return out
