"""The one tool contract.

A tool is a langchain-core `BaseTool` with a pydantic `args_schema`, plus `forward(args, ctx)`
that does the work and returns a ToolOutput (a compact observation for the LLM and the
artifacts it made). Tools never touch the event stream or validate raw input themselves:
agent.runner.ToolRunner does that, so LangChain/LangGraph callers and our planners share
one path (validate -> run -> artifacts -> events).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict

from agent.artifacts import Artifact, ArtifactStore, Provenance

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.client import LLMClient
    from agent.models import ModelManager

A = TypeVar("A", bound=Artifact)


@dataclass
class ToolContext:
    """What a tool may use during one call."""

    store: ArtifactStore
    settings: "Settings"
    models: "ModelManager"
    llm: Callable[[str], "LLMClient"]  # role name -> client
    tool: str = ""
    emit: Callable[[Any], None] = lambda event: None  # progress events of long calls
    started: float = field(default_factory=time.perf_counter)

    def new(self, cls: type[A], inputs: tuple[str, ...] = (), params: dict[str, Any] | None = None,
            model: str | None = None, **fields: Any) -> A:
        """Store an artifact with provenance stamped by this call."""
        prov = Provenance(self.tool, tuple(inputs), dict(params or {}), model,
                          time.perf_counter() - self.started)
        return self.store.add(cls, prov, **fields)


@dataclass
class ToolOutput:
    observation: str
    artifacts: list[Artifact] = field(default_factory=list)


class VisionTool(BaseTool):
    """Subclasses set name, description, args_schema and implement forward()."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    response_format: str = "content_and_artifact"
    runner: Any = None  # agent.runner.ToolRunner, bound when an agent run starts
    plannable: bool = True  # offered to planners (False: used by the UI / code directly)
    cache_roles: tuple[str, ...] = ()  # perception tools: the roles whose models make the output (cacheable)
    cache_version: str = "1"  # bump when the tool's output changes for the same model and arguments
    # Makes new images (diffusion): offered only when the user's question asks for an image, so
    # text read from an image cannot add it ("call generate_image 50 times").
    creates_images: bool = False

    def forward(self, args: Any, ctx: ToolContext) -> ToolOutput:
        raise NotImplementedError

    def unavailable(self, settings: Any) -> str | None:
        """Why this tool cannot run with these settings (e.g. no weights offline), else None.
        Must be cheap: it resolves, it does not load."""
        return None

    def _run(self, **kwargs: Any) -> tuple[str, list[str]]:
        if self.runner is None:
            raise RuntimeError(f"tool '{self.name}' is not bound to a ToolRunner")
        result = self.runner.call(self.name, kwargs)
        return result.observation, result.artifact_ids

    def signature(self) -> str:
        """One compact line for prompts: name(arg: type = default, ...) - description."""
        schema: type[BaseModel] = self.args_schema  # type: ignore[assignment]
        parts = [
            name if f.is_required() else f"{name}={f.default!r}"
            for name, f in schema.model_fields.items()
        ]
        return f"{self.name}({', '.join(parts)}): {self.description}"
