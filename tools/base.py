"""The one tool contract.

A tool is a langchain-core `BaseTool` with a pydantic `args_schema`, plus `forward(args, ctx)`
that does the work and returns a ToolOutput (a compact observation for the LLM and the
artifacts it made). Tools never touch the event stream or validate raw input themselves:
tools.runner.ToolRunner does that, so LangChain/LangGraph callers and our planners share
one path (validate -> run -> artifacts -> events).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, get_args, get_origin

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict

from mmagent.core.artifacts import (
    Artifact,
    ArtifactStore,
    DetectionsArtifact,
    ImageArtifact,
    MaskArtifact,
    OcrArtifact,
    Provenance,
    TableArtifact,
)

if TYPE_CHECKING:
    from mmagent.core.config import Settings
    from mmagent.core.llm.client import LLMClient
    from mmagent.core.models import ModelManager

A = TypeVar("A", bound=Artifact)


class Refers:
    """Marks a tool argument as an artifact id and names the artifact types it accepts:
    `image: ImageRef` or `source: Annotated[str, Refers(DetectionsArtifact, OcrArtifact)]`.
    The planners' decoding schema and plan checks and the tool-call cache all read it here.

        class CropArgs(BaseModel):
            image: ImageRef | None = None
            source: BoxesRef | None = None
            box: list[float] | None = None

        artifact_args(CropArgs)  # {'image': (ImageArtifact,), 'source': (DetectionsArtifact, OcrArtifact)}
    """

    def __init__(self, *kinds: type[Artifact]) -> None:
        self.kinds = kinds

    def __repr__(self) -> str:
        return f"Refers({', '.join(k.__name__ for k in self.kinds)})"


ImageRef = Annotated[str, Refers(ImageArtifact)]
DetectionsRef = Annotated[str, Refers(DetectionsArtifact)]
OcrRef = Annotated[str, Refers(OcrArtifact)]
TableRef = Annotated[str, Refers(TableArtifact)]
MaskRef = Annotated[str, Refers(MaskArtifact)]
BoxesRef = Annotated[str, Refers(DetectionsArtifact, OcrArtifact)]  # anything with boxes


def _refers(annotation: Any) -> Refers | None:
    """The Refers marker anywhere in an annotation (inside Optional, list, Annotated)."""
    if get_origin(annotation) is Annotated:
        found = [m for m in annotation.__metadata__ if isinstance(m, Refers)]
        if found:
            return found[0]
    for inner in get_args(annotation):
        if (marker := _refers(inner)) is not None:
            return marker
    return None


@functools.cache
def artifact_args(schema: type[BaseModel]) -> dict[str, tuple[type[Artifact], ...]]:
    """Argument name -> the artifact types it accepts, for every artifact-valued argument."""
    out = {}
    for name, f in schema.model_fields.items():
        marker = next((m for m in f.metadata if isinstance(m, Refers)), None) or _refers(f.annotation)
        if marker is not None:
            out[name] = marker.kinds
    return out


@dataclass
class ToolContext:
    """What a tool may use during one call."""

    store: ArtifactStore
    settings: Settings
    models: ModelManager
    llm: Callable[[str], LLMClient]  # role name -> client
    tool: str = ""
    emit: Callable[[Any], None] = lambda event: None  # progress events of long calls
    started: float = field(default_factory=time.perf_counter)

    def new(
        self,
        cls: type[A],
        inputs: tuple[str, ...] = (),
        params: dict[str, Any] | None = None,
        model: str | None = None,
        **fields: Any,
    ) -> A:
        """Store an artifact with provenance stamped by this call."""
        prov = Provenance(self.tool, tuple(inputs), dict(params or {}), model, time.perf_counter() - self.started)
        return self.store.add(cls, prov, **fields)


@dataclass
class ToolOutput:
    observation: str
    artifacts: Sequence[Artifact] = field(default_factory=list)


class VisionTool(BaseTool):
    """Subclasses set name, description, args_schema (artifact-valued arguments typed with
    `Refers`, e.g. `ImageRef`), `makes` (the type of artifact a call returns first) and
    implement forward(); then one line in `tools/__init__.py` registers the tool.

        class CountArgs(BaseModel):
            detections: DetectionsRef = Field(description="det artifact id")

        class CountTool(VisionTool):
            name: str = "count"
            makes: ClassVar[type[Artifact]] = ValueArtifact
            description: str = "count the boxes of a det artifact"
            args_schema: type[BaseModel] = CountArgs

            def forward(self, args: CountArgs, ctx: ToolContext) -> ToolOutput:
                det = ctx.store.get(args.detections, DetectionsArtifact)
                art = ctx.new(ValueArtifact, inputs=(det.id,), value=len(det.detections), statement="...")
                return ToolOutput(art.summary(), [art])
    """

    makes: ClassVar[type[Artifact]]

    model_config = ConfigDict(arbitrary_types_allowed=True)
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    runner: Any = None  # tools.runner.ToolRunner, bound when an agent run starts
    plannable: bool = True  # offered to planners (False: used by the UI / code directly)
    cache_roles: tuple[str, ...] = ()  # perception tools: the roles whose models make the output (cacheable)
    cache_version: str = "1"  # bump when the tool's output changes for the same model and arguments
    cache_settings: tuple[str, ...] = ()  # settings besides the roles' that change the output (cache key)
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

    @property
    def artifact_args(self) -> dict[str, tuple[type[Artifact], ...]]:
        """Which arguments are artifact ids, and of which types (from the args schema)."""
        return artifact_args(self.args_schema)  # type: ignore[arg-type]

    def signature(self) -> str:
        """One compact line for prompts: name(arg: type = default, ...) - description."""
        schema: type[BaseModel] = self.args_schema  # type: ignore[assignment]
        parts = [name if f.is_required() else f"{name}={f.default!r}" for name, f in schema.model_fields.items()]
        return f"{self.name}({', '.join(parts)}): {self.description}"
