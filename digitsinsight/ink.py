"""Grey image -> ink: which pixels were written on, whatever the paper, light or pen.

1. Polarity: the background is the majority, the ink the minority extreme, so dark ink
   on light paper and light chalk on a dark board are both found and turned ink-bright.
2. Lighting: gradients, shadows and vignetting vary slowly, so a morphological opening
   with a kernel wider than any stroke estimates the paper alone; subtracting it leaves ink,
   and dark ink is then measured as a share of the paper's brightness around it.
3. Threshold: Otsu on the flattened ink, clamped so faint ruled lines and noise stay out.
4. Ruled and squared paper: long thin lines, level or photographed up to 10 degrees off, that
   are fainter than the writing are removed. They are looked for before faint marks are dropped:
   on a noisy page only their stubs on the digits would be left, too short to be found.
"""
import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .normalise import stroke_width

MIN_CONTRAST = 0.10   # below this ink-minus-paper (dark ink: as a share of the paper's brightness) there is no ink
DARKEST_PAPER = 0.2   # paper is not taken to be darker than this when ink is measured against it
SHADED_PAPER = 0.3    # ... and only when no paper is darker than this share of the lit paper (else: a dark surround)
FLAT_PAPER = 1e-4     # an opening that leaves less than this left nothing: float rounding (a preview's
                      # INTER_AREA resize of white paper leaves values of about 1e-7) is no lighting


@dataclass
class Ink:
    strength: np.ndarray    # float32 (H, W): 0 paper, about 1 for full-strength ink
    mask: np.ndarray        # uint8 (H, W): 1 where there is ink
    dark_on_light: bool
    contrast: float         # ink-minus-paper (for dark ink, as a share of the paper's brightness), in [0, 1]
    opened: bool = False    # the paper was estimated by an opening, which takes the inside of a filled
                            # shape wider than its kernel for paper (see fill_inked_holes)


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def estimate_background(g: np.ndarray) -> np.ndarray | None:
    """Paper level under ink-bright image `g`: an opening with a kernel wider than strokes, smoothed.
    None where the opening leaves nothing (FLAT_PAPER), as on a sketchpad canvas or its preview: the paper is
    flat, and smoothing and scaling up zeros, then dividing the ink by 1 - 0, would change nothing (about
    1 ms a call)."""
    h, w = g.shape
    factor = max(1.0, max(h, w) / 256)  # work small: lighting is smooth, so nothing is lost
    small = cv2.resize(g, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    # The opening's kernel (k, below) is never narrower than k0: where no k0 x k0 square is inked all
    # over, the opening leaves nothing, whatever the strokes' width (a sketchpad canvas: 2-3 ms saved).
    # Looked at only where most of a sample is blank paper (0.1 ms a photo would spend for nothing).
    sample = small[::4, ::4]
    k0 = _odd(max(small.shape) / 12)
    if (2 * np.count_nonzero(sample < FLAT_PAPER) > sample.size
            and float(cv2.erode(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k0, k0)),
                                borderType=cv2.BORDER_REFLECT).max()) < FLAT_PAPER):
        return None
    # Wider than the strokes (else it eats them), narrow enough to follow vignetting and shadow edges.
    u8 = (np.clip(small, 0, 1) * 255).astype(np.uint8)
    _, rough = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # A shadow or a dark margin reaching the picture's edge is no stroke: measured as one, its width
    # made the kernel wider than the shadow itself, which the opening then took for ink.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(rough, connectivity=8)
    sh, sw = rough.shape
    at_edge = ((stats[:, 0] == 0) | (stats[:, 1] == 0) | (stats[:, 0] + stats[:, 2] >= sw)
               | (stats[:, 1] + stats[:, 3] >= sh))
    if n > 1 and not at_edge[1:].all():
        at_edge[0] = True  # the paper
        rough = (~at_edge).astype(np.uint8)[labels]
    dist = cv2.distanceTransform(rough, cv2.DIST_L2, 3)
    ridge = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & (dist > 0)
    stroke = 2 * float(np.percentile(dist[ridge], 75)) if ridge.any() else 0.0
    k = _odd(min(max(small.shape) / 4, max(max(small.shape) / 12, 2.5 * stroke)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REFLECT)
    if float(bg.max()) < FLAT_PAPER:
        return None
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


def keep_strong_marks(mask: np.ndarray, strength: np.ndarray, strong: float = STRONG) -> np.ndarray:
    """Hysteresis: keep the connected marks that contain a few pixels at least `strong`."""
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 1:
        return mask
    strong_count = np.bincount(labels[strength >= strong], minlength=n)
    keep = strong_count >= 3
    keep[0] = False
    return keep.astype(np.uint8)[labels]


RULING_TILT = 10.0  # degrees: ruled or squared paper photographed up to this far off level is still found


def ruling_tilt(mask: np.ndarray) -> float:
    """The tilt (degrees) of the mask's long, roughly horizontal lines: the one whose levelling
    makes the row profile peakiest. Worked out on a 4x smaller copy, coarse then fine."""
    h, w = mask.shape
    small = cv2.resize(mask.astype(np.float32), (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape
    pad = int(math.ceil(sw * math.tan(math.radians(RULING_TILT + 1)))) + 1

    def peakiness(angle):
        rows = cv2.warpAffine(small, _level(angle, pad), (sw, sh + 2 * pad), flags=cv2.INTER_LINEAR).sum(1)
        return float(np.dot(rows, rows))

    def best(angles):  # ties (a blank mask) go to the smallest tilt
        return max(angles, key=lambda a: (peakiness(a), -abs(a)))

    coarse = best(np.arange(-RULING_TILT, RULING_TILT + 0.5, 1.0))
    return float(best(np.arange(coarse - 0.75, coarse + 0.8, 0.25)))


def _level(angle: float, pad: int) -> np.ndarray:
    """A shear moving row y at column x to y - x tan(angle) + pad: lines tilted by `angle` become level."""
    return np.float32([[1, 0, 0], [-math.tan(math.radians(angle)), 1, pad]])


def shrink_mask(mask: np.ndarray, size: tuple) -> np.ndarray:
    """A 0/1 mask at a smaller (w, h): a pixel with any ink in it is ink, so a line 1 pixel wide stays."""
    return (cv2.resize(mask * 255, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)


def long_lines(mask: np.ndarray, vertical: bool, length: int) -> np.ndarray:
    """The mask's lines at least `length` long along rows (columns), levelled first if tilted.
    Found at half size when the picture is 200 px or more: lines are long, and it is 4x less work."""
    m = np.ascontiguousarray(mask.T) if vertical else mask
    h, w = m.shape
    angle = ruling_tilt(m)
    f = 2 if min(h, w) >= 200 else 1
    small = shrink_mask(m, (w // f, h // f))
    sh, sw = small.shape
    pad = int(math.ceil(sw * math.tan(math.radians(abs(angle))))) + 1
    shear = _level(angle, pad)
    levelled = cv2.warpAffine(small, shear, (sw, sh + 2 * pad), flags=cv2.INTER_NEAREST)
    # Bridge one-pixel breaks along the line, and let it wander a pixel up or down (a tilt found to
    # within a quarter degree, a rule that is not quite straight).
    levelled = cv2.morphologyEx(levelled, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1)))
    levelled = cv2.dilate(levelled, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3)))
    opened = cv2.morphologyEx(levelled, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, length // f), 1)))
    back = cv2.warpAffine(opened, shear, (sw, sh), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    found = cv2.resize(back, (w, h), interpolation=cv2.INTER_NEAREST) & m
    return found.T if vertical else found


def level_runs(mask: np.ndarray, vertical: bool, length: int, counts: np.ndarray) -> np.ndarray:
    """The mask's runs of ink at least `length` long along rows (columns): an opening by a one-pixel
    bar. That treats each row on its own, so it is done only on the rows that can keep any ink: those
    holding `length` ink pixels (`counts`, per row) and those with ink at an end (OpenCV's erosion
    takes the picture's border for ink, so a shorter run there stays)."""
    m = mask.T if vertical else mask
    rows = np.flatnonzero((counts >= length) | (m[:, 0] > 0) | (m[:, -1] > 0))
    out = np.zeros_like(m)
    if rows.size:
        bar = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1))
        out[rows] = cv2.morphologyEx(np.ascontiguousarray(m[rows]), cv2.MORPH_OPEN, bar)
    return out.T if vertical else out


def _ink_at_both_ends(mask: np.ndarray, vertical: bool) -> bool:
    """Ink within 1/32 of the picture's left and right (top and bottom) edges."""
    m = mask.T if vertical else mask
    edge = max(1, m.shape[1] // 32)
    return bool(m[:, :edge].any() and m[:, -edge:].any())


def _ruling_lines(found: np.ndarray, vertical: bool, length: int) -> int:
    """How many of the lines in `found` are at least `length` long, away from the picture's edges and
    at one pitch (small gaps bridged): the rules of ruled or squared paper, not a shadow's or a page's edge."""
    m = found.T if vertical else found
    bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 3))
    bridged = cv2.dilate(np.ascontiguousarray(m), bridge)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(bridged, connectivity=8)
    edge = max(2, m.shape[0] // 32)
    top, bottom = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_TOP] + stats[1:, cv2.CC_STAT_HEIGHT]
    keep = (stats[1:, cv2.CC_STAT_WIDTH] >= length) & (top > edge) & (bottom < m.shape[0] - edge)
    ys = np.sort(centroids[1:, 1][keep])
    if len(ys) < 3:
        return len(ys)
    # Rules come at one pitch; a long stroke of a digit found among them adds an odd gap or two.
    gaps = np.diff(ys)
    pitch = float(np.median(gaps))
    on_pitch = int((np.abs(gaps - pitch) <= 0.25 * pitch).sum())
    return on_pitch + 1 if on_pitch >= 2 else 0


def remove_ruled_lines(mask: np.ndarray, strength: np.ndarray, faint: np.ndarray | None = None) -> np.ndarray:
    """Drop long horizontal/vertical runs (ruled or squared paper, level or photographed a little
    tilted) unless they are as strong as the writing.

    `faint`: the thresholded ink before marks without a strong pixel were dropped. Faint rules on a
    noisy page are whole there, while in `mask` only their stubs on the digits are left, too short
    to be found. Where `faint` holds edge-to-edge lines at one pitch, three or more (ruled or squared
    paper; not the edge of a shadow, of a vignette or of a shape), the rules are looked for there,
    and the bits of them left in `mask` are dropped too."""
    h, w = mask.shape
    lines, ruled = np.zeros_like(mask), np.zeros_like(mask)
    rows, cols = mask.sum(1, dtype=np.int32), mask.sum(0, dtype=np.int32)
    for length, vertical, counts in ((w // 6, False, rows), (h // 6, True, cols)):
        if length < 20:
            continue
        if faint is not None and _ink_at_both_ends(faint, vertical):
            found = long_lines(faint, vertical, length)
            if _ruling_lines(found, vertical, length) >= 3:
                ruled |= found
                continue
        if _ink_at_both_ends(mask, vertical):  # rules run from edge to edge, at whatever tilt
            lines |= long_lines(mask, vertical, length)
        elif counts.max() >= length:  # a level line that long (a long stroke, an underline): a quick look
            lines |= level_runs(mask, vertical, length, counts)
    lines |= ruled
    on_ink = lines & mask  # rules found in `faint` run on past the ink; elsewhere lines are within it
    if not on_ink.any():
        return mask
    line_level = float(np.median(strength[on_ink > 0]))
    if line_level > 0.8:  # as strong as any writing can be (see below): no need to measure the writing
        return mask
    # The lines' soft edges and the bits between found stretches are rule too: the writing is
    # what is left in marks that reach a written strength somewhere.
    near_lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    writing = keep_strong_marks(mask & (1 - near_lines), strength)
    if ruled.any() and not writing.any():
        # Nothing but rules (a blank ruled page, whose strongest rule pixels would be left as dashes).
        return np.zeros_like(mask)
    ink_level = float(np.percentile(strength[writing > 0], 75)) if writing.any() else 1.0
    if line_level > 0.8 * ink_level:
        # As strong as the writing: an underline or a long stroke of a digit (a 7's bar, a 1), keep it.
        return mask
    # Where a digit crosses a line, keep the pixels that are clearly stronger than the line; and
    # drop what is left of the rules (no pixel clearly stronger than them) wherever it is.
    cut = line_level + 0.5 * (ink_level - line_level)
    kept = (mask & ~((near_lines > 0) & (strength < cut))).astype(np.uint8)
    kept = keep_strong_marks(kept, strength, min(cut, STRONG))  # never stricter than the first look
    if not ruled.any():
        return kept
    # Bits of a faint rule with a few strong (noisy) pixels survive the above as short dashes, which
    # read as 1s: a mark lying on the rules, inside the picture, and weaker on the whole than the
    # writing, goes.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(kept, connectivity=8)
    if n <= 1:
        return kept
    size = np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    on_rules = np.bincount(labels[cv2.dilate(ruled, np.ones((3, 3), np.uint8)) > 0], minlength=n) / size
    mean = np.bincount(labels.ravel(), weights=strength.ravel(), minlength=n) / size
    x, y, bw, bh = (stats[:, k] for k in range(4))
    inside = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    drop = (on_rules >= 0.8) & (mean < (cut + ink_level) / 2) & inside
    drop[0] = True
    return (~drop).astype(np.uint8)[labels]


# A printed box round the writing (an answer box on a worksheet, a form's field, a row of boxes with
# one digit each) is no writing, however strong: a mark whose ink covers at least FRAME_COVER of each
# side of its least rectangle, corners included, with other ink inside, is a frame. Its outline goes, and
# so do the walls between boxes: straight runs across the frame, at one pitch. Before, the sides and
# walls were read as 1s and 0s: 137 of 300 validation numbers in boxes read right, 292 with this.
FRAME_COVER = 0.85
FRAME_LEAST = 24        # pixels: a frame is at least this big each way
FRAME_WALL = 0.9        # a wall between boxes runs across at least this share of the frame's inside
FRAME_TILT = 12         # degrees: frames photographed further off level are left alone
FRAME_LINE = 0.08       # a frame's lines are at most this thick, times its shorter side
FRAME_PLACE = 0.1       # a wall stands within this share of the boxes' pitch of its place
FRAME_WORK = 250_000    # pixels: a mark whose box is larger is looked at on a smaller copy (a page-wide mesh of
                        # noise took 70 ms at full size)
FRAME_FAINT = 0.5       # frames are looked for in ink from this share of the threshold: a thin printed line
                        # photographed or compressed breaks up at the threshold itself


def _frame_lines(comp: np.ndarray, seen: np.ndarray) -> np.ndarray | None:
    """For one mark `comp` (its box's crop) that is a frame with ink inside: the frame's lines (outline
    and walls, a mask like `comp`), else None. `seen`: all the ink in the same crop."""
    outline, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not outline:
        return None
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(np.vstack(outline))  # the outline's points: fewer, same box
    while angle > 45 or angle <= -45:  # OpenCV's range depends on its version: bring it to (-45, 45]
        angle, rw, rh = angle - 90 if angle > 45 else angle + 90, rh, rw
    # (minAreaRect measures from the outermost pixels' centres: a box n pixels wide gives n - 1.)
    if abs(angle) > FRAME_TILT or min(rw, rh) + 1 < FRAME_LEAST:
        return None
    h, w = comp.shape
    to_level = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    level = cv2.warpAffine(comp, to_level, (w, h), flags=cv2.INTER_NEAREST)
    # The rectangle runs through the outermost pixels' centres: one more for the far edges, exclusive.
    x0, x1 = max(int(round(cx - rw / 2)), 0), min(int(round(cx + rw / 2)) + 1, w)
    y0, y1 = max(int(round(cy - rh / 2)), 0), min(int(round(cy + rh / 2)) + 1, h)
    # The band each side must run in: a printed line is thin beside its box. The mark's stroke may be a
    # digit's where digits touch the frame, so no wider than FRAME_LINE of the box: a band as wide as a
    # digit's strokes would take the round top of a bold 8 for a straight side.
    t = max(2, int(round(min(stroke_width(level), FRAME_LINE * min(rw, rh))))) + 1
    if x1 - x0 <= 2 * t + 4 or y1 - y0 <= 2 * t + 4:
        return None
    near = cv2.dilate(level, np.ones((3, 3), np.uint8))
    sides = (near[y0:y0 + t, x0:x1].any(0), near[y1 - t:y1, x0:x1].any(0),
             near[y0:y1, x0:x0 + t].any(1), near[y0:y1, x1 - t:x1].any(1))
    if min(float(side.mean()) for side in sides) < FRAME_COVER:
        return None
    # A box has corners; the round ends of a glyph's bowls (a bold 8, a 0) leave them empty.
    if not all(level[ya:ya + t, xa:xa + t].any() for ya in (y0, y1 - t) for xa in (x0, x1 - t)):
        return None
    # The frame's inside starts where each side's line ends: a side drawn by hand wobbles (and its
    # overshooting corners widen the rectangle).
    (top, a), (left, b) = _depth(level[y0:y0 + 3 * t, x0:x1].mean(1)), _depth(level[y0:y1, x0:x0 + 3 * t].mean(0))
    (bottom, c), (right, d) = (_depth(level[y1 - 3 * t:y1, x0:x1].mean(1)[::-1]),
                               _depth(level[y0:y1, x1 - 3 * t:x1].mean(0)[::-1]))
    if max(a, b, c, d) > t + 2:  # sides no line could be: a mesh of noise or scribble round something
        return None
    inside = (slice(y0 + top, y1 - bottom), slice(x0 + left, x1 - right))
    # The frame's own ink is everything of the mark outside its inside: what is left of a side would
    # read as 1s.
    lines = np.ones_like(level)
    lines[inside] = 0
    # Walls between boxes: columns (rows, for boxes one above another) of the frame's own ink standing
    # across its inside, at one pitch (a 1 written from the top of its box to the bottom stands between).
    if rw >= rh:
        lines[y0:y1, x0:x1][:, _walls(level[y0 + t:y1 - t, x0:x1].mean(0) >= FRAME_WALL, t)] = 1
    else:
        lines[y0:y1, x0:x1][_walls(level[y0:y1, x0 + t:x1 - t].mean(1) >= FRAME_WALL, t), :] = 1
    ink = cv2.warpAffine(seen, to_level, (w, h), flags=cv2.INTER_NEAREST)
    if (ink[inside] & (1 - lines[inside])).sum() < 2 * t * t:  # empty boxes: a drawn shape, for the reader to say so
        return None
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    back = cv2.warpAffine(lines, cv2.invertAffineTransform(to_level), (w, h), flags=cv2.INTER_NEAREST)
    return back & comp


def _depth(cover: np.ndarray) -> tuple:
    """How far in from a frame's outer edge its side's line reaches, and how thick it is: `cover` is, row
    by row (or column by column) inwards, the share of the side's length inked. The line is the first
    run covering half of it, with up to two rows more still covering a quarter (a wobbly line's edge;
    not the digits touching it); it reaches a pixel further."""
    at = np.flatnonzero(cover >= 0.5)
    if not len(at):
        return 1, 0
    start = end = at[0]
    while end + 1 < len(cover) and cover[end + 1] >= 0.5:
        end += 1
    for _ in range(2):
        if end + 1 < len(cover) and cover[end + 1] >= 0.25:
            end += 1
    return int(end) + 2, int(end - start) + 1


def _walls(standing: np.ndarray, t: int) -> np.ndarray:
    """Which of the places `standing` across a frame (its sides at either end, `t` thick) are walls
    between equal boxes: the runs on the grid of the box count that fits them best, where a run on the
    grid counts for it and a grid place with none against it (fewer boxes win a tie)."""
    walls = np.zeros_like(standing)
    runs = np.flatnonzero(np.diff(np.concatenate([[0], standing[t:-t].view(np.int8), [0]])))
    starts, ends = runs[::2] + t, runs[1::2] + t
    if not len(starts):
        return walls
    centres, first, span = (starts + ends - 1) / 2, (t - 1) / 2, len(standing) - t
    best, best_score = None, 0
    for boxes in range(2, int(span / FRAME_LEAST) + 2):
        pitch = span / boxes
        places = first + pitch * np.arange(1, boxes)
        near = np.abs(centres[:, None] - places[None, :]) <= max(t, FRAME_PLACE * pitch)
        score = near.any(1).sum() - (~near.any(0)).sum()
        if score > best_score:
            best, best_score = near.any(1), score
    for on_grid, a, b in zip(best if best is not None else [], starts, ends):
        walls[a:b] = on_grid
    return walls


def remove_frames(mask: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """`mask` without the printed boxes round its writing (see FRAME_COVER), found in `seen`: fainter
    ink, where a thin printed line is still whole (closed over the pixel gaps it may still show). Both
    uint8, 1 for ink. A digit reaching out past the frame's outline by more than a few pixels widens the
    least rectangle beyond the sides, and the frame is not found."""
    seen = cv2.morphologyEx(seen, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(seen, connectivity=8)
    out = mask
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if min(w, h) < FRAME_LEAST or area > 0.5 * w * h:  # a frame is hollow
            continue
        comp, ink = (labels[y:y + h, x:x + w] == i).astype(np.uint8), seen[y:y + h, x:x + w]
        if w * h > FRAME_WORK:  # looked at on a smaller copy, the lines it finds brought back to size
            f = math.sqrt(FRAME_WORK / (w * h))
            size = (max(1, round(w * f)), max(1, round(h * f)))
            lines = _frame_lines(shrink_mask(comp, size), shrink_mask(ink, size))
            lines = None if lines is None else cv2.resize(lines, (w, h), interpolation=cv2.INTER_NEAREST) & comp
        else:
            lines = _frame_lines(comp, ink)
        if lines is not None:
            if out is mask:
                out = mask.copy()
            out[y:y + h, x:x + w][lines > 0] = 0
    return out


PREVIEW_FROM = 1.5  # images this many times the preview's side or larger are previewed first


@dataclass
class Region:
    """What a small preview says about the writing, in the full image's pixels."""
    box: tuple | None             # (x0, y0, x1, y1) where the writing is, or None: read the whole image
    mark_height: float = 0.0      # the marks' median height (0: not measured)
    preview: np.ndarray | None = field(default=None, repr=False)  # the preview's ink mask
    factor: float = 1.0           # image pixels per preview pixel

    @functools.cached_property
    def stroke(self) -> float:
        """The pen's width (0: not measured). Worked out when asked: only large marks need it."""
        return stroke_width(self.preview) * self.factor if self.preview is not None else 0.0


def ink_region(grey: np.ndarray, preview_side: int = 400, margin: float = 0.04) -> Region:
    """Where on the page the writing is, and how big, found on a small preview.

    Photos and scans are mostly empty paper; reading only the region with ink is what keeps a
    1600x1200 page fast. The box is None (read everything) when the image is too small to preview,
    or the preview finds no ink or ink everywhere. The marks' height and the pen's width let the
    reader work on a smaller copy where digits are drawn large (a sketchpad canvas).
    """
    h, w = grey.shape
    f = max(h, w) / preview_side
    if f < PREVIEW_FROM:
        return Region(None)
    small = cv2.resize(grey, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)
    # The preview keeps its faint rules: it only says where the writing is, and taking them away
    # there moved the region on shadowed blank pages (one of 1,000 validation negatives became a sure "2").
    ink = extract_ink(small, faint_rules=False, frames=False)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.mask, connectivity=8)
    boxes = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= 3]
    if not len(boxes):
        return Region(None)
    x0, y0 = boxes[:, 0].min() * f, boxes[:, 1].min() * f
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max() * f, (boxes[:, 1] + boxes[:, 3]).max() * f
    pad = margin * max(h, w) + 2 * f
    x0, y0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
    x1, y1 = min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad)))
    box = None if (x1 - x0) * (y1 - y0) > 0.6 * h * w else (x0, y0, x1, y1)
    # Marks touching the preview's edge are left out of the size: ruled lines and page edges run into it.
    sh, sw = small.shape
    inside = ((boxes[:, 0] > 0) & (boxes[:, 1] > 0) & (boxes[:, 0] + boxes[:, 2] < sw)
              & (boxes[:, 1] + boxes[:, 3] < sh))
    if not inside.any():
        return Region(box)
    mark_height = float(np.median(boxes[inside, cv2.CC_STAT_HEIGHT])) * f
    return Region(box, mark_height, ink.mask, f)


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


def extract_ink(grey: np.ndarray, faint_rules: bool = True, frames: bool = True) -> Ink:
    """`grey`: float32 (H, W) in [0, 1]. Returns the ink, made bright, with its mask.
    `faint_rules`: look for ruled lines in the thresholded ink before faint marks are dropped.
    `frames`: take out printed boxes round the writing (remove_frames)."""
    dark_on_light = ink_is_dark(grey)
    g = (1.0 - grey) if dark_on_light else grey.copy()
    bg = estimate_background(g)
    # On flat paper the ink is g itself: g minus a zero background, over paper of level 1.
    ink = g if bg is None else g - bg
    if dark_on_light and bg is not None:
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
    strength = np.clip(ink / peak, 0, 1).astype(np.float32, copy=False)
    u8 = (strength * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = float(np.clip(otsu / 255.0, 0.3, 0.6))
    mask = (strength > threshold).astype(np.uint8)
    strong = keep_strong_marks(mask, strength)
    # Frames first: their long sides, where weaker than the writing, would go as ruled lines, and
    # leave the walls between boxes standing as 1s. Not on a preview (ink_region): there a frame
    # says where the writing is, and a region that cut through it would leave it unfound.
    if frames:
        strong = remove_frames(strong, (strength > threshold * FRAME_FAINT).astype(np.uint8))
    mask = remove_ruled_lines(strong, strength, faint=mask if faint_rules else None)
    return Ink(strength, mask, bool(dark_on_light), peak, opened=bg is not None)


MIN_HOLE = 30         # pixels: smaller holes are left as they are (blur greys them, and they change no reading)
MAX_HOLES = 16        # only the largest holes are looked at: a filled shape's is large, and a textured
                      # page has hundreds
INKED_HOLE = 0.5      # a hole at least this far from the paper's level towards the ink's is ink


def fill_inked_holes(mask: np.ndarray, grey: np.ndarray, dark_on_light: bool) -> np.ndarray:
    """Fill the holes of marks, and the bays of their convex hulls, that are as ink-bright as the marks
    themselves. A filled shape wider than extract_ink's background opening (a square coloured in) keeps
    only its rim: closed, its "hole" reads as a sure 0; broken, the bay of a "C" or a "[". The hole of
    a real 0 and the bays of a 7 are paper. `grey`: the image the ink was found in.
    The reader calls it once a page has passed its checks for texture (a noisy page has thousands of holes)."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return mask
    h, w = mask.shape

    def largest(parent_test):
        found = [(cv2.contourArea(c), c) for c, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent_test(parent)]
        return [c for area, c in sorted(found, key=lambda f: -f[0])[:MAX_HOLES] if area >= MIN_HOLE]

    out = mask
    for contour, is_hole in ([(c, True) for c in largest(lambda p: p >= 0)] +
                             [(c, False) for c in largest(lambda p: p < 0)]):
        # Around it, as far again as it is wide: the ink that rings it, and the paper beyond.
        x, y, bw, bh = cv2.boundingRect(contour)
        if not is_hole and (x == 0 or y == 0 or x + bw == w or y + bh == h):
            continue  # a mark cut off by the picture's edge (a shadow's, a page's) bounds no bay
        m = max(bw, bh)
        x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(w, x + bw + m), min(h, y + bh + m)
        ink = mask[y0:y1, x0:x1]
        inside = np.zeros_like(ink)  # the hole; or the mark's convex hull, whose bays are what is not ink
        cv2.drawContours(inside, [contour if is_hole else cv2.convexHull(contour)], -1, 1, -1, offset=(-x0, -y0))
        paper = (1 - inside) & (1 - ink)
        region = inside & (1 - ink)
        if not is_hole:  # not the mark's own holes: those were looked at above
            own = np.zeros_like(ink)
            cv2.drawContours(own, [contour], -1, 1, -1, offset=(-x0, -y0))
            region &= 1 - own
            if cv2.countNonZero(region) < MIN_HOLE:
                continue
        if not region.any() or not paper.any():
            continue
        g = grey[y0:y1, x0:x1]
        paper_level, ink_level, region_level = ((1.0 - level if dark_on_light else level)
                                                for level in (cv2.mean(g, k)[0] for k in (paper, ink, region)))
        if (ink_level - paper_level >= MIN_CONTRAST
                and region_level - paper_level >= INKED_HOLE * (ink_level - paper_level)):
            out = out.copy() if out is mask else out
            out[y0:y1, x0:x1] |= region
    return out
