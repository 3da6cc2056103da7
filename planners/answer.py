"""The final step every planner shares: state the answer from tool results, cite evidence."""
from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agent.artifacts import ImageArtifact
from agent.errors import StructuredOutputError
from agent.llm.messages import image_part
from planners.base import FinalAnswer, RunContext, prompt


class AnswerReply(BaseModel):
    # Listing the question's parts first makes small models answer every part.
    parts: list[str] = Field(default_factory=list)
    answer: str = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list)


def compose_answer(run: RunContext, observations: list[str]) -> FinalAnswer:
    llm = run.llm("reasoner")
    text = f"Question: {run.question}\nTool results:\n" + "\n".join(observations)
    content: str | list = text
    if llm.chat._llm_type != "xllamacpp":  # a served LMM sees the images themselves too
        content = [{"type": "text", "text": text}] + [
            image_part(run.store.get(i, ImageArtifact).image) for i in run.image_ids
        ]
    messages = [SystemMessage(content=prompt("answer_system.md")), HumanMessage(content=content)]

    def check(reply: AnswerReply) -> list[str]:
        unknown = [e for e in reply.evidence if e not in run.store]
        problems = [f"evidence cites unknown artifact ids {unknown}; known: {run.store.ids()}"] if unknown else []
        if not reply.answer.strip():
            problems.append("answer is empty")
        return problems

    try:
        # Evidence can only name artifacts that exist: an enum in the decoding schema.
        schema = AnswerReply.model_json_schema()
        schema["properties"]["evidence"]["items"] = {"type": "string", "enum": run.store.ids()}
        reply, repaired = llm.structured(messages, AnswerReply, purpose="answer", check=check,
                                         json_schema=schema)
    except StructuredOutputError as exc:
        if isinstance(exc.last_valid, AnswerReply) and exc.last_valid.answer.strip():
            kept = [e for e in exc.last_valid.evidence if e in run.store]
            return FinalAnswer(exc.last_valid.answer.strip(), list(dict.fromkeys(kept)),
                               [f"reasoner cited unknown artifacts; dropped them ({exc})"])
        return FinalAnswer(
            answer="I could not compose an answer from the tool results (the reasoner's output "
                   "was invalid). Tool results: " + " | ".join(observations),
            evidence=[], notes=[f"reasoner failed: {exc}"],
        )
    notes = ["reasoner reply repaired once"] if repaired else []
    return FinalAnswer(reply.answer.strip(), list(dict.fromkeys(reply.evidence)), notes)
