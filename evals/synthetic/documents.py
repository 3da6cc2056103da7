"""Text documents: receipts, two receipts, printed tables, signs."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from mmagent.core.samples import random_style, render_receipt
from mmagent.evals.schema import Question
from mmagent.evals.synthetic.common import phrase, save

READ = [{"op": "ocr", "image": "img-1"}, {"op": "layout", "view": "items"}]


def receipt_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    extras = rng.random() < 0.5
    r = render_receipt(seed=rng.randrange(10**6), n_items=rng.randint(4, 6), style=random_style(rng), extras=extras)
    img = save(r.image, out_dir, qid)
    kinds = ["total", "max", "min", "count_over", "difference", "price"] + (["tax"] if extras else [])
    kind = rng.choice(kinds)
    tools = ["ocr", "layout", "query"]
    common: dict[str, Any] = dict(images=[img], family="receipt", steps=3, tools=tools, meta={"kind": kind})
    if kind == "total":
        q = phrase(
            rng,
            [
                "What is the total on the receipt?",
                "How much is the total?",
                "What is the total amount of the bill?",
                "How much was paid in total?",
            ],
        )
        return Question(
            id=qid,
            question=q,
            answer=r.total,
            metric="numeric",
            answer_type="number",
            program=READ + [{"op": "query", "fn": "field", "key": "total"}],
            **common,
        )
    if kind == "tax":
        q = phrase(rng, ["How much tax was charged?", "What is the tax on the receipt?"])
        return Question(
            id=qid,
            question=q,
            answer=r.tax,
            metric="numeric",
            answer_type="number",
            program=READ + [{"op": "query", "fn": "field", "key": "tax"}],
            **common,
        )
    if kind in ("max", "min"):
        name, _ = (max if kind == "max" else min)(r.items, key=lambda it: it[1])
        q = phrase(
            rng,
            [
                "Which item on the receipt is the most expensive?",
                "What is the most expensive item?",
                "Which item costs the most?",
            ]
            if kind == "max"
            else [
                "Which item on the receipt is the cheapest?",
                "What is the least expensive item?",
                "Which item costs the least?",
            ],
        )
        return Question(
            id=qid,
            question=q,
            answer=name,
            distractors=[n for n, _ in r.items if n != name],
            program=READ + [{"op": "query", "fn": kind}],
            **common,
        )
    if kind == "count_over":
        prices = sorted(p for _, p in r.items)
        k = rng.randint(0, len(prices) - 1)  # the answer is balanced over 1..n
        threshold = int(prices[k]) if prices[k] > int(prices[k]) else int(prices[k]) - 1
        threshold = max(0, threshold)
        count = sum(1 for p in prices if p > threshold)
        q = phrase(
            rng,
            [
                "How many items on the receipt cost more than ${t}?",
                "How many items are priced above ${t}?",
                "How many of the items cost over ${t}?",
            ],
            t=threshold,
        )
        return Question(
            id=qid,
            question=q,
            answer=count,
            metric="numeric",
            answer_type="count",
            program=READ + [{"op": "query", "fn": "count_where", "where": "gt", "value": threshold}],
            **common,
        )
    if kind == "price":
        name, price = rng.choice(r.items)
        q = phrase(
            rng, ["What is the price of the {n}?", "How much does the {n} cost?", "How much was the {n}?"], n=name
        )
        return Question(
            id=qid,
            question=q,
            answer=price,
            metric="numeric",
            answer_type="number",
            program=READ + [{"op": "query", "fn": "lookup", "key": name}],
            **common,
        )
    a, b = sorted(rng.sample(list(r.items), 2), key=lambda it: -it[1])
    q = phrase(
        rng,
        [
            "How much more does the {a} cost than the {b}?",
            "What is the price difference between the {a} and the {b}?",
            "By how much is the {a} more expensive than the {b}?",
        ],
        a=a[0],
        b=b[0],
    )
    return Question(
        id=qid,
        question=q,
        answer=round(a[1] - b[1], 2),
        metric="numeric",
        answer_type="number",
        program=READ + [{"op": "query", "fn": "difference", "key": a[0], "key2": b[0]}],
        **common,
    )


def receipts2_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    while True:
        r1, r2 = (
            render_receipt(
                seed=rng.randrange(10**6), n_items=rng.randint(3, 5), style=random_style(rng), extras=rng.random() < 0.3
            )
            for _ in range(2)
        )
        if r1.total != r2.total:
            break
    want_first = rng.random() < 0.5  # balance: the answer is the first receipt half the time
    larger = rng.random() < 0.6
    if ((r1.total > r2.total) == larger) != want_first:
        r1, r2 = r2, r1
    imgs = [save(r1.image, out_dir, f"{qid}-a"), save(r2.image, out_dir, f"{qid}-b")]
    word = "larger" if larger else "smaller"
    q = phrase(
        rng,
        [
            "Which receipt has the {w} total, the first or the second?",
            "Is the total {w} on the first receipt or on the second?",
        ],
        w=word,
    )
    per = [{"op": "ocr"}, {"op": "layout"}, {"op": "query", "fn": "field", "key": "total"}]
    return Question(
        id=qid,
        question=q,
        images=imgs,
        answer="first" if want_first else "second",
        metric="choice",
        choices=["first", "second"],
        answer_type="choice",
        family="receipts2",
        steps=7,
        tools=["ocr", "layout", "query"],
        program=[dict(p, image="img-1") for p in per]
        + [dict(p, image="img-2") for p in per]
        + [{"op": "query", "fn": "compare", "key": "total", "which": "max" if larger else "min"}],
    )


PEOPLE = ["Alice", "Bruno", "Chen", "Dana", "Emil", "Farah", "Gita", "Hugo", "Ines", "Jonas", "Kofi", "Lena"]
CITIES = ["Paris", "Lima", "Oslo", "Cairo", "Tokyo", "Quito", "Dublin", "Austin", "Madrid", "Seoul"]


def table_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    st = random_style(rng)
    n = rng.randint(3, 6)
    names, cities = rng.sample(PEOPLE, n), [rng.choice(CITIES) for _ in range(n)]
    ages, scores = rng.sample(range(19, 70), n), rng.sample(range(40, 100), n)
    header = ["Name", "City", "Age", "Score"]
    col_x = [0, 170, 340, 450]
    s = st.scale
    w, line_h = round(600 * s), round(50 * s)
    img = Image.new("RGB", (w, round(60 * s) + line_h * (n + 1) + 20), st.page)
    d = ImageDraw.Draw(img)
    y = round(30 * s)
    for k, text in enumerate(header):
        d.text((round((30 + col_x[k]) * s), y), text, font=st.font(28), fill=st.ink)
    d.line((20, y + line_h - 8, w - 20, y + line_h - 8), fill=st.ink, width=2)
    for i in range(n):
        y += line_h
        for k, text in enumerate([names[i], cities[i], str(ages[i]), str(scores[i])]):
            d.text((round((30 + col_x[k]) * s), y), text, font=st.font(26), fill=st.ink)
    path = save(st.finish(img), out_dir, qid)
    kind = rng.choice(["argmax", "argmin_city", "difference", "lookup", "count_over"])
    common: dict[str, Any] = dict(images=[path], family="table", tools=["ocr", "layout", "query"], meta={"kind": kind})
    read = [{"op": "ocr"}, {"op": "layout", "view": "table"}]
    if kind == "argmax":
        best = names[scores.index(max(scores))]
        q = phrase(
            rng,
            ["Who has the highest score?", "Which person scored the most?", "Whose score is the highest in the table?"],
        )
        return Question(
            id=qid,
            question=q,
            answer=best,
            distractors=[x for x in names if x != best],
            steps=3,
            program=read + [{"op": "query", "fn": "max", "column": "Score", "answer": "Name"}],
            **common,
        )
    if kind == "argmin_city":
        i = ages.index(min(ages))
        q = phrase(rng, ["Which city does the youngest person live in?", "What is the city of the youngest person?"])
        return Question(
            id=qid,
            question=q,
            answer=cities[i],
            distractors=[c for c in set(cities) if c != cities[i]],
            steps=3,
            program=read + [{"op": "query", "fn": "min", "column": "Age", "answer": "City"}],
            **common,
        )
    if kind == "difference":
        a, b = rng.sample(range(n), 2)
        q = phrase(
            rng,
            [
                "What is the difference between the scores of {a} and {b}?",
                "By how many points do the scores of {a} and {b} differ?",
            ],
            a=names[a],
            b=names[b],
        )
        return Question(
            id=qid,
            question=q,
            answer=abs(scores[a] - scores[b]),
            metric="numeric",
            answer_type="number",
            steps=4,
            program=read + [{"op": "query", "fn": "difference", "key": names[a], "key2": names[b], "column": "Score"}],
            **common,
        )
    if kind == "lookup":
        i = rng.randrange(n)
        q = phrase(rng, ["How old is {a}?", "What is the age of {a}?", "What age is listed for {a}?"], a=names[i])
        return Question(
            id=qid,
            question=q,
            answer=ages[i],
            metric="numeric",
            answer_type="number",
            steps=3,
            program=read + [{"op": "query", "fn": "lookup", "key": names[i], "column": "Age"}],
            **common,
        )
    k = rng.randint(0, n - 1)
    threshold = sorted(scores)[k] - 1 if rng.random() < 0.5 else sorted(scores)[k]
    count = sum(1 for v in scores if v > threshold)
    q = phrase(rng, ["How many people have a score above {t}?", "How many people scored more than {t}?"], t=threshold)
    return Question(
        id=qid,
        question=q,
        answer=count,
        metric="numeric",
        answer_type="count",
        steps=3,
        program=read + [{"op": "query", "fn": "count_where", "column": "Score", "where": "gt", "value": threshold}],
        **common,
    )


SIGN_WORDS = ["EXIT", "OPEN", "PARKING", "CAFE", "TICKETS", "LIBRARY", "PHARMACY", "HOTEL", "MUSEUM", "BAKERY"]
SIGN_COLOURS = [(30, 90, 50), (30, 60, 140), (150, 30, 30), (40, 40, 40)]


def sign_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    st = random_style(rng)
    words = rng.sample(SIGN_WORDS, 3)
    vertical = rng.random() < 0.6
    img = Image.new("RGB", (520, 480) if vertical else (900, 320), st.page)
    d = ImageDraw.Draw(img)
    fnt = st.font(44)
    for i, word in enumerate(words):
        tw = d.textlength(word, font=fnt)
        if vertical:
            x, y = rng.randint(30, max(31, int(480 - tw))), 40 + i * 150
        else:
            x, y = 30 + i * 290 + rng.randint(0, max(1, int(250 - tw))), rng.randint(60, 200)
        d.rectangle((x - 15, y - 10, x + tw + 15, y + 70), fill=rng.choice(SIGN_COLOURS))
        d.text((x, y), word, font=fnt, fill="white")
    path = save(st.finish(img), out_dir, qid)
    positions = ["top", "middle", "bottom"] if vertical else ["left", "middle", "right"]
    k = rng.randrange(3)
    q = phrase(
        rng,
        [
            "What does the sign at the {p} say?",
            "What is written on the {p} sign?",
            "Which word is on the sign at the {p}?",
        ],
        p=positions[k],
    )
    return Question(
        id=qid,
        question=q,
        images=[path],
        answer=words[k],
        family="sign",
        steps=2,
        tools=["ocr", "layout"],
        distractors=[w for i, w in enumerate(words) if i != k],
        program=[{"op": "ocr"}, {"op": "select", "position": positions[k]}],
    )
