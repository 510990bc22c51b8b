"""From pixels to what the model eats. Training, evaluation and the reader all call these.

The model takes float tensors (N, 1, 28, 28), pixels in [0, 1] with ink bright
(MNIST polarity), standardised with the mean/std in its pretrained config.
"""
from typing import Sequence, Union

import cv2
import numpy as np
import torch

from .model import MNIST_MEAN, MNIST_STD

ArrayLike = Union[np.ndarray, torch.Tensor]


def to_unit_tensor(images: ArrayLike) -> torch.Tensor:
    """uint8 (N, 28, 28) or (N, 1, 28, 28) digits -> float32 (N, 1, 28, 28) in [0, 1]."""
    x = torch.as_tensor(images)
    if x.dim() == 2:
        x = x[None]
    if x.dim() == 3:
        x = x[:, None]
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()


def standardise(x: torch.Tensor, mean: Sequence[float] = MNIST_MEAN,
                std: Sequence[float] = MNIST_STD) -> torch.Tensor:
    return (x - float(mean[0])) / float(std[0])


def to_model_input(images: ArrayLike, mean: Sequence[float] = MNIST_MEAN,
                   std: Sequence[float] = MNIST_STD) -> torch.Tensor:
    """uint8 digits -> the standardised float batch the model takes."""
    return standardise(to_unit_tensor(images), mean, std)


# --- one digit crop -> an MNIST-style 28x28 digit -------------------------------------------
#
# MNIST was made by fitting each binary NIST digit into a 20x20 box (aspect kept, anti-aliased,
# hence grey edges) and centring it by its centre of mass in 28x28. We do the same, working at
# SUPER x resolution so the downscale gives the grey edges, and first bring the pen width to
# MNIST's: sketchpad brushes and markers are often far thicker (relative to the digit) than the
# pens of MNIST's writers.

SUPER = 4
BOX = 20 * SUPER
MNIST_STROKE = 2.5 * SUPER     # typical stroke width of MNIST digits in their 20x20 box, at SUPER x


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the distance-transform value along the strokes' ridges."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)
    return float(2 * _median(dist[ridge])) if ridge.any() else 0.0


def _median(values: np.ndarray):
    """np.median of a 1-d array, to the bit, without its overhead (about 10x faster on a crop's ridge)."""
    k = values.size // 2
    if values.size % 2:
        return np.partition(values, k)[k]
    part = np.partition(values, [k - 1, k])
    return np.mean(part[k - 1:k + 1])


def fit_box(mask: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale a tight binary crop so its longer side is `box`, keeping the aspect ratio."""
    h, w = mask.shape
    s = box / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return (cv2.resize(mask.astype(np.float32), size, interpolation=interp) > 0.5).astype(np.uint8)


def normalise_stroke(mask: np.ndarray, target: float = MNIST_STROKE) -> np.ndarray:
    """Thin or thicken a box-fitted binary digit towards MNIST's pen width."""
    width = stroke_width(mask)
    if width <= 0:
        return mask
    delta = (target - width) / 2  # pixels to add (or remove) on each side of a stroke
    if abs(delta) < 1:
        return mask
    r = int(round(abs(delta)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    if delta > 0:
        return cv2.dilate(mask, kernel)
    # Thin only the strokes that are thick: hairlines (serif fonts, light pen pressure) would
    # vanish under a plain erosion. What an opening removes is thinner than the kernel: keep it.
    # (The opening is the erosion dilated back, so the erosion is computed once.)
    eroded = cv2.erode(mask, kernel)
    thick = cv2.dilate(eroded, kernel)
    return eroded | (mask & (1 - thick))


def centre_by_mass(digit: np.ndarray, size: int = 28) -> np.ndarray:
    """Place a float digit (at most 20x20) in a size x size frame with its centre of mass in the middle."""
    h, w = digit.shape
    total = digit.sum()
    if total <= 0:
        return np.zeros((size, size), np.float32)
    ys, xs = np.indices(digit.shape)
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    # A sub-pixel shift through warpAffine keeps the anti-aliasing intact.
    shift = np.float32([[1, 0, size / 2 - 0.5 - cx], [0, 1, size / 2 - 0.5 - cy]])
    return cv2.warpAffine(digit.astype(np.float32), shift, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def normalise_digit(mask: np.ndarray) -> np.ndarray:
    """A binary crop of one digit (any size, ink = nonzero) -> uint8 28x28, MNIST style."""
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(binary)  # of the ink: far faster than np.nonzero on big crops
    if w == 0:
        return np.zeros((28, 28), np.uint8)
    # Pad so strokes touching the crop's edge can be thickened or thinned symmetrically.
    pad = SUPER * 2
    fitted = normalise_stroke(cv2.copyMakeBorder(fit_box(binary[y:y + h, x:x + w]), pad, pad, pad, pad,
                                                 cv2.BORDER_CONSTANT, value=0))
    x, y, w, h = cv2.boundingRect(fitted)
    if w == 0:
        return np.zeros((28, 28), np.uint8)
    return to_mnist_frame(fitted[y:y + h, x:x + w].astype(np.float32))


def to_mnist_frame(digit: np.ndarray) -> np.ndarray:
    """A tight float crop of one digit (ink bright) -> uint8 28x28: fitted into 20x20 with its
    aspect kept, then centred by its centre of mass."""
    h, w = digit.shape
    s = 20 / max(h, w)
    small = cv2.resize(digit, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.clip(centre_by_mass(small) * 255 + 0.5, 0, 255).astype(np.uint8)
