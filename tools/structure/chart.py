"""Bar charts from pixels: bars are filled rectangles standing on one baseline (vertical) or
starting from one axis line (horizontal). Each bar's category is the text next to its base;
its value is the number printed at its end, or else read off the value axis: tick labels
(numbers beside the axis) calibrate pixels to values by a least-squares line. Tick labels
and value labels are how values are read, never data rows themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mmagent.tools.structure.colour import border_colour
from mmagent.tools.structure.geometry import Box, center, intersection, overlap_1d
from mmagent.tools.structure.phrases import Phrase
from mmagent.tools.structure.text import parse_number


@dataclass
class Bar:
    category: str
    value: float | None
    box: Box
    value_from: str  # "label" (printed at the bar's end) | "axis" (tick calibration) | "none"
    category_box: Box | None = None


@dataclass
class _Solid:
    box: Box
    along_y: float  # extent of the shape down its middle column (a tilted bar's true height)
    along_x: float  # extent along its middle row


@dataclass
class Chart:
    bars: list[Bar]
    orientation: str  # vertical | horizontal
    axis_ticks: list[tuple[float, Box]]


def _bar_boxes(arr: np.ndarray, text_boxes: list[Box]) -> list[_Solid]:
    import cv2

    h, w = arr.shape[:2]
    bg = border_colour(arr)
    fg = (np.abs(arr.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 60).astype(np.uint8)
    k = max(5, int(0.015 * min(h, w)))  # wider than text strokes, axis and grid lines
    solid = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=4)
    out = []
    for i in range(1, n):
        x, y, bw, bh, a = stats[i]
        if a < 0.75 * bw * bh or min(bw, bh) < k:  # not a filled rectangle (a slight tilt leaves corners empty)
            continue
        box = (float(x), float(y), float(x + bw), float(y + bh))
        if any(intersection(box, t) >= 0.8 * bw * bh for t in text_boxes):
            continue  # a bold glyph, thick enough to pass for a small bar
        # its length down the middle, counting pixels past half the bar's contrast with the page
        # (blur and JPEG smear edges by a pixel or two, a unit on a fine axis)
        mask = labels[y : y + bh, x : x + bw] == i
        colour = np.median(arr[y : y + bh, x : x + bw][mask], axis=0)
        half = 0.5 * float(np.abs(colour - bg).sum())
        pad = k  # the component was shrunk by the opening; look a little beyond it
        ya, yb, xa, xb = max(0, y - pad), min(h, y + bh + pad), max(0, x - pad), min(w, x + bw + pad)
        column = np.abs(arr[ya:yb, x + bw // 2].astype(np.int16) - bg).sum(axis=1) > half
        row = np.abs(arr[y + bh // 2, xa:xb].astype(np.int16) - bg).sum(axis=1) > half
        out.append(_Solid((float(x), float(y), float(x + bw), float(y + bh)), float(column.sum()), float(row.sum())))
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
    """Pixel positions of the tick marks on the value axis: the axis line is found in the strip
    beside the bars and fitted (it may be tilted), then sampled a few pixels off its label side;
    each run of ink there is a tick. Tick marks are pixel-exact, OCR boxes of the labels are not."""
    import cv2

    x1, y1, x2, y2 = (int(round(v)) for v in strip)
    x1, y1 = max(0, x1), max(0, y1)
    crop = arr[y1 : max(y1, y2), x1 : max(x1, x2)]
    if crop.size == 0:
        return []
    bg = border_colour(arr)
    fg = (np.abs(crop.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 90).astype(np.uint8)
    along = crop.shape[0] if vertical_axis else crop.shape[1]
    k = max(30, int(0.3 * along))
    kernel = np.ones((k, 1), np.uint8) if vertical_axis else np.ones((1, k), np.uint8)
    line = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(line, connectivity=8)
    if n < 2:
        return []
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == biggest)
    a_, b_ = (ys, xs) if vertical_axis else (xs, ys)  # fit across = slope * along + offset
    slope, offset = np.polyfit(a_, b_, 1)
    half = 0.5 * (stats[biggest, cv2.CC_STAT_WIDTH if vertical_axis else cv2.CC_STAT_HEIGHT])
    side = -1 if vertical_axis else 1  # labels sit left of a value axis on the left, below one at the bottom
    marks, run = [], []
    for t in range(int(a_.min()), int(a_.max()) + 1):
        c = int(round(slope * t + offset + side * (half + 3)))
        r_, c_ = (t, c) if vertical_axis else (c, t)
        inked = 0 <= r_ < fg.shape[0] and 0 <= c_ < fg.shape[1] and fg[r_, c_]
        if inked:
            run.append(t)
        elif run:
            marks.append(float(np.mean(run)) + (y1 if vertical_axis else x1))
            run = []
    if run:
        marks.append(float(np.mean(run)) + (y1 if vertical_axis else x1))
    return marks


def _snap(position: float, marks: list[float], tolerance: float) -> float:
    near = [m for m in marks if abs(m - position) <= tolerance]
    return min(near, key=lambda m: abs(m - position)) if near else position


def _refine(
    cal: tuple[float, float, int] | None, marks: list[float], ticks: list[tuple[float, float]]
) -> tuple[float, float, int] | None:
    """Sharpen a calibration with the tick marks' spacing: marks are pixel-exact and evenly
    spaced, label boxes are off by a pixel or two (a unit at the far end of the axis)."""
    if cal is None or len(marks) < 3 or len(ticks) < 2:
        return cal
    slope, intercept, decimals = cal
    values = sorted({v for _, v in ticks})
    step = float(np.median(np.diff(values)))
    expected = abs(step / slope)
    gaps = [g for g in np.diff(sorted(marks)) if abs(g - expected) <= 0.15 * expected]
    if len(gaps) < 2:
        return cal
    slope = float(np.sign(slope) * step / np.median(gaps))
    intercept = float(np.median([v - slope * p for p, v in ticks]))
    return slope, intercept, decimals


def _axis(
    labels: list[tuple[float, float]], marks: list[float], tolerances: list[float]
) -> tuple[tuple[float, float, int] | None, list[tuple[float, float]]]:
    """Calibration from tick labels at their OCR centres or snapped to the tick marks, whichever
    lies straighter (a blurred tick can be missed and a digit's stroke taken for one)."""
    snapped = [(_snap(px, marks, tol), v) for (px, v), tol in zip(labels, tolerances)]
    best: tuple[tuple[float, float, int] | None, list[tuple[float, float]], float] = (None, labels, float("inf"))
    for points in (snapped, labels):
        cal = _calibrate(points)
        if cal is not None:
            err = max(abs(cal[0] * px + cal[1] - v) for px, v in points)
            if err < best[2]:
                best = (cal, points, err)
    return _refine(best[0], marks, best[1]), best[1]


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
    """A number beside an axis; OCR reads the tick mark next to it as a dash or a bar ("80-"),
    and a lone zero as the letter o."""
    t = text.strip().rstrip("-–—|_ ").lstrip("|_ ")
    return 0.0 if t in ("o", "O") else parse_number(t)


def _pieces(p: Phrase, runs: list[str]) -> list[Phrase]:
    """A phrase cut into consecutive runs of its text, each boxed by its share of the characters."""
    out, pos = [], 0
    x0, width = p.box[0], p.box[2] - p.box[0]
    for text in runs:
        a, b = pos, pos + len(text)
        out.append(
            Phrase(
                text, (x0 + width * a / len(p.text), p.box[1], x0 + width * b / len(p.text), p.box[3]), p.score, p.line
            )
        )
        pos = b + 1
    return out


def split_numbers(phrases: list[Phrase]) -> list[Phrase]:
    """Numbers apart from each other and from words: tick labels read as one phrase ("0 25 50
    75 100"), or the axis' "0" read together with the first category ("0 Metro")."""
    out = []
    for p in phrases:
        tokens = p.text.split()
        if len(tokens) < 2 or all(parse_tick(t) is None for t in tokens):
            out.append(p)
            continue
        runs: list[list[str]] = []
        for t in tokens:  # numbers each on their own, words kept together
            if parse_tick(t) is not None or not runs or parse_tick(runs[-1][-1]) is not None:
                runs.append([t])
            else:
                runs[-1].append(t)
        out += _pieces(p, [" ".join(r) for r in runs])
    return out


def split_across(phrases: list[Phrase], bars: list[Box], vertical: bool) -> list[Phrase]:
    """Category names read as one phrase ("Lakes Metro South" under three bars) cut into words
    when the phrase spans several bars."""
    out = []
    for p in phrases:
        spanned = [
            b
            for b in bars
            if (overlap_1d(b[0], b[2], p.box[0], p.box[2]) if vertical else overlap_1d(b[1], b[3], p.box[1], p.box[3]))
            > 0
        ]
        tokens = p.text.split()
        out += _pieces(p, tokens) if vertical and len(spanned) >= 2 and len(tokens) >= 2 else [p]
    return out


def parse_chart(arr: np.ndarray, phrases: list[Phrase], reread: Callable[[Box], str] | None = None) -> Chart | None:
    """The chart in an image, if there is one. `reread(box)` reads a region again (zoomed in):
    asked for a bar's missing name or printed value when the other bars have theirs."""
    solids = _bar_boxes(arr, [p.box for p in phrases])
    if len(solids) < 2:
        return None
    phrases = split_numbers(phrases)
    length = {s.box: s for s in solids}
    boxes = [s.box for s in solids]
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
    phrases = split_across(phrases, bars, v := orientation == "vertical")
    numbers = [(p, parse_tick(p.text)) for p in phrases]
    words = [p for p, v in numbers if v is None]
    nums = [(p, val) for p, val in numbers if val is not None]
    # tick labels: numbers outside the bars' span, beside the value axis
    if v:
        left = min(b[0] for b in bars)
        ticks = [(p, val) for p, val in nums if p.box[2] <= left + 2]
        marks = _tick_marks(arr, (min(p.box[0] for p, _ in ticks), 0, left, arr.shape[0]), True) if ticks else []
        cal, points = _axis([(center(p.box)[1], val) for p, val in ticks], marks, [0.6 * p.height for p, _ in ticks])
    else:
        bottom = max(b[3] for b in bars)
        ticks = [(p, val) for p, val in nums if p.box[1] >= bottom - 2]
        marks = _tick_marks(arr, (0, bottom, arr.shape[1], max(p.box[3] for p, _ in ticks)), False) if ticks else []
        cal, points = _axis([(center(p.box)[0], val) for p, val in ticks], marks, [0.6 * p.height for p, _ in ticks])
    tick_ids = {id(p) for p, _ in ticks} if cal else set()
    out = []
    # The bars stand on the axis origin, one of the tick values (the one their base is nearest
    # to); each bar's value is then its length down its middle times the scale: robust to a
    # slightly tilted scan, where bases and tick labels are a few pixels apart.
    if cal is not None:
        slope, intercept, decimals = cal
        near = bars[0]
        at_base = slope * (near[3] if v else near[0]) + intercept
        values = sorted({val for _, val in points})
        step = float(np.median(np.diff(values)))  # the origin may have no label of its own
        base_value = values[0] + step * round((at_base - values[0]) / step)
    found = [
        (b, _category(b, words, v), _value_label(b, [(p, val) for p, val in nums if id(p) not in tick_ids], v))
        for b in bars
    ]
    printed = sum(1 for _, _, lab in found if lab is not None) > len(bars) / 2
    if sum(1 for _, cat, _ in found if cat is not None) < max(2, len(bars) / 2):
        return None  # most bars must be named by what OCR read; zooming in only fills gaps
    for b, cat, label in found:
        if reread is not None and cat is None:  # zoom in where the name must be
            text = reread(_name_region(b, v, arr.shape)).strip()
            cat = Phrase(text, _name_region(b, v, arr.shape), 0.5, -1) if text else None
        if reread is not None and label is None and printed:  # and where the value must be
            label = parse_tick(reread(_value_region(b, v, arr.shape)))
        if label is not None:
            value, source = label, "label"
        elif cal is not None:
            extent = length[b].along_y - 1 if v else length[b].along_x - 1  # a filled rectangle spans n+1 pixels
            raw = base_value + abs(slope) * extent
            value, source = (round(raw, decimals) if decimals else float(round(raw))), "axis"
        else:
            value, source = None, "none"
        out.append(Bar(cat.text if cat else "", value, b, source, cat.box if cat else None))
    if sum(1 for b in out if b.category) < 2 or sum(1 for b in out if b.value is not None) < 2:
        return None  # filled boxes without names and values (signs, table rules) are not a chart
    return Chart(out, orientation, [(val, p.box) for p, val in ticks] if cal else [])


def _name_region(bar: Box, vertical: bool, shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    if vertical:
        pad = 0.3 * (bar[2] - bar[0])
        return max(0, bar[0] - pad), bar[3], min(w, bar[2] + pad), min(h, bar[3] + 0.15 * h)
    return 0, max(0, bar[1] - 5), bar[0], min(h, bar[3] + 5)


def _value_region(bar: Box, vertical: bool, shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    if vertical:
        pad = 0.3 * (bar[2] - bar[0])
        return max(0, bar[0] - pad), max(0, bar[1] - 0.12 * h), min(w, bar[2] + pad), bar[1] + 4
    return bar[2] - 4, max(0, bar[1] - 5), min(w, bar[2] + 0.2 * w), min(h, bar[3] + 5)


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
