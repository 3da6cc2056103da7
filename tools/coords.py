"""Parse the boxes multimodal models write as plain text into pixel boxes.

Formats seen in the wild: Qwen-VL `<box>(x1,y1),(x2,y2)</box>` on a 0-1000 grid, Qwen2.5-VL
JSON `{"bbox_2d": [x1, y1, x2, y2]}` in pixels of the image it was sent, Shikra / Kosmos-style
`[0.12, 0.30, 0.55, 0.80]` in 0-1 units, and bare `[x1, y1, x2, y2]` pixel lists.
"""

from __future__ import annotations

import re
from typing import Literal

from mmagent.core.artifacts import Box

Scale = Literal["auto", "pixels", "unit", "1000"]

_NUM = r"(-?\d+(?:\.\d+)?)"
_QWEN_BOX = re.compile(rf"<box>\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*,\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*</box>")
_LIST4 = re.compile(rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]")


def parse_boxes(
    text: str, width: int, height: int, scale: Scale = "auto", sent_size: tuple[int, int] | None = None
) -> list[Box]:
    """Pixel boxes in the original image. `sent_size` is the size the model actually saw
    (images are downscaled before sending), for pixel coordinates."""
    found: list[tuple[list[float], str]] = []
    kind: str
    for m in _QWEN_BOX.finditer(text):
        found.append(([float(v) for v in m.groups()], "1000" if scale == "auto" else scale))
    rest = _QWEN_BOX.sub(" ", text)
    for m in _LIST4.finditer(rest):
        vals = [float(v) for v in m.groups()]
        if scale != "auto":
            kind = scale
        elif max(abs(v) for v in vals) <= 1.0:
            kind = "unit"
        else:
            kind = "pixels"
        found.append((vals, kind))
    sw, sh = sent_size or (width, height)
    boxes = []
    for (x1, y1, x2, y2), kind in found:
        if kind == "1000":
            fx, fy = width / 1000.0, height / 1000.0
        elif kind == "unit":
            fx, fy = float(width), float(height)
        else:
            fx, fy = width / sw, height / sh
        b = (
            max(0.0, min(x1, x2) * fx),
            max(0.0, min(y1, y2) * fy),
            min(float(width), max(x1, x2) * fx),
            min(float(height), max(y1, y2) * fy),
        )
        if b[2] > b[0] and b[3] > b[1]:
            boxes.append(b)
    return boxes


_KOSMOS = re.compile(r"<patch_index_(\d{4})>\s*<patch_index_(\d{4})>")
_FLORENCE = re.compile(r"<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>")


def parse_kosmos2(text: str, width: int, height: int, patches_per_side: int = 32) -> list[Box]:
    """Kosmos-2 `<object><patch_index_UL><patch_index_LR></object>` on a 32x32 patch grid
    (the same rule as Kosmos2Processor.post_process_generation)."""
    cell = 1.0 / patches_per_side
    boxes = []
    for ul, lr in ((int(a), int(b)) for a, b in _KOSMOS.findall(text)):
        ux, uy, lx, ly = ul % patches_per_side, ul // patches_per_side, lr % patches_per_side, lr // patches_per_side
        if ul == lr or ux == lx or uy == ly:
            x1, y1, x2, y2 = ux * cell, uy * cell, lx * cell + cell, ly * cell + cell
        else:
            x1, y1, x2, y2 = ux * cell + cell / 2, uy * cell + cell / 2, lx * cell + cell / 2, ly * cell + cell / 2
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
    return [b for b in boxes if b[2] > b[0] and b[3] > b[1]]


def parse_florence2(text: str, width: int, height: int, bins: int = 1000) -> list[Box]:
    """Florence-2 `<loc_x1><loc_y1><loc_x2><loc_y2>`, each a bin of 1000 across the image."""
    boxes = []
    for vals in _FLORENCE.findall(text):
        x1, y1, x2, y2 = ((int(v) + 0.5) / bins for v in vals)
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
    return [b for b in boxes if b[2] > b[0] and b[3] > b[1]]
