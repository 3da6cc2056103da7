"""VCR (Zellers et al., 2019), Q→A: the annotations jsonl plus each image's metadata json (boxes).

VCR questions point at detected objects by index (`["Why", "is", [0], "smiling", "?"]`). Models
that see only pixels cannot resolve "[0]", so, as IdealGPT does, referenced people are renamed by
where they stand ("person on the left", "person in the middle", ...) and other objects by their
class name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError
from mmagent.evals.adapters.common import field, iter_jsonl, load_json
from mmagent.evals.schema import Question

Token = str | list[int]


def referenced(tokens: list[Token]) -> list[int]:
    seen: list[int] = []
    for tok in tokens:
        if isinstance(tok, list):
            seen += [i for i in tok if i not in seen]
    return seen


def positional_names(objects: list[str], boxes: list[list[float]], width: float, refs: list[int]) -> dict[int, str]:
    """Names for the referenced objects. With 1 person: the third of the image its box starts in;
    2 or 3 people: ordered left to right by box centre; more: each by its centre's third."""
    names = {i: objects[i] for i in refs}
    people = [i for i in refs if objects[i] == "person"]
    centre = {i: (boxes[i][0] + boxes[i][2]) / 2 for i in people}

    def third(x: float) -> str:
        return ("on the left", "in the middle", "on the right")[min(2, max(0, int(3 * x / max(width, 1e-9))))]

    if len(people) == 1:
        names[people[0]] = f"person {third(boxes[people[0]][0])}"
    elif len(people) in (2, 3):
        order = sorted(people, key=centre.__getitem__)
        places = (
            ("on the left", "on the right") if len(people) == 2 else ("on the left", "in the middle", "on the right")
        )
        names.update({i: f"person {p}" for i, p in zip(order, places)})
    elif people:
        used: set[str] = set()
        for i in people:
            name = f"person {third(centre[i])}"
            names[i] = name if name not in used else f"another {name}"
            used.add(name)
    return names


def to_sentence(tokens: list[Token], names: dict[int, str]) -> str:
    words = [" and ".join(names[i] for i in tok) if isinstance(tok, list) else tok for tok in tokens]
    text = " ".join(words)
    for p in (",", ".", "?", "!", "'s", "n't"):
        text = text.replace(" " + p, p)
    return text


def vcr(cfg: Any) -> list[Question]:
    path = Path(cfg.path or "")
    root = Path(cfg.image_root or ".")
    out = []
    for n, d in iter_jsonl(path):
        where = f"{path} line {n}"
        meta_file = root / field(d, "metadata_fn", where)
        if not meta_file.is_file():
            raise UserInputError(f"{where}: metadata file not found: {meta_file}")
        meta = load_json(str(meta_file), "metadata")
        objects, boxes = field(d, "objects", where), field(meta, "boxes", str(meta_file))
        question, choices = field(d, "question", where), field(d, "answer_choices", where)
        refs = referenced(question + [t for c in choices for t in c])
        bad = [i for i in refs if i >= len(objects) or i >= len(boxes)]
        if bad:
            raise UserInputError(
                f"{where}: object tags {bad} point past its {len(objects)} objects / {len(boxes)} boxes"
            )
        names = positional_names(objects, boxes, float(field(meta, "width", str(meta_file))), refs)
        sentences = [to_sentence(c, names) for c in choices]
        label = field(d, "answer_label", where)
        out.append(
            Question(
                id=str(d.get("annot_id") or f"{path.stem}-{n}"),
                question=to_sentence(question, names),
                images=[str(root / field(d, "img_fn", where))],
                answer=sentences[label],
                choices=sentences,
                metric="choice",
                answer_type="choice",
                family="vcr-qa",
                meta={"answer_label": label, "objects": {str(i): names[i] for i in refs}},
            )
        )
    return out
