"""Load an evaluation's questions from its data config (synthetic generator or a JSONL file)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from mmagent.core.errors import UserInputError, validation_problems
from mmagent.evals.adapters.common import iter_jsonl
from mmagent.evals.config import EvalConfig
from mmagent.evals.schema import Question


def load_questions(cfg: EvalConfig, work_dir: Path) -> list[Question]:
    d = cfg.data
    if d.source == "synthetic":
        from mmagent.evals.synthetic import FAMILIES, generate

        questions = generate(d.n, d.seed, work_dir / "images", tuple(d.families or FAMILIES))
    elif d.source == "jsonl":
        questions = read_jsonl(Path(d.path or ""), d.image_root)
    else:
        from mmagent.evals.adapters import ADAPTERS

        questions = ADAPTERS[d.source](d)
    dupes = [qid for qid, n in Counter(q.id for q in questions).items() if n > 1]
    if dupes:
        raise UserInputError(f"duplicate question ids in {cfg.name}: {sorted(dupes)[:10]}")
    if cfg.limit and cfg.limit < len(questions):
        questions = random.Random(cfg.subset_seed).sample(questions, cfg.limit)
    return questions


def read_jsonl(path: Path, image_root: str | None) -> list[Question]:
    out = []
    for n, record in iter_jsonl(path):
        try:
            q = Question.model_validate(record)
        except ValidationError as exc:
            raise UserInputError(f"{path} line {n}: {validation_problems(exc, limit=1, quote=True)}") from None
        if image_root:
            q.images = [str(Path(image_root) / p) for p in q.images]
        out.append(q)
    return out
