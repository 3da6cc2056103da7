"""VQA-style benchmarks: VQAv2 / OK-VQA, GQA, TextVQA, DocVQA, A-OKVQA, SNLI-VE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError
from mmagent.evals.adapters.common import field as _field
from mmagent.evals.adapters.common import iter_jsonl
from mmagent.evals.adapters.common import load_json as _load_json
from mmagent.evals.schema import Question


def vqav2(cfg: Any) -> list[Question]:
    """VQAv2 / OK-VQA: questions JSON + annotations JSON; VQA accuracy over the 10 answers."""
    qs = _field(_load_json(cfg.path, "questions"), "questions", str(cfg.path))
    anns = {
        a["question_id"]: a
        for a in _field(_load_json(cfg.annotations, "annotations"), "annotations", str(cfg.annotations))
    }
    split = cfg.split or "val2014"
    out = []
    for q in qs:
        qid = _field(q, "question_id", str(cfg.path))
        ann = anns.get(qid)
        if ann is None:
            raise UserInputError(f"{cfg.annotations}: no annotation for question_id {qid}")
        image = Path(cfg.image_root or ".") / f"COCO_{split}_{int(q['image_id']):012d}.jpg"
        out.append(
            Question(
                id=str(qid),
                question=_field(q, "question", str(cfg.path)),
                images=[str(image)],
                answer=[a["answer"] for a in _field(ann, "answers", str(cfg.annotations))],
                metric="vqa",
                family=ann.get("answer_type", "vqa"),
                answer_type=ann.get("answer_type", "text"),
            )
        )
    return out


GQA_BINARY = {"verify", "logical", "compare"}


def gqa(cfg: Any) -> list[Question]:
    """GQA: questions JSON {id: {imageId, question, answer, isBalanced, types}}; exact match,
    split into binary (verify/logical/compare) and open questions; balanced only by default."""
    data = _load_json(cfg.path, "questions")
    out = []
    for qid, q in data.items():
        if cfg.balanced_only and not q.get("isBalanced", True):
            continue
        structural = (q.get("types") or {}).get("structural", "query")
        out.append(
            Question(
                id=str(qid),
                question=_field(q, "question", str(cfg.path)),
                images=[str(Path(cfg.image_root or ".") / f"{_field(q, 'imageId', str(cfg.path))}.jpg")],
                answer=_field(q, "answer", str(cfg.path)),
                metric="exact",
                family="binary" if structural in GQA_BINARY else "open",
                answer_type=structural,
            )
        )
    return out


def textvqa(cfg: Any) -> list[Question]:
    """TextVQA: {"data": [{question_id, question, image_id, answers}]}; VQA accuracy."""
    data = _field(_load_json(cfg.path, "questions"), "data", str(cfg.path))
    return [
        Question(
            id=str(_field(d, "question_id", str(cfg.path))),
            question=d["question"],
            images=[str(Path(cfg.image_root or ".") / f"{_field(d, 'image_id', str(cfg.path))}.jpg")],
            answer=_field(d, "answers", str(cfg.path)),
            metric="vqa",
            family="textvqa",
        )
        for d in data
    ]


def docvqa(cfg: Any) -> list[Question]:
    """DocVQA: {"data": [{questionId, question, image, answers}]}; ANLS with threshold 0.5."""
    data = _field(_load_json(cfg.path, "questions"), "data", str(cfg.path))
    return [
        Question(
            id=str(_field(d, "questionId", str(cfg.path))),
            question=d["question"],
            images=[str(Path(cfg.image_root or ".") / _field(d, "image", str(cfg.path)))],
            answer=_field(d, "answers", str(cfg.path)),
            metric="anls",
            family="docvqa",
        )
        for d in data
    ]


def aokvqa(cfg: Any) -> list[Question]:
    """A-OKVQA: a JSON list of {question_id, image_id, question, choices, correct_choice_idx,
    direct_answers}; `mode = "mc"` (choice accuracy) or "da" (VQA accuracy over direct answers)."""
    data = _load_json(cfg.path, "questions")
    if not isinstance(data, list):
        raise UserInputError(f"{cfg.path}: expected a JSON list of questions")
    split = cfg.split or "val2017"
    out = []
    for d in data:
        where = str(cfg.path)
        image = str(Path(cfg.image_root or ".") / split / f"{int(_field(d, 'image_id', where)):012d}.jpg")
        if cfg.mode == "mc":
            choices = _field(d, "choices", where)
            out.append(
                Question(
                    id=str(_field(d, "question_id", where)),
                    question=_field(d, "question", where),
                    images=[image],
                    answer=choices[_field(d, "correct_choice_idx", where)],
                    choices=choices,
                    metric="choice",
                    answer_type="choice",
                    family="aokvqa-mc",
                )
            )
        else:
            out.append(
                Question(
                    id=str(_field(d, "question_id", where)),
                    question=_field(d, "question", where),
                    images=[image],
                    answer=_field(d, "direct_answers", where),
                    metric="vqa",
                    family="aokvqa-da",
                )
            )
    return out


SNLI_VE_LABELS = ["entailment", "neutral", "contradiction"]


def snli_ve(cfg: Any) -> list[Question]:
    """SNLI-VE: jsonl of {pairID, Flickr30K_ID, sentence2, gold_label}; 3-way accuracy."""
    p = Path(cfg.path or "")
    out = []
    for n, d in iter_jsonl(p):
        where = f"{p} line {n}"
        label = _field(d, "gold_label", where)
        if label not in SNLI_VE_LABELS:
            raise UserInputError(f"{where}: gold_label '{label}' is not one of {SNLI_VE_LABELS}")
        out.append(
            Question(
                id=str(_field(d, "pairID", where)),
                question=f'Does the image entail, contradict, or is it neutral to: "{_field(d, "sentence2", where)}"?',
                images=[str(Path(cfg.image_root or ".") / f"{_field(d, 'Flickr30K_ID', where)}.jpg")],
                answer=label,
                choices=SNLI_VE_LABELS,
                metric="choice",
                answer_type="choice",
                family="snli-ve",
                meta={"hypothesis": d["sentence2"]},
            )
        )
    return out
