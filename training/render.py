"""MNIST digits re-drawn the way the reader sees digits: binary ink at a random size and pen
width, then normalised by the reader's own code (digitsinsight.normalise.normalise_digit).

Used by training.train (so the classifier learns from what the reader will show it) and by
training.verifier (its positives, and the pieces of its negatives).
"""
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
