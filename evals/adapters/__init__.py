"""Public benchmarks read from their official files on disk (nothing is downloaded).

Each adapter turns the official format into evals.schema.Question records with the official
metric. Missing or malformed files raise UserInputError naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmagent.evals.adapters.refcoco import refcoco
from mmagent.evals.adapters.scienceqa import scienceqa
from mmagent.evals.adapters.vcr import vcr
from mmagent.evals.adapters.vqa import aokvqa, docvqa, gqa, snli_ve, textvqa, vqav2
from mmagent.evals.schema import Question

ADAPTERS: dict[str, Callable[[Any], list[Question]]] = {
    "vqav2": vqav2,
    "okvqa": vqav2,
    "gqa": gqa,
    "textvqa": textvqa,
    "docvqa": docvqa,
    "aokvqa": aokvqa,
    "snli-ve": snli_ve,
    "scienceqa": scienceqa,
    "vcr": vcr,
    "refcoco": refcoco,
}

__all__ = ["ADAPTERS", "aokvqa", "docvqa", "gqa", "refcoco", "scienceqa", "snli_ve", "textvqa", "vcr", "vqav2"]
