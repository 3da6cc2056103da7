"""Photos: collages of packaged photos with numbers under them, and scenes of pasted object
photos for counting and presence questions (ground truth known by construction)."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

from mmagent.core.samples import OBJECT_SOURCES, packaged_photo, random_style, skimage_photo
from mmagent.evals.schema import Question
from mmagent.evals.synthetic.common import phrase, save

# The detector's COCO class each photo shows; bus.jpg shows people too (never asked about then).
PANEL_PHOTOS = {"cat": "chelsea", "cup": "coffee", "person": "astronaut", "bus": "bus.jpg"}
LAYOUTS = {
    "row3": (1, 3, ["left", "middle", "right"]),
    "row2": (1, 2, ["left", "right"]),
    "grid": (2, 2, ["top-left", "top-right", "bottom-left", "bottom-right"]),
}


def _photo(src: str) -> Image.Image:
    return Image.open(packaged_photo(src)).convert("RGB") if src.endswith(".jpg") else skimage_photo(src)


def collage_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    st = random_style(rng)
    layout = rng.choice(["row3", "row3", "row2", "grid"])
    rows, cols, names = LAYOUTS[layout]
    things = rng.sample(list(PANEL_PHOTOS), rows * cols)
    numbers = rng.sample(range(10, 99), rows * cols)
    panel_w, panel_h = 300, 240
    img = Image.new("RGB", (cols * (panel_w + 20) + 20, rows * (panel_h + 90) + 10), st.page)
    d = ImageDraw.Draw(img)
    for i, (thing, num) in enumerate(zip(things, numbers)):
        photo = _photo(PANEL_PHOTOS[thing])
        photo.thumbnail((panel_w - 20, panel_h))
        x, y = 20 + (i % cols) * (panel_w + 20), 10 + (i // cols) * (panel_h + 90)
        img.paste(photo, (x + (panel_w - photo.width) // 2, y + (panel_h - photo.height) // 2))
        d.text((x + panel_w // 2, y + panel_h + 18), str(num), font=st.font(36), fill=st.ink, anchor="mt")
    path = save(st.finish(img), out_dir, qid)
    askable = [k for k, t in enumerate(things) if not (t == "person" and "bus" in things)]
    k = rng.choice(askable)
    if rng.random() < 0.5:
        q = phrase(
            rng,
            [
                "What number is under the {t}?",
                "Which number is written below the {t}?",
                "What is the number under the picture of the {t}?",
            ],
            t=things[k],
        )
        return Question(
            id=qid,
            question=q,
            images=[path],
            answer=str(numbers[k]),
            family="collage",
            steps=3,
            tools=["detect", "ocr", "layout"],
            meta={"layout": layout},
            distractors=[str(n) for i, n in enumerate(numbers) if i != k],
            program=[
                {"op": "detect"},
                {"op": "ocr"},
                {"op": "layout", "view": "panels"},
                {"op": "find", "objects": things[k]},
                {"op": "text"},
            ],
        )
    q = phrase(
        rng,
        ["Which panel shows the {t}: {opts}?", "Where is the {t}: {opts}?"],
        t=things[k],
        opts=", ".join(names[:-1]) + " or " + names[-1],
    )
    return Question(
        id=qid,
        question=q,
        images=[path],
        answer=names[k],
        metric="choice",
        choices=names,
        answer_type="choice",
        family="collage",
        steps=2,
        tools=["detect", "layout"],
        meta={"layout": layout},
        program=[
            {"op": "detect"},
            {"op": "layout", "view": "panels"},
            {"op": "find", "objects": things[k]},
            {"op": "position"},
        ],
    )


def _scene(rng: random.Random, counts: dict[str, int]) -> Image.Image:
    """Object photos (cut at their boxes) pasted without overlap on a plain page."""
    st = random_style(rng)
    W, H = 960, 640
    canvas = Image.new("RGB", (W, H), st.page)
    placed: list[tuple[int, int, int, int]] = []
    for cls, n in counts.items():
        src, box = OBJECT_SOURCES[cls]
        for _ in range(n):
            crop = skimage_photo(src).crop(box)
            h = rng.randint(170, 250)
            crop = crop.resize((round(crop.width * h / crop.height), h))
            for _ in range(400):
                x, y = rng.randint(0, W - crop.width), rng.randint(0, H - crop.height)
                b = (x, y, x + crop.width, y + crop.height)
                if all(b[2] + 10 < p[0] or b[0] > p[2] + 10 or b[3] + 10 < p[1] or b[1] > p[3] + 10 for p in placed):
                    break
            else:
                raise RuntimeError("no room")  # the caller retries with fewer objects
            placed.append(b)
            canvas.paste(crop, (x, y))
    return st.finish(canvas)


def _place(rng: random.Random, counts: dict[str, int]) -> Image.Image:
    while True:
        try:
            return _scene(rng, counts)
        except RuntimeError:
            big = max(counts, key=lambda c: counts[c])
            counts[big] -= 1


NOUNS = {"cat": "cats", "cup": "cups", "person": "people"}


def count_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    target = rng.choice(list(OBJECT_SOURCES))
    counts = {c: rng.randint(0, 2) for c in OBJECT_SOURCES if c != target}
    counts[target] = rng.randint(1, 4)
    img = _place(rng, counts)
    path = save(img, out_dir, qid)
    q = phrase(
        rng,
        ["How many {n} are in the picture?", "How many {n} can you see?", "How many {n} are there?"],
        n=NOUNS[target],
    )
    return Question(
        id=qid,
        question=q,
        images=[path],
        answer=counts[target],
        metric="numeric",
        answer_type="count",
        family="counts",
        steps=2,
        tools=["detect", "query"],
        meta={"counts": counts},
        program=[{"op": "detect"}, {"op": "count", "class": target}],
    )


ABSENT = ["dog", "car", "bicycle", "horse", "bird", "bottle", "chair", "laptop"]


def presence_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    counts = {c: rng.randint(0, 2) for c in OBJECT_SOURCES}
    if not any(counts.values()):
        counts[rng.choice(list(OBJECT_SOURCES))] = 1
    img = _place(rng, counts)
    path = save(img, out_dir, qid)
    present = [c for c, n in counts.items() if n]
    if rng.random() < 0.5:
        thing, answer = rng.choice(present), "yes"
    else:
        thing, answer = rng.choice([c for c in list(OBJECT_SOURCES) + ABSENT if c not in present]), "no"
    article = "an" if thing[0] in "aeiou" else "a"
    q = phrase(
        rng,
        ["Is there {a} {t} in the picture?", "Does the image show {a} {t}?", "Can you see {a} {t}?"],
        a=article,
        t=thing,
    )
    return Question(
        id=qid,
        question=q,
        images=[path],
        answer=answer,
        metric="choice",
        choices=["yes", "no"],
        answer_type="yes/no",
        family="presence",
        steps=2,
        tools=["detect", "query"],
        meta={"counts": counts},
        program=[{"op": "detect"}, {"op": "exists", "class": thing}],
    )
