"""Drawn graphics: bar charts (vertical or horizontal, value labels or an axis) and coloured
shapes with numbers."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from mmagent.core.samples import random_style
from mmagent.evals.schema import Question
from mmagent.evals.synthetic.common import phrase, save

CATEGORIES = ["North", "South", "East", "West", "Metro", "Coast", "Hills", "Lakes", "Delta"]
BAR_COLOURS = [(70, 110, 200), (220, 120, 40), (60, 150, 90), (150, 70, 160), (90, 90, 90)]


def chart_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    st = random_style(rng)
    labels = rng.sample(CATEGORIES, rng.randint(3, 6))
    step = rng.choice([1, 5])
    values = [v * step for v in rng.sample(range(5 // step + 1, 95 // step), len(labels))]
    vertical = rng.random() < 0.7
    printed = rng.random() < 0.6  # values printed on the bars; else read off the axis
    colour = rng.choice(BAR_COLOURS)
    unit = 3  # px per unit
    f_lab, f_val = st.font(22), st.font(22)
    if vertical:
        w, h, base, left = 120 * len(labels) + 140, 440, 370, 100
        img = Image.new("RGB", (w, h), st.page)
        d = ImageDraw.Draw(img)
        if not printed:
            d.line((left - 10, base, left - 10, base - 100 * unit), fill=st.ink, width=2)
            for t in range(0, 101, 20):
                d.line((left - 16, base - t * unit, left - 10, base - t * unit), fill=st.ink, width=2)
                d.text((left - 20, base - t * unit), str(t), font=f_val, fill=st.ink, anchor="rm")
        for i, (lab, v) in enumerate(zip(labels, values)):
            x = left + i * 120
            d.rectangle((x, base - v * unit, x + 70, base), fill=colour)
            if printed:
                d.text((x + 35, base - v * unit - 8), str(v), font=f_val, fill=st.ink, anchor="mb")
            d.text((x + 35, base + 12), lab, font=f_lab, fill=st.ink, anchor="mt")
    else:
        w, h, left = 520 if printed else 500, 90 * len(labels) + 110, 150
        img = Image.new("RGB", (w, h), st.page)
        d = ImageDraw.Draw(img)
        bottom = 40 + 90 * len(labels)
        if not printed:
            d.line((left, bottom, left + 100 * unit, bottom), fill=st.ink, width=2)
            for t in range(0, 101, 25):
                d.line((left + t * unit, bottom, left + t * unit, bottom + 6), fill=st.ink, width=2)
                d.text((left + t * unit, bottom + 10), str(t), font=f_val, fill=st.ink, anchor="mt")
        for i, (lab, v) in enumerate(zip(labels, values)):
            y = 40 + i * 90
            d.rectangle((left, y, left + v * unit, y + 55), fill=colour)
            if printed:
                d.text((left + v * unit + 8, y + 27), str(v), font=f_val, fill=st.ink, anchor="lm")
            d.text((left - 12, y + 27), lab, font=f_lab, fill=st.ink, anchor="rm")
    path = save(st.finish(img), out_dir, qid)
    common: dict[str, Any] = dict(
        images=[path], family="chart", tools=["layout", "query"], meta={"vertical": vertical, "printed": printed}
    )
    read = [{"op": "ocr"}, {"op": "layout", "view": "bars"}]
    common["meta"]["values"] = dict(zip(labels, values))
    kind = rng.choice(["max", "min", "difference", "value"])
    if kind in ("max", "min"):
        best = labels[values.index(max(values) if kind == "max" else min(values))]
        q = phrase(
            rng,
            [
                "Which category has the highest bar?",
                "Which category has the highest value?",
                "Which bar is the tallest?" if vertical else "Which bar is the longest?",
            ]
            if kind == "max"
            else ["Which category has the lowest value?", "Which category has the smallest bar?"],
        )
        return Question(
            id=qid,
            question=q,
            answer=best,
            distractors=[x for x in labels if x != best],
            steps=3,
            program=read + [{"op": "query", "fn": kind}],
            **common,
        )
    if kind == "value":
        i = rng.randrange(len(labels))
        q = phrase(rng, ["What is the value of {a}?", "What value does the {a} bar show?"], a=labels[i])
        return Question(
            id=qid,
            question=q,
            answer=values[i],
            metric="numeric",
            answer_type="number",
            steps=3,
            program=read + [{"op": "query", "fn": "lookup", "key": labels[i]}],
            **common,
        )
    a, b = rng.sample(range(len(labels)), 2)
    q = phrase(
        rng,
        [
            "What is the difference between the values of {a} and {b}?",
            "How much higher is {a} than {b}?" if values[a] > values[b] else "How much lower is {a} than {b}?",
        ],
        a=labels[a],
        b=labels[b],
    )
    return Question(
        id=qid,
        question=q,
        answer=abs(values[a] - values[b]),
        metric="numeric",
        answer_type="number",
        steps=4,
        program=read + [{"op": "query", "fn": "difference", "key": labels[a], "key2": labels[b]}],
        **common,
    )


SHAPE_COLOURS = {
    "red": (220, 40, 40),
    "blue": (40, 80, 220),
    "green": (40, 170, 70),
    "yellow": (235, 200, 30),
    "orange": (245, 140, 30),
    "purple": (135, 60, 175),
}
SHAPES = ["circle", "square", "triangle", "star", "hexagon", "diamond"]


def _polygon(shape: str, x: float, y: float, s: float) -> list[tuple[float, float]] | None:
    cx, cy, r = x + s / 2, y + s / 2, s / 2
    if shape == "triangle":
        return [(cx, y), (x, y + s), (x + s, y + s)]
    if shape == "diamond":
        return [(cx, y), (x + s, cy), (cx, y + s), (x, cy)]
    if shape == "hexagon":
        return [(cx + r * math.cos(math.radians(60 * k)), cy + r * math.sin(math.radians(60 * k))) for k in range(6)]
    if shape == "star":
        return [
            (
                cx + (r if k % 2 == 0 else 0.42 * r) * math.cos(math.radians(-90 + 36 * k)),
                cy + (r if k % 2 == 0 else 0.42 * r) * math.sin(math.radians(-90 + 36 * k)),
            )
            for k in range(10)
        ]
    return None


def shapes_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    st = random_style(rng)
    n = rng.randint(3, 6)
    rows = 2 if n >= 5 and rng.random() < 0.5 else 1
    per_row = math.ceil(n / rows)
    size = rng.randint(90, 120)
    img = Image.new("RGB", (170 * per_row + 40, 250 * rows + 30), st.page)
    d = ImageDraw.Draw(img)
    shapes, numbers = [], rng.sample(range(10, 99), n)
    for i in range(n):
        shape, colour = rng.choice(SHAPES), rng.choice(list(SHAPE_COLOURS))
        x, y = 40 + (i % per_row) * 170, 30 + (i // per_row) * 250
        fill = SHAPE_COLOURS[colour]
        poly = _polygon(shape, x, y, size)
        if shape == "circle":
            d.ellipse((x, y, x + size, y + size), fill=fill)
        elif shape == "square":
            d.rectangle((x, y, x + size, y + size), fill=fill)
        elif poly:
            d.polygon(poly, fill=fill)
        d.text((x + size / 2, y + size + 25), str(numbers[i]), font=st.font(30), fill=st.ink, anchor="mt")
        shapes.append({"shape": shape, "colour": colour, "number": numbers[i]})
    path = save(st.finish(img), out_dir, qid)
    common: dict[str, Any] = dict(images=[path], family="shapes", meta={"scene": shapes})
    kind = rng.choice(["count", "under", "colour", "shape"])
    if kind == "count":
        colour = rng.choice(list(SHAPE_COLOURS))
        common["meta"].update(kind="count", colour=colour)
        count = sum(s["colour"] == colour for s in shapes)
        q = phrase(rng, ["How many {c} shapes are there?", "How many shapes are {c}?"], c=colour)
        return Question(
            id=qid,
            question=q,
            answer=count,
            metric="numeric",
            answer_type="count",
            steps=2,
            tools=["layout", "query"],
            program=[{"op": "shapes"}, {"op": "count", "colour": colour}],
            **common,
        )
    target = rng.choice(shapes)
    same = [s for s in shapes if s["shape"] == target["shape"] and s["colour"] == target["colour"]]
    if kind == "under" and len(same) > 1:
        kind = "colour"  # "the red circle" must name one shape
    common["meta"].update(kind=kind, target=shapes.index(target))
    if kind == "under":
        q = phrase(
            rng,
            ["What number is written under the {c} {s}?", "Which number is below the {c} {s}?"],
            c=target["colour"],
            s=target["shape"],
        )
        return Question(
            id=qid,
            question=q,
            answer=str(target["number"]),
            steps=3,
            distractors=[str(s["number"]) for s in shapes if s is not target],
            tools=["layout", "query"],
            program=[
                {"op": "shapes"},
                {"op": "find", "shape": target["shape"], "colour": target["colour"]},
                {"op": "text_below"},
            ],
            **common,
        )
    if kind == "shape":
        q = phrase(
            rng,
            ["What shape is above the number {n}?", "Which shape is drawn above the number {n}?"],
            n=target["number"],
        )
        return Question(
            id=qid,
            question=q,
            answer=target["shape"],
            steps=3,
            distractors=[s for s in SHAPES if s != target["shape"]],
            tools=["layout", "query"],
            program=[{"op": "shapes"}, {"op": "find", "text": target["number"]}, {"op": "shape"}],
            **common,
        )
    q = phrase(
        rng,
        ["What color is the shape above the number {n}?", "What is the color of the shape above {n}?"],
        n=target["number"],
    )
    return Question(
        id=qid,
        question=q,
        answer=target["colour"],
        steps=3,
        distractors=[c for c in SHAPE_COLOURS if c != target["colour"]],
        tools=["layout", "attributes"],
        program=[{"op": "shapes"}, {"op": "find", "text": target["number"]}, {"op": "colour"}],
        **common,
    )
