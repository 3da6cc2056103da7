"""Shared diffusers plumbing for generate_image and edit_image: loading, size checks, progress.

No diffusion weights exist offline; users name a model (local path, or hub id with online use
allowed). fp16 on CUDA, fp32 on CPU. Progress is reported per denoising step as events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ModelNotFoundError, ToolError
from mmagent.core.events import ToolProgress
from mmagent.core.models import ModelManager
from mmagent.core.options import DiffusersOptions
from mmagent.core.resolve import resolve_model
from mmagent.tools.hf import HfSource, load_hf

DEFAULT_MAX_PIXELS = 1024 * 1024


class DiffusionPipe:
    """A loaded pipeline plus the lock that keeps one generation at a time on it."""

    def __init__(self, pipeline: Any, device: str) -> None:
        self.pipeline = pipeline.to(device)
        self.pipeline.set_progress_bar_config(disable=True)
        self.device = device
        self.lock = threading.Lock()


def load_pipeline(role: str, cfg: RoleConfig, settings: Settings, manager: ModelManager, kind: str) -> DiffusionPipe:
    """kind: text2image | inpaint | instruct-pix2pix."""

    def build(src: HfSource) -> DiffusionPipe:
        import diffusers

        cls = {
            "text2image": diffusers.AutoPipelineForText2Image,
            "inpaint": diffusers.AutoPipelineForInpainting,
            "instruct-pix2pix": diffusers.StableDiffusionInstructPix2PixPipeline,
        }[kind]
        pipe = cls.from_pretrained(src.location, dtype=src.dtype, local_files_only=src.local_only)
        return DiffusionPipe(pipe, src.device)

    return load_hf(f"{role}:{kind}", cfg, settings, manager, build)


def diffusion_unavailable(role: str, cfg: RoleConfig, settings: Settings) -> str | None:
    if not cfg.model:
        return f"no {role} model configured"
    try:
        resolve_model(cfg.model, settings)
    except ModelNotFoundError as exc:
        return f"no offline weights for {role} model '{cfg.model}' ({exc.tried[-1]})"
    return None


def check_size(width: int, height: int, cfg: RoleConfig, settings: Settings) -> None:
    if width % 8 or height % 8:
        raise ToolError(f"size {width}x{height} must be a multiple of 8 in both sides (e.g. 512x512, 768x512)")
    limit = cfg.options_as(DiffusersOptions).max_pixels or DEFAULT_MAX_PIXELS
    if settings.memory_budget:  # ~4 KB of activations per output pixel in fp32 (SD 1.x/2.x, measured order)
        limit = min(limit, int(settings.memory_budget * 1e9 / 4096))
    if width * height > limit:
        raise ToolError(
            f"size {width}x{height} ({width * height:,} px) is over the limit of {limit:,} px for "
            "this memory budget; ask for a smaller image"
        )


def progress_callback(emit: Callable[[Any], None], tool: str, total: int) -> Callable:
    def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
        emit(ToolProgress(tool=tool, done=step + 1, total=total))
        return callback_kwargs

    return on_step_end


def generator_for(pipe: DiffusionPipe, seed: int) -> Any:
    import torch

    return torch.Generator(device="cpu" if pipe.device == "mps" else pipe.device).manual_seed(seed)
