"""What a run returns: the answer, its evidence, the steps, artifacts, timings and tokens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Step(BaseModel):
    step: str
    tool: str
    args: dict[str, Any]
    ok: bool
    observation: str
    artifact_ids: list[str] = Field(default_factory=list)
    duration_s: float = 0.0


class Timings(BaseModel):
    wall_s: float
    llm_s: float  # every LLM call (planning, extraction inside tools, answering)
    tool_s: float  # tool execution, excluding LLM calls made inside tools
    orchestration_s: float  # the rest: loading images, validation, bookkeeping


class Result(BaseModel):
    """What a run returns; `model_dump()` is what `mmagent ask --json` prints.

    result = Agent().run("Which item is the most expensive?", ["receipt.png"])
    result.short_answer   # "Coffee Beans"
    result.evidence       # ["val-9"]: the value artifact, which cites its table rows
    result.steps[0].tool  # "ocr"; result.timings.wall_s, result.tokens["llm_calls"], result.trace
    """

    question: str
    answer: str  # the answer as a sentence (or the short answer, when the question asked for one)
    evidence: list[str]
    steps: list[Step]
    artifacts: list[dict[str, Any]]
    timings: Timings
    tokens: dict[str, int]  # prompt, prompt_cached (reused from the server's cache), completion, llm_calls
    # Which model server answered each LLM role's calls: its URL, or "embedded" (this process).
    served_by: dict[str, str] = Field(default_factory=dict)
    planner: str
    plan_source: str = ""
    notes: list[str] = Field(default_factory=list)
    ok: bool = True
    rounds: int = 1  # reasoning rounds the planner used (loops); 1 for one-shot planners
    # The short answer: the computed value (a number, a name, a time, a position word, yes/no, a
    # choice) as VQA benchmarks score it; the sentence when no value was computed.
    short_answer: str = ""
    # The exact rows, fields, lines and boxes the cited values came from:
    # [{"ref": "tab-4#2", "image": "img-1", "box": [x1, y1, x2, y2], "label": "Honey 20.17"}]
    evidence_regions: list[dict[str, Any]] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)  # planner-specific record, e.g. sub-questions
    # The run's events in order: the one record of the run, which steps, tokens, timings and
    # served_by above are read off (evaluations store it as each question's trace).
    trace: list[dict[str, Any]] = Field(default_factory=list)
