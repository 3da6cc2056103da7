"""The final step every planner shares: state the answer from tool results, cite evidence.

A multi-part question is answered part by part, each from the results of its own tasks,
then the sentences are joined: measured on the 0.5B model, one call over everything
answered only the first part.
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from mmagent.core.errors import StructuredOutputError
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, as_sentence, system_prompt, with_images

MAX_EVIDENCE = 8


class AnswerReply(BaseModel):
    answer: str = Field(min_length=1)
    short: str = ""  # the answer as a single word, number or short phrase
    evidence: list[str] = Field(default_factory=list)


def answer_part(
    run: RunContext, question: str, observations: list[str], system: str = "answer_system.md"
) -> FinalAnswer:
    llm = run.llm("reasoner")
    text = f"Question: {question}\nTool results:\n" + data_block("\n".join(observations) or "(none)")
    # a served LMM sees the images themselves too
    messages = [
        SystemMessage(content=system_prompt(system)),
        HumanMessage(content=with_images(run, llm, text, run.image_ids)),
    ]

    def check(reply: AnswerReply) -> list[str]:
        unknown = [e for e in reply.evidence if e not in run.store]
        return [f"evidence cites unknown artifact ids {unknown}; known: {run.store.ids()}"] if unknown else []

    # Evidence can only name artifacts that exist: an enum in the decoding schema.
    schema = AnswerReply.model_json_schema()
    schema["properties"]["answer"]["minLength"] = 1
    schema["properties"]["evidence"]["items"] = {"type": "string", "enum": run.store.ids()}
    schema["properties"]["evidence"]["maxItems"] = MAX_EVIDENCE  # stops runaway repetition
    try:
        reply, repaired = llm.structured(messages, AnswerReply, purpose="answer", check=check, json_schema=schema)
    except StructuredOutputError as exc:
        if isinstance(exc.last_valid, AnswerReply) and exc.last_valid.answer.strip():
            kept = [e for e in exc.last_valid.evidence if e in run.store]
            return FinalAnswer(
                exc.last_valid.answer.strip(),
                kept,
                [f"reasoner cited unknown artifacts; dropped them ({exc})"],
                short=exc.last_valid.short.strip(),
            )
        return FinalAnswer(
            f"No answer to '{question}': the reasoner's output was invalid twice.",
            [],
            [f"reasoner failed: {exc}"],
            ok=False,
        )
    return FinalAnswer(
        reply.answer.strip(),
        reply.evidence,
        ["reasoner reply repaired once"] if repaired else [],
        short=reply.short.strip(),
    )


def compose_answer(run: RunContext, evidence_by_part: list[tuple[str, list[str]]]) -> FinalAnswer:
    """`evidence_by_part`: (question part, observation lines of the tasks that serve it)."""
    if len(evidence_by_part) == 1:
        evidence_by_part = [(run.question, evidence_by_part[0][1])]
    answers = [answer_part(run, q, obs) for q, obs in evidence_by_part]
    return FinalAnswer(
        answer=" ".join(as_sentence(a.answer) for a in answers),
        evidence=list(dict.fromkeys(e for a in answers for e in a.evidence)),
        notes=[n for a in answers for n in a.notes],
        ok=all(a.ok for a in answers),
        short="; ".join(a.short for a in answers if a.short),
    )
