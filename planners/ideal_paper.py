"""`ideal-paper`: IdealGPT as published (You et al., 2023), kept faithful as a baseline.

Three stateless roles at temperature 0, each a system + user message: the questioner (planner
LLM) splits the main question into sub-questions, the answerer (a VLM) answers each on the
whole image, the reasoner (reasoner LLM) reads caption + question + choices + all sub-answers
and gives an analysis and an answer or "not sure". Not sure or unparseable means another round
(the questioner sees the analysis); the last round's prompt forces a best guess.

Where no VLM is configured (the offline stack) the answerer is the text LLM reading the
tool-composed caption; the run says so in its notes, since that is not the paper's setting.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from mmagent.core.artifacts import TextArtifact
from mmagent.core.errors import MMAgentError
from mmagent.core.events import Thought
from mmagent.core.llm.client import LLMClient
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, as_sentence, system_prompt
from mmagent.planners.loop import Budget, caption_images, forced_note

RETRIES = 3  # attempts per call when the reply cannot be parsed
MAX_SUB_QUESTIONS = 6  # per round; the paper sets none, this bounds the answerer's work
_SUB_Q = re.compile(r"Sub-question\s*\d*\s*[:.]\s*(.+)", re.I)
_ANALYSIS = re.compile(r"Analysis\s*:\s*(.+?)(?=\n\s*More Likely Answer|\Z)", re.I | re.S)
_ANSWER = re.compile(r"More Likely Answer\s*:\s*(.*)", re.I)
NO_VLM_NOTE = (
    "no VLM configured: sub-questions were answered by the text LLM from the tool-composed "
    "caption, not by a VLM as in the paper"
)


class PaperState(TypedDict):
    round: int
    caption: str
    sub_questions: Annotated[list[list[str]], operator.add]  # a round's sub-questions are appended
    sub_answers: Annotated[list[list[str]], operator.add]
    analysis: str
    answer: str | None  # None: not confident (yet)
    error: str


def parse_sub_questions(text: str) -> list[str]:
    return [m.strip() for m in _SUB_Q.findall(text) if m.strip()][:MAX_SUB_QUESTIONS]


def parse_reasoner(text: str, choices: list[str] | None, final: bool) -> tuple[str, str | None]:
    """(analysis, answer); answer None for "not sure" before the last round. Raises ValueError
    when the format is not followed (the caller retries)."""
    analysis, answer = _ANALYSIS.search(text), _ANSWER.findall(text)
    if not analysis or not answer:
        raise ValueError("reply lacks 'Analysis:' or 'More Likely Answer:'")
    said = answer[-1].strip()
    if "not sure" in said.lower() and not final:
        return analysis.group(1).strip(), None
    if choices:
        number = re.search(r"\d+", said)
        if number and 1 <= int(number.group()) <= len(choices):
            return analysis.group(1).strip(), choices[int(number.group()) - 1]
        named = [c for c in choices if c.lower() in said.lower()]
        if len(named) == 1:
            return analysis.group(1).strip(), named[0]
        if final:
            raise ValueError(f"'{said}' names none of the {len(choices)} choices")
        return analysis.group(1).strip(), None
    return analysis.group(1).strip(), said.rstrip(".") or None


def context_block(
    run: RunContext, caption: str, pairs: list[tuple[str, str]] | None = None, analysis: str | None = None
) -> str:
    lines = ["Imperfect Caption:", data_block(caption), f"Main Question: {question_of(run)}"]
    if run.choices:
        lines.append(f"{len(run.choices)} choices:")
        lines += [f"Answer {i}: {c}" for i, c in enumerate(run.choices, 1)]
    if pairs is not None:
        lines.append("Sub-questions and answers:")
        lines.append(data_block("\n".join(f"Sub-question: {q} Answer: {a}" for q, a in pairs)))
    if analysis is not None:
        lines.append(f"Analysis: {analysis}")
    return "\n".join(lines)


def question_of(run: RunContext) -> str:
    if run.mode == "hypothesis":
        return f'Does the image entail, contradict, or is it neutral to: "{run.main_question}"?'
    return run.main_question or run.question


def retrying(call: Callable[[float], str], parse: Callable[[str], Any], what: str) -> Any:
    """Call (with the temperature to use) until the reply parses; raise MMAgentError after RETRIES."""
    problem = ""
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(min(2.0, 0.25 * 2 ** (attempt - 1)))  # backoff before a retry
        try:
            return parse(call(0.1 * attempt))  # temperature 0, nudged up on retries as the paper does
        except ValueError as exc:
            problem = str(exc)
    raise MMAgentError(f"{what}: unparseable after {RETRIES} attempts ({problem})")


@dataclass(frozen=True)
class PaperContext:
    """What every node of one run uses (LangGraph's run context; the graph is built once)."""

    run: RunContext
    questioner: LLMClient
    reasoner: LLMClient
    budget: Budget
    vlm: bool  # the answerer is a VLM (ask_image); else the text LLM on the caption
    evidence: list[str] = field(default_factory=list)  # artifact ids the answers rest on


def caption(state: PaperState, runtime: Runtime[PaperContext]) -> dict[str, Any]:
    text, ids = caption_images(runtime.context.run)
    runtime.context.evidence.extend(ids)
    return {"caption": text}


def ask(state: PaperState, runtime: Runtime[PaperContext]) -> dict[str, Any]:
    c, first = runtime.context, state["round"] == 0
    pairs = None if first else flat_pairs(state)
    system = system_prompt("ideal_paper/ask_first_system.md" if first else "ideal_paper/ask_more_system.md")
    user = context_block(c.run, state["caption"], pairs, None if first else state["analysis"])

    def parse(text: str) -> list[str]:
        subs = parse_sub_questions(text)
        if not subs:
            raise ValueError("no 'Sub-question k:' lines")
        return subs

    try:
        subs = retrying(
            lambda t: c.questioner.complete(
                [SystemMessage(content=system), HumanMessage(content=user)], "questioner", temperature=t
            ),
            parse,
            "questioner",
        )
    except MMAgentError as exc:
        return {"error": str(exc)}
    c.run.emit(Thought(round=state["round"] + 1, role="questioner", text=" | ".join(subs)))
    return {"sub_questions": [subs]}


def answer(state: PaperState, runtime: Runtime[PaperContext]) -> dict[str, Any]:
    c = runtime.context
    return {"sub_answers": [[answer_sub_question(c, q, state["caption"]) for q in state["sub_questions"][-1]]]}


def reason(state: PaperState, runtime: Runtime[PaperContext]) -> dict[str, Any]:
    c = runtime.context
    final = c.budget.last_round(state["round"])  # the last round's prompt forces a best guess
    system = system_prompt("ideal_paper/reason_final_system.md" if final else "ideal_paper/reason_system.md")
    user = context_block(c.run, state["caption"], flat_pairs(state))
    try:
        analysis, said = retrying(
            lambda t: c.reasoner.complete(
                [SystemMessage(content=system), HumanMessage(content=user)], "reasoner", temperature=t
            ),
            lambda text: parse_reasoner(text, c.run.choices, final),
            "reasoner",
        )
    except MMAgentError as exc:
        return {"error": str(exc), "round": state["round"] + 1}
    c.run.emit(Thought(round=state["round"] + 1, role="reasoner", text=f"{analysis} -> {said or 'not sure'}"))
    return {"analysis": analysis, "answer": said, "round": state["round"] + 1}


def after_ask(state: PaperState) -> str:
    return END if state["error"] else "answer"


def after_reason(state: PaperState, runtime: Runtime[PaperContext]) -> str:
    done = state["error"] or state["answer"] is not None or runtime.context.budget.spent(state["round"])
    return END if done else "ask"


def build_graph() -> Any:
    graph = StateGraph(PaperState, context_schema=PaperContext)
    for name, node in (("caption", caption), ("ask", ask), ("answer", answer), ("reason", reason)):
        graph.add_node(name, node)
    graph.add_edge(START, "caption")
    graph.add_edge("caption", "ask")
    graph.add_conditional_edges("ask", after_ask, ["answer", END])
    graph.add_edge("answer", "reason")
    graph.add_conditional_edges("reason", after_reason, ["ask", END])
    return graph.compile()


GRAPH = build_graph()


class IdealPaperPlanner:
    name = "ideal-paper"

    def solve(self, run: RunContext) -> FinalAnswer:
        budget = Budget(run.settings.max_rounds)  # the paper's loop counts rounds only
        context = PaperContext(run, run.llm("planner"), run.llm("reasoner"), budget, "ask_image" in run.runner.tools)
        t0 = time.perf_counter()
        state = GRAPH.invoke(
            PaperState(round=0, caption="", sub_questions=[], sub_answers=[], analysis="", answer=None, error=""),
            {"recursion_limit": 4 * budget.rounds + 8},
            context=context,
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return final_answer(state, context)


def answer_sub_question(c: PaperContext, question: str, caption: str) -> str:
    """The answerer on the whole image: the VLM (ask_image), else the text LLM on the caption."""
    run = c.run
    if c.vlm:
        parts = []
        for image_id in run.image_ids:
            result = run.runner.call("ask_image", {"image": image_id, "question": question}, step="answerer")
            if result.ok and result.primary:
                c.evidence.append(result.primary)
                text = run.store.get(result.primary, TextArtifact).text
            else:
                text = result.observation
            parts.append(f"{image_id}: {text}" if len(run.image_ids) > 1 else text)
        return " ".join(parts)
    messages = [
        SystemMessage(content=system_prompt("ideal_paper/answer_from_caption_system.md")),
        HumanMessage(content=f"Description:\n{data_block(caption)}\nQuestion: {question} Reply in short."),
    ]
    return run.llm("answerer").complete(messages, "answerer", temperature=0.0).strip().split("\n")[0]


def final_answer(state: PaperState, c: PaperContext) -> FinalAnswer:
    details: dict[str, Any] = {
        "caption": state["caption"],
        "sub_questions": state["sub_questions"],
        "sub_answers": state["sub_answers"],
        "analysis": state["analysis"],
        "answerer": "ask_image (VLM)" if c.vlm else "text LLM on the tool caption",
    }
    notes = [] if c.vlm else [NO_VLM_NOTE]
    evidence, limit = c.evidence, c.budget.rounds
    if state["error"]:
        return FinalAnswer(
            f"No answer: {state['error']}.",
            evidence,
            notes + [state["error"]],
            ok=False,
            rounds=state["round"],
            details=details,
        )
    forced = state["round"] >= limit and limit > 1
    details["forced_guess"] = forced
    if forced:
        notes.append(forced_note(f"round limit {limit}, not confident"))
    answer = state["answer"] or "not sure"
    return FinalAnswer(
        as_sentence(answer), evidence, notes, ok=state["answer"] is not None, rounds=state["round"], details=details
    )


def flat_pairs(state: PaperState) -> list[tuple[str, str]]:
    return [(q, a) for qs, ans in zip(state["sub_questions"], state["sub_answers"]) for q, a in zip(qs, ans)]
