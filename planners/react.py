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
import operator
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from mmagent.core.artifacts import ImageArtifact, ValueArtifact
from mmagent.core.config import RoleConfig
from mmagent.core.errors import StructuredOutputError
from mmagent.core.events import Thought
from mmagent.core.llm.client import LLMClient
from mmagent.core.options import OpenAIOptions
from mmagent.core.untrusted import data_block
from mmagent.planners.base import FinalAnswer, RunContext, system_prompt, with_images
from mmagent.planners.loop import Budget, forced_note
from mmagent.planners.tasks import tool_args_schema
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
    messages: Annotated[list[BaseMessage], operator.add]  # grows: each node returns only its new messages
    steps: int
    action: Action | None
    tool_call_id: str | None
    computed: str | None  # the id of a value the last tool computed: the loop then answers
    final: FinalAnswer | None


@dataclass(frozen=True)
class ReActContext:
    """What every node of one run uses (LangGraph's run context; the graph itself is built once)."""

    run: RunContext
    llm: LLMClient
    tools: list[Any]
    native: bool  # the reasoner makes native tool calls
    budget: Budget  # max_steps


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


def think(state: ReActState, runtime: Runtime[ReActContext]) -> dict[str, Any]:
    """The reasoner picks the next action. The answer is the one action offered once a tool
    computed a value (small models otherwise keep calling tools to the step limit) and at the limit."""
    c = runtime.context
    forced = bool(c.budget.spent(state["steps"])) or state["computed"] is not None
    note = (
        f"{state['computed']} holds the computed value: give the final answer now, citing it."
        if state["computed"]
        else f"Step limit ({c.budget.rounds}) reached: give the final answer now from the observations."
    )
    msgs = state["messages"] + ([HumanMessage(content=note)] if forced else [])
    action, reply = decide(c, msgs, forced)
    if forced and action.tool != FINAL:
        action = Action(tool=FINAL, answer="", thought="no final answer at the step limit")
    said = f"{action.thought} -> {action.tool}" + (f": {action.answer}" if action.tool == FINAL else "")
    c.run.emit(Thought(round=state["steps"] + 1, role="react", text=said))
    return {
        "messages": [reply],
        "action": action,
        "tool_call_id": (reply.tool_calls[0]["id"] if getattr(reply, "tool_calls", None) else None),
    }


def act(state: ReActState, runtime: Runtime[ReActContext]) -> dict[str, Any]:
    """Run the chosen tool; its observation (and any image it made) goes back to the reasoner."""
    c = runtime.context
    action = state["action"]
    assert action is not None
    result = c.run.runner.call(action.tool, action.args, step=f"s{state['steps'] + 1}")
    values = [a for a in result.artifact_ids if isinstance(c.run.store.get(a), ValueArtifact)]
    return {
        "messages": observation_messages(c.run, c.llm, result, state["tool_call_id"]),
        "steps": state["steps"] + 1,
        "computed": values[-1] if values else None,
    }


def finish(state: ReActState, runtime: Runtime[ReActContext]) -> dict[str, Any]:
    c = runtime.context
    action = state["action"]
    assert action is not None
    if c.budget.spent(state["steps"]):
        notes = [forced_note(f"step limit {c.budget.rounds}")]
    else:
        notes = [f"answered once {state['computed']} was computed"] if state["computed"] else []
    final = FinalAnswer(
        action.answer.strip() or f"No answer within {c.budget.rounds} steps.",
        [e for e in action.evidence if e in c.run.store],
        notes,
        ok=bool(action.answer.strip()),
        rounds=state["steps"],
    )
    return {"final": final}


def after_think(state: ReActState) -> str:
    assert state["action"] is not None
    return "finish" if state["action"].tool == FINAL else "act"


def build_graph() -> Any:
    graph = StateGraph(ReActState, context_schema=ReActContext)
    graph.add_node("think", think)
    graph.add_node("act", act)
    graph.add_node("finish", finish)
    graph.add_edge(START, "think")
    graph.add_conditional_edges("think", after_think, ["act", "finish"])
    graph.add_edge("act", "think")
    graph.add_edge("finish", END)
    return graph.compile()


GRAPH = build_graph()


def _native_tools(cfg: RoleConfig) -> bool:
    """Native tool calls: a served reasoner's option (vLLM with a tool parser); never embedded."""
    opts = cfg.typed_options
    return isinstance(opts, OpenAIOptions) and opts.native_tools


class ReActPlanner:
    name = "react"

    def solve(self, run: RunContext) -> FinalAnswer:
        llm = run.llm("reasoner")
        tools = [t for t in run.runner.tools.values() if t.plannable]
        context = ReActContext(
            run,
            llm,
            tools,
            _native_tools(run.settings.role("reasoner")),
            Budget.of(run.settings, unit="steps"),
        )
        images = ", ".join(run.store.get(i).summary() for i in run.image_ids)
        first: list[BaseMessage] = [
            SystemMessage(
                content=system_prompt("react_system.md", tools="\n".join(f"- {t.signature()}" for t in tools))
            ),
            HumanMessage(content=with_images(run, llm, f"Images: {images}\nQuestion: {run.question}", run.image_ids)),
        ]
        t0 = time.perf_counter()
        state = GRAPH.invoke(
            {"messages": first, "steps": 0, "action": None, "tool_call_id": None, "computed": None, "final": None},
            {"recursion_limit": 2 * context.budget.rounds + 6},
            context=context,
        )
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return state["final"]


def decide(c: ReActContext, messages: list[BaseMessage], forced: bool) -> tuple[Action, AIMessage]:
    """One action from the reasoner: a native tool call, or a JSON action under the schema."""
    run, llm = c.run, c.llm
    if c.native and not forced:  # the forced last answer goes through the JSON path below
        reply = llm.with_tools(messages, c.tools + [FinalArgs], purpose="react")
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
