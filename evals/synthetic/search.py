"""Visual search (V*-style): a large canvas (3600x2700 px) with one small target to find, at a
set share of the image's area (1 %, 0.3 %, 0.1 %), and a multiple-choice question about it:
the word on a small sign, how many small cups, whether the cup is left or right of the cat, the
colour of a small shape. Read whole, every model shrinks the canvas 3-6x and the target goes
with it. The target's box is the gold evidence (`meta["target_boxes"]`, image pixels), and
`groups["target_size"]` the size, for the report's breakdown."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mmagent.core.samples import OBJECT_SOURCES, random_style, skimage_photo
from mmagent.evals.schema import Question
from mmagent.evals.synthetic.common import phrase, save
from mmagent.evals.synthetic.documents import SIGN_COLOURS, SIGN_WORDS
from mmagent.evals.synthetic.graphics import SHAPE_COLOURS

CANVAS = (3600, 2700)
TARGET_SIZES = {"1%": 0.01, "0.3%": 0.003, "0.1%": 0.001}
KINDS = ("read", "count", "relation", "colour")
Box = tuple[int, int, int, int]


def search_question(rng: random.Random, qid: str, out_dir: Path) -> Question:
    """One question; kind and target size follow the question's number, so any 12 in a row
    cover every kind at every size."""
    index = int(qid.rsplit("-", 1)[-1])
    kind = KINDS[index % len(KINDS)]
    size_name = list(TARGET_SIZES)[(index // len(KINDS)) % len(TARGET_SIZES)]
    area = TARGET_SIZES[size_name] * CANVAS[0] * CANVAS[1]
    canvas = _background(rng)
    question, answer, choices, boxes, tools = MAKERS[kind](rng, canvas, area)
    path = save(canvas, out_dir, qid)
    return Question(
        id=qid,
        question=question,
        images=[path],
        answer=answer,
        metric="choice",
        choices=choices,
        family="search",
        steps=2,
        answer_type="choice",
        tools=tools,
        groups={"target_size": size_name, "kind": kind},
        meta={"target_boxes": [list(b) for b in boxes]},
        program=[{"op": "search", "kind": kind}, {"op": "answer"}],
    )


def _background(rng: random.Random) -> Image.Image:
    """A light page with a faint texture (grass, gravel or brick), unlike any COCO object."""
    st = random_style(rng)
    texture = np.asarray(skimage_photo(rng.choice(["grass", "gravel", "brick"])).convert("L"), dtype=np.float32)
    reps = (math.ceil(CANVAS[1] / texture.shape[0]), math.ceil(CANVAS[0] / texture.shape[1]))
    tiled = np.tile(texture, reps)[: CANVAS[1], : CANVAS[0]]
    shade = (tiled - tiled.mean()) / (tiled.std() + 1e-6) * 5.0  # +-5 grey levels: a page, not a scene
    page = np.asarray(st.page, dtype=np.float32)[None, None, :] + shade[:, :, None]
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def _free_spot(rng: random.Random, size: tuple[int, int], taken: list[Box], margin: int = 60) -> Box:
    w, h = size
    for _ in range(500):
        x, y = rng.randint(margin, CANVAS[0] - w - margin), rng.randint(margin, CANVAS[1] - h - margin)
        box = (x, y, x + w, y + h)
        if all(
            box[2] + margin < t[0] or box[0] > t[2] + margin or box[3] + margin < t[1] or box[1] > t[3] + margin
            for t in taken
        ):
            return box
    raise RuntimeError("no free spot")  # cannot happen at these sizes


def _read(rng: random.Random, canvas: Image.Image, area: float) -> tuple[str, str, list[str], list[Box], list[str]]:
    word = rng.choice(SIGN_WORDS)
    st = random_style(rng)
    # sign = (0.62 n f + f) wide, 1.5 f tall for a font of f px: solve for the area
    f = max(10, int(math.sqrt(area / (1.5 * (0.62 * len(word) + 1.0)))))
    fnt = st.font(f)
    d = ImageDraw.Draw(canvas)
    tw = d.textlength(word, font=fnt)
    box = _free_spot(rng, (int(tw + f), int(1.5 * f)), [])
    d.rectangle(box, fill=rng.choice(SIGN_COLOURS))
    d.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), word, font=fnt, fill="white", anchor="mm")
    choices = rng.sample([w for w in SIGN_WORDS if w != word], 3) + [word]
    rng.shuffle(choices)
    q = phrase(
        rng, ["What does the small sign say?", "Which word is written on the sign?", "What is written on the sign?"]
    )
    return q, word, choices, [box], ["ocr"]


def _paste_object(rng: random.Random, canvas: Image.Image, cls: str, area: float, taken: list[Box]) -> Box:
    src, crop_box = OBJECT_SOURCES[cls]
    photo = skimage_photo(src).crop(crop_box)
    scale = math.sqrt(area / (photo.width * photo.height))
    photo = photo.resize(
        (max(8, round(photo.width * scale)), max(8, round(photo.height * scale))), Image.Resampling.LANCZOS
    )
    box = _free_spot(rng, photo.size, taken)
    canvas.paste(photo, box[:2])
    taken.append(box)
    return box


def _count(rng: random.Random, canvas: Image.Image, area: float) -> tuple[str, str, list[str], list[Box], list[str]]:
    cls = rng.choice(["cup", "cat"])
    n = rng.randint(1, 3)
    taken: list[Box] = []
    boxes = [_paste_object(rng, canvas, cls, area, taken) for _ in range(n)]
    noun = {"cup": "cups", "cat": "cats"}[cls]
    q = phrase(rng, ["How many {n} are in the image?", "How many {n} can you find?"], n=noun)
    return q, str(n), ["1", "2", "3", "4"], boxes, ["detect"]


def _relation(rng: random.Random, canvas: Image.Image, area: float) -> tuple[str, str, list[str], list[Box], list[str]]:
    taken: list[Box] = []
    cup = _paste_object(rng, canvas, "cup", area, taken)
    cat = _paste_object(rng, canvas, "cat", area, taken)
    answer = "left" if (cup[0] + cup[2]) < (cat[0] + cat[2]) else "right"
    q = phrase(rng, ["Is the cup to the left or to the right of the cat?", "Is the cup left or right of the cat?"])
    return q, answer, ["left", "right"], [cup, cat], ["detect", "relate"]


def _colour(rng: random.Random, canvas: Image.Image, area: float) -> tuple[str, str, list[str], list[Box], list[str]]:
    colour = rng.choice(list(SHAPE_COLOURS))
    shape = rng.choice(["circle", "square"])
    side = int(math.sqrt(area if shape == "square" else area * 4 / math.pi))
    box = _free_spot(rng, (side, side), [])
    d = ImageDraw.Draw(canvas)
    (d.ellipse if shape == "circle" else d.rectangle)(box, fill=SHAPE_COLOURS[colour])
    choices = rng.sample([c for c in SHAPE_COLOURS if c != colour], 3) + [colour]
    rng.shuffle(choices)
    q = phrase(rng, ["What colour is the small {s}?", "Which colour does the {s} have?"], s=shape)
    return q, colour, choices, [box], ["attributes"]


MAKERS = {"read": _read, "count": _count, "relation": _relation, "colour": _colour}
