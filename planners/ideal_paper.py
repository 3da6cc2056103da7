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

import re
import time
from collections.abc import Callable
from typing import Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage

from mmagent.core.artifacts import TextArtifact
from mmagent.core.errors import MMAgentError
from mmagent.core.events import Thought
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, as_sentence, system_prompt

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
    sub_questions: list[list[str]]
    sub_answers: list[list[str]]
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


def caption_images(run: RunContext) -> tuple[str, list[str]]:
    """The answerer's caption of each image (offline: the tool-composed scene summary)."""
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


class IdealPaperPlanner:
    name = "ideal-paper"

    def solve(self, run: RunContext) -> FinalAnswer:
        from langgraph.graph import END, START, StateGraph

        questioner, reasoner = run.llm("planner"), run.llm("reasoner")
        limit = run.settings.max_rounds
        vlm = "ask_image" in run.runner.tools
        evidence: list[str] = []

        def caption(state: PaperState) -> dict[str, Any]:
            text, ids = caption_images(run)
            evidence.extend(ids)
            return {"caption": text}

        def ask(state: PaperState) -> dict[str, Any]:
            first = state["round"] == 0
            pairs = None if first else flat_pairs(state)
            system = system_prompt("ideal_paper/ask_first_system.md" if first else "ideal_paper/ask_more_system.md")
            user = context_block(run, state["caption"], pairs, None if first else state["analysis"])

            def parse(text: str) -> list[str]:
                subs = parse_sub_questions(text)
                if not subs:
                    raise ValueError("no 'Sub-question k:' lines")
                return subs

            try:
                subs = retrying(
                    lambda t: questioner.complete(
                        [SystemMessage(content=system), HumanMessage(content=user)], "questioner", temperature=t
                    ),
                    parse,
                    "questioner",
                )
            except MMAgentError as exc:
                return {"error": str(exc)}
            run.emit(Thought(round=state["round"] + 1, role="questioner", text=" | ".join(subs)))
            return {"sub_questions": state["sub_questions"] + [subs]}

        def answer(state: PaperState) -> dict[str, Any]:
            answers = [self._answer(run, q, state["caption"], vlm, evidence) for q in state["sub_questions"][-1]]
            return {"sub_answers": state["sub_answers"] + [answers]}

        def reason(state: PaperState) -> dict[str, Any]:
            final = state["round"] + 1 >= limit
            system = system_prompt("ideal_paper/reason_final_system.md" if final else "ideal_paper/reason_system.md")
            user = context_block(run, state["caption"], flat_pairs(state))
            try:
                analysis, said = retrying(
                    lambda t: reasoner.complete(
                        [SystemMessage(content=system), HumanMessage(content=user)], "reasoner", temperature=t
                    ),
                    lambda text: parse_reasoner(text, run.choices, final),
                    "reasoner",
                )
            except MMAgentError as exc:
                return {"error": str(exc), "round": state["round"] + 1}
            run.emit(Thought(round=state["round"] + 1, role="reasoner", text=f"{analysis} -> {said or 'not sure'}"))
            return {"analysis": analysis, "answer": said, "round": state["round"] + 1}

        def route(state: PaperState) -> str:
            done = state["error"] or state["answer"] is not None or state["round"] >= limit
            return END if done else "ask"

        graph = StateGraph(PaperState)
        for name, node in (("caption", caption), ("ask", ask), ("answer", answer), ("reason", reason)):
            graph.add_node(name, node)
        graph.add_edge(START, "caption")
        graph.add_edge("caption", "ask")
        graph.add_conditional_edges("ask", lambda s: END if s["error"] else "answer")
        graph.add_edge("answer", "reason")
        graph.add_conditional_edges("reason", route)
        t0 = time.perf_counter()
        state = graph.compile().invoke(
            PaperState(round=0, caption="", sub_questions=[], sub_answers=[], analysis="", answer=None, error=""),
            {"recursion_limit": 4 * limit + 8},
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return self._final(state, limit, vlm, evidence)

    def _answer(self, run: RunContext, question: str, caption: str, vlm: bool, evidence: list[str]) -> str:
        """The answerer on the whole image: the VLM (ask_image), else the text LLM on the caption."""
        if vlm:
            parts = []
            for image_id in run.image_ids:
                result = run.runner.call("ask_image", {"image": image_id, "question": question}, step="answerer")
                if result.ok and result.primary:
                    evidence.append(result.primary)
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

    def _final(self, state: PaperState, limit: int, vlm: bool, evidence: list[str]) -> FinalAnswer:
        details = {
            "caption": state["caption"],
            "sub_questions": state["sub_questions"],
            "sub_answers": state["sub_answers"],
            "analysis": state["analysis"],
            "answerer": "ask_image (VLM)" if vlm else "text LLM on the tool caption",
        }
        notes = [] if vlm else [NO_VLM_NOTE]
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
            notes.append(f"not confident within {limit} rounds: the last round forced a best guess")
        answer = state["answer"] or "not sure"
        return FinalAnswer(
            as_sentence(answer), evidence, notes, ok=state["answer"] is not None, rounds=state["round"], details=details
        )


def flat_pairs(state: PaperState) -> list[tuple[str, str]]:
    return [(q, a) for qs, ans in zip(state["sub_questions"], state["sub_answers"]) for q, a in zip(qs, ans)]
