"""Synthetic multi-step benchmark: rendered images with known ground truth, questions that need
several tool steps, and a program-like record of those steps (as in CLEVR / GQA).

Deterministic by seed. Answers are balanced where the generator controls them (which receipt,
which panel, which bar), so guessing does not pay; `question_only_baseline` measures that.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

from agent.samples import font, packaged_photo, render_receipt, skimage_photo
from evals.schema import Question

FAMILIES = ("receipt", "receipts2", "chart", "shapes", "sign", "collage")


def _save(img: Image.Image, out_dir: Path, name: str) -> str:
    path = out_dir / f"{name}.png"
    if not path.exists():
        img.save(path)
    return str(path)


def receipt_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    r = render_receipt(seed=rng.randrange(10**6), n_items=rng.randint(4, 6))
    img = _save(r.image, out_dir, qid)
    read = [{"op": "ocr", "image": "img-1"}, {"op": "extract", "kind": "line_items"}]
    kind = rng.choice(["total", "max", "min", "count_over", "difference"])
    tools = ["ocr", "extract", "query"]
    if kind == "total":
        return Question(id=qid, question="What is the total on the receipt?", images=[img], answer=r.total,
                        metric="numeric", answer_type="number", family="receipt", steps=3, tools=tools,
                        program=read + [{"op": "query", "fn": "lookup", "key": "total"}])
    if kind in ("max", "min"):
        name, _ = (max if kind == "max" else min)(r.items, key=lambda it: it[1])
        word = "most expensive" if kind == "max" else "cheapest"
        return Question(id=qid, question=f"Which item on the receipt is the {word}?", images=[img], answer=name,
                        distractors=[n for n, _ in r.items if n != name],
                        family="receipt", steps=3, tools=tools, program=read + [{"op": "query", "fn": kind}])
    if kind == "count_over":
        prices = sorted(p for _, p in r.items)
        k = rng.randint(0, len(prices) - 1)  # the answer is balanced over 1..n
        threshold = int(prices[k]) if prices[k] > int(prices[k]) else int(prices[k]) - 1
        threshold = max(0, threshold)
        count = sum(1 for p in prices if p > threshold)
        return Question(id=qid, question=f"How many items on the receipt cost more than ${threshold}?",
                        images=[img], answer=count, metric="numeric", answer_type="count", family="receipt",
                        steps=3, tools=tools,
                        program=read + [{"op": "query", "fn": "count_where", "where": "gt", "value": threshold}])
    a, b = sorted(rng.sample(list(r.items), 2), key=lambda it: -it[1])
    return Question(id=qid, question=f"How much more does the {a[0]} cost than the {b[0]}?", images=[img],
                    answer=round(a[1] - b[1], 2), metric="numeric", answer_type="number", family="receipt",
                    steps=3, tools=tools,
                    program=read + [{"op": "query", "fn": "difference", "key": a[0], "key2": b[0]}])


def receipts2_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    while True:
        r1, r2 = (render_receipt(seed=rng.randrange(10**6), n_items=rng.randint(3, 5)) for _ in range(2))
        if r1.total != r2.total:
            break
    want_first = rng.random() < 0.5  # balance: the larger total is first half the time
    if (r1.total > r2.total) != want_first:
        r1, r2 = r2, r1
    imgs = [_save(r1.image, out_dir, f"{qid}-a"), _save(r2.image, out_dir, f"{qid}-b")]
    per = [{"op": "ocr"}, {"op": "extract"}, {"op": "query", "fn": "lookup", "key": "total"}]
    return Question(id=qid, question="Which receipt has the larger total, the first or the second?", images=imgs,
                    answer="first" if want_first else "second", metric="choice", choices=["first", "second"],
                    answer_type="choice", family="receipts2", steps=7, tools=["ocr", "extract", "query", "calculate"],
                    program=[dict(p, image="img-1") for p in per] + [dict(p, image="img-2") for p in per]
                    + [{"op": "calculate", "expression": "total1 - total2"}])


def chart_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    labels = rng.sample(["North", "South", "East", "West", "Metro", "Coast", "Hills"], rng.randint(3, 5))
    values = rng.sample(range(5, 95), len(labels))
    w, h, base = 120 * len(labels) + 80, 420, 360
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    for i, (lab, v) in enumerate(zip(labels, values)):
        x = 60 + i * 120
        top = base - v * 3
        d.rectangle((x, top, x + 70, base), fill=(70, 110, 200))
        d.text((x + 35, top - 8), str(v), font=font(24), fill="black", anchor="mb")
        d.text((x + 35, base + 12), lab, font=font(22), fill="black", anchor="mt")
    path = _save(img, out_dir, qid)
    read = [{"op": "ocr", "image": "img-1"}, {"op": "relate", "relation": "above", "note": "value above each label"}]
    if rng.random() < 0.5:
        best = labels[values.index(max(values))]
        return Question(id=qid, question="Which category has the highest bar?", images=[path], answer=best,
                        distractors=[l for l in labels if l != best],
                        family="chart", steps=3, tools=["ocr", "relate", "query"], program=read + [{"op": "argmax"}])
    a, b = rng.sample(range(len(labels)), 2)
    return Question(id=qid, question=f"What is the difference between the values of {labels[a]} and {labels[b]}?",
                    images=[path], answer=abs(values[a] - values[b]), metric="numeric", answer_type="number",
                    family="chart", steps=4, tools=["ocr", "relate", "calculate"],
                    program=read + [{"op": "calculate", "expression": f"|{labels[a]} - {labels[b]}|"}])


SHAPE_COLOURS = {"red": (220, 40, 40), "blue": (40, 80, 220), "green": (40, 170, 70), "yellow": (235, 200, 30)}


def shapes_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    n = rng.randint(3, 6)
    img = Image.new("RGB", (160 * n + 40, 300), "white")
    d = ImageDraw.Draw(img)
    shapes = []
    for i in range(n):
        shape, colour = rng.choice(["circle", "square", "triangle"]), rng.choice(list(SHAPE_COLOURS))
        number = rng.randint(10, 99)
        x, y = 40 + i * 160, 60
        box = (x, y, x + 110, y + 110)
        fill = SHAPE_COLOURS[colour]
        if shape == "circle":
            d.ellipse(box, fill=fill)
        elif shape == "square":
            d.rectangle(box, fill=fill)
        else:
            d.polygon([(x + 55, y), (x, y + 110), (x + 110, y + 110)], fill=fill)
        d.text((x + 55, y + 140), str(number), font=font(30), fill="black", anchor="mt")
        shapes.append({"shape": shape, "colour": colour, "number": number, "box": box})
    path = _save(img, out_dir, qid)
    kind = rng.choice(["count", "under", "colour"])
    if kind == "count":
        colour = rng.choice(list(SHAPE_COLOURS))
        count = sum(s["colour"] == colour for s in shapes)
        return Question(id=qid, question=f"How many {colour} shapes are there?", images=[path], answer=count,
                        metric="numeric", answer_type="count", family="shapes", steps=2, tools=["ground"],
                        program=[{"op": "find", "colour": colour}, {"op": "count"}], meta={"scene": shapes})
    target = rng.choice(shapes)
    same = [s for s in shapes if s["shape"] == target["shape"] and s["colour"] == target["colour"]]
    if kind == "under" and len(same) == 1:
        return Question(id=qid, question=f"What number is written under the {target['colour']} {target['shape']}?",
                        images=[path], answer=str(target["number"]), family="shapes", steps=3,
                        distractors=[str(s["number"]) for s in shapes if s is not target],
                        tools=["ground", "ocr", "relate"], meta={"scene": shapes},
                        program=[{"op": "find", "shape": target["shape"], "colour": target["colour"]},
                                 {"op": "ocr"}, {"op": "relate", "relation": "below"}])
    by_number = target
    return Question(id=qid, question=f"What color is the shape above the number {by_number['number']}?",
                    images=[path], answer=by_number["colour"], family="shapes", steps=3,
                    distractors=[c for c in SHAPE_COLOURS if c != by_number["colour"]],
                    tools=["ocr", "relate", "ask_image"], meta={"scene": shapes},
                    program=[{"op": "ocr"}, {"op": "relate", "relation": "above"}, {"op": "colour"}])


def sign_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    words = rng.sample(["EXIT", "OPEN", "PARKING", "CAFE", "TICKETS", "LIBRARY", "PHARMACY", "HOTEL"], 3)
    positions = ["top", "middle", "bottom"]
    img = Image.new("RGB", (520, 480), (245, 245, 240))
    d = ImageDraw.Draw(img)
    for i, word in enumerate(words):
        y = 40 + i * 150
        x = rng.randint(30, 200)
        d.rectangle((x - 15, y - 10, x + 30 * len(word), y + 70), fill=(30, 90, 50))
        d.text((x, y), word, font=font(44), fill="white")
    path = _save(img, out_dir, qid)
    k = rng.randrange(3)
    return Question(id=qid, question=f"What does the sign at the {positions[k]} say?", images=[path],
                    answer=words[k], family="sign", steps=2, tools=["ocr", "relate"],
                    distractors=[w for i, w in enumerate(words) if i != k],
                    program=[{"op": "ocr"}, {"op": "select", "position": positions[k]}])


PANEL_PHOTOS = {"cat": "chelsea", "cup": "coffee", "person": "astronaut", "rocket": "rocket", "bus": "bus.jpg"}


def collage_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    things = rng.sample(list(PANEL_PHOTOS), 3)
    numbers = rng.sample(range(10, 99), 3)
    panel_w, panel_h = 300, 260
    img = Image.new("RGB", (panel_w * 3 + 40, panel_h + 90), "white")
    d = ImageDraw.Draw(img)
    for i, (thing, num) in enumerate(zip(things, numbers)):
        src = PANEL_PHOTOS[thing]
        photo = Image.open(packaged_photo(src)).convert("RGB") if src.endswith(".jpg") else skimage_photo(src)
        photo.thumbnail((panel_w - 20, panel_h))
        x = 10 + i * (panel_w + 10)
        img.paste(photo, (x + (panel_w - photo.width) // 2, 10))
        d.text((x + panel_w // 2, panel_h + 30), str(num), font=font(36), fill="black", anchor="mt")
    path = _save(img, out_dir, qid)
    panels = ["left", "middle", "right"]
    k = rng.randrange(3)
    kind = rng.choice(["under", "which"])
    if kind == "under":
        return Question(id=qid, question=f"What number is under the {things[k]}?", images=[path],
                        answer=str(numbers[k]), family="collage", steps=3, tools=["detect", "ocr", "relate"],
                        distractors=[str(n) for i, n in enumerate(numbers) if i != k],
                        program=[{"op": "detect", "class": things[k]}, {"op": "ocr"}, {"op": "relate", "relation": "below"}])
    return Question(id=qid, question=f"Which panel shows the {things[k]}: left, middle or right?", images=[path],
                    answer=panels[k], metric="choice", choices=panels, answer_type="choice", family="collage",
                    steps=2, tools=["detect", "relate"], program=[{"op": "detect", "class": things[k]},
                                                                    {"op": "position"}])


GENERATORS: dict[str, Callable[[random.Random, str, Path], Question]] = {
    "receipt": receipt_question, "receipts2": receipts2_question, "chart": chart_question,
    "shapes": shapes_question, "sign": sign_question, "collage": collage_question,
}


def generate(n: int, seed: int, out_dir: Path, families: tuple[str, ...] = FAMILIES) -> list[Question]:
    """n questions, families in turn; the same (n, seed, families) always gives the same set."""
    unknown = set(families) - set(GENERATORS)
    if unknown:
        from agent.errors import UserInputError

        raise UserInputError(f"unknown synthetic families {sorted(unknown)}; available: {', '.join(FAMILIES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    questions = []
    for i in range(n):
        family = families[i % len(families)]
        rng = random.Random(f"{seed}:{i}:{family}")
        questions.append(GENERATORS[family](rng, f"syn-{seed}-{i:05d}", out_dir))
    return questions


def question_only_baseline(questions: list[Question]) -> dict[str, float]:
    """Accuracy of answering each question with the most common gold answer of the *other*
    questions of its family and template (leave-one-out): what ignoring the image gets."""
    from collections import Counter, defaultdict

    from evals.metrics import score

    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        template = " ".join(w for w in q.question.split() if not any(c.isdigit() for c in w))
        groups[f"{q.family}|{template}"].append(q)
    per_family: dict[str, list[float]] = defaultdict(list)
    for group in groups.values():
        for i, q in enumerate(group):
            others = Counter(str(o.answer) for j, o in enumerate(group) if j != i)
            guess = others.most_common(1)[0][0] if others else ""
            per_family[q.family].append(score(q.metric, guess, q.answer, q.choices, q.distractors))
    return {f: sum(v) / len(v) for f, v in per_family.items()}
