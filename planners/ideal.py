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

import time
from typing import Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from mmagent.core.artifacts import ImageArtifact
from mmagent.core.errors import StructuredOutputError
from mmagent.core.events import Thought
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, as_sentence, normalized, system_prompt
from mmagent.planners.grounded import Finding, GroundedAnswerer, SubQuestion, numbers_note
from mmagent.planners.ideal_paper import caption_images

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
    findings: list[Finding]
    asked: list[SubQuestion]
    answers: list[Reasoned]
    tool_calls: int
    stop: str


class IdealPlanner:
    name = "ideal"

    def solve(self, run: RunContext) -> FinalAnswer:
        from langgraph.graph import END, START, StateGraph

        s = run.settings
        questioner, reasoner = run.llm("planner"), run.llm("reasoner")
        answerer = GroundedAnswerer(run)

        def tokens() -> int:
            return sum(c.prompt_tokens + c.completion_tokens for c in (questioner, reasoner))

        def caption(state: IdealState) -> dict[str, Any]:
            text, _ = caption_images(run)
            return {"caption": text, "tool_calls": len(run.image_ids)}

        def ask(state: IdealState) -> dict[str, Any]:
            subs = self._ask(run, questioner, state)
            run.emit(
                Thought(
                    round=state["round"] + 1,
                    role="questioner",
                    text=" | ".join(f"{q.question} [{q.how} {q.about!r} on {q.image}]" for q in subs),
                )
            )
            return {"asked": subs}

        def gather(state: IdealState) -> dict[str, Any]:
            found = [answerer.answer(sub, step=f"r{state['round'] + 1}.{i}") for i, sub in enumerate(state["asked"], 1)]
            return {
                "findings": state["findings"] + found,
                "tool_calls": state["tool_calls"] + sum(f.tool_calls for f in found),
            }

        def reason(state: IdealState) -> dict[str, Any]:
            said = self._reason(run, reasoner, state)
            run.emit(
                Thought(
                    round=state["round"] + 1,
                    role="reasoner",
                    text=f"{said.analysis} -> {said.answer} "
                    f"({'confident' if said.confident else 'not confident'}; cites {said.evidence})",
                )
            )
            return {"answers": state["answers"] + [said], "round": state["round"] + 1}

        def decide(state: IdealState) -> dict[str, Any]:
            latest = state["answers"][-1]
            made = {a for f in state["findings"] for a in f.artifacts}
            previous = state["answers"][-2].answer if len(state["answers"]) > 1 else None
            if latest.confident and made & set(latest.evidence):
                return {"stop": "confident, citing tool evidence"}
            if previous is not None and normalized(previous) == normalized(latest.answer):
                return {"stop": "answer stable across two rounds"}
            if state["round"] >= s.max_rounds:
                return {"stop": f"budget: {s.max_rounds} rounds"}
            if state["tool_calls"] >= s.max_tool_calls:
                return {"stop": f"budget: {s.max_tool_calls} tool calls"}
            if tokens() >= s.max_tokens:
                return {"stop": f"budget: {s.max_tokens} tokens"}
            return {"stop": ""}

        graph = StateGraph(IdealState)
        for name, node in (
            ("caption", caption),
            ("ask", ask),
            ("gather", gather),
            ("reason", reason),
            ("decide", decide),
        ):
            graph.add_node(name, node)
        graph.add_edge(START, "caption")
        graph.add_edge("caption", "ask")
        graph.add_edge("ask", "gather")
        graph.add_edge("gather", "reason")
        graph.add_edge("reason", "decide")
        graph.add_conditional_edges("decide", lambda st: END if st["stop"] else "ask")
        t0 = time.perf_counter()
        state = graph.compile().invoke(
            IdealState(round=0, caption="", findings=[], asked=[], answers=[], tool_calls=0, stop=""),
            {"recursion_limit": 5 * s.max_rounds + 8},
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return self._final(run, state, tokens())

    def _context(self, run: RunContext, state: IdealState) -> str:
        images = ", ".join(run.store.get(i, ImageArtifact).summary() for i in run.image_ids)
        lines = [f"Images: {images}", "Imperfect caption:", data_block(state["caption"]), f"Question: {run.question}"]
        if state["findings"]:
            found = [f.line() for f in state["findings"]]
            note = numbers_note(
                state["findings"],
                {
                    i: f"{i}, the {o} image"
                    for i, o in zip(run.image_ids, ("first", "second", "third", "fourth", "fifth"))
                }
                if len(run.image_ids) > 1
                else None,
            )
            lines += ["Findings so far:", data_block("\n".join(found + ([note] if note else [])))]
        if state["answers"]:
            lines.append(f"Latest analysis: {state['answers'][-1].analysis}")
        return "\n".join(lines)

    def _ask(self, run: RunContext, llm: Any, state: IdealState) -> list[SubQuestion]:
        schema = Asked.model_json_schema()
        sub = schema["$defs"]["SubQuestion"]
        sub["properties"]["image"] = {"type": "string", "enum": run.image_ids}
        sub["required"] = ["question", "how", "about", "image"]
        messages = [
            SystemMessage(content=system_prompt("ideal/ask_system.md")),
            HumanMessage(content=self._context(run, state) + "\nAsk the sub-questions now."),
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

    def _reason(self, run: RunContext, llm: Any, state: IdealState) -> Reasoned:
        schema = Reasoned.model_json_schema()
        made = list(dict.fromkeys(a for f in state["findings"] for a in f.artifacts)) or run.image_ids
        schema["properties"]["evidence"] = {"type": "array", "items": {"type": "string", "enum": made}, "maxItems": 8}
        if run.choices:  # the answer is one of the choices, by construction
            schema["properties"]["answer"] = {"type": "string", "enum": run.choices}
        schema["required"] = ["answer", "confident", "evidence", "analysis"]
        messages = [
            SystemMessage(content=system_prompt("ideal/reason_system.md")),
            HumanMessage(content=self._context(run, state)),
        ]
        try:
            reply, _ = llm.structured(messages, Reasoned, purpose="reasoner", json_schema=schema)
            return reply
        except StructuredOutputError as exc:
            last = exc.last_valid if isinstance(exc.last_valid, Reasoned) else None
            return last or Reasoned(analysis=f"reasoner output invalid: {exc}", answer="not sure", confident=False)

    def _final(self, run: RunContext, state: IdealState, tokens: int) -> FinalAnswer:
        latest = state["answers"][-1]
        forced = state["stop"].startswith("budget") and not latest.confident
        notes = [f"stopped: {state['stop']}"] + (["not confident at the budget: best guess, flagged"] if forced else [])
        details = {
            "stop": state["stop"],
            "forced_guess": forced,
            "tool_calls": state["tool_calls"],
            "loop_tokens": tokens,
            "caption": state["caption"],
            "rounds": [a.model_dump() for a in state["answers"]],
            "findings": [
                {**f.sub.model_dump(), "answer": f.answer, "artifacts": f.artifacts} for f in state["findings"]
            ],
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
