"""Typed options per backend: `options` of a role is checked against its backend's model when
the configuration loads, so a misspelt option fails at start-up with its path
("planner.options.max_tokenz: Extra inputs are not permitted") instead of being ignored.

    RoleConfig(backend="llamacpp", options={"max_tokens": 256})   # fine
    RoleConfig(backend="llamacpp", options={"max_tokenz": 256})   # ValidationError naming options.max_tokenz
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class BackendOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlamaCppOptions(BackendOptions):
    # A running llama.cpp server for this GGUF (set by `mmagent serve`); several (a list, or
    # URLs separated by commas) are replicas, balanced by fewest requests in flight.
    server_url: str | list[str] | None = None
    max_tokens: int = 512
    n_ctx: int | None = None  # default: the llm_context setting
    n_gpu_layers: int = 0
    structured: bool = True  # schema-constrained decoding


class OpenAIOptions(BackendOptions):
    base_url: str | list[str] | None = None  # default: lmm_url; several: replicas (see server_url)
    api_key: str | None = None  # default: lmm_api_key
    max_tokens: int = 1024
    structured: bool = True
    native_tools: bool = False  # react: native tool calls (vLLM with a tool parser)
    prompt: str | None = None  # captioner: the captioning prompt
    coord_format: Literal["auto", "pixels", "unit", "1000"] = "auto"  # grounder: the reply's box coordinates


class TransformersOptions(BackendOptions):
    fp16: bool | None = None  # default: half precision on CUDA only
    prompt: str | None = None  # captioner: a prompt prefix for conditional captioning
    max_new_tokens: int = 48


class GroundingLmmOptions(TransformersOptions):
    style: str | None = None  # the grounding prompt family (kosmos-2, florence-2, ...); default: the model type


class DiffusersOptions(BackendOptions):
    fp16: bool | None = None
    max_pixels: int | None = None  # images are resized to at most this many pixels
    inpaint_model: str | None = None  # editor: the inpainting pipeline for a masked edit


class PaddleOcrOptions(BackendOptions):
    # PaddleOCR's own keyword arguments are passed through (its model dirs first of all).
    model_config = ConfigDict(extra="allow")
    text_detection_model_dir: str | None = None
    text_recognition_model_dir: str | None = None


BACKEND_OPTIONS: dict[str, type[BackendOptions]] = {
    "llamacpp": LlamaCppOptions,
    "openai": OpenAIOptions,
    "transformers": TransformersOptions,
    "zero-shot": TransformersOptions,
    "grounding-lmm": GroundingLmmOptions,
    "diffusers": DiffusersOptions,
    "paddleocr": PaddleOcrOptions,
    # Backends that take no options.
    "yolo": BackendOptions,
    "ssd": BackendOptions,
    "rapidocr": BackendOptions,
    "scene-summary": BackendOptions,
    "compositional": BackendOptions,
    "efficientnet-lite3": BackendOptions,
    "sam": BackendOptions,
    "fastsam": BackendOptions,
}

# Which backends can serve each role; a configuration naming another fails when it loads.
ROLE_BACKENDS: dict[str, tuple[str, ...]] = {
    "planner": ("llamacpp", "openai"),
    "reasoner": ("llamacpp", "openai"),
    "answerer": ("llamacpp", "openai", "transformers"),
    "detector": ("yolo", "ssd"),
    "ocr": ("rapidocr", "paddleocr"),
    "captioner": ("scene-summary", "transformers", "openai"),
    "grounder": ("compositional", "transformers", "grounding-lmm", "openai"),
    "segmenter": ("sam", "fastsam"),
    "generator": ("diffusers",),
    "editor": ("diffusers",),
    "classifier": ("efficientnet-lite3", "transformers", "zero-shot"),
}


def unknown_backend(role: str, backend: str) -> str:
    """The one message for a backend a role cannot use, naming those it can (ROLE_BACKENDS)."""
    return f"unknown backend '{backend}' (use {', '.join(ROLE_BACKENDS[role])})"
