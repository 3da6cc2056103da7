"""The one settings object: every role names its backend and model.

Sources, highest priority first: constructor arguments, `MMAGENT_*` environment variables
(nested with `__`, e.g. `MMAGENT_DETECTOR__BACKEND=ssd`), a TOML file (`MMAGENT_CONFIG`, else
`./mmagent.toml` if present), then the defaults below.
"""

from __future__ import annotations

import functools
import os
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mmagent.core.errors import ConfigError, validation_problems
from mmagent.core.options import BACKEND_OPTIONS, ROLE_BACKENDS, BackendOptions, unknown_backend

LLMBackend = Literal["llamacpp", "openai"]
Options = TypeVar("Options", bound=BackendOptions)


class RoleConfig(BaseModel):
    """Which backend and model serve one role. `model` is a known name, a path or a hub id."""

    backend: str
    model: str | None = None
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    # An LLM role's model sees images in messages; None: what its chat model class declares
    # (`sees_images`; the embedded llama.cpp text model does not, a served model does).
    vision: bool | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # checked against the backend's options model

    @model_validator(mode="after")
    def _typed_options(self) -> RoleConfig:
        model = BACKEND_OPTIONS.get(self.backend)
        if model is not None:
            try:
                model.model_validate(self.options)
            except ValidationError as exc:  # a misspelt or mistyped option fails here, with its path
                raise ValueError(f"backend '{self.backend}' options: {validation_problems(exc)}") from None
        return self

    @property
    def typed_options(self) -> BackendOptions:
        """`options` as the backend's model, defaults filled in (checked when the config loaded).

        >>> RoleConfig(backend="llamacpp").typed_options.max_tokens
        512
        """
        return BACKEND_OPTIONS.get(self.backend, BackendOptions).model_validate(self.options)

    def options_as(self, kind: type[Options]) -> Options:
        """`typed_options` where the caller knows the backend's options model (a tool that only
        runs on one backend); any other backend is a programming error, not a user's."""
        typed = self.typed_options
        if not isinstance(typed, kind):
            raise TypeError(f"backend '{self.backend}' has {type(typed).__name__}, not {kind.__name__}")
        return typed


# Every role a config names, in the order the CLI and UI list them.
ROLES = (
    "planner",
    "reasoner",
    "answerer",
    "detector",
    "ocr",
    "captioner",
    "grounder",
    "segmenter",
    "generator",
    "editor",
    "classifier",
)

# Default model names are keys of agent.resolve.KNOWN_MODELS. The planner is the 1.5B model:
# on the synthetic benchmark's dev seed it picked the intent of 52/54 questions against 39/54
# for the 0.5B (README, "Choosing the models"); its prompts are short, so it stays fast.
EMBEDDED_LLM = RoleConfig(backend="llamacpp", model="qwen2.5-coder-1.5b-instruct")


PLANNER_GROUP = "mmagent.planners"


@functools.cache
def planner_entry_points() -> dict[str, EntryPoint]:
    """The planner registry: the installed `mmagent.planners` entry points (pyproject.toml),
    read as metadata, so the config can check a planner's name without importing planners."""
    return {ep.name: ep for ep in entry_points(group=PLANNER_GROUP)}


USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mmagent"


def _default_config_file() -> Path | None:
    explicit = os.environ.get("MMAGENT_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("mmagent.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MMAGENT_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    # Where weights are looked for (see agent.resolve); CI points this at ../shared/models.
    model_dir: Path | None = None
    cache_dir: Path = USER_CACHE
    # Where weights shipped as package chunks are joined (once per user, ~1.6 GB): apart from
    # cache_dir so a per-project or per-run cache_dir does not copy them again.
    weights_dir: Path = USER_CACHE / "models"
    allow_online: bool = False  # hub downloads only when the user opts in

    # A served LMM (vLLM, llama.cpp server, Ollama, OpenAI): when set it becomes the reasoner.
    lmm_url: str | None = None  # several replicas: URLs separated by commas
    lmm_model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    lmm_api_key: str = "EMPTY"
    # Use a running `mmagent serve` (found through its state file under cache_dir) for the LLM
    # roles: "auto" when one runs, "off" always embedded (tests that must not see one).
    server: Literal["auto", "off"] = "auto"

    memory_budget: float | None = None  # GB for tool models; LRU eviction above it
    llm_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    llm_context: int = 4096
    llm_timeout_s: float = 300.0
    # Keep the embedded LLM's prompt caches on disk (cache_dir/llm-slots), so a fresh process
    # starts with the static prompts already evaluated.
    llm_prompt_cache: bool = True

    planner: RoleConfig = EMBEDDED_LLM
    reasoner: RoleConfig | None = None  # None: the served LMM if lmm_url, else the planner's model
    answerer: RoleConfig | None = None  # None: same as reasoner (issue 3 adds VQA backends)
    detector: RoleConfig = RoleConfig(backend="yolo", model="yolov8n")
    ocr: RoleConfig = RoleConfig(backend="rapidocr")  # PP-OCR ONNX models ship inside rapidocr
    # Roles the full toolset adds; named here so one config covers every role.
    captioner: RoleConfig = RoleConfig(backend="scene-summary")
    grounder: RoleConfig = RoleConfig(backend="compositional")
    segmenter: RoleConfig = RoleConfig(backend="sam", model="mobile_sam.pt")
    generator: RoleConfig = RoleConfig(backend="diffusers", model="stabilityai/sd-turbo")
    editor: RoleConfig = RoleConfig(backend="diffusers", model="timbrooks/instruct-pix2pix")
    classifier: RoleConfig = RoleConfig(backend="efficientnet-lite3")

    planner_kind: str = "plan"  # a name in the planner registry (planner_entry_points)
    max_plan_tasks: int = 12
    # `plan`: how many times the planner picks a program (>1: reversed order, majority vote)
    plan_votes: int = Field(default=1, ge=1, le=3)
    # Loop budgets (react: steps; ideal / ideal-paper: rounds; ideal also tool calls and tokens).
    max_steps: int = Field(default=8, ge=1)
    max_rounds: int = Field(default=4, ge=1)
    max_tool_calls: int = Field(default=24, ge=1)
    max_tokens: int = Field(default=40000, ge=1000)
    tool_workers: int = 4
    tool_cache: bool = False  # on-disk tool-call cache under cache_dir/tools (evaluations turn it on)
    # Sliced perception: detection and OCR read an image in full-resolution tiles when its long
    # side is over this many times what the model reads (640 px detector, 1280 px OCR); 0: never.
    slice_factor: float = Field(default=2.0, ge=0)
    # Zoomed regions the ideal loop looks at when a sub-question's object or text is not found
    # on a large image as a whole (most promising first); 0: no search.
    zoom_budget: int = Field(default=4, ge=0)

    @field_validator("planner_kind")
    @classmethod
    def _known_planner(cls, kind: str) -> str:
        known = planner_entry_points()
        if known and kind not in known:
            raise ValueError(f"unknown planner '{kind}'; available: {', '.join(known)}")
        return kind

    @model_validator(mode="after")
    def _fill_roles(self) -> Settings:
        served = RoleConfig(backend="openai", model=self.lmm_model) if self.lmm_url else None
        if self.reasoner is None:
            self.reasoner = served or self.planner
        if self.answerer is None:
            self.answerer = self.reasoner
        for role, backends in ROLE_BACKENDS.items():
            backend = self.role(role).backend
            if backend not in backends:
                raise ValueError(f"{role}.backend: {unknown_backend(role, backend)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _default_config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def role(self, name: str) -> RoleConfig:
        value = getattr(self, name, None)
        if not isinstance(value, RoleConfig):
            raise ConfigError(f"unknown role '{name}'")
        return value


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation problems into one readable ConfigError."""
    toml = _default_config_file()
    if toml is not None and not toml.is_file():
        raise ConfigError(f"config file {toml} (from MMAGENT_CONFIG) does not exist")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid mmagent configuration: {validation_problems(exc, unnamed='settings')}") from None
    except Exception as exc:  # malformed TOML
        raise ConfigError(f"could not read the mmagent configuration: {exc}") from None
