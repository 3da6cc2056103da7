"""Boxes and the words people use for where things are.

`position_name` places a box in the image's 3x3 grid ("top-left", "top", "top-right", "left",
"middle", "right", "bottom-left", "bottom", "bottom-right"); `pick_position` picks, among boxes,
the one a position word means: "the sign at the top" is the topmost of the boxes in the top
row of the grid (or of all boxes, when none is there).
"""

from __future__ import annotations

from collections.abc import Sequence

from mmagent.core.artifacts import Box

# Every word a position name is built from, for matching questions.
POSITION_WORDS = ("top", "bottom", "left", "right", "middle")
POSITION_NAMES = ("top-left", "top", "top-right", "left", "middle", "right", "bottom-left", "bottom", "bottom-right")
_SYNONYMS = {"center": "middle", "centre": "middle", "central": "middle", "upper": "top", "lower": "bottom"}


def center(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def sides(a: Box, b: Box) -> tuple[str, str]:
    """Where box `a` lies relative to box `b`, by their centres: (left or right, above or below).

    >>> sides((0, 0, 10, 10), (20, 20, 30, 30))
    ('left', 'above')
    """
    (ax, ay), (bx, by) = center(a), center(b)
    return ("left" if ax < bx else "right"), ("above" if ay < by else "below")


def area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def overlap_1d(a1: float, a2: float, b1: float, b2: float) -> float:
    return max(0.0, min(a2, b2) - max(a1, b1))


def intersection(a: Box, b: Box) -> float:
    return overlap_1d(a[0], a[2], b[0], b[2]) * overlap_1d(a[1], a[3], b[1], b[3])


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes.

    >>> iou((0, 0, 2, 2), (1, 0, 3, 2))
    0.3333333333333333
    """
    inter = overlap_1d(a[0], a[2], b[0], b[2]) * overlap_1d(a[1], a[3], b[1], b[3])
    total = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / total) if total > 0 else 0.0


def contains_point(b: Box, x: float, y: float) -> bool:
    return b[0] <= x <= b[2] and b[1] <= y <= b[3]


def position_name(box: Box, width: float, height: float) -> str:
    """The box centre's cell in the image's 3x3 grid (one of POSITION_NAMES)."""
    cx, cy = center(box)
    col = ("left", "", "right")[min(2, max(0, int(3 * cx / max(width, 1e-6))))]
    row = ("top", "", "bottom")[min(2, max(0, int(3 * cy / max(height, 1e-6))))]
    return "-".join(p for p in (row, col) if p) or "middle"


def position_word(text: str) -> str | None:
    """A position a phrase names ("the upper left corner" -> "top-left"), else None."""
    from mmagent.tools.structure.text import words

    ws = [_SYNONYMS.get(w, w) for w in words(text)]
    named = {w for w in ws if w in POSITION_WORDS}
    if {"left", "right"} <= named or {"top", "bottom"} <= named:
        return None  # a list of options ("left, middle or right"), not a place
    row = next((w for w in ws if w in ("top", "bottom")), "")
    col = next((w for w in ws if w in ("left", "right")), "")
    if row or col:
        return "-".join(p for p in (row, col) if p)
    return "middle" if "middle" in ws else None


def pick_position(boxes: list[Box], wanted: str, width: float, height: float) -> int | None:
    """Index of the box a position means: among the boxes in that cell (or all, if none),
    the one furthest that way ("top": smallest y; "middle": closest to the centre)."""
    if not boxes:
        return None
    inside = [i for i, b in enumerate(boxes) if position_matches(position_name(b, width, height), wanted)]
    pool = inside or list(range(len(boxes)))
    parts = set(wanted.split("-"))

    def score(i: int) -> float:
        cx, cy = center(boxes[i])
        s = 0.0
        s += -cy if "top" in parts else cy if "bottom" in parts else 0.0
        s += -cx if "left" in parts else cx if "right" in parts else 0.0
        if parts == {"middle"}:
            s = -abs(cx - width / 2) - abs(cy - height / 2)
        return s

    return max(pool, key=score)


def position_matches(name: str, wanted: str) -> bool:
    """Does a position name satisfy a position asked for? "top" is satisfied by top-left, top
    and top-right; "top-left" only by top-left."""
    have, want = set(name.split("-")), set(wanted.split("-"))
    return bool(want) and want <= have
