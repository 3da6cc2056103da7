"""Parse the boxes multimodal models write as plain text into pixel boxes.

Formats seen in the wild: Qwen-VL `<box>(x1,y1),(x2,y2)</box>` on a 0-1000 grid, Qwen2.5-VL
JSON `{"bbox_2d": [x1, y1, x2, y2]}` in pixels of the image it was sent, Shikra / Kosmos-style
`[0.12, 0.30, 0.55, 0.80]` in 0-1 units, and bare `[x1, y1, x2, y2]` pixel lists.
"""
from __future__ import annotations

import re
from typing import Literal

Box = tuple[float, float, float, float]
Scale = Literal["auto", "pixels", "unit", "1000"]

_NUM = r"(-?\d+(?:\.\d+)?)"
_QWEN_BOX = re.compile(rf"<box>\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*,\s*\(\s*{_NUM}\s*,\s*{_NUM}\s*\)\s*</box>")
_LIST4 = re.compile(rf"\[\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*,\s*{_NUM}\s*\]")


def parse_boxes(text: str, width: int, height: int, scale: Scale = "auto",
                sent_size: tuple[int, int] | None = None) -> list[Box]:
    """Pixel boxes in the original image. `sent_size` is the size the model actually saw
    (images are downscaled before sending), for pixel coordinates."""
    found: list[tuple[list[float], str]] = []
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
        b = (max(0.0, min(x1, x2) * fx), max(0.0, min(y1, y2) * fy),
             min(float(width), max(x1, x2) * fx), min(float(height), max(y1, y2) * fy))
        if b[2] > b[0] and b[3] > b[1]:
            boxes.append(b)
    return boxes
