"""One evaluation question, whatever its source (synthetic generator or a public benchmark)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Metric = Literal["exact", "numeric", "vqa", "anls", "choice", "iou"]


class Question(BaseModel):
    id: str
    question: str
    images: list[str]  # file paths
    answer: Any  # gold: str, number, or (vqa) a list of the annotators' answers
    metric: Metric = "exact"
    family: str = ""
    steps: int = 1  # tool steps a correct solution needs (synthetic: from the program)
    answer_type: str = "text"  # number | text | choice | yes/no | count
    tools: list[str] = Field(default_factory=list)  # tools the program uses
    program: list[dict[str, Any]] = Field(default_factory=list)  # CLEVR/GQA-like record of the steps
    choices: list[str] | None = None  # shown to the model (multiple choice)
    # Not shown: the other answers the image offers (other signs, bars, items). Naming one of them
    # besides the gold answer scores 0, so listing every candidate does not pass as correct.
    distractors: list[str] = Field(default_factory=list)
    # Breakdowns the report tabulates besides family and steps, e.g. ScienceQA's
    # {"subject": "NAT", "context": ["IMG", "TXT"], "grade": "G1-6"}; a list counts in each group.
    groups: dict[str, str | list[str]] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
