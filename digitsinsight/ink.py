"""Grey image -> ink: which pixels were written on, whatever the paper, light or pen.

1. Polarity: the background is the majority, the ink the minority extreme, so dark ink
   on light paper and light chalk on a dark board are both found and turned ink-bright.
2. Lighting: gradients, shadows and vignetting vary slowly, so a morphological opening
   with a kernel wider than any stroke estimates the paper alone; subtracting it leaves ink,
   and dark ink is then measured as a share of the paper's brightness around it.
3. Threshold: Otsu on the flattened ink, clamped so faint ruled lines and noise stay out.
4. Ruled and squared paper: long thin horizontal or vertical runs that are fainter than
   the writing are removed.
"""
from dataclasses import dataclass

import cv2
import numpy as np

MIN_CONTRAST = 0.10   # below this ink-minus-paper (dark ink: as a share of the paper's brightness) there is no ink
DARKEST_PAPER = 0.2   # paper is not taken to be darker than this when ink is measured against it
SHADED_PAPER = 0.3    # ... and only when no paper is darker than this share of the lit paper (else: a dark surround)


@dataclass
class Ink:
    strength: np.ndarray    # float32 (H, W): 0 paper, about 1 for full-strength ink
    mask: np.ndarray        # uint8 (H, W): 1 where there is ink
    dark_on_light: bool
    contrast: float         # ink-minus-paper (for dark ink, as a share of the paper's brightness), in [0, 1]


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def estimate_background(g: np.ndarray) -> np.ndarray:
    """Paper level under ink-bright image `g`: an opening with a kernel wider than strokes, smoothed."""
    h, w = g.shape
    factor = max(1.0, max(h, w) / 256)  # work small: lighting is smooth, so nothing is lost
    small = cv2.resize(g, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    # Wider than the strokes (else it eats them), narrow enough to follow vignetting and shadow edges.
    u8 = (np.clip(small, 0, 1) * 255).astype(np.uint8)
    _, rough = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dist = cv2.distanceTransform(rough, cv2.DIST_L2, 3)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)
    stroke = 2 * float(np.percentile(dist[ridge], 75)) if ridge.any() else 0.0
    k = _odd(min(max(small.shape) / 4, max(max(small.shape) / 12, 2.5 * stroke)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REFLECT)
    bg = wide_blur(bg, k / 3)
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def wide_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur for sigmas of many pixels, done on a smaller copy: a wide kernel at full size
    costs 1-3 ms, and what it smooths (the paper's lighting, after an opening) has nothing finer to lose."""
    f = int(min(4, sigma // 2))
    if f <= 1:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    h, w = a.shape
    small = cv2.resize(a, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / f), (w, h), interpolation=cv2.INTER_LINEAR)


STRONG = 0.7   # a written mark reaches this strength somewhere; shadow edges, paper grain and faint rules do not


def keep_strong_marks(mask: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Hysteresis: keep the connected marks that contain a few strong pixels."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 1:
        return mask
    strong_count = np.bincount(labels[strength >= STRONG], minlength=n)
    keep = strong_count >= 3
    keep[0] = False
    return keep[labels].astype(np.uint8)


def remove_ruled_lines(mask: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Drop long horizontal/vertical runs (ruled or squared paper) unless they are as strong as the writing."""
    h, w = mask.shape
    lines = np.zeros_like(mask)
    rows, cols = mask.sum(1, dtype=np.int32), mask.sum(0, dtype=np.int32)
    for length, shape, counts in ((w // 6, (w // 6, 1), rows), (h // 6, (1, h // 6), cols)):
        # A run that long needs a row (column) with that much ink: most images have none (no opening).
        if length >= 20 and counts.max() >= length:
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, shape)
            lines |= cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    if not lines.any():
        return mask
    line_level = float(np.median(strength[lines > 0]))
    writing = (mask > 0) & (lines == 0)
    ink_level = float(np.percentile(strength[writing], 75)) if writing.any() else 1.0
    if line_level > 0.8 * ink_level:
        # As strong as the writing: an underline or a long stroke of a digit (a 7's bar, a 1), keep it.
        return mask
    # Where a digit crosses a line, keep the pixels that are clearly stronger than the line.
    return (mask & ~((lines > 0) & (strength < line_level + 0.5 * (ink_level - line_level)))).astype(np.uint8)


PREVIEW_FROM = 1.5  # images this many times the preview's side or larger are previewed first


def ink_region(grey: np.ndarray, preview_side: int = 400, margin: float = 0.04):
    """Where on the page the writing is: (x0, y0, x1, y1), found on a small preview, or None.

    Photos and scans are mostly empty paper; reading only the region with ink is what keeps a
    1600x1200 page fast. None (read everything) when the preview finds no ink or ink everywhere.
    """
    h, w = grey.shape
    f = max(h, w) / preview_side
    if f < PREVIEW_FROM:
        return None
    small = cv2.resize(grey, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)
    ink = extract_ink(small)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.mask, connectivity=8)
    boxes = [s for s in stats[1:] if s[4] >= 3]
    if not boxes:
        return None
    x0 = min(s[0] for s in boxes) * f
    y0 = min(s[1] for s in boxes) * f
    x1 = max(s[0] + s[2] for s in boxes) * f
    y1 = max(s[1] + s[3] for s in boxes) * f
    pad = margin * max(h, w) + 2 * f
    x0, y0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    x1, y1 = min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad)))
    if (x1 - x0) * (y1 - y0) > 0.6 * h * w:
        return None
    return x0, y0, x1, y1


def high_percentile(a: np.ndarray, q: float) -> float:
    """np.percentile(a, q), exactly, for q near 100, about 6x faster on large images: only the
    values above a bound guessed from a sample are partitioned (and the full array if that fails)."""
    flat = a.ravel()
    n = flat.size
    pos = (n - 1) * q / 100.0
    k = int(pos)
    sample = flat[::8]
    rank = int((sample.size - 1) * max(0.0, 1 - 4 * (1 - q / 100)))  # a lower quantile, to be safe
    top = flat[flat >= np.partition(sample, rank)[rank]]
    first = n - top.size  # where top's smallest value sits in the sorted array
    if first > k or top.size < 2:
        return float(np.percentile(flat, q))
    j = k - first
    j1 = min(j + 1, top.size - 1)
    part = np.partition(top, [j, j1])
    return float(part[j]) + (pos - k) * (float(part[j1]) - float(part[j]))


def ink_is_dark(grey: np.ndarray) -> bool:
    """Polarity: the paper is the majority and the ink the minority extreme."""
    lo, med, hi = np.percentile(grey[::2, ::2], (0.2, 50, 99.8))
    if (med - lo) >= (hi - med):
        return True
    # Light ink on a dark board, or a page lit from one side with a number written small on it:
    # there the darkest tail is paper in the shade, not ink. Look again with the lighting taken
    # out, at the strongest mark either way.
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    flat = cv2.GaussianBlur(small - wide_blur(small, max(small.shape) / 16), (0, 0), 1.0)
    return bool(-float(flat.min()) > float(flat.max()))


def extract_ink(grey: np.ndarray) -> Ink:
    """`grey`: float32 (H, W) in [0, 1]. Returns the ink, made bright, with its mask."""
    dark_on_light = ink_is_dark(grey)
    g = (1.0 - grey) if dark_on_light else grey.copy()
    bg = estimate_background(g)
    ink = g - bg
    if dark_on_light:
        # Shade dims paper and ink alike (light times reflectance), so ink is measured against the
        # paper around it: in a shadow or a dim corner it is then as strong as in full light. Not
        # when part of the "paper" is far darker than the rest (a page on a dark desk): the dark
        # surround is no paper, and dividing by it would make its noise and edges look like ink.
        paper = np.subtract(1.0, bg, out=bg)
        lit = high_percentile(grey[::4, ::4], 99)  # the brightest paper in the picture itself
        if float(paper[::4, ::4].min()) >= SHADED_PAPER * lit:
            ink /= np.maximum(paper, DARKEST_PAPER, out=paper)
    np.clip(ink, 0, None, out=ink)
    # Strength of the real ink: a high point of the lightly blurred ink, robust to salt noise.
    blurred = cv2.GaussianBlur(ink, (0, 0), 1.0)
    step = 2 if ink.size > 4e5 else 1
    peak = high_percentile(blurred[::step, ::step], 99.9 if ink.size > 1e5 else 99.5)
    peak = max(peak, float(blurred.max()) * 0.7)
    if peak < MIN_CONTRAST:
        return Ink(np.zeros_like(ink), np.zeros(ink.shape, np.uint8), bool(dark_on_light), peak)
    strength = np.clip(ink / peak, 0, 1).astype(np.float32)
    u8 = (strength * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = float(np.clip(otsu / 255.0, 0.3, 0.6))
    mask = (strength > threshold).astype(np.uint8)
    mask = keep_strong_marks(mask, strength)
    mask = remove_ruled_lines(mask, strength)
    return Ink(strength, mask, bool(dark_on_light), peak)
