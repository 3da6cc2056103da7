"""`ideal`: our IdealGPT loop: grounded, tool-answered, budgeted, stopping on evidence.

    caption -> ask -> gather -> reason -> decide --(more)--> ask
                                            `--(stop)--> END

Versus the paper (`ideal-paper`): each sub-question names how it is answered (planners/grounded:
a VLM on a crop of the thing it is about, OCR, a detector count, grounding, arithmetic), so
answers carry artifact ids and the offline stack works without a VLM; the loop stops when a
confident answer cites tool evidence, or when the answer is stable across two rounds, or when
the budget (rounds, tool calls, tokens) is spent, and then says the answer was forced.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from mmagent.core.artifacts import ImageArtifact
from mmagent.core.errors import StructuredOutputError
from mmagent.core.events import Thought, llm_tokens
from mmagent.core.llm.client import LLMClient
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, as_sentence, normalized, system_prompt
from mmagent.planners.grounded import Finding, GroundedAnswerer, SubQuestion, numbers_note, positions_note
from mmagent.planners.loop import Budget, caption_images, forced_note

MAX_SUB_QUESTIONS = 4


class Asked(BaseModel):
    sub_questions: list[SubQuestion] = Field(min_length=1, max_length=MAX_SUB_QUESTIONS)


class Reasoned(BaseModel):
    # The answer comes first: measured, the 1.5B model that writes its analysis first argues
    # itself out of a reading it was given ("text below the cat: 76" -> "not provided").
    answer: str = Field(min_length=1)
    confident: bool = False
    evidence: list[str] = Field(default_factory=list)
    analysis: str = ""


class IdealState(TypedDict):
    round: int
    caption: str
    findings: Annotated[list[Finding], operator.add]  # grows: a node returns only what it found
    asked: list[SubQuestion]
    answers: Annotated[list[Reasoned], operator.add]
    tool_calls: int
    stop: str


@dataclass(frozen=True)
class IdealContext:
    """What every node of one run uses (LangGraph's run context; the graph is built once)."""

    run: RunContext
    questioner: LLMClient
    reasoner: LLMClient
    answerer: GroundedAnswerer
    budget: Budget

    def tokens(self) -> int:
        return llm_tokens(self.run.events)


def caption(state: IdealState, runtime: Runtime[IdealContext]) -> dict[str, Any]:
    text, _ = caption_images(runtime.context.run)
    return {"caption": text, "tool_calls": len(runtime.context.run.image_ids)}


def ask(state: IdealState, runtime: Runtime[IdealContext]) -> dict[str, Any]:
    c = runtime.context
    subs = ask_sub_questions(c.run, c.questioner, state)
    said = " | ".join(f"{q.question} [{q.how} {q.about!r} on {q.image}]" for q in subs)
    c.run.emit(Thought(round=state["round"] + 1, role="questioner", text=said))
    return {"asked": subs}


def gather(state: IdealState, runtime: Runtime[IdealContext]) -> dict[str, Any]:
    c = runtime.context
    found = [c.answerer.answer(sub, step=f"r{state['round'] + 1}.{i}") for i, sub in enumerate(state["asked"], 1)]
    return {"findings": found, "tool_calls": state["tool_calls"] + sum(f.tool_calls for f in found)}


def reason(state: IdealState, runtime: Runtime[IdealContext]) -> dict[str, Any]:
    c = runtime.context
    said = reason_once(c.run, c.reasoner, state)
    confidence = "confident" if said.confident else "not confident"
    text = f"{said.analysis} -> {said.answer} ({confidence}; cites {said.evidence})"
    c.run.emit(Thought(round=state["round"] + 1, role="reasoner", text=text))
    return {"answers": [said], "round": state["round"] + 1}


def decide(state: IdealState, runtime: Runtime[IdealContext]) -> dict[str, Any]:
    """Stop on a confident answer citing tool evidence, on a stable answer, or at the budget."""
    c = runtime.context
    latest = state["answers"][-1]
    made = {a for f in state["findings"] for a in f.artifacts}
    previous = state["answers"][-2].answer if len(state["answers"]) > 1 else None
    if latest.confident and made & set(latest.evidence):
        return {"stop": "confident, citing tool evidence"}
    if previous is not None and normalized(previous) == normalized(latest.answer):
        return {"stop": "answer stable across two rounds"}
    return {"stop": c.budget.spent(state["round"], state["tool_calls"], c.tokens())}


def after_decide(state: IdealState) -> str:
    return END if state["stop"] else "ask"


def build_graph() -> Any:
    graph = StateGraph(IdealState, context_schema=IdealContext)
    for name, node in (("caption", caption), ("ask", ask), ("gather", gather), ("reason", reason), ("decide", decide)):
        graph.add_node(name, node)
    graph.add_edge(START, "caption")
    graph.add_edge("caption", "ask")
    graph.add_edge("ask", "gather")
    graph.add_edge("gather", "reason")
    graph.add_edge("reason", "decide")
    graph.add_conditional_edges("decide", after_decide, ["ask", END])
    return graph.compile()


GRAPH = build_graph()


class IdealPlanner:
    name = "ideal"

    def solve(self, run: RunContext) -> FinalAnswer:
        context = IdealContext(
            run, run.llm("planner"), run.llm("reasoner"), GroundedAnswerer(run), Budget.of(run.settings)
        )
        t0 = time.perf_counter()
        state = GRAPH.invoke(
            IdealState(round=0, caption="", findings=[], asked=[], answers=[], tool_calls=0, stop=""),
            {"recursion_limit": 5 * run.settings.max_rounds + 8},
            context=context,
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return final_answer(run, state, context.tokens())


def loop_context(run: RunContext, state: IdealState) -> str:
    images = ", ".join(run.store.get(i, ImageArtifact).summary() for i in run.image_ids)
    lines = [f"Images: {images}", "Imperfect caption:", data_block(state["caption"]), f"Question: {run.question}"]
    if state["findings"]:
        found = [f.line() for f in state["findings"]]
        note = numbers_note(
            state["findings"],
            {i: f"{i}, the {o} image" for i, o in zip(run.image_ids, ("first", "second", "third", "fourth", "fifth"))}
            if len(run.image_ids) > 1
            else None,
        )
        notes = [n for n in (note, positions_note(state["findings"], run.store)) if n]
        lines += ["Findings so far:", data_block("\n".join(found + notes))]
    if state["answers"]:
        lines.append(f"Latest analysis: {state['answers'][-1].analysis}")
    return "\n".join(lines)


def ask_sub_questions(run: RunContext, llm: Any, state: IdealState) -> list[SubQuestion]:
    schema = Asked.model_json_schema()
    sub = schema["$defs"]["SubQuestion"]
    sub["properties"]["image"] = {"type": "string", "enum": run.image_ids}
    sub["required"] = ["question", "how", "about", "image"]
    messages = [
        SystemMessage(content=system_prompt("ideal/ask_system.md")),
        HumanMessage(content=loop_context(run, state) + "\nAsk the sub-questions now."),
    ]
    asked_before = {normalized(f.sub.question) for f in state["findings"]}
    try:
        reply, _ = llm.structured(messages, Asked, purpose="questioner", json_schema=schema)
        fresh = [q for q in reply.sub_questions if normalized(q.question) not in asked_before]
    except StructuredOutputError:
        fresh = []
    # Nothing new to ask: read and look at every image instead (once), the broadest evidence.
    broad = [
        SubQuestion(question=f"What does {i} show and say?", how=how, about="", image=i)
        for i in run.image_ids
        for how in ("read", "look")
    ]
    return (
        fresh
        or [
            q
            for q in broad
            if (q.how, q.image) not in {(f.sub.how, f.sub.image) for f in state["findings"] if not f.sub.about}
        ]
        or broad[:1]
    )


def reason_once(run: RunContext, llm: Any, state: IdealState) -> Reasoned:
    schema = Reasoned.model_json_schema()
    made = list(dict.fromkeys(a for f in state["findings"] for a in f.artifacts)) or run.image_ids
    schema["properties"]["evidence"] = {"type": "array", "items": {"type": "string", "enum": made}, "maxItems": 8}
    if run.choices:  # the answer is one of the choices, by construction
        schema["properties"]["answer"] = {"type": "string", "enum": run.choices}
    schema["required"] = ["answer", "confident", "evidence", "analysis"]
    messages = [
        SystemMessage(content=system_prompt("ideal/reason_system.md")),
        HumanMessage(content=loop_context(run, state)),
    ]
    try:
        reply, _ = llm.structured(messages, Reasoned, purpose="reasoner", json_schema=schema)
        return reply
    except StructuredOutputError as exc:
        last = exc.last_valid if isinstance(exc.last_valid, Reasoned) else None
        return last or Reasoned(analysis=f"reasoner output invalid: {exc}", answer="not sure", confident=False)


def final_answer(run: RunContext, state: IdealState, tokens: int) -> FinalAnswer:
    latest = state["answers"][-1]
    forced = state["stop"].startswith("budget") and not latest.confident
    notes = [f"stopped: {state['stop']}"] + ([forced_note(state["stop"])] if forced else [])
    details = {
        "stop": state["stop"],
        "forced_guess": forced,
        "tool_calls": state["tool_calls"],
        "loop_tokens": tokens,
        "caption": state["caption"],
        "rounds": [a.model_dump() for a in state["answers"]],
        "findings": [{**f.sub.model_dump(), "answer": f.answer, "artifacts": f.artifacts} for f in state["findings"]],
    }
    answer = latest.answer.strip()
    return FinalAnswer(
        as_sentence(answer),
        [e for e in latest.evidence if e in run.store],
        notes,
        ok=latest.answer != "not sure",
        rounds=state["round"],
        details=details,
    )
