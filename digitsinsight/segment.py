"""Ink mask -> lines of digit candidates, left to right.

1. Connected components; specks and long thin rules are dropped, but a small piece within or against
   a digit's box (a faint stroke broken into dashes) joins that digit.
2. Components are grouped into lines of writing by vertical overlap; a piece lying inside the
   digits of a line (the middle stroke of a 2 drawn in three) belongs to that line.
3. Within a line, strokes of one digit that do not touch (the hat of a 5, an open 4) are
   merged: they sit above one another rather than side by side. A digit drawn in pieces one
   above the other (an 8 whose loops do not meet) can look like lines of its own: narrow lines
   that touch are joined, and `stacked_digit` offers all the marks as one digit for the reader to try.
4. Blobs wider than a digit may hold touching digits: `cut_candidates` proposes where to
   cut them (valleys of the column profile, after undoing the writing's slant); the reader
   lets the classifier choose among the cuts (recognition-based segmentation).
"""
import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from .normalise import stroke_width

MAX_MARKS = 80        # more separate marks than this is texture or noise, not a number
FRAGMENT_MARGIN = 0.1 # a small mark at most this far (times the digits' height) outside a digit's box is part of it


@dataclass
class Blob:
    x0: int
    y0: int
    x1: int             # exclusive
    y1: int             # exclusive
    labels: list = field(default_factory=list)
    area: int = 0
    slash_like: bool = False  # shaped and placed as a slash may be, not taken for one (find_marks, SLASH_LIKE_DROP);
                              # a mark merged from several (merged) is not

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    def merged(self, other: "Blob") -> "Blob":
        return Blob(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1),
                    max(self.y1, other.y1), self.labels + other.labels, self.area + other.area)


@dataclass
class Layout:
    lines: list            # list of lists of Blob, top to bottom, each left to right
    labels: np.ndarray     # the component label image the blobs refer to
    marks: int             # how many significant marks were found
    dropped: int           # specks and rules that were ignored
    separators: list = field(default_factory=list)  # points, commas, hyphens, slashes and plus signs between digits, signs, brackets (Separator)


@dataclass
class Separator:
    """A point or a comma written low between two digits of a line ("3.50", "1,250"), a hyphen
    level with their middle between two of them ("555-1234"), a slash between two of them
    ("12/05/2026"), a minus sign before a line's first digit ("-42"), a plus sign before it or
    between two digits ("+44", "3+4"), or brackets round digits ("(555)"): kept out of the marks the
    digits are read from, so that it is neither a digit nor a line."""
    kind: str              # "point", "comma", "dash" (a hyphen), "slash", "minus", "plus", "open" or "close"
    blob: Blob
    doubtful: bool = False # it may be a digit after all (a plus as tall as its digits, brackets no taller):
                           # it stays among the marks and is read as a digit, and the reader flags it


def _overlap(a0, a1, b0, b1) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _covered(mark: "Blob", others: list, share: float = 0.3) -> bool:
    """Another mark lies over or under this one (across more than `share` of its width): the mark is a
    piece of a digit (a 7's foot or crossbar drawn apart), not punctuation beside it."""
    return any(d is not mark and _overlap(d.x0, d.x1, mark.x0, mark.x1) > share * mark.w for d in others)


def find_marks(mask: np.ndarray) -> tuple[list, np.ndarray, int, list]:
    """Marks worth reading, the label image, how many specks and rules were dropped, and the
    points, commas, hyphens, slashes and plus signs between digits, the minus and plus signs before
    them and the brackets round them (Separator, left to right), which are not among the marks."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    blobs = [Blob(int(x), int(y), int(x + w), int(y + h), [i], int(a))
             for i, (x, y, w, h, a) in enumerate(stats) if i > 0]
    if not blobs:
        return [], labels, 0, []
    # Size reference: the height of the larger marks (digits), robust to specks.
    big = sorted(blobs, key=lambda b: b.area, reverse=True)[:12]
    ref_h = max(float(np.median([b.h for b in big])), 0.5 * max(b.h for b in big))
    keep, small, thin, dropped = [], [], [], 0
    tiny = max(4, 0.002 * ref_h * ref_h)
    for b in blobs:
        rule = b.w > 12 * max(b.h, 1) and b.h < 0.2 * ref_h  # a ruled line or underline fragment
        if b.area < tiny or (rule and b.w > MINUS_SIZE[1] * ref_h):
            dropped += 1
        elif rule:
            thin.append(b)  # as flat as a rule but short: a minus sign or hyphen drawn with a thin pen, or a rule's piece
        elif max(b.h, b.w) < 0.25 * ref_h:
            small.append(b)
        else:
            keep.append(b)
    # Punctuation first: a point written close to a digit would otherwise join it as a piece. It is
    # told from the marks around it, pieces of digits too (a 5 whose hat was drawn apart, a stroke
    # broken into dashes). Not on a page of more marks and specks than a number has: each mark is
    # looked at against all the others, and among that many specks a point is one more.
    marks, separators = keep + small, []
    if len(marks) <= MAX_MARKS:
        separators = [Separator(kind, b) for b in [b for b in marks if b.h < ref_h] + thin
                      for kind in [separator_kind(b, marks, labels)] if kind]
        # Plus signs (up to as tall as the digits: some fonts), brackets, then slashes: marks not already set apart.
        set_apart = {id(s.blob) for s in separators}
        separators += [s for b in keep if b.h <= PLUS_SIZE[1] * ref_h and id(b) not in set_apart
                       for s in [plus_sign(b, marks, labels)] if s]
        set_apart = {id(s.blob) for s in separators}
        for o, c, doubtful in find_brackets([b for b in keep if b.h >= 0.6 * ref_h and id(b) not in set_apart], marks, labels):
            separators += [Separator("open", o, doubtful), Separator("close", c, doubtful)]
        set_apart = {id(s.blob) for s in separators}
        strokes = slash_strokes([b for b in keep if b.h >= 0.6 * ref_h and id(b) not in set_apart], marks, labels)
        slashes = find_slashes(strokes)
        separators += [Separator("slash", b) for b in slashes]
        # Flagged, not taken (SLASH_LIKE_DROP): one that stands out but is not taken (a thick pen's), one
        # drawn alike with another with a digit between them (a date's two slashes, or two 1s), one whose
        # foot is below the line. Not one beside a slash: a date has no empty group.
        set_apart |= {id(b) for b in slashes}
        digits = [d for d in marks if id(d) not in set_apart]
        for b, st in strokes:
            low = st.drop >= SLASH_LIKE_DROP and st.tilt >= SLASH_TILT[0] and st.straight >= SLASH_STRAIGHT[1]
            b.slash_like = (id(b) not in set_apart and not _beside(b, slashes, marks)
                            and (st.stands_out or low or alike_stroke(b, st, strokes, digits)))
        separators.sort(key=lambda s: s.blob.x0)
    taken = {id(s.blob) for s in separators if not s.doubtful}
    small = [b for b in small if id(b) not in taken]
    keep = [b for b in keep if id(b) not in taken]
    dropped += sum(id(b) not in taken for b in thin)
    # A small mark within (or against) a digit's box is a piece of it, not a speck: a faint stroke
    # that broke into dashes, the end of a 7's bar. It joins the nearest such digit (not a frame or
    # a grid round everything, which is taller than any digit); others are dropped.
    margin = FRAGMENT_MARGIN * ref_h
    hosts = [(k, host) for k, host in enumerate(keep) if host.h <= 1.5 * ref_h]
    for b in small:
        near = [(_box_distance(b, host), k) for k, host in hosts
                if host.x0 - margin <= b.x0 and b.x1 <= host.x1 + margin
                and host.y0 - margin <= b.y0 and b.y1 <= host.y1 + margin]
        if near:
            k = min(near)[1]
            keep[k] = keep[k].merged(b)
        else:
            dropped += 1
    return keep, labels, dropped, separators


# A point or comma sits in the gap between two marks of a line of digits (at most SEPARATOR_GAP of
# the line's height from each), with no mark above or below it, starts in the lowest third of the
# line and is small beside its digits: a point ends near their baseline, a comma's tail runs below it.
SEPARATOR_GAP = 1.0
SEPARATOR_SIZE = (0.06, 0.3, 0.7)  # least and most size of a point, most height of a comma (x line height)


# A minus sign is a dash, at most MINUS_TILT off level, level with the middle of the line of digits it
# stands before (its centre in the middle half of their height), at most MINUS_GAP of their height left
# of the first, with no mark over or under it and no digit before it on the line. The same dash with a
# digit before it, at most MINUS_GAP away, and flat (its box twice as wide as tall: a 5's hat drawn
# apart and tilted is no hyphen), is a hyphen between two groups of digits ("555-1234", "12-34"). The line
# is the marks to its right whose height spans it: the median of their tops and feet, since a digit
# drawn in pieces (a 5's hat, a broken 7) gives a piece or two.
MINUS_GAP = 1.0
MINUS_FLAT = 2.0                # at least this many times as long as it is thick (its ink's main axis)
MINUS_TILT = 25                 # at most this many degrees off level: drawn by hand, a dash is seldom flat
# Least and most length, most thickness, times the line's height. Shorter marks are specks or pieces of
# digits (a 4's bar broken off its stem). Length and thickness are along and across its ink's main
# axis, so that a tilted dash measures as a flat one would.
MINUS_SIZE = (0.3, 1.2, 0.3)
MINUS_LINE = 4                  # the line's height is measured on this many marks next to it


@dataclass
class InkAxis:
    """A mark's ink along its main axis (from its moments)."""
    angle: float       # degrees from level, -90 to 90; y runs down, so a stroke rising to the right is negative
    straight: float    # how many times as long as it is thick: the spread along the axis over that across it
    length: float      # its extent along the axis, in pixels
    thickness: float   # its ink per unit of that length, in pixels

    @property
    def lean(self) -> float:
        """Degrees the axis leans right of upright (negative: left), for a stroke nearer upright than level."""
        return 90 + self.angle if self.angle <= 0 else self.angle - 90


def stroke_axis(ink: np.ndarray) -> "InkAxis | None":
    """The main axis of a binary image's ink (its nonzero pixels); None when it holds none."""
    m = cv2.moments(ink, binaryImage=True)
    if m["m00"] == 0:
        return None
    xx, yy, xy = m["mu20"] / m["m00"], m["mu02"] / m["m00"], m["mu11"] / m["m00"]
    thin, long = np.linalg.eigvalsh([[xx, xy], [xy, yy]])
    angle = 0.5 * np.arctan2(2 * xy, xx - yy)
    ys, xs = np.nonzero(ink)
    along = xs * np.cos(angle) + ys * np.sin(angle)
    length = float(along.max() - along.min() + 1)
    return InkAxis(float(np.degrees(angle)), float(np.sqrt(long / max(thin, 1e-6))), length, m["m00"] / length)


def mark_axis(mark: Blob, labels: np.ndarray) -> "InkAxis | None":
    """The main axis of a one-piece mark's ink; None for a mark of several pieces."""
    return stroke_axis(blob_mask(labels, mark)) if len(mark.labels) == 1 else None


def in_middle_half(y: float, top: float, foot: float) -> bool:
    """`y` lies in the middle half of a line from `top` to `foot`: where a minus sign stands."""
    return top + 0.25 * (foot - top) <= y <= top + 0.75 * (foot - top)


def line_after(mark: Blob, marks: list, least_h: float) -> "tuple | None":
    """The line of digits a sign or a hyphen stands before: the first MINUS_LINE marks at least `least_h`
    tall that start right of `mark` (give or take 0.15 of its width) level with its middle. -> (top, base,
    gap, line): their median top and foot, the gap from `mark` to the nearest ink between those (a piece
    of a digit too), and the marks between them; None where no such mark follows."""
    cy, slack = (mark.y0 + mark.y1) / 2, 0.15 * mark.w
    after = sorted((d for d in marks if d is not mark and d.x0 >= mark.x1 - slack and d.y0 < cy < d.y1
                    and d.h >= least_h), key=lambda d: d.x0)[:MINUS_LINE]
    if not after:
        return None
    top, base = float(np.median([d.y0 for d in after])), float(np.median([d.y1 for d in after]))
    line = [d for d in marks if d is not mark and d.y0 < base and d.y1 > top]
    return top, base, min(d.x0 for d in line if d.x0 >= mark.x1 - slack) - mark.x1, line


def dash_kind(mark: Blob, marks: list, labels: np.ndarray) -> str:
    """"minus" for a minus sign before a line of digits, "dash" for a hyphen between two digits of
    one, "" for any other mark, given the other marks."""
    if mark.w < mark.h:  # steeper than 45 degrees: no dash, and no need to look at its ink
        return ""
    axis = mark_axis(mark, labels)
    if axis is None or abs(axis.angle) > MINUS_TILT or axis.straight < MINUS_FLAT:
        return ""
    found = line_after(mark, marks, 2 * mark.h)
    if found is None:
        return ""
    top, base, gap, line = found
    cy, slack, h = (mark.y0 + mark.y1) / 2, 0.15 * mark.w, base - top
    least, most, thickest = MINUS_SIZE
    if not (in_middle_half(cy, top, base) and least * h <= axis.length <= most * h
            and axis.thickness <= thickest * h and gap <= MINUS_GAP * h):
        return ""
    # It stands in a gap: no mark over or under it (a 7's crossbar drawn apart), nor reaching into its
    # span by more than 0.15 of its width (a 5's hat drawn apart, over the end of the 5's body).
    if _covered(mark, [d for d in marks if d.y0 < base + 0.5 * h and d.y1 > top - 0.5 * h], share=0.15):
        return ""
    if not any(d.x1 <= mark.x0 + slack and d.h >= 0.5 * h for d in line):
        return "minus"
    # A hyphen, at most MINUS_GAP from the nearest mark before it (not a speck). Unless that mark ends
    # at or under the dash's start with its top below the dash's middle: a 5's body, whose hat was drawn apart.
    previous = max((d for d in line if d.x1 <= mark.x0 + slack and max(d.w, d.h) >= 0.25 * h),
                   key=lambda d: d.x1)
    hat = previous.x1 >= mark.x0 - 0.05 * h and previous.y0 >= cy - 0.15 * h
    # A hyphen has a digit on each side to vouch for it, but so has a piece of a digit between two
    # others: it is flat, as it was before tilted minus signs were read (its box twice as wide as tall).
    flat = mark.w >= MINUS_FLAT * mark.h and least * h <= mark.w and mark.area / mark.w <= thickest * h
    return "dash" if mark.x0 - previous.x1 <= MINUS_GAP * h and not hat and flat else ""


# A plus sign is two straight strokes crossing near their middles, one level and one upright (each at
# most PLUS_TILT off), no taller than the digits of its line (smaller, mostly; as tall in some fonts) and
# level with their middle, with no mark over or under it: before a line's first digit it is a sign
# ("+44"), between two digits it joins them ("3+4"). Read as a digit, it is a sure 4 (an open 4 is a
# cross with one more stroke).
PLUS_TILT = 20             # each arm's direction from the crossing at most this many degrees off level or upright
PLUS_AXIS = 30             # ... and its ink's own axis at most this many off that direction (a short arm's axis wanders)
PLUS_SIZE = (0.3, 1.05)    # least and most height and width, times its line's height
PLUS_ARM = 0.25            # each arm at least this share of its stroke: the strokes cross near their middles
PLUS_STRAIGHT = 1.5        # an arm this many times as long as it is thick (beyond the crossing) has an axis
PLUS_PLAIN = 0.9           # a plus taller or wider than this (times its line's height) may be a 4 drawn as a
                           # cross: it is read as a digit, flagged (Separator.doubtful)


def is_cross(ink: np.ndarray) -> bool:
    """A one-piece mark's ink (binary, cropped to it) is a cross: four straight arms from one point,
    pointing right, up, left and down."""
    h, w = ink.shape
    if min(h, w) < 5:
        return False
    pen = stroke_width(np.pad(ink, 1))  # padded: a solid block has no paper inside its crop
    if not 1.0 <= pen < min(h, w) or ink.sum() > 2.0 * pen * (w + h):  # two strokes as long as the mark is wide and tall, no more ink
        return False
    # The crossing: the ink furthest from the paper (where two strokes overlap, 0.7 of a pen's width
    # from it against half a pen's width along one stroke); of several such, the one nearest the middle.
    dist = cv2.distanceTransform(np.pad(ink, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= dist.max() - 0.01)
    central = np.argmin((ys - h / 2) ** 2 + (xs - w / 2) ** 2)
    here = (ys - ys[central]) ** 2 + (xs - xs[central]) ** 2 <= pen * pen  # the crossing's middle, to the subpixel
    row, col = float(ys[here].mean()), float(xs[here].mean())
    if not ink[int(round(row)), int(round(col))]:
        return False
    arms = ink.copy()
    cv2.circle(arms, (int(round(4 * col)), int(round(4 * row))), int(round(4 * (0.75 * pen + 1))), 0, -1,
               shift=2)  # the crossing, where the strokes overlap
    n, labels, stats, centres = cv2.connectedComponentsWithStats(arms, connectivity=8)
    big = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= 0.3 * pen * pen]
    if len(big) != 4:
        return False
    directions = []
    for k in big:
        axis = stroke_axis((labels == k).astype(np.uint8))
        dx, dy = centres[k][0] - col, centres[k][1] - row
        direction = np.degrees(np.arctan2(-dy, dx)) % 360  # y runs down
        nearest = round(direction / 90) % 4
        off = abs((direction - 90 * nearest + 180) % 360 - 180)
        # Pointing away from the crossing; an arm long enough to have an axis lies along it; and it is
        # one stroke's width across, give or take its tilt (an open 4's bar turns up into its left stroke).
        along = abs((axis.angle + direction + 90) % 180 - 90)  # axis.angle is measured with y down
        reach = max(abs(dx), abs(dy)) + axis.length / 2
        length, across = stats[k, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT][::1 if nearest % 2 == 0 else -1]]
        if (off > PLUS_TILT or (axis.straight >= PLUS_STRAIGHT and along > PLUS_AXIS)
                or across > 1.5 * pen + length * np.tan(np.radians(PLUS_TILT))):
            return False
        directions.append((nearest, reach))
    if sorted(d for d, _ in directions) != [0, 1, 2, 3]:
        return False
    reach = dict(directions)
    return all(min(reach[a], reach[a + 2]) >= PLUS_ARM * (reach[a] + reach[a + 2]) for a in (0, 1))


def plus_sign(mark: Blob, marks: list, labels: np.ndarray) -> "Separator | None":
    """A plus sign before a line of digits or between two of its digits, as a Separator; None for any other mark."""
    if len(mark.labels) != 1 or not (0.6 * mark.h <= mark.w <= 1.7 * mark.h):
        return None
    found = line_after(mark, marks, mark.h / PLUS_SIZE[1])
    if found is None:
        return None
    top, base, gap, _ = found
    h = base - top
    least, most = PLUS_SIZE
    if not (in_middle_half((mark.y0 + mark.y1) / 2, top, base) and least * h <= min(mark.w, mark.h)
            and max(mark.w, mark.h) <= most * h and gap <= MINUS_GAP * h):
        return None
    if _covered(mark, [d for d in marks if d.y0 < base + 0.5 * h and d.y1 > top - 0.5 * h], share=0.15):
        return None
    if not is_cross(blob_mask(labels, mark)):
        return None
    return Separator("plus", mark, doubtful=max(mark.w, mark.h) > PLUS_PLAIN * h)


# Brackets round a group of digits ("(555) 123-4567"): two one-piece strokes bowed outwards, the middle
# of "(" left of its ends and of ")" right of them by at least BRACKET_BOW of their height, level with
# each other, with a digit between them (a mark half as tall) and none taller than BRACKET_TALL times them,
# each stroke about as wide in every row (a 7's bar is not). Read as digits they are
# sure 1s. A bowed stroke without its partner is read as the 1 it may be: of MNIST's validation 1s,
# 2% bow as far, and a line of digits with two of them facing each other, the right way, is rarer still.
BRACKET_BOW = 0.08
BRACKET_NARROW = 0.6   # at most this many times as wide as tall
BRACKET_TALL = 1.1     # the marks between them are at most this many times as tall as the brackets
BRACKET_PLAIN = 1.05   # brackets shorter than this times the tallest digit between them may be two 1s bowed
                       # towards each other: they are read as digits, flagged (Separator.doubtful)


def bracket_bow(ink: np.ndarray) -> float:
    """How far the middle rows of a one-piece stroke's ink lie left of its top and bottom rows, times its
    height: positive for "(", negative for ")"; 0 where rows cross its ink more than once (a loop), or
    where some rows hold far more ink than most (a 7's bar, a 1's foot)."""
    rows = np.flatnonzero(ink.any(axis=1))
    if not rows.size:
        return 0.0
    band = ink[rows].astype(np.float32)
    widths = band.sum(axis=1)
    if (np.mean(np.count_nonzero(np.diff(band, axis=1) > 0, axis=1) + band[:, 0] > 1) > 0.1
            or np.percentile(widths, 95) > 2.5 * np.median(widths)):
        return 0.0
    xs = (band * np.arange(ink.shape[1])).sum(axis=1) / band.sum(axis=1)
    n = len(rows)
    k = max(1, int(0.15 * n))
    middle = np.median(xs[int(0.4 * n):int(0.6 * n) + 1])
    return float(((np.median(xs[:k]) + np.median(xs[-k:])) / 2 - middle) / max(1, ink.shape[0]))


def find_brackets(candidates: list, marks: list, labels: np.ndarray) -> list:
    """The pairs of brackets among `candidates` (tall marks) round marks of a line, and whether they may be
    digits after all (BRACKET_PLAIN): [(open, close, doubtful)]."""
    bowed = [(b, bow) for b in candidates if len(b.labels) == 1 and b.w <= BRACKET_NARROW * b.h
             for bow in [bracket_bow(blob_mask(labels, b))] if abs(bow) >= BRACKET_BOW]
    opens = sorted((b for b, bow in bowed if bow > 0), key=lambda b: b.x0)
    closes = [b for b, bow in bowed if bow < 0]
    pairs = []
    for o in opens:
        level = [c for c in closes if c.x0 >= o.x1 and _overlap(o.y0, o.y1, c.y0, c.y1) >= 0.5 * min(o.h, c.h)
                 and 0.75 <= c.h / o.h <= 1.33 and all(c is not p for _, p, _ in pairs)]
        if not level:
            continue
        c = min(level, key=lambda c: c.x0)
        if any(o.x1 <= other.x0 and other.x1 <= c.x0 and _overlap(o.y0, o.y1, other.y0, other.y1) >= 0.5 * min(o.h, other.h)
               for other in opens if other is not o):
            continue  # another "(" between them on the line: that one is this ")"'s partner
        top, foot = min(o.y0, c.y0), max(o.y1, c.y1)
        inside = [d for d in marks if d is not o and d is not c and o.x1 <= (d.x0 + d.x1) / 2 <= c.x0
                  and top <= (d.y0 + d.y1) / 2 <= foot]
        # Digits between them (not only a hyphen), none taller than they are.
        if (any(d.h >= 0.5 * min(o.h, c.h) for d in inside)
                and max(d.h for d in inside) <= BRACKET_TALL * min(o.h, c.h)):
            pairs.append((o, c, min(o.h, c.h) < BRACKET_PLAIN * max(d.h for d in inside)))
    return pairs


# A slash between two groups of digits ("12/05/2026", "3/4") is a straight stroke leaning right. A 1
# leans as far, often (an eighth of MNIST's 1s lean over 30 degrees), so the slash must also stand out
# of the line the digits on each side of it draw: taller than they are, or reaching well below their
# feet. A slash no taller than its digits, ending level with them, is read as the 1 it looks like,
# unless the line holds a slash that stands out and it is drawn alike (leaning as far, as tall, its
# foot as low): one writer draws the slashes of a date the same way.
SLASH_TILT = (15, 55)          # leaning right this many degrees from upright (its ink's main axis)
SLASH_STRAIGHT = (7.0, 6.0, 5.0)  # at least this many times as long as it is thick: one that stands out, one
                                  # alike, and any candidate (flagged at most, never taken: below)
SLASH_OUT = (1.2, 0.12, 0.3)   # taller than the digits beside it by this much, or its foot this far
                               # below theirs, or both ends together this far out (times their height),
SLASH_PIXELS = 3               # ... and at least this many pixels out (a small number's edges are blurred)
SLASH_FULL = 0.75              # the digits beside it: marks at least this share of their median height
SLASH_ALIKE = (6.0, 0.9, 0.1)  # alike: leaning within this many degrees of it, at least this share of its
                               # height, its foot within this much of the line's height as far below it
# A slash-shaped stroke not taken for a slash is read as the 1 it looks like, but flagged
# (Digit.maybe_slash) where it stands out of the line, where another on its line is drawn alike with a
# digit between them (alike_stroke: a date's two slashes, level with the digits), or where its foot
# reaches at least SLASH_LIKE_DROP (times the line's height) below the line's: a 1 stands on the line,
# and a slash often reaches below it. The last only for a stroke of the shape a slash is taken in
# (SLASH_TILT, SLASH_STRAIGHT[1]): on validation, the 1s leaning less, or thicker, that reach so far
# outnumber the slashes. A slash drawn 15 degrees off with a thick pen measures 12-15 on its ink (its
# round ends), and is short for its width: such strokes, leaning SLASH_LIKE_TILT or more and
# SLASH_STRAIGHT[2] times as long as thick, may be flagged (standing out, or alike), never taken (a
# test-set 1 leaning 14.3 degrees, its foot 0.13 of the line below the others, was taken for a slash
# when they were).
SLASH_LIKE_DROP = 0.02
SLASH_LIKE_TILT = 12


@dataclass
class Stroke:
    """A mark's shape as a possible slash."""
    tilt: float        # its ink's main axis, in degrees right of upright (SLASH_LIKE_TILT to SLASH_TILT[1])
    straight: float    # how many times as long as it is thick
    drop: float        # how far its foot is below the line's, times the line's height
    stands_out: bool   # taller than the digits on each side of it, or reaching well below them, or both ends out


def slash_stroke(mark: Blob, marks: list, labels: np.ndarray) -> "Stroke | None":
    """A straight mark leaning right between two digits, as a Stroke; None for any other mark."""
    if not (0.15 * mark.h <= mark.w <= 1.6 * mark.h):
        return None
    # Its ink's main axis first: most marks, digits, are no straight stroke leaning right.
    axis = mark_axis(mark, labels)
    if axis is None:
        return None
    tilt, straight = axis.lean, axis.straight
    if not (SLASH_LIKE_TILT <= tilt <= SLASH_TILT[1] and straight >= SLASH_STRAIGHT[2]):
        return None
    # The line on each side: the nearest two whole digits level with its middle, their tops and feet
    # taken as a straight line, since the line may be tilted. Not specks, nor pieces (a 5's body
    # without its hat, a short 7), which would bend that line: the marks short beside the nearest
    # three on each side are left out.
    cx, cy = (mark.x0 + mark.x1) / 2, (mark.y0 + mark.y1) / 2
    level = [d for d in marks if d is not mark and d.y0 < cy < d.y1 and d.h >= 0.4 * mark.h]
    left = sorted((d for d in level if d.x1 <= cx), key=lambda d: -d.x1)[:3]
    right = sorted((d for d in level if d.x0 >= cx), key=lambda d: d.x0)[:3]
    if not left or not right:
        return None
    full = SLASH_FULL * float(np.median([d.h for d in left + right]))
    left, right = [d for d in left if d.h >= full][:2], [d for d in right if d.h >= full][:2]
    if not left or not right:
        return None
    centres = [(d.x0 + d.x1) / 2 for d in left + right]
    top = np.polyval(np.polyfit(centres, [d.y0 for d in left + right], 1), cx)
    foot = np.polyval(np.polyfit(centres, [d.y1 for d in left + right], 1), cx)
    h = foot - top
    if h <= 0:
        return None
    taller, below, out = SLASH_OUT
    stands_out = (mark.h >= taller * h or mark.y1 - foot >= max(below * h, SLASH_PIXELS)
                  or (top - mark.y0) + (mark.y1 - foot) >= max(out * h, SLASH_PIXELS))
    return Stroke(float(tilt), straight, float((mark.y1 - foot) / h), bool(stands_out))


def slash_strokes(candidates: list, marks: list, labels: np.ndarray) -> list:
    """The candidates shaped and placed as slashes may be, each with its Stroke: [(Blob, Stroke)]."""
    return [(b, st) for b in candidates for st in [slash_stroke(b, marks, labels)] if st]


def find_slashes(strokes: list) -> list:
    """The marks of `strokes` (slash_strokes) that are slashes between digits: those that stand out of
    their line, and those drawn alike on a line with one."""
    sure = [(b, st) for b, st in strokes if st.stands_out and st.straight >= SLASH_STRAIGHT[0] and st.tilt >= SLASH_TILT[0]]
    return [b for b, st in strokes
            if any(a is b for a, _ in sure) or st.straight >= SLASH_STRAIGHT[1] and st.tilt >= SLASH_TILT[0] and any(
                _drawn_alike(b, st, a, sa) and b.h >= SLASH_ALIKE[1] * a.h for a, sa in sure)]


def _drawn_alike(mark: Blob, stroke: Stroke, other: Blob, other_stroke: Stroke) -> bool:
    """`other` spans mark's middle, leaning as far and its foot as low (SLASH_ALIKE); how tall each asks itself."""
    degrees, _, drop = SLASH_ALIKE
    return (other.y0 < (mark.y0 + mark.y1) / 2 < other.y1 and abs(stroke.tilt - other_stroke.tilt) <= degrees
            and abs(stroke.drop - other_stroke.drop) <= drop)


def alike_stroke(mark: Blob, stroke: Stroke, strokes: list, digits: list) -> bool:
    """Another stroke of `strokes` (slash_strokes), across mark's middle, is drawn alike (SLASH_ALIKE; as
    tall as each other to within its share, where find_slashes asks it of the stroke it may take), with a
    mark of `digits` between them, level with mark's middle and half its height: a date's two slashes
    drawn by one writer ("4/22/9311"), or two 1s, so they are flagged, not taken."""
    cy = (mark.y0 + mark.y1) / 2
    for other, st in strokes:
        if (other is mark or not _drawn_alike(mark, stroke, other, st)
                or min(mark.h, other.h) < SLASH_ALIKE[1] * max(mark.h, other.h)):
            continue
        lo, hi = sorted(((mark.x0 + mark.x1) / 2, (other.x0 + other.x1) / 2))
        if any(lo < (d.x0 + d.x1) / 2 < hi and d.y0 < cy < d.y1 and d.h >= 0.5 * mark.h
               for d in digits if d is not mark and d is not other):
            return True
    return False


def _beside(mark: Blob, slashes: list, marks: list) -> bool:
    """The nearest mark on either side of `mark`, level with its middle, is one of `slashes`."""
    cy = (mark.y0 + mark.y1) / 2
    level = [d for d in marks if d is not mark and d.y0 < cy < d.y1]
    left = max((d for d in level if d.x1 <= mark.x0 + 0.5 * mark.w), key=lambda d: d.x1, default=None)
    right = min((d for d in level if d.x0 >= mark.x1 - 0.5 * mark.w), key=lambda d: d.x0, default=None)
    return any(side is s for side in (left, right) for s in slashes)


def separator_kind(mark: Blob, marks: list, labels: np.ndarray) -> str:
    """"point", "comma", "minus", "dash" or "" for a small mark, given the other marks (digits, or pieces
    of them) and the label image."""
    dash = dash_kind(mark, marks, labels)
    if dash:
        return dash
    # The line's height, top and baseline: from the marks the mark begins in the lower half of (or
    # just below), near it. The median, since a digit drawn in pieces gives a short mark or two.
    beside = [d for d in marks if d is not mark and d.y0 + 0.5 * d.h <= mark.y0 <= d.y1 + 0.25 * d.h]
    cx = (mark.x0 + mark.x1) / 2
    near = [d for d in beside if abs((d.x0 + d.x1) / 2 - cx) <= 3 * d.h]
    if not near:
        return ""
    h = float(np.median([d.h for d in near]))
    top, base = float(np.median([d.y0 for d in near])), float(np.median([d.y1 for d in near]))
    # Its neighbours: the marks across the line's height (a 5's hat drawn apart is one), one each side.
    line = [d for d in marks if d is not mark and d.y0 < base and d.y1 > top]
    if _covered(mark, line):
        return ""
    slack = 0.15 * mark.w  # ink may graze a neighbour's box
    left = max((d.x1 for d in line if d.x1 <= mark.x0 + slack), default=None)
    right = min((d.x0 for d in line if d.x0 >= mark.x1 - slack), default=None)
    if left is None or right is None or mark.x0 - left > SEPARATOR_GAP * h or right - mark.x1 > SEPARATOR_GAP * h:
        return ""
    least, point_most, comma_most = SEPARATOR_SIZE
    # Both hang from the baseline: they start in the line's lowest third (a digit's foot broken off
    # starts higher, under its body).
    if mark.y0 < top + 0.7 * h or max(mark.w, mark.h) < least * h or mark.w > 0.4 * h:
        return ""
    if base + 0.12 * h < mark.y1 <= base + comma_most * h and mark.h <= comma_most * h and mark.h >= 1.3 * mark.w:
        return "comma"
    # A point is round-ish and its foot is at the baseline or a little below it (the end of a 5's hook
    # broken off is a flat dash).
    if (base - 0.15 * h <= mark.y1 <= base + 0.25 * h and max(mark.w, mark.h) <= point_most * h
            and 0.6 <= mark.h / mark.w <= 1.7):
        return "point"
    return ""


def _box_distance(a: Blob, b: Blob) -> int:
    """Gap between two boxes (0 when they overlap)."""
    return max(a.x0 - b.x1, b.x0 - a.x1, 0) + max(a.y0 - b.y1, b.y0 - a.y1, 0)


def merge_stacked(blobs: list) -> list:
    """Before lines are formed: a short mark just above or below a much taller one, overlapping it
    horizontally, is part of the same digit (the bar of a 7 or the hat of a 5 drawn apart), unless
    it sits in a line of digits of its own (_in_another_line). Done again until nothing joins: a 3
    broken in three joins its foot only once its middle has joined."""
    while True:
        merged = _merge_stacked_once(blobs)
        if len(merged) == len(blobs):
            return merged
        blobs = merged


def _in_another_line(piece: Blob, big: Blob, blobs: list) -> bool:
    """Two lines written close together: a small digit (or a piece of one) just above or below a digit
    of the other line looks like a 7's bar or a 5's hat. It is not one when a digit-sized mark beside it
    shares its height but not the taller mark's: that mark and the piece make a line of their own."""
    for other in blobs:
        # One pass's marks share no labels, so a mark is part of `big` if its first label is.
        if other is piece or other.h < 0.5 * big.h or other.labels[0] in big.labels:
            continue
        if (_overlap(piece.y0, piece.y1, other.y0, other.y1) >= 0.5 * piece.h
                and _overlap(big.y0, big.y1, other.y0, other.y1) <= 0):
            return True
    return False


def _merge_stacked_once(blobs: list) -> list:
    blobs = sorted(blobs, key=lambda b: b.h, reverse=True)
    out = []
    for b in blobs:
        for i, big in enumerate(out):
            x_overlap = _overlap(b.x0, b.x1, big.x0, big.x1)
            gap = max(big.y0 - b.y1, b.y0 - big.y1, 0)
            if (b.h < 0.5 * big.h and x_overlap >= 0.5 * min(b.w, big.w) and gap < 0.35 * big.h
                    and not _in_another_line(b, big, blobs)):
                out[i] = big.merged(b)
                break
        else:
            out.append(b)
    return out


def group_lines(blobs: list) -> list:
    """Lines of writing: blobs overlap a line's vertical span by at least 40% of their height."""
    lines = []  # each: [y0, y1, [blobs]]
    for b in sorted(blobs, key=lambda b: (b.y0 + b.y1) / 2):
        for line in lines:
            if _overlap(b.y0, b.y1, line[0], line[1]) >= 0.4 * min(b.h, line[1] - line[0]):
                line[0], line[1] = min(line[0], b.y0), max(line[1], b.y1)
                line[2].append(b)
                break
        else:
            lines.append([b.y0, b.y1, [b]])
    lines.sort(key=lambda line: line[0])
    lines = absorb_inner_lines(lines)
    return [sorted(line[2], key=lambda b: b.x0) for line in join_broken_digit(lines)]


def _inside_line(b: Blob, line: list) -> bool:
    """`b` lies within `line`'s height, and its centre within the box of the line's marks it overlaps
    across: a piece of one of that line's digits (the middle stroke of a 2 drawn in three pieces)."""
    if b.y0 < line[0] or b.y1 > line[1]:
        return False
    over = [a for a in line[2] if _overlap(b.x0, b.x1, a.x0, a.x1) > 0]
    if not over:
        return False
    union = functools.reduce(Blob.merged, over)
    return union.x0 <= (b.x0 + b.x1) / 2 <= union.x1 and union.y0 <= (b.y0 + b.y1) / 2 <= union.y1


def absorb_inner_lines(lines: list) -> list:
    """Lines are grown greedily, so a piece of a digit that sits between the digit's other pieces
    can start a "line" of its own before the digit's line reaches its height. Such a line, each of
    whose marks lies inside another line's digits, is part of that line."""
    out = list(lines)
    for line in sorted(lines, key=lambda line: line[1] - line[0]):
        host = next((h for h in out if h is not line and all(_inside_line(b, h) for b in line[2])), None)
        if host is not None:
            host[2].extend(line[2])
            out = [x for x in out if x is not line]
    return out


BROKEN_DIGIT_WIDTH = 1.0  # lines joined as one digit in pieces are together at most this wide per height


def join_broken_digit(lines: list) -> list:
    """One digit drawn in pieces one above the other is not several lines: an 8 whose loops do not
    meet, a 5 whose hat was drawn apart. Neighbouring "lines" of one or two marks each are joined
    when they almost touch top to bottom and overlap across, or when one is a short piece (the hat)
    close above or below the other; merge_strokes and the reader's joined pieces do the rest."""
    out = []
    for line in lines:
        if out:
            above = out[-1]
            gap = line[0] - above[1]
            ax0, ax1 = min(b.x0 for b in above[2]), max(b.x1 for b in above[2])
            bx0, bx1 = min(b.x0 for b in line[2]), max(b.x1 for b in line[2])
            ha, hb = above[1] - above[0], line[1] - line[0]
            tall = max(ha, hb)
            across = _overlap(ax0, ax1, bx0, bx1)
            apart = max(bx0 - ax1, ax0 - bx1, 0)
            touching = gap < 0.2 * tall and across >= 0.5 * min(ax1 - ax0, bx1 - bx0)
            piece = min(ha, hb) < 0.6 * tall and gap < 0.6 * tall and apart < 0.3 * tall
            few = len(above[2]) <= 2 and len(line[2]) <= 2
            # Lines that touch are one digit only if together they are about as wide as tall: two
            # lines of writing, each of touching digits (two marks), are wider. (A wider digit in
            # pieces, an 8 with a long tail, is for stacked_digit and the reader.)
            narrow = max(ax1, bx1) - min(ax0, bx0) <= BROKEN_DIGIT_WIDTH * (max(above[1], line[1]) - above[0])
            if few and (touching and narrow or piece):
                out[-1] = [above[0], max(above[1], line[1]), above[2] + line[2]]
                continue
        out.append(line)
    return out


STACKED_MARKS = 6      # a digit drawn in pieces has at most this many marks
STACKED_GAP = 0.25     # ... its "lines" are at most this far apart (times the tallest one's height)
STACKED_SMALLER = 0.7  # ... and all but the tallest are pieces: at most this times as tall,
STACKED_TOUCH = 0.05   # ... or the lines all but touch (at most this far apart)
STACKED_WIDTH = 1.5    # ... and together they are at most this times as wide as tall
STACKED_LOOSE_GAP = 0.4  # loosely: lines of one mark each (a 5 whose hat was drawn apart, a 2 drawn
                         # in three strokes) may be this far apart, whatever their sizes


def stacked_digit(lines: list, loose: bool = False) -> "Blob | None":
    """All the marks as one blob, when the "lines" may be one digit drawn in pieces (the loops of an
    8 that do not meet, a 9 whose stem was drawn apart): few marks, no wider together than a digit
    with a tail, and lines that are close and either touch or are pieces beside one taller line
    (two lines of writing have one size and a gap between them). `loose` also offers lines of one
    mark each that are further apart, whatever their sizes: two digits written one above the other
    look like that too, so the reader needs more to take them (a mark it doubts as a digit).
    Whether it is read as one digit is for the reader to decide: it compares the readings."""
    if len(lines) < 2 or sum(len(line) for line in lines) > STACKED_MARKS:
        return None
    spans = [(min(b.y0 for b in line), max(b.y1 for b in line)) for line in lines]
    heights = sorted(y1 - y0 for y0, y1 in spans)
    gap = max(b0 - a1 for (a0, a1), (b0, b1) in zip(spans, spans[1:]))
    pieces = heights[-2] <= STACKED_SMALLER * heights[-1]
    touching = gap <= STACKED_TOUCH * heights[-1]
    near = gap <= STACKED_GAP * heights[-1] and (pieces or touching)
    apart = loose and all(len(line) == 1 for line in lines) and gap <= STACKED_LOOSE_GAP * heights[-1]
    if not (near or apart):
        return None
    union = functools.reduce(Blob.merged, (b for line in lines for b in line))
    return union if union.w <= STACKED_WIDTH * union.h else None


def merge_strokes(line: list) -> list:
    """Merge marks of one digit: they overlap horizontally and sit above one another."""
    heights = sorted(b.h for b in line)
    line_h = heights[len(heights) // 2] if heights else 1
    out = []
    for b in sorted(line, key=lambda b: b.x0):
        if out:
            prev = out[-1]
            x_overlap = _overlap(b.x0, b.x1, prev.x0, prev.x1)
            y_overlap = _overlap(b.y0, b.y1, prev.y0, prev.y1)
            narrower = min(b.w, prev.w)
            stacked = x_overlap >= 0.5 * narrower and y_overlap < 0.5 * min(b.h, prev.h)
            small_inside = x_overlap >= 0.6 * narrower and min(b.h, prev.h) < 0.45 * line_h
            if stacked or small_inside:
                out[-1] = prev.merged(b)
                continue
        out.append(b)
    return out


def layout(mask: np.ndarray) -> Layout:
    blobs, labels, dropped, separators = find_marks(mask)
    if len(blobs) > MAX_MARKS:  # texture or noise, refused on the count alone: no lines to form
        return Layout(lines=[], labels=labels, marks=len(blobs), dropped=dropped)
    lines = [merge_strokes(line) for line in group_lines(merge_stacked(blobs))]
    return Layout(lines=lines, labels=labels, marks=len(blobs), dropped=dropped, separators=separators)


def blob_mask(labels: np.ndarray, blob: Blob) -> np.ndarray:
    return np.isin(labels[blob.y0:blob.y1, blob.x0:blob.x1], blob.labels).astype(np.uint8)


# A box or a triangle drawn as an outline reads as a sure 0 (two stacked, as an 8), a filled disc as a
# sure 0, and the verifier, trained on digits and their fragments, never saw either. Three tests of
# plain geometry, none of which any digit read surely passed on the validation sets (all five kinds):
POLYGON_SIDES = 4       # an outline with a hole, whose contour is at most this many straight sides,
POLYGON_STRAIGHT = 0.02 # ... straight to within this fraction of its length, is a drawn box or triangle,
POLYGON_HOLE_SPAN = 0.5 # ... when its hole spans this share of its width and height: an outline (a closed 4,
                        # a triangle on a stem drawn with straight strokes, spans a quarter of its height)
TANGLE_HOLES = 4        # this many loops or more is a tangle (an 8 has two, and a third, small one
                        # where its strokes cross is common); but two digits touching can make one too,
                        # so a tangle only flags the digit read there
LATTICE_HOLES = 12      # a mark with this many holes of MIN_HOLE_PIXELS or more, however small beside it,
LATTICE_PER_HEIGHT = 6  # ... and this many for each of its heights of width, is a mesh: squared paper's lines
                        # left in the ink, a scribble. Validation marks: at most 6 holes, 3.5 per height (on
                        # hard photos, where strokes cross); eight 8s overlapping in one mark, 16 and 3.9
HOLE_AREA = 0.01        # a hole counts if it is this share of the mark's convex hull,
MIN_HOLE_PIXELS = 6     # ... and at least this many pixels (blur leaves pinholes in small marks)
FILLED_SOLIDITY = 0.9   # a mark filling this much of its convex hull, with no hole,
FILLED_THICKNESS = 0.35 # ... and ink this deep (distance to its edge, times its longer side) is a filled blob
POLYGON, FILLED, TANGLE, LATTICE = ("a straight-sided shape", "a filled blob", "a tangle of loops",
                                    "a mesh of crossing lines")
PLAIN_SHAPES = (POLYGON, LATTICE)  # what no digits make, alone or touching: such a mark is not cut, not read
                                   # over by the line reader, and a page of nothing else has no digits. A filled
                                   # blob only flags its digit: a 0 written small with a thick pen can close up
                                   # into one


def drawn_shape(mask: np.ndarray) -> str:
    """What a mark plainly is if it is a drawn shape and not a digit, for people; "" otherwise.
    Straight lines stay straight under the reader's shear, and area ratios and holes do not change,
    so `mask` may be a sheared piece."""
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return ""
    outer = [c for c, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent < 0]
    inner = [c for c, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent >= 0]
    if len(inner) >= LATTICE_HOLES:
        _, _, w, h = cv2.boundingRect(binary)
        counted = sum(cv2.contourArea(c) >= MIN_HOLE_PIXELS for c in inner)  # not pinholes
        if counted >= max(LATTICE_HOLES, LATTICE_PER_HEIGHT * w / h):
            return LATTICE
    hull_area = max(1.0, cv2.contourArea(cv2.convexHull(np.vstack(outer))))
    holes = [c for c in inner  # not pinholes where strokes cross
             if cv2.contourArea(c) > max(HOLE_AREA * hull_area, MIN_HOLE_PIXELS)]
    if len(holes) >= TANGLE_HOLES:
        return TANGLE
    if holes:
        largest = max(outer, key=cv2.contourArea)
        corners = cv2.approxPolyDP(largest, POLYGON_STRAIGHT * cv2.arcLength(largest, True), True)
        if len(corners) > POLYGON_SIDES:
            return ""
        hole = max(holes, key=cv2.contourArea)
        (_, _, w, h), (_, _, hole_w, hole_h) = cv2.boundingRect(largest), cv2.boundingRect(hole)
        return POLYGON if min(hole_w / w, hole_h / h) >= POLYGON_HOLE_SPAN else ""
    if cv2.countNonZero(binary) <= FILLED_SOLIDITY * hull_area:
        return ""
    _, _, w, h = cv2.boundingRect(binary)
    depth = cv2.distanceTransform(np.pad(binary, 1), cv2.DIST_L2, 3).max()
    return FILLED if depth >= FILLED_THICKNESS * max(w, h) else ""


def estimate_slant(mask: np.ndarray) -> float:
    """Horizontal shear that makes the strokes most upright (sharpest column profile)."""
    h, w = mask.shape
    if h < 8 or mask.sum() == 0:
        return 0.0
    best, best_score = 0.0, -1.0
    for s in np.linspace(-0.5, 0.5, 11):
        sheared = shear(mask, s)
        profile = sheared.sum(0).astype(np.float64)
        score = float((profile ** 2).sum())
        if score > best_score:
            best, best_score = float(s), score
    return best


def shear_pad(s: float, h: int) -> int:
    """Columns added on each side by `shear` so nothing is cut off."""
    return int(np.ceil(abs(s) * h / 2)) + 1


def unshear_x(x: float, y: float, s: float, h: int) -> float:
    """The column in the original mask of column `x`, row `y` of `shear(mask, s)`."""
    return x - shear_pad(s, h) - s * (y - h / 2)


def shear(mask: np.ndarray, s: float) -> np.ndarray:
    """x' = x + s * (y - h/2), padded: positive s makes right-leaning (italic) strokes upright."""
    h, w = mask.shape
    pad = shear_pad(s, h)
    m = np.float32([[1, s, pad - s * h / 2], [0, 1, 0]])
    return cv2.warpAffine(mask, m, (w + 2 * pad, h), flags=cv2.INTER_NEAREST, borderValue=0)


def cut_candidates(mask: np.ndarray, line_h: float, max_cuts: int = 10) -> tuple[int, int, list]:
    """Where a blob of touching digits could be cut: (first inked column, end, [cut columns]).

    Cuts go at valleys of the column profile (touching digits join through thin strokes) and,
    for digits that overlap rather than touch, near the even splits of the blob into 2-4 parts.
    """
    columns = mask.sum(0).astype(np.float32)
    inked = np.nonzero(columns)[0]
    if len(inked) == 0:
        return 0, mask.shape[1], []
    c0, c1 = int(inked[0]), int(inked[-1]) + 1
    profile = np.convolve(columns, np.ones(3) / 3, mode="same")
    margin = max(2, int(0.15 * line_h))
    spacing = max(2, 0.12 * line_h)
    shallow = 0.8 * float(np.median(profile[c0:c1]))
    valleys = sorted((profile[x], x) for x in range(c0 + margin, c1 - margin)
                     if profile[x] <= profile[x - 1] and profile[x] <= profile[x + 1] and profile[x] <= shallow)
    width = c1 - c0
    for k in range(2, 5):  # even splits, snapped to the lowest column nearby
        for i in range(1, k):
            centre = c0 + i * width / k
            lo, hi = int(centre - 0.08 * width), int(centre + 0.08 * width) + 1
            lo, hi = max(c0 + margin, lo), min(c1 - margin, hi)
            if hi > lo:
                x = lo + int(np.argmin(profile[lo:hi]))
                valleys.append((profile[x] + 1e-3, x))
    chosen = []
    for _, x in sorted(valleys):
        if all(abs(x - c) >= spacing for c in chosen):
            chosen.append(x)
        if len(chosen) >= max_cuts:
            break
    return c0, c1, sorted(chosen)


def cut_seams(mask: np.ndarray, columns: list, band: int) -> np.ndarray:
    """For each start column, a top-to-bottom cut that crosses as little ink as it can (a seam, as in
    seam carving), staying within `band` columns of its start: it weaves between digits that
    overlap, where a straight cut would slice one of them. Returns (len(columns), h) column indices.
    """
    h, w = mask.shape
    columns = np.asarray(columns, dtype=np.int64)
    if len(columns) == 0:
        return np.zeros((0, h), np.int64)
    offsets = np.arange(-band, band + 1)
    xs = np.clip(columns[:, None] + offsets[None], 0, w - 1)           # (n, 2*band+1)
    # Crossing ink costs much more than drifting from the start column.
    cost = mask[:, xs].astype(np.float32).transpose(1, 0, 2) * 10.0     # (n, h, width)
    cost += 0.05 * np.abs(offsets)[None, None, :]
    n, width = len(columns), 2 * band + 1
    # acc holds each row's best cost so far, padded with inf on both sides so that a step left,
    # straight or right is a slice, not a copy (this loop is a good part of a read's time).
    acc = np.full((n, h, width + 2), np.inf, np.float32)
    acc[:, :, 1:-1] = cost
    acc[:, 0, 1:-1] = np.inf
    acc[:, 0, band + 1] = cost[:, 0, band]  # every seam starts at its own column, at the top
    for y in range(1, h):
        prev = acc[:, y - 1]
        acc[:, y, 1:-1] += np.minimum(np.minimum(prev[:, :-2], prev[:, 1:-1]), prev[:, 2:])
    path = np.empty((n, h), np.int64)
    path[:, -1] = acc[:, -1, 1:-1].argmin(1)
    rows = np.arange(n)[:, None]
    steps = np.arange(3)[None]
    for y in range(h - 2, -1, -1):
        j = path[:, y + 1]
        # In padded columns j, j+1, j+2 lie the unpadded j-1, j, j+1; the first best wins, as before.
        path[:, y] = j - 1 + acc[rows, y, j[:, None] + steps].argmin(1)
    return xs[rows, path]


# --- a whole line of writing, for the sequence reader --------------------------------------

LINE_HEIGHT = 32       # the sequence reader's input height
LINE_INNER = 28        # the line's ink is scaled to this height, leaving a margin above and below
MAX_LINE_WIDTH = 1024  # wider lines are squeezed: a number that long is read coarsely rather than slowly


@dataclass
class LineImage:
    pixels: np.ndarray     # uint8 (LINE_HEIGHT, W), ink bright
    to_source: np.ndarray  # 2x3 affine: line-image (x, y) -> working-image (x, y)


def line_angle(ys: np.ndarray, xs: np.ndarray, line_h: float) -> float:
    """The writing's direction in degrees, from the ink's principal axis; 0 for short lines,
    whose principal axis says more about the digits' shape than about the line."""
    width = xs.max() - xs.min() + 1
    if width < 2.5 * line_h or len(xs) < 20:
        return 0.0
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    vals, vecs = np.linalg.eigh(cov)
    vx, vy = vecs[:, 1]
    angle = float(np.degrees(np.arctan2(vy, vx)))
    angle = (angle + 90) % 180 - 90
    return angle if abs(angle) <= 12 else 0.0


def line_image(labels: np.ndarray, line: list) -> LineImage:
    """The ink of one line of blobs, levelled (rotation undone) and scaled to LINE_HEIGHT rows.

    Only the line's own marks are drawn, so specks, rules and other lines never reach the reader.
    Training (training.sequence) and reading (reader.py) both go through here.
    """
    x0, y0 = min(b.x0 for b in line), min(b.y0 for b in line)
    x1, y1 = max(b.x1 for b in line), max(b.y1 for b in line)
    ids = [i for b in line for i in b.labels]
    inside = np.isin(labels[y0:y1, x0:x1], ids).astype(np.uint8)
    mask = inside.astype(np.float32)
    bx, by, bw, bh = cv2.boundingRect(inside)
    angle, rot = 0.0, np.float64([[1, 0, 0], [0, 1, 0]])
    lx0, lx1, ly0, ly1 = bx, bx + bw, by, by + bh
    line_h = float(np.median([b.h for b in line]))
    if bw >= 2.5 * line_h:  # only long lines are levelled (line_angle): short ones skip the pixel scan
        ys, xs = np.nonzero(inside)
        angle = line_angle(ys, xs, line_h)
    if angle:
        rot = cv2.getRotationMatrix2D((float(xs.mean()), float(ys.mean())), angle, 1.0)  # region -> levelled
        u = rot[0, 0] * xs + rot[0, 1] * ys + rot[0, 2]
        v = rot[1, 0] * xs + rot[1, 1] * ys + rot[1, 2]
        lx0, lx1, ly0, ly1 = u.min(), u.max() + 1, v.min(), v.max() + 1
    scale = LINE_INNER / max(ly1 - ly0, 1.0)
    margin = (LINE_HEIGHT - LINE_INNER) / 2
    sx = scale
    out_w = int(round((lx1 - lx0) * scale + 4 * margin))
    if out_w > MAX_LINE_WIDTH:
        out_w = MAX_LINE_WIDTH
        sx = (MAX_LINE_WIDTH - 4 * margin) / max(lx1 - lx0, 1.0)
    to_line = np.float64([[sx, 0, 2 * margin - sx * lx0], [0, scale, margin - scale * ly0], [0, 0, 1]])
    full = to_line @ np.vstack([rot, [0, 0, 1]])
    # Shrinking a binary mask by a large factor aliases thin strokes away: blur first, like INTER_AREA.
    src = cv2.GaussianBlur(mask, (0, 0), 0.4 / min(scale, sx)) if min(scale, sx) < 0.5 else mask
    pix = cv2.warpAffine(src, full[:2], (out_w, LINE_HEIGHT), flags=cv2.INTER_LINEAR, borderValue=0)
    back = np.linalg.inv(full)[:2] + np.float64([[0, 0, x0], [0, 0, y0]])
    return LineImage(np.clip(pix * 255 + 0.5, 0, 255).astype(np.uint8), back)
