"""Bar charts from pixels: bars are filled rectangles standing on one baseline (vertical) or
starting from one axis line (horizontal). Each bar's category is the text next to its base;
its value is the number printed at its end, or else read off the value axis: tick labels
(numbers beside the axis) calibrate pixels to values by a least-squares line. Tick labels
and value labels are how values are read, never data rows themselves."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.structure.colour import border_colour
from tools.structure.geometry import Box, center, overlap_1d
from tools.structure.phrases import Phrase
from tools.structure.text import parse_number


@dataclass
class Bar:
    category: str
    value: float | None
    box: Box
    value_from: str  # "label" (printed at the bar's end) | "axis" (tick calibration) | "none"
    category_box: Box | None = None


@dataclass
class Chart:
    bars: list[Bar]
    orientation: str  # vertical | horizontal
    axis_ticks: list[tuple[float, Box]]


def _bar_boxes(arr: np.ndarray, text_boxes: list[Box]) -> list[Box]:
    import cv2

    h, w = arr.shape[:2]
    bg = border_colour(arr)
    fg = (np.abs(arr.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 60).astype(np.uint8)
    for b in text_boxes:  # bold glyphs are thick enough to pass for small bars
        x1, y1, x2, y2 = (int(round(v)) for v in b)
        fg[max(0, y1 - 1):y2 + 1, max(0, x1 - 1):x2 + 1] = 0
    k = max(5, int(0.015 * min(h, w)))  # wider than text strokes, axis and grid lines
    solid = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=4)
    out = []
    for i in range(1, n):
        x, y, bw, bh, a = stats[i]
        if a < 0.75 * bw * bh or min(bw, bh) < k:  # not a filled rectangle (a slight tilt leaves corners empty)
            continue
        out.append((float(x), float(y), float(x + bw), float(y + bh)))
    return out


def _aligned(values: list[float], tol: float) -> list[int]:
    """Indices of the largest group of values within `tol` of each other."""
    best: list[int] = []
    for v in values:
        group = [i for i, u in enumerate(values) if abs(u - v) <= tol]
        if len(group) > len(best):
            best = group
    return best


def _tick_marks(arr: np.ndarray, strip: Box, vertical_axis: bool) -> list[float]:
    """Pixel positions of the short tick lines in a strip beside the value axis: the exact
    places tick labels stand for (OCR boxes are a few pixels off, which is a unit or more)."""
    import cv2

    x1, y1, x2, y2 = (int(round(v)) for v in strip)
    crop = arr[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
    if crop.size == 0:
        return []
    bg = border_colour(arr)
    fg = (np.abs(crop.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 120).astype(np.uint8)
    kernel = np.ones((1, 4), np.uint8) if vertical_axis else np.ones((4, 1), np.uint8)
    lines = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    n, _, stats, cents = cv2.connectedComponentsWithStats(lines, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if (vertical_axis and h <= 6 and w <= 30) or (not vertical_axis and w <= 6 and h <= 30):
            out.append(float(cents[i][1] + y1) if vertical_axis else float(cents[i][0] + x1))
    return out


def _snap(position: float, marks: list[float], tolerance: float) -> float:
    near = [m for m in marks if abs(m - position) <= tolerance]
    return min(near, key=lambda m: abs(m - position)) if near else position


def _calibrate(ticks: list[tuple[float, float]]) -> tuple[float, float, int] | None:
    """(slope, intercept, decimals) of value = slope * pixel + intercept from (pixel, value) ticks."""
    px = np.array([p for p, _ in ticks], dtype=float)
    val = np.array([v for _, v in ticks], dtype=float)
    while len(px) >= 2 and len(set(val)) >= 2:
        slope, intercept = np.polyfit(px, val, 1)
        resid = np.abs(slope * px + intercept - val)
        if resid.max() <= 0.02 * (val.max() - val.min()):
            break
        if len(px) <= 3:
            return None  # the numbers do not lie on one axis
        worst = int(resid.argmax())  # a misread label ("1007" for "100" and its tick mark)
        px, val = np.delete(px, worst), np.delete(val, worst)
    else:
        return None
    decimals = max((len(str(v).split(".")[1].rstrip("0")) if "." in str(v) else 0) for v in val)
    return float(slope), float(intercept), decimals


def parse_tick(text: str) -> float | None:
    """A number beside an axis; OCR reads the tick mark next to it as a dash or a bar ("80-")."""
    return parse_number(text.strip().rstrip("-–—|_ ").lstrip("|_ "))


def parse_chart(arr: np.ndarray, phrases: list[Phrase]) -> Chart | None:
    boxes = _bar_boxes(arr, [p.box for p in phrases])
    if len(boxes) < 2:
        return None
    typical = float(np.median([min(b[2] - b[0], b[3] - b[1]) for b in boxes]))
    vertical = _aligned([b[3] for b in boxes], 0.15 * typical)
    horizontal = _aligned([b[0] for b in boxes], 0.15 * typical)
    if len(vertical) >= max(2, len(horizontal)):
        bars, orientation = [boxes[i] for i in vertical], "vertical"
        bars = [b for b in bars if b[3] - b[1] > 0]
        bars.sort(key=lambda b: b[0])
    elif len(horizontal) >= 2:
        bars, orientation = [boxes[i] for i in horizontal], "horizontal"
        bars.sort(key=lambda b: b[1])
    else:
        return None
    # bars of one series have one width (vertical) or height (horizontal)
    thick = [(b[2] - b[0]) if orientation == "vertical" else (b[3] - b[1]) for b in bars]
    med = float(np.median(thick))
    bars = [b for b, t in zip(bars, thick) if 0.6 * med <= t <= 1.6 * med]
    if len(bars) < 2:
        return None
    numbers = [(p, parse_tick(p.text)) for p in phrases]
    words = [p for p, v in numbers if v is None]
    nums = [(p, v) for p, v in numbers if v is not None]
    v = orientation == "vertical"
    base = max(b[3] for b in bars) if v else min(b[0] for b in bars)
    # tick labels: numbers outside the bars' span, beside the value axis
    if v:
        left = min(b[0] for b in bars)
        ticks = [(p, val) for p, val in nums if p.box[2] <= left + 2]
        marks = _tick_marks(arr, (max(p.box[0] for p, _ in ticks), 0, left, arr.shape[0]), True) if ticks else []
        cal = _calibrate([(_snap(center(p.box)[1], marks, 0.6 * p.height), val) for p, val in ticks])
    else:
        bottom = max(b[3] for b in bars)
        ticks = [(p, val) for p, val in nums if p.box[1] >= bottom - 2]
        marks = _tick_marks(arr, (0, bottom, arr.shape[1], min(p.box[1] for p, _ in ticks) + 2), False) if ticks else []
        cal = _calibrate([(_snap(center(p.box)[0], marks, 0.6 * p.height), val) for p, val in ticks])
    tick_ids = {id(p) for p, _ in ticks} if cal else set()
    out = []
    for b in bars:
        cat = _category(b, words, v)
        label = _value_label(b, [(p, val) for p, val in nums if id(p) not in tick_ids], v)
        if label is not None:
            value, source = label, "label"
        elif cal is not None:
            slope, intercept, decimals = cal
            raw = slope * (b[1] if v else b[2]) + intercept  # the axis value at the bar's end
            value, source = (round(raw, decimals) if decimals else float(round(raw))), "axis"
        else:
            value, source = None, "none"
        out.append(Bar(cat.text if cat else "", value, b, source, cat.box if cat else None))
    if sum(1 for b in out if b.category) < 2 or sum(1 for b in out if b.value is not None) < 2:
        return None  # filled boxes without names and values (signs, table rules) are not a chart
    return Chart(out, orientation, [(val, p.box) for p, val in ticks] if cal else [])


def _category(bar: Box, words: list[Phrase], vertical: bool) -> Phrase | None:
    """The word next to the bar's base: under a vertical bar, left of a horizontal one."""
    best, best_gap = None, None
    for p in words:
        if vertical:
            if overlap_1d(bar[0], bar[2], p.box[0], p.box[2]) <= 0.3 * min(bar[2] - bar[0], p.box[2] - p.box[0]):
                continue
            gap = p.box[1] - bar[3]
        else:
            if overlap_1d(bar[1], bar[3], p.box[1], p.box[3]) <= 0.3 * min(bar[3] - bar[1], p.box[3] - p.box[1]):
                continue
            gap = bar[0] - p.box[2]
        if -0.5 * p.height <= gap <= 4 * p.height and (best_gap is None or gap < best_gap):
            best, best_gap = p, gap
    return best


def _value_label(bar: Box, nums: list[tuple[Phrase, float]], vertical: bool) -> float | None:
    """The number printed at the bar's end (above a vertical bar, right of a horizontal one,
    or just inside that end)."""
    best, best_gap = None, None
    for p, val in nums:
        cx, cy = center(p.box)
        if vertical:
            if not bar[0] - 0.2 * (bar[2] - bar[0]) <= cx <= bar[2] + 0.2 * (bar[2] - bar[0]):
                continue
            gap = bar[1] - p.box[3]
        else:
            if not bar[1] - 0.2 * (bar[3] - bar[1]) <= cy <= bar[3] + 0.2 * (bar[3] - bar[1]):
                continue
            gap = p.box[0] - bar[2]
        if -2.5 * p.height <= gap <= 2.5 * p.height and (best_gap is None or abs(gap) < abs(best_gap)):
            best, best_gap = val, gap
    return best
