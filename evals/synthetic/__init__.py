"""Synthetic multi-step benchmark: rendered images with known ground truth, questions that need
several tool steps, and a program-like record of those steps (as in CLEVR / GQA).

Deterministic by seed. Renderings vary (fonts, sizes, layouts, page colours, slight rotation,
blur, JPEG noise) and each question kind has several phrasings, so the benchmark is not one
renderer's or one sentence's copy. Answers are balanced where the generator controls them
(which receipt, which panel, which bar); `question_only_baseline` measures guessing.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from mmagent.evals.schema import Question
from mmagent.evals.synthetic.documents import receipt_question, receipts2_question, sign_question, table_question
from mmagent.evals.synthetic.graphics import chart_question, shapes_question
from mmagent.evals.synthetic.photos import collage_question, count_question, presence_question
from mmagent.evals.synthetic.search import search_question

GENERATORS: dict[str, Callable[[random.Random, str, Path], Question]] = {
    "receipt": receipt_question,
    "receipts2": receipts2_question,
    "table": table_question,
    "chart": chart_question,
    "shapes": shapes_question,
    "sign": sign_question,
    "collage": collage_question,
    "counts": count_question,
    "presence": presence_question,
    "search": search_question,  # large images, small targets (V*-style); asked for by name
}
# The default families (the reported benchmark's nine); "search" runs from its own config.
FAMILIES = tuple(f for f in GENERATORS if f != "search")


def generate(n: int, seed: int, out_dir: Path, families: tuple[str, ...] = FAMILIES) -> list[Question]:
    """n questions, families in turn; the same (n, seed, families) always gives the same set."""
    unknown = set(families) - set(GENERATORS)
    if unknown:
        from mmagent.core.errors import UserInputError

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
    from mmagent.evals.metrics import score

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


__all__ = ["FAMILIES", "GENERATORS", "generate", "question_only_baseline", "collage_question", "receipts2_question"]
