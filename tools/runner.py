"""ToolRunner: the single path of every tool call.

validate args -> (cache lookup: issue 4) -> run -> store artifacts -> emit events.
Any failure becomes an observation with ok=False that the planner sees; a run never
crashes because a tool or the model's arguments were wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from mmagent.core.errors import MMAgentError, validation_problems
from mmagent.core.events import ToolCalled, ToolResult
from mmagent.tools.base import ToolContext, ToolOutput, VisionTool


@dataclass
class ToolCallResult:
    tool: str
    ok: bool
    observation: str
    artifact_ids: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def primary(self) -> str | None:
        """The artifact later steps refer to (the last one made)."""
        return self.artifact_ids[-1] if self.artifact_ids else None

    @property
    def made(self) -> str:
        """`primary` of a call that succeeded: every tool makes at least one artifact."""
        if not (self.ok and self.artifact_ids):
            raise ValueError(f"the {self.tool} call made nothing: {self.observation}")
        return self.artifact_ids[-1]


class ToolRunner:
    def __init__(
        self,
        tools: list[VisionTool],
        make_context: Callable[[str], ToolContext],
        emit: Callable[[Any], None],
        unavailable: dict[str, str] | None = None,
        cache: Any = None,
    ) -> None:
        self.tools = {t.name: t for t in tools}
        self.unavailable = dict(unavailable or {})  # tool name -> why it cannot run here
        self.cache = cache  # core.cache.ToolCache or None
        self.make_context = make_context
        self.emit = emit
        for t in tools:
            t.runner = self

    def validate(self, tool_name: str, raw_args: dict[str, Any]) -> BaseModel:
        """Parse args for a tool; raise MMAgentError with a message fit for the LLM."""
        tool = self.tools.get(tool_name)
        if tool is None and tool_name in self.unavailable:
            raise MMAgentError(f"tool '{tool_name}' is unavailable: {self.unavailable[tool_name]}")
        if tool is None:
            raise MMAgentError(f"unknown tool '{tool_name}'; available: {', '.join(self.tools)}")
        schema: type[BaseModel] = tool.args_schema  # type: ignore[assignment]
        try:
            return schema.model_validate(raw_args or {})
        except ValidationError as exc:
            raise MMAgentError(f"bad arguments for {tool_name}: {validation_problems(exc, 5, 'args')}") from None

    def call(self, tool_name: str, raw_args: dict[str, Any], step: str = "") -> ToolCallResult:
        self.emit(ToolCalled(step=step, tool=tool_name, args=raw_args))
        t0 = time.perf_counter()
        try:
            args = self.validate(tool_name, raw_args)
            ctx = self.make_context(tool_name)
            tool = self.tools[tool_name]
            key = None
            if self.cache is not None and tool.cache_roles:
                # Where weights resolve is part of what made the output: the same role config
                # reads yolov8n from the models directory, or falls back to SSD without one.
                models = {
                    r: ctx.settings.role(r).model_dump() | {"model_dir": str(ctx.settings.model_dir)}
                    for r in tool.cache_roles
                } | {name: getattr(ctx.settings, name) for name in tool.cache_settings}
                key = self.cache.key(
                    f"{tool_name}@{tool.cache_version}", models, args.model_dump(), ctx.store, tool.artifact_args
                )
            hit = self.cache.load(key, ctx.store, getattr(args, "image", "")) if key else None
            if hit is not None:
                art, suffix = hit
                out = ToolOutput(art.summary() + suffix, [art])
            else:
                out = tool.forward(args, ctx)
                if key and len(out.artifacts) == 1:
                    self.cache.save(key, out.artifacts[0], out.observation)
            result = ToolCallResult(tool_name, True, out.observation, [a.id for a in out.artifacts])
        except MMAgentError as exc:
            result = ToolCallResult(tool_name, False, f"ERROR: {exc}")
        except Exception as exc:  # a model or library raising mid-run: report, keep going
            result = ToolCallResult(tool_name, False, f"ERROR: {tool_name} failed: {type(exc).__name__}: {exc}")
        result.duration_s = time.perf_counter() - t0
        self.emit(
            ToolResult(
                step=step,
                tool=tool_name,
                ok=result.ok,
                artifact_ids=result.artifact_ids,
                observation=result.observation,
                duration_s=result.duration_s,
            )
        )
        return result
