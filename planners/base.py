"""What every planner receives (RunContext) and returns (FinalAnswer)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from agent.artifacts import ArtifactStore
    from agent.config import Settings
    from agent.llm.client import LLMClient
    from agent.runner import ToolRunner

PROMPTS = Path(__file__).parent / "prompts"


def prompt(name: str, **values: Any) -> str:
    """Prompt templates live beside the code as files; `$name` placeholders, `$$` for a dollar."""
    return Template((PROMPTS / name).read_text()).substitute(**values)


@dataclass
class RunContext:
    question: str
    image_ids: list[str]
    store: "ArtifactStore"
    runner: "ToolRunner"
    settings: "Settings"
    llm: Callable[[str], "LLMClient"]
    emit: Callable[[Any], None]
    phase_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class FinalAnswer:
    answer: str
    evidence: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. "fallback plan used"
    ok: bool = True  # False when no real answer could be given
    rounds: int = 1
    details: dict[str, Any] = field(default_factory=dict)


class Planner(Protocol):
    name: str

    def solve(self, run: RunContext) -> FinalAnswer: ...
