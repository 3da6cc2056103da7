"""`react`: a ReAct tool loop (Yao et al., 2023) as a LangGraph graph: think -> act -> think ...

The reasoner picks one action per turn: a native tool call where the backend supports it
(`options.native_tools = true` on the reasoner role, e.g. vLLM with a tool parser), otherwise a
JSON action decoded under a schema whose artifact-valued arguments can only be ids that exist.
Every observation names the artifact ids it made. An image a tool makes (a crop, a generated
or edited image) goes back to a model that accepts images as an image, in a user message after
the observation, since OpenAI-style tool messages cannot carry images.
"""

from __future__ import annotations

import json
import time
from typing import Any, TypedDict

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from mmagent.core.artifacts import ImageArtifact, ValueArtifact
from mmagent.core.errors import StructuredOutputError
from mmagent.core.events import Thought
from mmagent.core.llm.client import LLMClient
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, system_prompt, with_images
from mmagent.planners.plan import tool_args_schema
from mmagent.tools.runner import ToolCallResult

FINAL = "final_answer"
MAX_OBSERVATION = 900  # characters of an observation the model sees (OCR dumps can be long)


class Action(BaseModel):
    thought: str = ""
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    answer: str = ""
    evidence: list[str] = Field(default_factory=list)


class FinalArgs(BaseModel):
    """Give the final answer, citing the artifact ids it relies on."""

    answer: str = Field(description="one full sentence")
    evidence: list[str] = Field(default_factory=list, description="artifact ids")


class ReActState(TypedDict):
    messages: list[BaseMessage]
    steps: int
    action: Action | None
    tool_call_id: str | None
    computed: str | None  # the id of a value the last tool computed: the loop then answers


def action_schema(run: RunContext, final_only: bool = False) -> dict[str, Any]:
    ids = run.store.ids()
    final = {
        "type": "object",
        "additionalProperties": False,
        "required": ["thought", "tool", "answer", "evidence"],
        "properties": {
            "thought": {"type": "string"},
            "tool": {"const": FINAL},
            "answer": {"type": "string", "minLength": 1},
            "evidence": {"type": "array", "items": {"type": "string", "enum": ids}, "maxItems": 8},
        },
    }
    calls = (
        []
        if final_only
        else [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["thought", "tool", "args"],
                "properties": {
                    "thought": {"type": "string"},
                    "tool": {"const": name},
                    "args": tool_args_schema(tool, ids),
                },
            }
            for name, tool in run.runner.tools.items()
            if tool.plannable
        ]
    )
    return {"anyOf": calls + [final]}


class ReActPlanner:
    name = "react"

    def solve(self, run: RunContext) -> FinalAnswer:
        from langgraph.graph import END, START, StateGraph

        llm = run.llm("reasoner")
        native = bool(run.settings.role("reasoner").options.get("native_tools", False))
        tools = [t for t in run.runner.tools.values() if t.plannable]
        limit = run.settings.max_steps
        made: list[FinalAnswer] = []

        def think(state: ReActState) -> dict[str, Any]:
            # The answer is offered as the one action once a tool computed a value (small models
            # otherwise keep calling tools to the step limit), and at the step limit.
            forced = state["steps"] >= limit or state["computed"] is not None
            note = (
                f"{state['computed']} holds the computed value: give the final answer now, citing it."
                if state["computed"]
                else f"Step limit ({limit}) reached: give the final answer now from the observations."
            )
            msgs = state["messages"] + ([HumanMessage(content=note)] if forced else [])
            action, reply = self._decide(run, llm, msgs, tools, native, forced)
            if forced and action.tool != FINAL:
                action = Action(tool=FINAL, answer="", thought="no final answer at the step limit")
            run.emit(
                Thought(
                    round=state["steps"] + 1,
                    role="react",
                    text=f"{action.thought} -> {action.tool}" + (f": {action.answer}" if action.tool == FINAL else ""),
                )
            )
            return {
                "messages": state["messages"] + [reply],
                "action": action,
                "tool_call_id": (reply.tool_calls[0]["id"] if getattr(reply, "tool_calls", None) else None),
            }

        def act(state: ReActState) -> dict[str, Any]:
            action = state["action"]
            assert action is not None
            step = f"s{state['steps'] + 1}"
            result = run.runner.call(action.tool, action.args, step=step)
            values = [a for a in result.artifact_ids if isinstance(run.store.get(a), ValueArtifact)]
            return {
                "messages": state["messages"] + observation_messages(run, llm, result, state["tool_call_id"]),
                "steps": state["steps"] + 1,
                "computed": values[-1] if values else None,
            }

        def finish(state: ReActState) -> dict[str, Any]:
            action = state["action"]
            assert action is not None
            notes = (
                [f"step limit {limit} reached; answer forced"]
                if state["steps"] >= limit
                else [f"answered once {state['computed']} was computed"]
                if state["computed"]
                else []
            )
            ok = bool(action.answer.strip())
            made.append(
                FinalAnswer(
                    action.answer.strip() or f"No answer within {limit} steps.",
                    [e for e in action.evidence if e in run.store],
                    notes,
                    ok=ok,
                    rounds=state["steps"],
                )
            )
            return {}

        graph = StateGraph(ReActState)
        graph.add_node("think", think)
        graph.add_node("act", act)
        graph.add_node("finish", finish)
        graph.add_edge(START, "think")
        graph.add_conditional_edges("think", lambda s: "finish" if s["action"].tool == FINAL else "act")
        graph.add_edge("act", "think")
        graph.add_edge("finish", END)

        images = ", ".join(run.store.get(i).summary() for i in run.image_ids)
        first: list[BaseMessage] = [
            SystemMessage(
                content=system_prompt("react_system.md", tools="\n".join(f"- {t.signature()}" for t in tools))
            ),
            HumanMessage(content=with_images(run, llm, f"Images: {images}\nQuestion: {run.question}", run.image_ids)),
        ]
        t0 = time.perf_counter()
        graph.compile().invoke(
            {"messages": first, "steps": 0, "action": None, "tool_call_id": None, "computed": None},
            {"recursion_limit": 2 * limit + 6},
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return made[0]

    def _decide(
        self, run: RunContext, llm: LLMClient, messages: list[BaseMessage], tools: list[Any], native: bool, forced: bool
    ) -> tuple[Action, AIMessage]:
        if native and not forced:  # the forced last answer goes through the JSON path below
            reply = llm.with_tools(messages, tools + [FinalArgs], purpose="react")
            if reply.tool_calls:
                call = reply.tool_calls[0]
                if call["name"] == FinalArgs.__name__ or call["name"] == FINAL:
                    args = call["args"]
                    return Action(
                        tool=FINAL, answer=str(args.get("answer", "")), evidence=list(args.get("evidence", []))
                    ), reply
                return Action(tool=call["name"], args=call["args"]), reply
            return Action(tool=FINAL, answer=str(reply.content)), reply  # plain text means the answer

        def check(a: Action) -> list[str]:
            if a.tool == FINAL:
                return [] if a.answer.strip() else ["final_answer needs a non-empty answer"]
            if a.tool not in run.runner.tools:
                return [f"unknown tool '{a.tool}'; use one of {', '.join(run.runner.tools)} or {FINAL}"]
            return []

        try:
            action, _ = llm.structured(
                messages, Action, purpose="react", check=check, json_schema=action_schema(run, final_only=forced)
            )
        except StructuredOutputError as exc:
            last = exc.last_valid if isinstance(exc.last_valid, Action) else None
            action = last or Action(tool=FINAL, answer="", thought=f"unusable action: {exc}")
        return action, AIMessage(content=json.dumps(action.model_dump(exclude_defaults=True)))


def observation_messages(
    run: RunContext, llm: LLMClient, result: ToolCallResult, tool_call_id: str | None
) -> list[BaseMessage]:
    text = data_block(
        result.observation
        if len(result.observation) <= MAX_OBSERVATION
        else result.observation[:MAX_OBSERVATION] + " ...(truncated)"
    )
    made_images = [a for a in result.artifact_ids if isinstance(run.store.get(a), ImageArtifact)]
    out: list[BaseMessage] = []
    if tool_call_id:
        out.append(ToolMessage(content=text, tool_call_id=tool_call_id))
        if made_images and llm.vision:
            out.append(
                HumanMessage(content=with_images(run, llm, f"The image(s) {', '.join(made_images)}:", made_images))
            )
    else:
        out.append(HumanMessage(content=with_images(run, llm, f"Observation: {text}", made_images)))
    return out
