"""ScienceQA (Lu et al., 2022): problems.json + pid_splits.json; choice accuracy, broken down by
subject (NAT/SOC/LAN), context (TXT/IMG/NO) and grade (G1-6/G7-12) as the paper reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError
from mmagent.evals.adapters.common import field, load_json
from mmagent.evals.schema import Question

SUBJECTS = {"natural science": "NAT", "social science": "SOC", "language science": "LAN"}


def grade_group(grade: str, where: str) -> str:
    digits = "".join(ch for ch in grade if ch.isdigit())
    if not digits:
        raise UserInputError(f"{where}: grade '{grade}' is not like 'grade5'")
    return "G1-6" if int(digits) <= 6 else "G7-12"


def context_groups(hint: str, image: str | None) -> list[str]:
    """A question with both a text hint and an image counts in TXT and IMG, as in the paper."""
    groups = (["TXT"] if hint.strip() else []) + (["IMG"] if image else [])
    return groups or ["NO"]


def scienceqa(cfg: Any) -> list[Question]:
    problems = load_json(cfg.path, "problems")
    if not isinstance(problems, dict):
        raise UserInputError(f"{cfg.path}: expected a JSON object of problems keyed by id")
    split = cfg.split or "test"
    if cfg.splits_file:
        splits = load_json(cfg.splits_file, "splits")
        pids = [str(p) for p in field(splits, split, str(cfg.splits_file))]
    else:  # problems.json also carries each problem's split
        pids = [pid for pid, p in problems.items() if p.get("split") == split]
    out = []
    for pid in pids:
        where = f"{cfg.path} problem {pid}"
        if pid not in problems:
            raise UserInputError(f"{cfg.splits_file}: problem id {pid} is not in {cfg.path}")
        p = problems[pid]
        image = p.get("image")
        if cfg.image_only and not image:
            continue
        choices = [str(c) for c in field(p, "choices", where)]
        answer = field(p, "answer", where)
        if not isinstance(answer, int) or not 0 <= answer < len(choices):
            raise UserInputError(f"{where}: answer {answer!r} is not an index into its {len(choices)} choices")
        hint = str(p.get("hint") or "")
        text = (f"Context: {hint}\n" if hint.strip() else "") + str(field(p, "question", where))
        subject = SUBJECTS.get(field(p, "subject", where), field(p, "subject", where))
        out.append(
            Question(
                id=pid,
                question=text,
                answer=choices[answer],
                choices=choices,
                metric="choice",
                answer_type="choice",
                family=subject,
                images=[str(Path(cfg.image_root or ".") / split / pid / image)] if image else [],
                groups={
                    "subject": subject,
                    "context": context_groups(hint, image),
                    "grade": grade_group(str(field(p, "grade", where)), where),
                },
                meta={"topic": p.get("topic"), "category": p.get("category")},
            )
        )
    return out
