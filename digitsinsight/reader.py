"""read_number(): image in, Reading out. The one pipeline every caller shares.

    load (image.py) -> ink (ink.py) -> lines and blobs (segment.py)
      -> cut hypotheses for wide blobs, joins of neighbouring marks (and of stacked "lines" that
         may be one digit in pieces) -> MNIST-style 28x28 crops (normalise.py)
      -> one batch through the split verifier, then the classifier (on the crops that may be a digit)
      -> best cuts per line (or the one digit, if it reads better)
      -> each line read whole by the line reader (sequence.py) as a check -> Reading

Touching digits are split by recognition: every way of cutting a wide blob at the valleys of
its column profile (and of joining a digit's separate strokes) is scored in the same batch,
and the pieces the classifier reads most surely and the verifier takes for one digit (with a
prior against pieces wider than a digit) win. Then the line reader, which needs no cuts, reads
each line that is not plainly one digit; where it reads the line differently and much more
surely, its reading is taken and the digits are flagged (but a clear digit of its own, read surely,
keeps its reading, flagged too).
"""
import functools
import logging
import math
import re
import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import torch

from .image import ImageError, load_image
from .ink import extract_ink, fill_inked_holes, ink_region
from .normalise import normalise_digit, to_mnist_frame, to_model_input
from .segment import (MAX_MARKS, MINUS_LINE, PLAIN_SHAPES, Blob, blob_mask, cut_candidates, cut_seams,
                      drawn_shape, estimate_slant, in_middle_half, layout, line_image, shear, stacked_digit,
                      stroke_axis, unshear_x)
from .sequence import FRAME, read_lines, text_log_likelihood
from .weights import load_line_reader, load_model, load_verifier

UNSURE_BELOW = 0.80     # a digit read with less confidence than this is flagged
NOT_DIGIT_BELOW = 0.5   # the verifier's p(one digit) under this: flagged as maybe not a digit
# ... except a fair 1: a whole mark standing clear of its neighbours, read as 1 above FAIR_ONE[0], that
# the verifier puts at FAIR_ONE[1] or more, a stroke nearer upright than level, straight (its crop at
# least FAIR_ONE[2] times as long as thick) and leaning right less than FAIR_ONE[3] degrees (a slash
# leans more). The verifier, trained on fragments of split digits, doubts a plain 1 (on validation,
# under 0.5 for a median 0.4), but a mark standing alone is no fragment; a speck or scribble read as 1
# it puts near 0. A plain bar on a blank page it puts at 0.11-0.16, by its pen: a thick one is a sure 1.
FAIR_ONE = (0.95, 0.15, 4.0, 12)
# ... nor a digit in company: a whole mark standing clear of its neighbours, read above IN_COMPANY_READ,
# in a line of two digits or more. The verifier doubts many a whole digit unlike its training's (a
# printed one, a wide 2, a leaning 4); scribbles and shapes come alone, and a number's digits vouch
# for each other.
IN_COMPANY_READ = 0.99
CROP_INK = 64           # a 28x28 crop's pixels above this are its ink
NO_DIGITS_BELOW = 0.2   # every piece under this: the image holds no digits
IGNORE_BELOW = 0.02     # a mark this surely not a digit, beside real digits, is left out
MAX_DIGITS = 64         # per image; more is texture, not a number
SPLIT_ASPECT = 0.90     # blobs wider than this times the line height may hold several digits
MAX_PIECE_WIDTH = 1.8   # a piece is at most this times the line height wide
CUTS_PER_HEIGHT = 3.0   # candidate cuts per line height of a blob's width (at most 10)
PIECE_PENALTY = 1.0     # without a verifier, a log-score cost per piece: the classifier is sure of
                        # fragments too, so a split must earn its keep
JOIN_MARKS = 3          # at most this many neighbouring marks are tried as one digit
JOIN_WIDTH = 1.5        # ... when together they are at most this times as wide as tall (and the line)
JOIN_GAP = 0.5          # ... and no two of them are further apart than this times the line's height
VERIFIED_PENALTY = 0.2  # with the verifier, which knows fragments and pairs, a small cost suffices
CLASSIFY_FROM = 0.9     # crops the verifier puts under this are classified only if a best path needs them
                        # (any value gives the same paths; on 200 validation photos 0.9 read 1,576 of their
                        # 4,038 crops in 344 batches, 0.1 read 2,482 in 233: a batch costs about one crop)

INTERNAL_ERROR = "Sorry, this image could not be read because of an error on our side; it has been logged."

__all__ = ["Digit", "Reading", "read_number", "read_as_dict", "ImageError"]


@dataclass
class Digit:
    digit: int
    confidence: float
    alternatives: list            # top 3 as (digit, probability), best first
    box: tuple                    # (x0, y0, x1, y1) in the input image's pixels
    crop: np.ndarray              # the 28x28 uint8 MNIST-style image the model read
    line: int = 0
    is_digit: float = 1.0         # the split verifier's probability that the crop is exactly one digit
    disputed: str = ""            # the other reader's digit here, where the two read different digits
    other_line: str = ""          # the other reader's whole line, where they disagree on the line
    shape: str = ""               # what the mark plainly is instead, where it is a drawn shape (segment.drawn_shape)
    stands_alone: bool = False    # a whole mark of its own (no cut, no join), clear of its neighbours in the line
    slash_like: bool = False      # a whole mark shaped as a slash may be, not taken for one (segment.find_marks),
                                  # between two digits of a line that is no amount or code (read_number)
    in_company: bool = False      # its line holds other digits (set once the lines are read)

    def doubted(self, below: float) -> bool:
        """The verifier puts this under `below`; a 1 read surely is exempt, since the verifier (trained on
        fragments) doubts a fair "1". An empty crop (one_digit_probability) is not one."""
        return self.is_digit < below and not (self.digit == 1 and self.confidence > 0.95 and self.crop.any())

    def _drawn_as_a_one(self, straight: float = 0.0) -> bool:
        """Its crop's ink is a stroke nearer upright than level, at least `straight` times as long as thick,
        leaning right less than a fair 1 may (FAIR_ONE; a slash leans more). Not an empty crop."""
        axis = stroke_axis((self.crop > CROP_INK).astype(np.uint8))
        return (axis is not None and abs(axis.angle) >= 45 and axis.straight >= straight
                and axis.lean < FAIR_ONE[3])

    @property
    def fair_one(self) -> bool:
        """A 1 the verifier's doubt does not flag (see FAIR_ONE)."""
        read, verified, straight, _ = FAIR_ONE
        return (self.digit == 1 and self.stands_alone and self.confidence > read and self.is_digit >= verified
                and self._drawn_as_a_one(straight))

    @property
    def plain_in_company(self) -> bool:
        """A digit the verifier's doubt does not flag (see IN_COMPANY_READ). A 1 must also be a stroke
        nearer upright than level, leaning right less than a fair 1 may (FAIR_ONE): a slash read as a 1
        keeps the flag, and so does an empty crop (the classifier reads one as a sure 1)."""
        return (self.stands_alone and self.in_company and self.confidence > IN_COMPANY_READ and self.crop.any()
                and (self.digit != 1 or self._drawn_as_a_one()))

    @property
    def maybe_not_a_digit(self) -> bool:
        """Flagged as maybe not a digit: the verifier doubts it, and it is no fair 1, nor plain in company."""
        return self.is_digit < NOT_DIGIT_BELOW and not self.fair_one and not self.plain_in_company

    @property
    def maybe_slash(self) -> bool:
        """Read as a 1 from a mark that may be a slash between two groups of digits ("3/5", not "315").
        Not where the line reader reads another digit there: that dispute is what is said."""
        return self.slash_like and self.digit == 1 and not self.disputed

    @property
    def unsure(self) -> bool:
        # Not doubted(): a confident "1" the verifier rejects is, on photos, often a sliver of a split
        # digit; one that stands alone is not (fair_one).
        return (self.confidence < UNSURE_BELOW or self.maybe_not_a_digit or bool(self.disputed)
                or bool(self.other_line) or bool(self.shape) or self.maybe_slash)

    def to_dict(self) -> dict:
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "is_digit": round(self.is_digit, 4),
                "alternatives": [{"digit": d, "probability": round(p, 4)} for d, p in self.alternatives],
                "box": list(self.box), "line": self.line, "unsure": self.unsure,
                "disputed": self.disputed, "other_line": self.other_line, "shape": self.shape,
                "maybe_slash": self.maybe_slash}


@dataclass
class Reading:
    text: str
    digits: list
    confidence: float
    status: str                   # "ok", "unsure" or "no_digits"
    warnings: list = field(default_factory=list)
    image_size: tuple = (0, 0)
    seconds: float = 0.0
    written: str = ""             # as written, where points, commas, hyphens, slashes or plus signs were found between digits, a minus or plus sign before them or brackets round them ("-1,250.50", "555-1234", "12/05/2026", "+44", "3+4", "(555)123")

    @property
    def lines(self) -> list:
        return self.text.split("\n") if self.text else []

    @property
    def written_lines(self) -> list:
        """The lines as written: the digits with any points, commas, hyphens, slashes and plus signs found
        between them, a minus or plus sign before them, and brackets round them."""
        return (self.written or self.text).split("\n") if self.text else []

    def to_dict(self) -> dict:
        return {"number": self.text, "status": self.status, "confidence": round(self.confidence, 4),
                "lines": self.lines, "written": "\n".join(self.written_lines),
                "digits": [d.to_dict() for d in self.digits],
                "warnings": list(self.warnings), "image_size": list(self.image_size),
                "seconds": round(self.seconds, 4)}


def _no_digits(reason: str, size=(0, 0), t0=None) -> Reading:
    return Reading("", [], 0.0, "no_digits", [reason], tuple(size),
                   time.perf_counter() - t0 if t0 else 0.0)


@dataclass
class _Piece:
    mask: np.ndarray      # binary, in the (possibly sheared) blob frame
    box: tuple            # (x0, y0, x1, y1) in working-image pixels
    width_ratio: float    # piece width / line height
    stands_alone: bool = False  # the whole of a mark, with at least ALONE_GAP line heights to its neighbours
    shape: str | None = None    # segment.drawn_shape(mask), where it was already looked at (a wide mark)
    slash_like: bool = False    # the whole of a mark shaped as a slash may be (segment.Blob.slash_like)


def _piece(sheared: np.ndarray, left: np.ndarray, right: np.ndarray, blob, s: float, line_h: float):
    """The ink between two seams of a blob sheared by `s`, with its box in working-image pixels."""
    cols = np.arange(sheared.shape[1])[None, :]
    part = sheared * ((cols >= left[:, None]) & (cols < right[:, None]))
    if cv2.countNonZero(part) < 3:
        return None
    x0s, y0, w, h = cv2.boundingRect(part)  # of the nonzero pixels; far faster than np.nonzero on big blobs
    x1s, y1 = x0s + w, y0 + h
    xs_orig = [unshear_x(x, y, s, blob.h) for x in (x0s, x1s) for y in (y0, y1)]
    box = (blob.x0 + max(0, int(math.floor(min(xs_orig)))), blob.y0 + int(y0),
           blob.x0 + min(blob.w, int(math.ceil(max(xs_orig)))), blob.y0 + int(y1))
    return _Piece(part[y0:y1, x0s:x1s], box, (x1s - x0s) / line_h)


def _hypotheses(labels, blob, line_h):
    """Candidate pieces of a blob: ([(i, j, piece)], n) over cut boundaries 0..n."""
    mask = blob_mask(labels, blob)
    # A wide box or triangle is not cut either: its pieces (a "1" and a "7") would hide what it is.
    narrow = blob.w <= SPLIT_ASPECT * line_h or blob.w <= SPLIT_ASPECT * blob.h
    shape = None if narrow else drawn_shape(mask)  # kept: a page-wide mesh's contours are not cheap
    if narrow or shape in PLAIN_SHAPES:
        return [(0, 1, _Piece(mask, (blob.x0, blob.y0, blob.x1, blob.y1), blob.w / line_h, shape=shape))], 1
    s = estimate_slant(mask)
    sheared = shear(mask, s)
    # About three candidate cuts per digit's width: more only multiplies the pieces to classify.
    max_cuts = max(2, min(10, int(CUTS_PER_HEIGHT * blob.w / line_h)))
    c0, c1, inner = cut_candidates(sheared, line_h, max_cuts=max_cuts)
    h = sheared.shape[0]
    seams = [np.full(h, c0)] + list(cut_seams(sheared, inner, max(2, int(0.2 * line_h)))) + [np.full(h, c1)]
    starts = [c0] + inner + [c1]
    pieces = []
    for i in range(len(seams) - 1):
        for j in range(i + 1, len(seams)):
            if j > i + 1 and starts[j] - starts[i] > MAX_PIECE_WIDTH * line_h:
                break
            p = _piece(sheared, seams[i], seams[j], blob, s, line_h)
            if p is not None:
                pieces.append((i, j, p))
    return pieces, len(seams) - 1


def _joined_pieces(labels, line: list, starts: list, line_h: float) -> list:
    """Neighbouring marks taken together as one digit: a digit whose strokes do not meet (a 6 whose
    loop stops short of its stem, a faint stroke that broke) is several marks side by side. Only
    unions at most JOIN_WIDTH times as wide as tall are tried (a 5's hat sticks out); the classifier
    and the verifier choose."""
    out = []
    for a in range(len(line)):
        union = line[a]
        for b in range(a + 1, min(a + JOIN_MARKS, len(line))):
            # Strokes of one digit all but meet; two thin 1s a wide gap apart are as narrow together as one digit.
            if line[b].x0 - union.x1 > JOIN_GAP * line_h:
                break
            union = union.merged(line[b])
            if union.w > JOIN_WIDTH * min(union.h, line_h):
                break
            piece = _Piece(blob_mask(labels, union), (union.x0, union.y0, union.x1, union.y1), union.w / line_h)
            out.append((starts[a], starts[b + 1], piece))
    return out


def _best_path(pieces, n, logp, penalty) -> list:
    """Dynamic programming over cut boundaries: the sequence of pieces with the best total score."""
    best = [-math.inf] * (n + 1)
    back = [None] * (n + 1)
    best[0] = 0.0
    by_end = {}
    for k, (i, j, p) in enumerate(pieces):
        by_end.setdefault(j, []).append((i, k, p))
    for j in range(1, n + 1):
        for i, k, p in by_end.get(j, []):
            if best[i] == -math.inf:
                continue
            prior = -3.0 * max(0.0, p.width_ratio - 1.3)  # far wider than a digit: probably two
            score = best[i] + logp[k] + prior - penalty
            if score > best[j]:
                best[j], back[j] = score, (i, k)
    path, j = [], n
    if best[n] == -math.inf:  # no piece reaches the end: stop at the furthest boundary reached
        j = max((k for k in range(n + 1) if best[k] > -math.inf), default=0)
    while j > 0 and back[j] is not None:
        i, k = back[j]
        path.append(k)
        j = i
    return path[::-1]


@torch.no_grad()
def classify(crops: np.ndarray, model, device="cpu") -> np.ndarray:
    """Softmax probabilities (N, 10) for uint8 28x28 crops, in one batch, with the model's fitted
    temperature (training.calibrate) so the confidences mean what they say."""
    if len(crops) == 0:
        return np.zeros((0, 10), np.float32)
    cfg = model.pretrained_cfg
    logits = model(to_model_input(crops, cfg["mean"], cfg["std"]).to(device)).float()
    return torch.softmax(logits / cfg.get("temperature", 1.0), dim=1).cpu().numpy()


@torch.no_grad()
def one_digit_probability(crops: np.ndarray, verifier) -> np.ndarray:
    """p(the crop is exactly one digit): the verifier's, or 1 without one. A mark whose strokes vanish at
    digit size (a page-wide grid left in the ink) leaves an empty crop, which the classifier reads as a
    sure "1": it is no digit, with or without a verifier."""
    if verifier is None or len(crops) == 0:
        one = np.ones(len(crops), np.float32)
    else:
        one = torch.softmax(verifier(to_model_input(crops)), dim=1)[:, 1].numpy()
    one[~crops.any(axis=(1, 2))] = 0.0
    return one


# Digits drawn large (a sketchpad canvas: 500-800 px, the digit up to 90% of it) are read from a
# smaller copy: every crop is brought to an 80 px box anyway, and the ink, the cuts and the crops
# cost by the pixel. The marks are kept at least this tall and the pen at least this wide. On 1,000
# validation sketches (seed 11) this read 987 right (986 at full size), 1.18x faster at p50 and 1.33x
# on the mean; 300 validation images each of clean, hard and printed numbers read the same (their
# digits are smaller). At 100 px a few of those changed; at 150 px sketches gained less.
WORK_MARK_HEIGHT = 120
WORK_STROKE = 3.0


@dataclass
class Page:
    """What the reader works on: the ink's layout in the working image, and how that maps back."""
    layout: object        # segment.Layout
    ox: float             # the working image's offset, in working pixels: the ink region's corner
    oy: float
    scale: float          # working pixels per input pixel: input = (working + offset) / scale


def input_box(box: tuple, scale: float, ox: float, oy: float, size: tuple) -> tuple:
    """A box in working pixels -> the input's pixels, kept inside the image: reading a smaller copy,
    or levelling a tilted line, can put an edge a pixel outside it."""
    x0, y0, x1, y1 = (int(round(v / scale)) for v in (box[0] + ox, box[1] + oy, box[2] + ox, box[3] + oy))
    w, h = size
    x0, y0 = min(max(0, x0), w - 1), min(max(0, y0), h - 1)
    return x0, y0, min(max(x0 + 1, x1), w), min(max(y0 + 1, y1), h)


def working_scale(region) -> float:
    """How much smaller than the loaded image the reader can work (1: not at all)."""
    if region.mark_height <= WORK_MARK_HEIGHT or not region.stroke:
        return 1.0
    return min(1.0, max(WORK_MARK_HEIGHT / region.mark_height, WORK_STROKE / region.stroke))


def working_image(loaded) -> tuple:
    """What the reader reads: the region of the loaded image that holds ink, at the working scale.
    Returns (grey, the region's (x0, y0, x1, y1) in the loaded image, working pixels per loaded pixel)."""
    region = ink_region(loaded.grey)
    x0, y0, x1, y1 = box = region.box or (0, 0, loaded.grey.shape[1], loaded.grey.shape[0])
    grey = loaded.grey[y0:y1, x0:x1]
    shrink = working_scale(region)
    if shrink < 1.0:
        h, w = grey.shape
        grey = cv2.resize(grey, (max(1, round(w * shrink)), max(1, round(h * shrink))), interpolation=cv2.INTER_AREA)
        shrink = grey.shape[1] / w
    return grey, box, shrink


def find_lines(loaded) -> "Page | str":
    """A loaded image -> its lines of marks, or the reason (for people) why there are no digits.
    read_number and the sequence reader's training data (training.sequence) both start here."""
    grey, (x0, y0, x1, y1), shrink = working_image(loaded)
    share = (x1 - x0) * (y1 - y0) / loaded.grey.size
    ink = extract_ink(grey)
    if not ink.mask.any():
        return "No digits found: the image looks blank. Write darker or with a thicker pen."
    coverage = float(ink.mask.mean()) * share
    if coverage > 0.35:
        return "No digits found: this looks like a photo or a texture, not a written number."
    lay = layout(ink.mask)
    if lay.marks == 0:
        return "No digits found: only specks or lines. Write larger or with a thicker pen."
    if lay.marks > MAX_MARKS:
        return (f"No digits found: {lay.marks} separate marks look like noise or texture, "
                "not a written number.")
    filled = fill_inked_holes(ink.mask, grey, ink.dark_on_light) if ink.opened else ink.mask
    if filled is not ink.mask:  # a coloured-in shape the ink lost the inside of: its marks are now whole
        lay = layout(filled)
    return Page(lay, x0 * shrink, y0 * shrink, loaded.scale * shrink)


def read_number(image, model=None, verifier="auto", line_reader="auto") -> Reading:
    """Read the handwritten number in `image` (path, bytes, file, PIL image, numpy array, sketchpad dict).

    `model`: the digit classifier (default: load_model()); `verifier`: the split verifier and
    `line_reader`: the sequence reader (default: those beside the bundled or configured weights;
    None reads without them).
    Raises ImageError, with a message for people, when the input cannot be read as an image.
    """
    t0 = time.perf_counter()
    model = model if model is not None else load_model()
    verifier = load_verifier() if isinstance(verifier, str) and verifier == "auto" else verifier
    line_reader = load_line_reader() if isinstance(line_reader, str) and line_reader == "auto" else line_reader
    loaded = load_image(image)
    page = find_lines(loaded)
    if isinstance(page, str):
        return _no_digits(page, loaded.size, t0)
    lay, ox, oy, scale = page.layout, page.ox, page.oy, page.scale

    # Every hypothesis of every blob goes into one batch.
    plans, crops = [], []
    for line_no, line in enumerate(lay.lines):
        line_h = float(np.median([b.h for b in line]))
        pieces, starts = [], [0]
        for b, blob in enumerate(line):
            blob_pieces, n = _hypotheses(lay.labels, blob, line_h)
            if n == 1 and len(blob_pieces) == 1:  # not cut: the piece is the mark
                left = blob.x0 - line[b - 1].x1 if b > 0 else math.inf
                right = line[b + 1].x0 - blob.x1 if b + 1 < len(line) else math.inf
                blob_pieces[0][2].stands_alone = min(left, right) >= ALONE_GAP * line_h
                blob_pieces[0][2].slash_like = blob.slash_like
            pieces.extend((i + starts[-1], j + starts[-1], p) for i, j, p in blob_pieces)
            starts.append(starts[-1] + n)
        pieces.extend(_joined_pieces(lay.labels, line, starts, line_h))
        first = len(crops)
        crops.extend(normalise_digit(p.mask) for _, _, p in pieces)
        plans.append((line_no, pieces, starts[-1], first))
    # Lines that may be one digit drawn in pieces: the marks taken together are one more candidate.
    whole, whole_at, loosely = stacked_digit(lay.lines), None, False
    if whole is None:
        whole = stacked_digit(lay.lines, loose=True)
        loosely = whole is not None
    if whole is not None:
        whole_at, whole_mask = len(crops), blob_mask(lay.labels, whole)
        crops.append(normalise_digit(whole_mask))
    batch = np.stack(crops)
    one = one_digit_probability(batch, verifier)
    penalty = PIECE_PENALTY if verifier is None else VERIFIED_PENALTY
    # The classifier reads the crops the verifier surely takes for one digit. The rest (fragments,
    # pairs, the fair 1s the verifier doubts, and the digits it is less sure of: over half a photo's
    # crops) are scored as if it were sure of them, which no reading can beat. Those a best path still
    # goes through are read and the paths found again; if one still is, the rest of its line's are read
    # too (three batches at most). So the paths are those of reading every crop, for less of the work.
    unread = one < CLASSIFY_FROM
    if whole_at is not None:
        unread[whole_at] = False
    probs = np.zeros((len(batch), 10), np.float32)
    probs[~unread] = classify(batch[~unread], model)

    def best_paths():
        logp = np.log(np.clip(np.where(unread, 1.0, probs.max(1)), 1e-9, 1.0)) + np.log(np.clip(one, 1e-6, 1.0))
        return logp, [[first + k for k in _best_path(pieces, n, logp[first:first + len(pieces)], penalty)]
                      for _, pieces, n, first in plans]

    def read_crops(ks: list):
        probs[ks] = classify(batch[ks], model)
        unread[ks] = False

    logp, paths = best_paths()
    on_paths = [k for path in paths for k in path if unread[k]]
    if on_paths:
        read_crops(on_paths)
        logp, paths = best_paths()
    rest = [first + k for (_, pieces, _, first), path in zip(plans, paths) if unread[path].any()
            for k in range(len(pieces)) if unread[first + k]]
    if rest:  # still short: the rest of those lines' crops, and no more rounds
        read_crops(rest)
        logp, paths = best_paths()

    def digit(k: int, box: tuple, mask: np.ndarray, line_no: int, stands_alone: bool = False,
              shape: str | None = None, slash_like: bool = False) -> Digit:
        row = probs[k]
        top = np.argsort(row)[::-1][:3]
        return Digit(int(top[0]), float(row[top[0]]), [(int(d), float(row[d])) for d in top],
                     input_box(box, scale, ox, oy, loaded.size), crops[k], line_no, float(one[k]),
                     shape=drawn_shape(mask) if shape is None else shape, stands_alone=stands_alone,
                     slash_like=slash_like)

    digits, lines_score = [], 0.0
    for (line_no, pieces, _, first), path in zip(plans, paths):
        for k in path:
            piece = pieces[k - first][2]
            digits.append(digit(k, piece.box, piece.mask, line_no, piece.stands_alone, piece.shape, piece.slash_like))
            lines_score += logp[k] - penalty
    # Marks offered loosely (lines of one mark each, apart) are also how two digits written one above
    # the other look: they are taken together only where the verifier doubts one as a digit of its own
    # (puts it under NOT_DIGIT_BELOW, a fair 1 too).
    if (whole_at is not None and probs[whole_at].max() >= UNSURE_BELOW and one[whole_at] >= NOT_DIGIT_BELOW
            and logp[whole_at] - penalty > lines_score
            and (not loosely or min(d.is_digit for d in digits) < NOT_DIGIT_BELOW)):
        # One digit, read surely, reads better than the lines: it is one line (the line reader reads it
        # whole). It stays unsure, with the lines' reading shown: putting marks together is a guess.
        in_lines = " over ".join("".join(str(d.digit) for d in digits if d.line == k)
                                 for k in sorted({d.line for d in digits}))
        digits = [digit(whole_at, (whole.x0, whole.y0, whole.x1, whole.y1), whole_mask, 0)]
        digits[0].other_line = in_lines
        lay = replace(lay, lines=[sorted((b for line in lay.lines for b in line), key=lambda b: b.x0)])
    # Marks the verifier is all but certain are not digits (a slip of the pen, a stray stroke
    # beside the number) are left out, and said so, as long as real digits remain.
    stray = [d for d in digits if d.doubted(IGNORE_BELOW)]
    if len(stray) == len(digits):  # no real digits remain: none is left out
        stray = []
    digits = [d for d in digits if all(d is not x for x in stray)]
    # A line left out whole may be digits that touch, which the cuts did not part: the line reader
    # has a look at it below.
    notes, stray_lines, kept_lines = [], {}, {d.line for d in digits}
    for d in stray:
        if d.line not in kept_lines:
            stray_lines.setdefault(d.line, []).append(d)
    if not digits:
        return _no_digits("No digits found.", loaded.size, t0)
    if all(d.shape in PLAIN_SHAPES for d in digits):  # boxes, triangles: read as digits, but plainly none
        what = (f"the mark looks like {digits[0].shape}, not a digit" if len(digits) == 1 else
                f"the marks look like drawn shapes ({', '.join(sorted({d.shape for d in digits}))}), not digits")
        return _no_digits(f"No digits found: {what}.", loaded.size, t0)
    if len(digits) > MAX_DIGITS:
        return _no_digits(f"No digits found: {len(digits)} marks are too many for a number.", loaded.size, t0)
    doubted = all(d.doubted(NO_DIGITS_BELOW) for d in digits)
    if doubted and line_reader is None:
        return _no_digits("No digits found: the marks do not look like digits.", loaded.size, t0)
    if line_reader is not None:
        digits, least_sure, rescued = check_with_line_reader(digits, lay, line_reader, scale, ox, oy,
                                                             loaded.size, stray_lines)
        # Marks the verifier doubts one by one (fat, smudged, touching) can still be a number the
        # line reader reads all but surely; then it is read, and flagged. Otherwise: no digits.
        if doubted and least_sure < RESCUE_OVER:
            return _no_digits("No digits found: the marks do not look like digits.", loaded.size, t0)
        if doubted:  # every digit stays unsure: the verifier's doubt (is_digit) is kept on each
            notes.append("The marks look unlike single digits, but the line reader read them: check the number.")
        stray = [d for d in stray if d.line not in rescued]
        if rescued:
            notes.append("A line whose marks look unlike single digits (touching digits?) was read by the "
                         "line reader alone: check it.")
    if stray:
        notes.insert(0, f"Ignored {len(stray)} mark{'s' if len(stray) > 1 else ''} that "
                        f"{'do' if len(stray) > 1 else 'does'} not look like a digit.")

    lines = {}  # line -> its digits, in reading order
    for d in digits:
        lines.setdefault(d.line, []).append(d)
    text = "\n".join("".join(str(d.digit) for d in lines[k]) for k in sorted(lines))
    written = written_text(digits, lay.separators, scale, ox, oy, loaded.size)
    # A line written with a point, a comma or a hyphen is an amount or a code, not a date or a
    # fraction: a 1 in it is not taken for a slash (on 900 validation amounts and hyphenated numbers,
    # that flag marked 34 right readings unsure, and no wrong one).
    amount_lines = {k for k, line in zip(sorted(lines), written.split("\n")) if set(line.lstrip("-")) & set(".,-")}
    for k, line in lines.items():
        for j, d in enumerate(line):
            # A slash stands between two digits of its line (one beside it may have been left out since).
            d.slash_like = d.slash_like and k not in amount_lines and 0 < j < len(line) - 1
            # A number's digits vouch for each other, unless the verifier doubts them all.
            d.in_company = len(line) >= 2 and not doubted
    confidence = float(np.prod([d.confidence for d in digits]))
    warnings = notes
    several_lines = len(lines) > 1
    for k in sorted(lines):  # the readers disagree on how many digits a line holds: said once per line
        other = next((d.other_line for d in digits if d.line == k and d.other_line), "")
        if other:
            where = f"Line {sorted(lines).index(k) + 1} was" if several_lines else "It was"
            warnings.append(f"{where} also read as {other}: some digits touch or are broken, check the number.")
    slash_lines = set()  # the lines whose 1s that may be slashes were told of
    for i, d in enumerate(digits):
        if d.shape:
            warnings.append(f"Mark {i + 1} looks like {d.shape}, not a digit (read as {d.digit}).")
        elif d.maybe_slash:  # said once for its line, with the line's other marks that may be slashes
            if d.line not in slash_lines:
                slash_lines.add(d.line)
                warnings.append(maybe_slashes_warning(digits, d.line, lay.separators, scale, ox, oy, loaded.size))
        elif d.maybe_not_a_digit:
            warnings.append(f"Mark {i + 1} may not be a digit (read as {d.digit}).")
        elif d.disputed:
            warnings.append(f"Digit {i + 1} is unsure: read as {d.digit}, but also as {d.disputed}.")
        elif d.other_line:
            continue
        elif d.unsure:
            runner = d.alternatives[1][0]
            warnings.append(f"Digit {i + 1} is unsure: {d.digit} ({100 * d.confidence:.0f}%) "
                            f"or {runner} ({100 * d.alternatives[1][1]:.0f}%)?")
    if written != text:
        # Lines apart with "; ", since a slash may be written between digits.
        warnings.append(f"Written as {written.replace(chr(10), '; ')}: the number holds its digits only.")
    # A plus as tall as its digits may be a 4 drawn as a cross, brackets no taller than their digits two 1s
    # bowed towards each other (segment.Separator.doubtful): read as digits, with the number as they would write it.
    symbols = maybe_symbols(digits, lay.separators, scale, ox, oy, loaded.size)
    if symbols:
        marks = sorted(i + 1 for i, d in enumerate(digits) if id(d) in symbols)
        names = " and ".join(name for name, marks_of in (("a plus sign", "+"), ("brackets", "()"))
                             if set(symbols.values()) & set(marks_of))
        as_marks = written_text(digits, lay.separators, scale, ox, oy, loaded.size, as_marks=symbols)
        warnings.append(f"Mark{'s' * (len(marks) > 1)} {' and '.join(map(str, marks))} may be {names}, "
                        f"not {'digits' if len(marks) > 1 else 'a digit'}: {as_marks.replace(chr(10), '; ')}?")
    status = "unsure" if any(d.unsure for d in digits) or symbols else "ok"
    return Reading(text, digits, confidence, status, warnings, loaded.size, time.perf_counter() - t0,
                   written if written != text else "")


WRITTEN_MARK = {"point": ".", "comma": ",", "dash": "-", "slash": "/", "plus": "+", "minus": "-"}  # as written


def maybe_symbols(digits: list, separators: list, scale: float, ox: float, oy: float, size: tuple) -> dict:
    """The digits read from marks that may be a plus sign or brackets (segment.Separator.doubtful), each
    as the mark it may be: {id(digit): "+", "(" or ")"}. A digit is the one whose box is the mark's (most of
    both boxes shared); brackets count only as a pair, both read as digits."""
    found = {}
    for sep in separators:
        if not sep.doubtful:
            continue
        bx0, by0, bx1, by1 = input_box((sep.blob.x0, sep.blob.y0, sep.blob.x1, sep.blob.y1), scale, ox, oy, size)
        for d in digits:
            x0, y0, x1, y1 = d.box
            shared = max(0, min(x1, bx1) - max(x0, bx0)) * max(0, min(y1, by1) - max(y0, by0))
            if shared >= 0.5 * max((x1 - x0) * (y1 - y0), (bx1 - bx0) * (by1 - by0)):
                found[id(d)] = {"plus": "+", "open": "(", "close": ")"}[sep.kind]
    marks = list(found.values())
    if marks.count("(") != marks.count(")"):
        found = {k: v for k, v in found.items() if v == "+"}
    return found


def level_with_middle(y: float, digits: list) -> bool:
    """`y` lies in the middle half of the digits' height (the median of their tops and feet). The
    minus check (segment.dash_kind) looks at the marks; this looks at the digits read from them,
    a digit drawn in pieces being one: a stub beside the top piece of a sketched 8 is no minus sign."""
    tops, feet = [d.box[1] for d in digits], [d.box[3] for d in digits]
    return in_middle_half(y, float(np.median(tops)), float(np.median(feet)))


def maybe_slashes_warning(digits: list, line: int, separators: list, scale: float, ox: float, oy: float,
                          size: tuple) -> str:
    """The warning for the 1s of a line that may be slashes (Digit.maybe_slash), with the line as it
    reads if they are."""
    marks = [i + 1 for i, d in enumerate(digits) if d.line == line and d.maybe_slash]
    in_line = [d for d in digits if d.line == line]
    as_slashes = written_text(in_line, separators, scale, ox, oy, size, as_slash=[d for d in in_line if d.maybe_slash])
    if len(marks) == 1:
        return f"Mark {marks[0]} may be a slash, not a 1: {as_slashes}?"
    return f"Marks {', '.join(map(str, marks[:-1]))} and {marks[-1]} may be slashes, not 1s: {as_slashes}?"


def written_text(digits: list, separators: list, scale: float, ox: float, oy: float, size: tuple,
                 as_slash: list = (), as_marks: dict | None = None) -> str:
    """The digits line by line, with the points, commas, hyphens, slashes and plus signs found between them
    and a minus or plus sign before them (segment.Separator) put back where they were written; a point, comma,
    hyphen or slash between no two digits of a line, or a minus before no line's first digit, is left out (a
    plus sign is one or the other); a "(" goes before the first digit right of it on the line level with it, a
    ")" after the last left of it. The digits `as_slash` are written as slashes instead (Digit.maybe_slash), and
    those in `as_marks` ({id(digit): mark}) as the plus sign or bracket they may be (maybe_symbols)."""
    by_line = {}
    for d in digits:
        by_line.setdefault(d.line, []).append(d)
    after = {}  # (line, index of the digit before it) -> ".", ",", "-", "/" or "+"; (line, -1) -> "-" or "+"
    opened, closed = {}, {}  # (line, index of the digit after "(" or before ")") -> "(" or ")"
    for sep in separators:
        if sep.doubtful:  # read as a digit
            continue
        x0, y0, x1, y1 = input_box((sep.blob.x0, sep.blob.y0, sep.blob.x1, sep.blob.y1), scale, ox, oy, size)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if sep.kind in ("open", "close"):  # before the first digit right of it, after the last left of it
            for k, line in by_line.items():
                centres = [(d.box[0] + d.box[2]) / 2 for d in line]
                if not level_with_middle(cy, line):
                    continue
                if sep.kind == "open" and cx < centres[-1]:
                    opened[k, next(i for i, c in enumerate(centres) if c > cx)] = "("
                elif sep.kind == "close" and cx > centres[0]:
                    closed[k, max(i for i, c in enumerate(centres) if c < cx)] = ")"
            continue
        between = [(k, i) for k, line in by_line.items() for i, (a, b) in enumerate(zip(line, line[1:]))
                   if (a.box[0] + a.box[2]) / 2 < cx < (b.box[0] + b.box[2]) / 2
                   and min(a.box[1], b.box[1]) <= cy <= 2 * max(a.box[3], b.box[3]) - min(a.box[1], b.box[1])
                   and (sep.kind != "plus" or level_with_middle(cy, [a, b]))]  # a plus: level with their middle
        if sep.kind in ("minus", "plus") and not (sep.kind == "plus" and between):
            # A sign: before the nearest line that starts level with it, on its right.
            starts = [(line[0].box[0] - cx, k) for k, line in by_line.items()
                      if cx < line[0].box[0] and level_with_middle(cy, line[:MINUS_LINE])]
            if starts:
                after[min(starts)[1], -1] = WRITTEN_MARK[sep.kind]
            continue
        for k, i in between:
            after[k, i] = WRITTEN_MARK[sep.kind]

    # Brackets in pairs only, with a digit between them: one whose partner found no digit is left out.
    for k in by_line:
        depth, last_open = 0, None
        for i in range(len(by_line[k])):
            if (k, i) in opened:
                if depth:
                    opened.pop((k, i))  # a "(" inside another: keep the outer pair only
                else:
                    depth, last_open = 1, i
            if (k, i) in closed:
                if depth:
                    depth = 0
                else:
                    closed.pop((k, i))
        if depth:
            opened.pop((k, last_open))

    def as_written(d: Digit) -> str:
        return "/" if any(d is x for x in as_slash) else (as_marks or {}).get(id(d), str(d.digit))

    return "\n".join(after.get((k, -1), "") + "".join(opened.get((k, i), "") + as_written(d) + closed.get((k, i), "")
                                                    + after.get((k, i), "") for i, d in enumerate(by_line[k]))
                     for k in sorted(by_line))


# --- the second opinion: the line reader ---------------------------------------------------
#
# The cut-and-classify path above must find where one digit ends and the next begins; the line
# reader (sequence.py, a CRNN trained with CTC) reads the whole levelled line without cuts.
# Where both read the same digits, the digits and boxes above stand. Where they differ, the line
# reader's reading wins if it is sure enough, and the digits concerned are marked unsure.

LINE_READER_OVER = 0.5        # a differing line-reader reading is taken when its confidence exceeds this
RESCUE_OVER = 0.99            # marks the verifier doubts are still read when the line reader is this sure
KEEP_CUT_READING_WITHIN = 3.0 # ... and it is this much likelier (log, so about 20x) than the cut path's reading
# A line that is one digit, read this surely, that the verifier takes this surely for one digit, and
# whose marks together are no wider than this times their height, skips the line reader (a quarter of a
# sketch's time): on validation it changed the number on none of these lines. Its flags on them were on
# right readings, except on about 1 in 1,000 digit-free images, which now come back sure.
PLAIN_DIGIT_OVER, PLAIN_VERIFIED_OVER, PLAIN_ASPECT = 0.99, 0.9, 1.2
# A digit that is a mark of its own, at least ALONE_GAP line heights from its neighbours, read at least
# ALONE_READ_OVER by the classifier and taken for one digit at least ALONE_VERIFIED_OVER by the verifier,
# keeps its reading where the line reader reads another digit there (see plainly_read).
ALONE_GAP, ALONE_READ_OVER, ALONE_VERIFIED_OVER = 0.15, 0.9, 0.9


def _line_crop(pixels: np.ndarray) -> np.ndarray:
    """A 28x28 MNIST-style view of a slice of a line image, for showing what was read."""
    ys, xs = np.nonzero(pixels > 64)
    if len(ys) == 0:
        return np.zeros((28, 28), np.uint8)
    return to_mnist_frame(pixels[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255)


def _sequence_digits(decoded, li, line_no: int, scale: float, ox: float, oy: float, size: tuple) -> list:
    """Digits of a line-reader reading, each with the slice of the line between its neighbours."""
    width = li.pixels.shape[1]
    spans = decoded.spans
    edges = [0] + [FRAME * (spans[k][1] + 1 + spans[k + 1][0]) // 2 for k in range(len(spans) - 1)] + [width]
    out = []
    for k, ch in enumerate(decoded.text):
        a, b = edges[k], max(edges[k + 1], edges[k] + 1)
        part = li.pixels[:, a:b]
        ys, xs = np.nonzero(part > 64)
        u0, u1 = (a + xs.min(), a + xs.max() + 1) if len(xs) else (a, b)
        v0, v1 = (ys.min(), ys.max() + 1) if len(ys) else (0, li.pixels.shape[0])
        corners = np.float64([[u0, v0, 1], [u1, v0, 1], [u0, v1, 1], [u1, v1, 1]]) @ li.to_source.T
        x0, y0 = corners.min(0)
        x1, y1 = corners.max(0)
        box = input_box((x0, y0, x1, y1), scale, ox, oy, size)
        out.append(Digit(int(ch), decoded.probs[k], decoded.alternatives[k], box, _line_crop(part), line_no))
    return out


def check_with_line_reader(digits: list, lay, line_reader, scale: float, ox: float, oy: float, size: tuple,
                           stray_lines: dict) -> tuple:
    """The digits, line by line, checked against (and where it is surer, replaced by) the line reader's;
    the line reader's confidence in the line it was least sure of; and which of `stray_lines` (line ->
    its marks, all left out as not digits) it read all but surely (RESCUE_OVER): those lines are its
    reading, each digit keeping the verifier's doubt, so the reading is unsure."""
    by_line = {}
    for d in digits:
        by_line.setdefault(d.line, []).append(d)
    numbers = [k for k in sorted(by_line) if not plainly_one_digit(by_line[k], lay.lines[k])] + sorted(stray_lines)
    images = [line_image(lay.labels, lay.lines[k]) for k in numbers]
    checked, least_sure, rescued = {}, 1.0, []
    for k, li, decoded in zip(numbers, images, read_lines([li.pixels for li in images], line_reader)):
        if k in stray_lines:
            if decoded.text and decoded.confidence >= RESCUE_OVER:
                doubt = max(d.is_digit for d in stray_lines[k])
                checked[k] = [replace(d, is_digit=doubt) for d in
                              _sequence_digits(decoded, li, k, scale, ox, oy, size)]
                rescued.append(k)
            continue
        checked[k] = combine_line(by_line[k], decoded, li, k, scale, ox, oy, size)
        least_sure = min(least_sure, decoded.confidence if decoded.text else 0.0)
    lines = sorted(set(by_line) | set(rescued))
    return [d for k in lines for d in checked.get(k, by_line.get(k, []))], least_sure, rescued


def plainly_one_digit(digits: list, marks: list) -> bool:
    """A line the line reader would only confirm: one digit, read surely, surely one digit, and its
    marks (a digit beside it may have been left out as a stray mark) no wider than a digit."""
    if len(digits) != 1 or digits[0].confidence < PLAIN_DIGIT_OVER or digits[0].is_digit < PLAIN_VERIFIED_OVER:
        return False
    union = functools.reduce(Blob.merged, marks)
    return union.w <= PLAIN_ASPECT * union.h


def plainly_read(d: Digit) -> bool:
    """A digit the cut path read as well as it reads anything: a mark of its own with clear space around
    it, surely one digit, read surely. Where the line reader reads another digit there, this one stands
    (flagged): on validation the line reader's differing digit was right on most cut or crowded digits
    but wrong on most of these."""
    return d.stands_alone and d.confidence >= ALONE_READ_OVER and d.is_digit >= ALONE_VERIFIED_OVER


def combine_line(seg: list, decoded, li, line_no: int, scale: float, ox: float, oy: float, size: tuple) -> list:
    """One line's digits from the two readings (see the comment above)."""
    seg_text = "".join(str(d.digit) for d in seg)
    if decoded.text == seg_text or not decoded.text:
        return seg
    # How much likelier the line reader finds its own reading than the cut path's: when the cut
    # path's reading fits the line nearly as well, it stands (with its boxes), flagged.
    gap = math.log(max(decoded.confidence, 1e-12)) - text_log_likelihood(decoded.log_probs, seg_text)
    # A drawn shape in the line: the line reader, which knows only digits, reads it as digits too.
    if (decoded.confidence <= LINE_READER_OVER or gap < KEEP_CUT_READING_WITHIN
            or any(d.shape in PLAIN_SHAPES for d in seg)):
        for d in seg:
            d.other_line = decoded.text
        return seg
    seq = _sequence_digits(decoded, li, line_no, scale, ox, oy, size)
    if len(seq) == len(seg):  # same count: keep the cut path's boxes and crops, flag where they differ
        return [s if s.digit == q.digit else
                replace(s, disputed=str(q.digit)) if plainly_read(s) else
                Digit(q.digit, q.confidence, q.alternatives, s.box, s.crop, line_no, s.is_digit,
                      disputed=str(s.digit))
                for s, q in zip(seg, seq)]
    for q in seq:
        q.other_line = seg_text
    return seq


def error_dict(message: str) -> dict:
    """The JSON shape of a reading, for an input that is not a readable image."""
    return {"number": "", "status": "error", "confidence": 0.0, "lines": [], "written": "", "digits": [],
            "warnings": [message], "error": message, "image_size": [0, 0], "seconds": 0.0}


def read_or_explain(image, model=None) -> tuple:
    """(Reading, "") or (None, a message for people) when the input is not a readable image.
    The one place where a failed read becomes words: the API, the CLI and the app all use it."""
    try:
        return read_number(image, model), ""
    except ImageError as e:
        return None, str(e)
    except Exception:  # a bug must not become a traceback for the person or script asking
        logging.getLogger(__name__).exception("read_number failed")
        return None, INTERNAL_ERROR


def read_as_dict(image, model=None) -> dict:
    """read_number(image).to_dict(), or error_dict(reason) when the input is not a readable image.
    What the CLI and the app's API return."""
    reading, message = read_or_explain(image, model)
    return reading.to_dict() if reading is not None else error_dict(message)
