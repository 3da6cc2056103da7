"""The planner LLM's decisions on the structured path: which candidate program answers the
question, taken in two small steps a 0.5B model handles far better than one big one:

1. intent: what kind of computation the question asks for (value, highest, lowest,
   difference, count_above, count_below, count, yes_no, sum), from the intents the
   candidates offer;
   or "other" (what no program serves: it goes to the free task graph);
2. program: the candidate of that intent whose gloss fits (skipped when there is one).

Decoding is constrained to enums (the intents, the glosses), so each reply is one of them.
With `plan_votes` > 1 the choice is made again with the options in reverse order (small models
favour positions) and, when the two disagree, once more; the majority wins and the agreement
is reported."""

from __future__ import annotations

import random
from collections import Counter
from functools import cache
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, create_model

from mmagent.core.errors import StructuredOutputError
from mmagent.planners.base import RunContext, system_prompt
from mmagent.planners.programs import INTENTS, OTHER, Program


def _enum_choice(run: RunContext, system: str, user: str, key: str, options: list[str], purpose: str) -> str | None:
    schema = {
        "type": "object",
        "properties": {key: {"type": "string", "enum": options}},
        "required": [key],
        "additionalProperties": False,
    }
    messages = [SystemMessage(content=system_prompt(system)), HumanMessage(content=user)]
    try:
        value, _ = run.llm("planner").structured(
            messages,
            _model(key),
            purpose=purpose,
            json_schema=schema,
            check=lambda r: [] if getattr(r, key) in options else [f"{key} must be one of {options}"],
        )
    except StructuredOutputError:
        return None
    return getattr(value, key)


@cache
def _model(key: str) -> type[BaseModel]:
    """The reply's pydantic model: one string field named `key` (intent, choice)."""
    fields: dict[str, Any] = {key: (str, ...)}
    return create_model(f"{key.capitalize()}Reply", **fields)


def _pick(run: RunContext, question: str, candidates: list[Program], reverse: bool, tag: str) -> str | None:
    offered = [i for i in INTENTS if any(c.intent == i for c in candidates)] + [OTHER]
    if reverse:
        offered = offered[::-1]
    intent = _enum_choice(run, "intent_system.md", f"{question} ->", "intent", offered, f"intent{tag}")
    if intent in (None, OTHER):
        return intent
    pool = [c.gloss for c in candidates if c.intent == intent]
    if reverse:
        pool = pool[::-1]
    if len(pool) == 1:
        return pool[0]
    return _enum_choice(
        run,
        "choose_system.md",
        f"Question: {question}\nCandidates:\n" + "\n".join(f"- {g}" for g in pool),
        "choice",
        pool,
        f"choose{tag}",
    )


def choose_program(run: RunContext, question: str, candidates: list[Program]) -> tuple[Program | None, str]:
    """(the chosen program, or None when the intent is "other" or the choice failed; a note)."""
    by_gloss = {c.gloss: c for c in candidates}
    votes = max(1, run.settings.plan_votes)
    picks = [_pick(run, question, candidates, False, "")]
    if votes > 1:
        picks.append(_pick(run, question, candidates, True, " (reversed)"))
        if picks[0] != picks[1]:
            shuffled = candidates[:]
            random.Random(question).shuffle(shuffled)
            picks.append(_pick(run, question, shuffled, False, " (tie-break)"))
    counted = Counter(p for p in picks if p is not None)
    if not counted:
        return None, "the planner's choice was invalid twice"
    pick, n = counted.most_common(1)[0]
    if pick == OTHER:
        return None, "intent: other (no program over the structure answers it)"
    note = f"choice agreed {n}/{len(picks)}" if len(picks) > 1 else f"chose: {pick}"
    return by_gloss.get(pick), note
