"""A free task graph (HuggingGPT style): what the `plan` planner does for a question part the
perceived structure cannot answer (no candidate program fits, e.g. "crop the cat", "what is
written on the bus").

1. plan: for each part the planner LLM writes {"tasks": [...]} under a JSON schema built
   from the tools' argument schemas; the plan is checked (tools, args, artifact ids,
   reference types, cycles), repaired once with the problems quoted, then pruned of broken
   tasks; a part that yields nothing usable gets the fallback plan (OCR + detection).
2. merge + execute: identical tasks run once, independent tasks concurrently.
3. answer: the reasoner states the answer to every part from the results, citing ids.

`split_question` (the LLM splits a compound question into parts) serves both paths.
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from mmagent.core.errors import StructuredOutputError
from mmagent.core.events import PlanMade
from mmagent.planners.answer import compose_answer
from mmagent.planners.base import PROMPTS, FinalAnswer, RunContext, system_prompt
from mmagent.planners.executor import PlanExecutor
from mmagent.planners.tasks import Plan, fallback_plan, merge, normalize, plan_json_schema, prune, task_problems

MAX_PARTS = 4
N_EXAMPLES = 1
_WORD = re.compile(r"[a-z]+")
_STOP = frozenset(
    "a an the is are was what which who how in on of to and or this that there do does photo picture image".split()
)


@lru_cache(maxsize=1)
def plan_examples() -> list[dict]:
    lines = (PROMPTS / "plan_examples.jsonl").read_text().splitlines()
    return [json.loads(ln) for ln in lines if ln.strip()]


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


def pick_examples(question: str, k: int = N_EXAMPLES) -> list[dict]:
    """The k examples most like the question (word overlap): a 0.5B planner copies the
    structure of what it is shown, so show it the closest patterns, not a fixed pair."""
    q = _words(question)
    scored = sorted(plan_examples(), key=lambda ex: -len(q & _words(ex["q"])) / (1 + len(_words(ex["q"]))))
    best = [ex for ex in scored[:k] if q & _words(ex["q"])] or scored[:1]
    return best[::-1]  # the closest example last, right before the question: small models copy the nearest


class QuestionParts(BaseModel):
    parts: list[str] = Field(min_length=1, max_length=MAX_PARTS)


# A question asks several things when it joins two questions ("... and which item ...?") or
# has two question marks; only then is the LLM asked to split it (one call saved otherwise).
_COMPOUND = re.compile(r"\b(and|also)\s+(what|which|who|how|where|when|is|are|does|do|can)\b|\?.*\S.*\?", re.I | re.S)


def split_question(run: RunContext, question: str | None = None) -> list[str]:
    question = question or run.question
    if not _COMPOUND.search(question):
        return [question]
    schema = QuestionParts.model_json_schema()
    schema["properties"]["parts"]["items"] = {"type": "string", "minLength": 3}
    messages = [SystemMessage(content=system_prompt("split_system.md")), HumanMessage(content=f"Question: {question}")]
    try:
        reply, _ = run.llm("planner").structured(messages, QuestionParts, purpose="split", json_schema=schema)
    except StructuredOutputError:
        return [question]
    parts = [p.strip() for p in reply.parts if p.strip()]
    return list(dict.fromkeys(parts)) or [question]


class TaskGraph:
    """Free planning of tool calls for question parts, then one merged, concurrent execution."""

    def plan_part(self, run: RunContext, part: str) -> tuple[Plan, str]:
        """A checked plan for one question part, and how it was obtained."""
        tools = "\n".join(f"- {t.signature()}" for t in run.runner.tools.values() if t.plannable)
        images = ", ".join(run.store.get(i).summary() for i in run.image_ids)
        # The system prompt stays byte-identical across calls (llama.cpp reuses its cached
        # prefix); the examples picked for this part go in the user message.
        shots = "\n".join(
            f"Example. Images: img-1. Question: {ex['q']}\n" + json.dumps({"tasks": ex["tasks"]})
            for ex in pick_examples(part)
        )
        messages = [
            SystemMessage(content=system_prompt("plan_system.md", tools=tools)),
            HumanMessage(content=f"{shots}\nNow plan. Images: {images}\nQuestion: {part}"),
        ]
        schema = plan_json_schema(run.runner, run.settings.max_plan_tasks, run.image_ids)

        def check(plan: Plan) -> list[str]:
            return [m for msgs in task_problems(plan, run.runner, run.store).values() for m in msgs]

        try:
            plan, repaired = run.llm("planner").structured(
                messages, Plan, purpose="plan", check=check, json_schema=schema
            )
            return normalize(plan), "llm-repaired" if repaired else "llm"
        except StructuredOutputError as exc:
            if isinstance(exc.last_valid, Plan):
                plan = normalize(exc.last_valid)
                pruned = prune(plan, task_problems(plan, run.runner, run.store))
                if pruned is not None and not task_problems(pruned, run.runner, run.store):
                    return pruned, "llm-pruned"
            return fallback_plan(run.image_ids), "fallback"

    def solve(self, run: RunContext, parts: list[str]) -> FinalAnswer:
        t0 = time.perf_counter()
        planned = [self.plan_part(run, p) for p in parts]
        plan, members = merge([p for p, _ in planned])
        sources = [s for _, s in planned]
        source = "fallback" if "fallback" in sources else max(sources, key=["llm", "llm-repaired", "llm-pruned"].index)
        run.emit(
            PlanMade(
                tasks=[t.model_dump() for t in plan.tasks],
                source=source,
                note="parts: " + " | ".join(f"{p} [{s}]" for p, s in zip(parts, sources)),
            )
        )
        t1 = time.perf_counter()
        results = PlanExecutor(run).execute(plan)
        run.phase_seconds["plan"] = run.phase_seconds.get("plan", 0.0) + t1 - t0
        run.phase_seconds["execute"] = run.phase_seconds.get("execute", 0.0) + time.perf_counter() - t1
        by_id = {t.id: t for t in plan.tasks}
        evidence_by_part = [
            (part, [f"{tid} {by_id[tid].tool}: {results[tid].observation}" for tid in tids])
            for part, tids in zip(parts, members)
        ]
        answer = compose_answer(run, evidence_by_part)
        if source == "fallback":
            answer.notes.append("planner output unusable for some part; fallback plan (OCR + detection) used")
        return answer
