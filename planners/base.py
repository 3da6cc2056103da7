"""What every planner receives (RunContext) and returns (FinalAnswer)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mmagent.core.prompts import render_prompt, render_system_prompt

if TYPE_CHECKING:
    from mmagent.core.artifacts import ArtifactStore
    from mmagent.core.config import Settings
    from mmagent.core.llm.client import LLMClient
    from mmagent.tools.runner import ToolRunner

PROMPTS = Path(__file__).parent / "prompts"


def prompt(name: str, **values: Any) -> str:
    """A planner prompt template from planners/prompts (core.prompts)."""
    return render_prompt(PROMPTS / name, **values)


def system_prompt(name: str, **values: Any) -> str:
    """A planner system prompt from planners/prompts, ending with the untrusted-text rule."""
    return render_system_prompt(PROMPTS / name, **values)


def as_sentence(text: str) -> str:
    """An answer ending like a sentence (answers are joined and shown as sentences)."""
    return text if text.endswith((".", "!", "?")) else text + "."


def with_images(run: RunContext, llm: LLMClient, text: str, image_ids: list[str]) -> str | list[str | dict[Any, Any]]:
    """Message content: the text, plus the images themselves for a model that accepts images."""
    from mmagent.core.artifacts import ImageArtifact
    from mmagent.core.llm.messages import image_part

    if not image_ids or not llm.vision:
        return text
    parts: list[str | dict[Any, Any]] = [{"type": "text", "text": text}]
    return parts + [image_part(run.store.get(i, ImageArtifact).image) for i in image_ids]


def normalized(text: str) -> str:
    """Lower-case words and numbers only, for comparing answers across rounds."""
    return " ".join(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower()))


ENTAILMENT = ["entailment", "neutral", "contradiction"]


def task_text(question: str, choices: list[str] | None = None, mode: str = "question") -> str:
    """The task as one text for planners that take a single question: the hypothesis mode
    (SNLI-VE) becomes an entailment question; choices are listed, numbered when they are
    sentences (VCR), so an answer may name one by its number."""
    if mode == "hypothesis":
        question = f'Does the image entail, contradict, or is it neutral to the hypothesis: "{question}"?'
        choices = choices or ENTAILMENT
    if choices and max(len(c.split()) for c in choices) > 3:
        return question + "\nChoices:\n" + "\n".join(f"({i}) {c}" for i, c in enumerate(choices, 1))
    if choices:
        return f"{question} Choices: {', '.join(choices)}."
    return question


@dataclass
class RunContext:
    question: str  # the task as one text (choices and hypothesis mode folded in)
    image_ids: list[str]
    store: ArtifactStore
    runner: ToolRunner
    settings: Settings
    llm: Callable[[str], LLMClient]
    emit: Callable[[Any], None]
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # The parts, for loops that use them separately (IdealGPT lists the choices to each role).
    main_question: str = ""
    choices: list[str] | None = None
    mode: str = "question"  # question | hypothesis
    # The run's event record so far, read-only: the one account of what the run spent (LLM
    # tokens for a loop's budget), as Result is built from it.
    events: list[Any] = field(default_factory=list)


@dataclass
class FinalAnswer:
    answer: str
    evidence: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. "fallback plan used"
    ok: bool = True  # False when no real answer could be given
    rounds: int = 1
    details: dict[str, Any] = field(default_factory=dict)
    short: str = ""  # the short answer (a number, a name, yes/no, a choice); "" if none was computed


class Planner(Protocol):
    name: str

    def solve(self, run: RunContext) -> FinalAnswer: ...
