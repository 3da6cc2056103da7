"""The plan data model: tasks, its decoding schema, checks, pruning and merging.

`$t1` in an argument means "the artifact task t1 made"; dependencies follow from those
references (plus an optional explicit `deps`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from mmagent.core.artifacts import ARTIFACT_ID
from mmagent.core.errors import MMAgentError

if TYPE_CHECKING:
    from mmagent.core.artifacts import ArtifactStore
    from mmagent.tools.runner import ToolRunner

REF = re.compile(r"\$(t\d+)\b")


class Task(BaseModel):
    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    deps: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    tasks: list[Task] = Field(min_length=1)


def tool_args_schema(tool: Any, refs: list[str]) -> dict[str, Any]:
    """A tool's argument schema in which every artifact-valued argument (as the tool declares
    them) must be one of `refs`."""
    args = tool.args_schema.model_json_schema()
    args.pop("title", None)
    args.pop("description", None)
    args["additionalProperties"] = False
    ref_enum = {"type": "string", "enum": refs}
    for arg in tool.artifact_args:
        prop = args["properties"][arg]
        one = (
            {"type": "array", "items": ref_enum, **{k: v for k, v in prop.items() if k in ("minItems", "maxItems")}}
            if prop.get("type") == "array"
            else ref_enum
        )
        optional = arg not in args.get("required", [])
        args["properties"][arg] = {"anyOf": [one, {"type": "null"}]} if optional else one
    return args


def plan_json_schema(runner: ToolRunner, max_tasks: int, image_ids: list[str]) -> dict[str, Any]:
    """One task shape per tool, so constrained decoding can only emit valid tool names, args
    and references: an artifact-valued arg is one of the input images or "$tN"."""
    refs = image_ids + [f"$t{i}" for i in range(1, max_tasks + 1)]
    variants = [
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "tool": {"const": name}, "args": tool_args_schema(tool, refs)},
            "required": ["id", "tool", "args"],
            "additionalProperties": False,
        }
        for name, tool in runner.tools.items()
        if tool.plannable
    ]
    return {
        "type": "object",
        "properties": {"tasks": {"type": "array", "items": {"anyOf": variants}, "minItems": 1, "maxItems": max_tasks}},
        "required": ["tasks"],
        "additionalProperties": False,
    }


def rename_refs(value: Any, mapping: dict[str, str]) -> Any:
    """Replace `$tN` by mapping[tN] everywhere in an argument value (unknown refs stay)."""
    if isinstance(value, str):
        return REF.sub(lambda m: mapping.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [rename_refs(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: rename_refs(v, mapping) for k, v in value.items()}
    return value


def refs_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return REF.findall(value)
    if isinstance(value, list):
        return [r for v in value for r in refs_in(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in refs_in(v)]
    return []


def normalize(plan: Plan) -> Plan:
    """Accept a bare task id ("t1") where a reference ("$t1") was meant; derive deps."""
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


def task_problems(plan: Plan, runner: ToolRunner, store: ArtifactStore) -> dict[str, list[str]]:
    """Problems per task id ("" for the plan as a whole), phrased for the planner LLM."""
    plan = normalize(plan)
    by_id = {t.id: t for t in plan.tasks}
    found: dict[str, list[str]] = {}

    def add(tid: str, msg: str) -> None:
        found.setdefault(tid, []).append(f"{tid}: {msg}" if tid else msg)

    if len(by_id) != len(plan.tasks):
        add("", "task ids must be unique")
    for t in plan.tasks:
        if t.tool not in runner.tools:
            add(t.id, f"unknown tool '{t.tool}' (tools: {', '.join(runner.tools)})")
            continue
        for dep in t.deps:
            if dep not in by_id:
                add(t.id, f"refers to ${dep}, but there is no task {dep}")
            elif dep == t.id:
                add(t.id, "refers to itself")
        accepts = runner.tools[t.tool].artifact_args
        for arg, value in t.args.items():
            if not isinstance(value, str) or arg not in accepts:
                continue
            kinds = {k.prefix for k in accepts[arg]}
            m = REF.fullmatch(value.strip())
            if m and m.group(1) in by_id:
                maker = runner.tools.get(by_id[m.group(1)].tool)
                made = maker.makes.prefix if maker is not None else None
                if made not in kinds:
                    add(
                        t.id,
                        f"{arg} needs a {'/'.join(sorted(kinds))} artifact, but "
                        f"{m.group(1)} ({by_id[m.group(1)].tool}) makes {made}",
                    )
            elif ARTIFACT_ID.fullmatch(value.strip()) and value.strip() not in store:
                add(t.id, f"unknown artifact id '{value}' (known: {store.ids()})")
        placeholder = rename_refs(t.args, {d: "img-0" for d in by_id})
        try:
            runner.validate(t.tool, placeholder)
        except MMAgentError as exc:
            add(t.id, str(exc))
    if not found:
        try:
            topological_order(plan)
        except MMAgentError as exc:
            add("", str(exc))
    return found


def prune(plan: Plan, problems: dict[str, list[str]]) -> Plan | None:
    """Drop the broken tasks and everything that depends on them; None if nothing is left."""
    if "" in problems:
        return None
    bad = set(problems)
    changed = True
    while changed:
        changed = False
        for t in plan.tasks:
            if t.id not in bad and bad & set(t.deps):
                bad.add(t.id)
                changed = True
    kept = [t for t in plan.tasks if t.id not in bad]
    return Plan(tasks=kept) if kept else None


def merge(plans: list[Plan]) -> tuple[Plan, list[list[str]]]:
    """One plan from several (one per question part): renumber, and run identical tasks once.
    Also returns, per input plan, the merged task ids that serve it."""
    merged: list[Task] = []
    seen: dict[tuple[str, str], str] = {}
    members: list[list[str]] = []
    for plan in plans:
        local: dict[str, str] = {}
        by_id = {t.id: t for t in plan.tasks}
        for tid in topological_order(plan):
            t = by_id[tid]
            args = rename_refs(t.args, {old: f"${new}" for old, new in local.items()})
            key = (t.tool, json.dumps(args, sort_keys=True, default=str))
            if key not in seen:
                new_id = f"t{len(merged) + 1}"
                merged.append(Task(id=new_id, tool=t.tool, args=args, deps=sorted(set(refs_in(args)))))
                seen[key] = new_id
            local[tid] = seen[key]
        members.append(list(local.values()))
    return Plan(tasks=merged), members


def read_and_detect(image_id: str, first: int) -> list[Task]:
    """OCR and detection of one image, as tasks t{first} and t{first + 1}."""
    return [
        Task(id=f"t{first}", tool="ocr", args={"image": image_id}),
        Task(id=f"t{first + 1}", tool="detect", args={"image": image_id}),
    ]


def fallback_plan(image_ids: list[str]) -> Plan:
    """When the LLM cannot plan: read the text and find the objects in every image."""
    tasks: list[Task] = []
    for img in image_ids:
        tasks += read_and_detect(img, len(tasks) + 1)
    return Plan(tasks=tasks)
