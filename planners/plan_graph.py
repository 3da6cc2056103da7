"""Plan as a task graph (HuggingGPT style).

The planner LLM writes {"tasks": [{id, tool, args, deps}]} under a JSON schema built from
the tools' argument schemas; `$t1` in an arg means "the artifact task t1 made". The plan is
checked (known tools, valid args, known artifact ids, reference types, no cycles), repaired
once with the problems quoted, else replaced by a fallback plan. Independent tasks run
concurrently; the reasoner then states the answer from the results and cites artifact ids.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agent.errors import MMAgentError, StructuredOutputError
from agent.events import PlanMade, StepStarted
from agent.runner import ToolCallResult, ToolRunner
from planners.answer import compose_answer
from planners.base import FinalAnswer, RunContext, prompt

REF = re.compile(r"\$(t\d+)\b")
ARTIFACT_ID = re.compile(r"^[a-z]{3}-\d+$")
# What each tool makes, and which artifact kinds each artifact-valued argument accepts.
OUTPUT_PREFIX = {"detect": "det", "ocr": "ocr", "crop": "img", "extract": "tab",
                 "query": "val", "relate": "val", "calculate": "val"}
ARG_KINDS = {"image": {"img"}, "source": {"ocr", "det"}, "table": {"tab"},
             "subject": {"det", "ocr"}, "target": {"det", "ocr"}}
ARG_KINDS_BY_TOOL = {("extract", "source"): {"ocr"}}


class Task(BaseModel):
    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    deps: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    tasks: list[Task] = Field(min_length=1)


def plan_json_schema(runner: ToolRunner, max_tasks: int, image_ids: list[str]) -> dict[str, Any]:
    """One task shape per tool, so constrained decoding can only emit valid tool names, args
    and references: an artifact-valued arg is one of the input images or "$tN"."""
    refs = image_ids + [f"$t{i}" for i in range(1, max_tasks + 1)]
    variants = []
    for name, tool in runner.tools.items():
        args = tool.args_schema.model_json_schema()  # type: ignore[union-attr]
        args.pop("title", None)
        args.pop("description", None)
        args["additionalProperties"] = False
        for arg, prop in args.get("properties", {}).items():
            if arg in ARG_KINDS:
                optional = arg not in args.get("required", [])
                ref_enum = {"type": "string", "enum": refs}
                args["properties"][arg] = {"anyOf": [ref_enum, {"type": "null"}]} if optional else ref_enum
        variants.append({
            "type": "object",
            "properties": {"id": {"type": "string"}, "tool": {"const": name}, "args": args},
            "required": ["id", "tool", "args"],
            "additionalProperties": False,
        })
    return {
        "type": "object",
        "properties": {"tasks": {"type": "array", "items": {"anyOf": variants},
                                 "minItems": 1, "maxItems": max_tasks}},
        "required": ["tasks"],
        "additionalProperties": False,
    }


def refs_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return REF.findall(value)
    if isinstance(value, list):
        return [r for v in value for r in refs_in(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in refs_in(v)]
    return []


def normalize(plan: Plan) -> Plan:
    """Accept a bare task id ("t1") where a reference ("$t1") was meant."""
    ids = {t.id for t in plan.tasks}
    for t in plan.tasks:
        for k, v in list(t.args.items()):
            if isinstance(v, str) and v.strip() in ids:
                t.args[k] = "$" + v.strip()
        t.deps = sorted(set(t.deps) | set(refs_in(t.args)))
    return plan


def topological_order(plan: Plan) -> list[str]:
    deps = {t.id: set(t.deps) for t in plan.tasks}
    order: list[str] = []
    ready = [t for t, d in deps.items() if not d]
    while ready:
        tid = ready.pop(0)
        order.append(tid)
        for other, d in deps.items():
            if tid in d:
                d.discard(tid)
                if not d and other not in order and other not in ready:
                    ready.append(other)
    if len(order) != len(deps):
        raise MMAgentError(f"the plan has a dependency cycle among {sorted(set(deps) - set(order))}")
    return order


def check_plan(plan: Plan, run: RunContext) -> list[str]:
    """Everything wrong with a plan, phrased for the planner LLM to fix."""
    problems: list[str] = []
    plan = normalize(plan)
    by_id = {t.id: t for t in plan.tasks}
    if len(by_id) != len(plan.tasks):
        problems.append("task ids must be unique")
    for t in plan.tasks:
        if t.tool not in run.runner.tools:
            problems.append(f"{t.id}: unknown tool '{t.tool}' (tools: {', '.join(run.runner.tools)})")
            continue
        for dep in t.deps:
            if dep not in by_id:
                problems.append(f"{t.id}: refers to ${dep}, but there is no task {dep}")
            elif dep == t.id:
                problems.append(f"{t.id}: refers to itself")
        for arg, value in t.args.items():
            kinds = ARG_KINDS_BY_TOOL.get((t.tool, arg), ARG_KINDS.get(arg))
            if not isinstance(value, str) or kinds is None:
                continue
            m = REF.fullmatch(value.strip())
            if m and m.group(1) in by_id:
                made = OUTPUT_PREFIX.get(by_id[m.group(1)].tool)
                if made not in kinds:
                    problems.append(f"{t.id}: {arg} needs a {'/'.join(sorted(kinds))} artifact, "
                                    f"but {m.group(1)} ({by_id[m.group(1)].tool}) makes {made}")
            elif ARTIFACT_ID.match(value.strip()) and value.strip() not in run.store:
                problems.append(f"{t.id}: unknown artifact id '{value}' (known: {run.store.ids()})")
        placeholder = {k: (re.sub(REF, "img-0", v) if isinstance(v, str) else v) for k, v in t.args.items()}
        try:
            run.runner.validate(t.tool, placeholder)
        except MMAgentError as exc:
            problems.append(f"{t.id}: {exc}")
    if not problems:
        try:
            topological_order(plan)
        except MMAgentError as exc:
            problems.append(str(exc))
    return problems


def fallback_plan(image_ids: list[str]) -> Plan:
    """When the LLM cannot plan: read the text and find the objects in every image."""
    tasks = []
    for img in image_ids:
        n = len(tasks)
        tasks += [Task(id=f"t{n + 1}", tool="ocr", args={"image": img}),
                  Task(id=f"t{n + 2}", tool="detect", args={"image": img})]
    return Plan(tasks=tasks)


def substitute(value: Any, outputs: dict[str, str]) -> Any:
    if isinstance(value, str):
        return REF.sub(lambda m: outputs.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, outputs) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, outputs) for k, v in value.items()}
    return value


class PlanExecutor:
    """Runs a checked plan: each task starts as soon as its dependencies are done."""

    def __init__(self, run: RunContext) -> None:
        self.run = run

    def execute(self, plan: Plan) -> dict[str, ToolCallResult]:
        tasks = {t.id: t for t in plan.tasks}
        order = topological_order(plan)
        results: dict[str, ToolCallResult] = {}
        outputs: dict[str, str] = {}
        pending: dict[Future[ToolCallResult], str] = {}
        waiting = list(order)
        with ThreadPoolExecutor(max_workers=max(1, self.run.settings.tool_workers),
                                thread_name_prefix="mmagent-tool") as pool:
            while waiting or pending:
                for tid in list(waiting):
                    task = tasks[tid]
                    if any(d not in results for d in task.deps):
                        continue
                    waiting.remove(tid)
                    failed = [d for d in task.deps if not results[d].ok or d not in outputs]
                    if failed:
                        results[tid] = ToolCallResult(task.tool, False, f"ERROR: skipped, depends on failed {failed}")
                        continue
                    args = substitute(task.args, outputs)
                    self.run.emit(StepStarted(step=tid, description=f"{task.tool} {args}"))
                    pending[pool.submit(self.run.runner.call, task.tool, args, tid)] = tid
                if not pending:
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    tid = pending.pop(fut)
                    results[tid] = fut.result()
                    if results[tid].primary:
                        outputs[tid] = results[tid].primary  # type: ignore[assignment]
        return results


class PlanGraphPlanner:
    name = "plan"

    def make_plan(self, run: RunContext) -> tuple[Plan, str, str]:
        tools = "\n".join(f"- {t.signature()}" for t in run.runner.tools.values())
        images = ", ".join(run.store.get(i).summary() for i in run.image_ids)
        messages = [
            SystemMessage(content=prompt("plan_system.md", tools=tools)),
            HumanMessage(content=f"Images: {images}\nQuestion: {run.question}"),
        ]
        schema = plan_json_schema(run.runner, run.settings.max_plan_tasks, run.image_ids)
        try:
            plan, repaired = run.llm("planner").structured(
                messages, Plan, purpose="plan", check=lambda p: check_plan(p, run), json_schema=schema)
            return normalize(plan), ("llm-repaired" if repaired else "llm"), ""
        except StructuredOutputError as exc:
            return fallback_plan(run.image_ids), "fallback", str(exc)

    def solve(self, run: RunContext) -> FinalAnswer:
        t0 = time.perf_counter()
        plan, source, note = self.make_plan(run)
        run.emit(PlanMade(tasks=[t.model_dump() for t in plan.tasks], source=source, note=note))
        t1 = time.perf_counter()
        results = PlanExecutor(run).execute(plan)
        t2 = time.perf_counter()
        run.phase_seconds.update(plan=t1 - t0, execute=t2 - t1)
        observations = []
        for t in plan.tasks:
            r = results[t.id]
            observations.append(f"{t.id} {t.tool}: {r.observation}")
        answer = compose_answer(run, observations)
        if source == "fallback":
            answer.notes.append(f"planner output unusable, fallback plan used: {note}")
        return answer
