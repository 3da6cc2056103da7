"""Foreground regions on a plain background: flat-coloured shapes and photo panels.

The background is the border's median colour; every pixel clearly unlike it is foreground.
Connected components of the foreground, with text boxes (OCR) left out, are the regions: a
region of one flat colour is a shape (named by `shape.shape_name`, coloured by
`colour.dominant_colours`), a large textured region is a photo panel (a collage, a grid)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmagent.core.artifacts import Box
from mmagent.tools.structure.colour import border_colour, dominant_colours
from mmagent.tools.structure.geometry import area, intersection
from mmagent.tools.structure.shape import shape_name

FG_DISTANCE = 40  # summed |RGB difference| from the background that counts as foreground
# A region is at least min_area_frac of the image or this many pixels, whichever is less: on a
# large image (a 10 MP photo) a small shape is a far smaller share than on a page.
MIN_REGION_PX = 2500


@dataclass
class Region:
    box: Box
    area: int  # foreground pixels
    mask: np.ndarray  # bool, the box's crop
    flat: bool  # one colour (a drawn shape), not a photo


def foreground(arr: np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    bg = border_colour(arr) if bg is None else bg
    return np.abs(arr.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > FG_DISTANCE


def solid_glyph(arr: np.ndarray, text: str, box: Box, solid: float = 0.6) -> bool:
    """One character that is a filled shape OCR took for a letter ("O" for a circle): the ink
    in its box, cut to its own extent, is mostly solid and about as wide as tall. A glyph's
    strokes cover well under half of that (an "O" ring about a third); a thin "I" or "1" is
    not about as wide as tall."""
    if len(text.strip()) != 1:
        return False
    import cv2

    x1, y1, x2, y2 = (int(round(v)) for v in box)
    ink = foreground(arr[max(0, y1) : y2, max(0, x1) : x2], border_colour(arr)).astype(np.uint8)
    # opened: specks of a textured page in the box are not ink (they stretched the extent to
    # the whole box, and a filled circle on such a page stayed a letter)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(ink)
    if not len(xs):
        return False
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    filled = float(ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].mean())
    return filled >= solid and 0.5 <= w / h <= 2.0


def foreground_without_text(arr: np.ndarray, text_boxes: list[Box]) -> np.ndarray:
    """The foreground as a 0/1 uint8 mask (OpenCV's input), with every text box (and a
    2-pixel margin) cleared: text is data read by OCR, not a region."""
    fg = foreground(arr).astype(np.uint8)
    for b in text_boxes:
        x1, y1, x2, y2 = (int(round(v)) for v in b)
        fg[max(0, y1 - 2) : y2 + 2, max(0, x1 - 2) : x2 + 2] = 0
    return fg


def regions(arr: np.ndarray, text_boxes: list[Box], min_area_frac: float = 0.002) -> list[Region]:
    """Connected foreground components that are not text, largest first."""
    import cv2

    h, w = arr.shape[:2]
    fg = cv2.morphologyEx(foreground_without_text(arr, text_boxes), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    out = []
    for k in range(1, n):
        x, y, bw, bh, a = stats[k]
        if a < min(min_area_frac * h * w, MIN_REGION_PX) or bw < 8 or bh < 8:
            continue
        mask = labels[y : y + bh, x : x + bw] == k
        pixels = arr[y : y + bh, x : x + bw][mask]
        spread = float(np.median(np.abs(pixels.astype(np.int16) - np.median(pixels, axis=0)).sum(axis=1)))
        out.append(Region((float(x), float(y), float(x + bw), float(y + bh)), int(a), mask, flat=spread < 30))
    return sorted(out, key=lambda r: -r.area)


@dataclass
class Shape:
    box: Box
    shape: str
    colour: str
    colours: list[tuple[str, float]]
    area: int


def find_shapes(arr: np.ndarray, text_boxes: list[Box]) -> list[Shape]:
    """Flat-coloured regions (drawn shapes), each with its shape and colour names."""
    out = []
    for r in regions(arr, text_boxes):
        if not r.flat:
            continue
        x1, y1 = int(r.box[0]), int(r.box[1])
        pixels = arr[y1 : y1 + r.mask.shape[0], x1 : x1 + r.mask.shape[1]][r.mask]
        colours = dominant_colours(pixels)
        out.append(Shape(r.box, shape_name(r.mask), colours[0][0], colours, r.area))
    return out


def find_panels(arr: np.ndarray, text_boxes: list[Box], min_area_frac: float = 0.03) -> list[Box]:
    """Photo panels of a collage or grid: large textured regions (pictures pasted on a plain
    page), merged with any smaller region they contain; in reading order."""
    import cv2

    h, w = arr.shape[:2]
    # close small gaps inside a photo (white patches that touch its edge) so it is one region
    k = max(3, int(0.01 * min(h, w)))
    fg = cv2.morphologyEx(foreground_without_text(arr, text_boxes), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    boxes = []
    for i in range(1, n):
        x, y, bw, bh, a = stats[i]
        if bw * bh < min_area_frac * h * w or min(bw, bh) < 0.08 * min(h, w):
            continue
        pixels = arr[y : y + bh, x : x + bw][labels[y : y + bh, x : x + bw] == i]
        spread = float(np.median(np.abs(pixels.astype(np.int16) - np.median(pixels, axis=0)).sum(axis=1)))
        if spread < 30:
            continue  # flat colour: a drawn shape or a bar, not a photo
        boxes.append((float(x), float(y), float(x + bw), float(y + bh)))
    boxes = [b for b in boxes if not any(o != b and intersection(o, b) > 0.8 * area(b) for o in boxes)]
    return sorted(boxes, key=lambda b: (round(b[1] / max(1.0, 0.25 * h)), b[0]))
