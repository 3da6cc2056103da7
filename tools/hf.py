"""Loading Hugging Face (transformers / diffusers) models for tools, through the one manager.

A role's `model` is resolved like any model (local path -> MMAGENT_MODEL_DIR -> hub id only
when online use is allowed); the load happens on first use, on the role's device, in fp16 on
CUDA and fp32 on CPU (role option `fp16` overrides).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ToolError
from mmagent.core.models import ModelManager, pick_device, pick_dtype, size_on_disk
from mmagent.core.options import DiffusersOptions, TransformersOptions
from mmagent.core.resolve import resolve_model

T = TypeVar("T")


@dataclass(frozen=True)
class HfSource:
    location: str  # local directory, or a hub id (online users)
    local_only: bool
    device: str
    dtype: Any


def _fp16(cfg: RoleConfig) -> bool | None:
    """Half precision as configured (transformers and diffusers options); None: CUDA only."""
    opts = cfg.typed_options
    return opts.fp16 if isinstance(opts, TransformersOptions | DiffusersOptions) else None


def hf_source(role: str, cfg: RoleConfig, settings: Settings) -> HfSource:
    if not cfg.model:
        raise ToolError(
            f"the {role} role uses backend '{cfg.backend}' but names no model "
            f"(set MMAGENT_{role.upper()}__MODEL to a local path or hub id)"
        )
    resolved = resolve_model(cfg.model, settings)
    device = pick_device(cfg.device)
    return HfSource(resolved.location, resolved.source != "hub", device, pick_dtype(device, _fp16(cfg)))


def load_hf(role: str, cfg: RoleConfig, settings: Settings, manager: ModelManager, build: Callable[[HfSource], T]) -> T:
    """The shared instance built by `build` for this role's config (loaded on first use)."""
    key = f"{role}:{cfg.backend}:{cfg.model}:{cfg.device}:{_fp16(cfg)}:{settings.model_dir}"
    return manager.get(
        key,
        lambda: build(hf_source(role, cfg, settings)),
        lambda: size_on_disk(hf_source(role, cfg, settings).location),
    )


def hf_pipeline(task: str, source: HfSource) -> Any:
    """A transformers pipeline on the resolved model. A local directory never touches the hub;
    a hub id only reaches here when online use is allowed."""
    from transformers import pipeline

    # `task` is a runtime string; transformers types `pipeline` by one overload per literal task.
    return pipeline(task, model=source.location, device=source.device, dtype=source.dtype)  # type: ignore[call-overload]
