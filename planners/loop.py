"""What the loop planners (`react`, `ideal-paper`, `ideal`) share: the budget they stop at,
the note a forced answer carries, and the first step of the IdealGPT loops (a caption of each
image). Each loop is a LangGraph graph built once at module level; its nodes are module-level
functions that read the run from LangGraph's run context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mmagent.core.artifacts import TextArtifact

if TYPE_CHECKING:
    from mmagent.core.config import Settings
    from mmagent.planners.base import RunContext


@dataclass(frozen=True)
class Budget:
    """How far a loop may go: rounds (or steps), and optionally tool calls and LLM tokens.

    budget = Budget.of(settings)           # max_rounds, max_tool_calls, max_tokens
    budget.spent(rounds=4)                 # "budget: 4 rounds" at the limit, "" before it
    """

    rounds: int
    tool_calls: int | None = None
    tokens: int | None = None
    unit: str = "rounds"

    @classmethod
    def of(cls, settings: Settings, unit: str = "rounds") -> Budget:
        if unit == "steps":
            return cls(settings.max_steps, unit="steps")
        return cls(settings.max_rounds, settings.max_tool_calls, settings.max_tokens)

    def spent(self, rounds: int, tool_calls: int = 0, tokens: int = 0) -> str:
        """Why the loop must stop now, or "" while budget is left."""
        if rounds >= self.rounds:
            return f"budget: {self.rounds} {self.unit}"
        if self.tool_calls is not None and tool_calls >= self.tool_calls:
            return f"budget: {self.tool_calls} tool calls"
        if self.tokens is not None and tokens >= self.tokens:
            return f"budget: {self.tokens} tokens"
        return ""

    def last_round(self, rounds: int) -> bool:
        """The coming round is the last one the budget allows."""
        return rounds + 1 >= self.rounds


def forced_note(limit: str) -> str:
    """The note a loop's answer carries when the budget, not the evidence, ended the loop."""
    return f"{limit} reached: forced a best guess, flagged"


def caption_images(run: RunContext) -> tuple[str, list[str]]:
    """The captioner's caption of each image (offline: the tool-composed scene summary) and the
    artifact ids it made."""
    texts, ids = [], []
    for n, image_id in enumerate(run.image_ids, 1):
        result = run.runner.call("caption", {"image": image_id}, step=f"caption{n}")
        if result.ok and result.primary:
            texts.append(run.store.get(result.primary, TextArtifact).text)
            ids.append(result.primary)
        else:
            texts.append(f"(no caption: {result.observation})")
    prefix = len(run.image_ids) > 1
    return " ".join(f"{i}: {t}" if prefix else t for i, t in zip(run.image_ids, texts)), ids
