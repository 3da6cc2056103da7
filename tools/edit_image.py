"""`edit_image`: instruction editing (InstructPix2Pix) or inpainting the region of a mask
artifact (e.g. ground -> segment); inpainting keeps every pixel outside the mask."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, ImageArtifact, MaskArtifact
from mmagent.core.config import RoleConfig
from mmagent.core.errors import ToolError
from mmagent.core.options import DiffusersOptions
from mmagent.tools.base import ImageRef, MaskRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.diffusion import check_size, diffusion_unavailable, generator_for, load_pipeline, progress_callback


class EditArgs(BaseModel):
    image: ImageRef = Field(description="image id to edit")
    instruction: str = Field(description="what to change, e.g. 'make the car blue'")
    mask: MaskRef | None = Field(default=None, description="mask- id: repaint only this region (inpainting)")
    index: int | None = Field(default=None, ge=0, description="which mask of the artifact (default: all)")
    steps: int = Field(default=20, ge=1, le=150)
    seed: int = 0
    guidance: float = Field(default=7.5, ge=0.0, le=30.0)
    image_guidance: float = Field(default=1.5, ge=0.0, le=10.0, description="instruction editing only")


def _fit8(size: tuple[int, int]) -> tuple[int, int]:
    return max(8, size[0] // 8 * 8), max(8, size[1] // 8 * 8)


class EditImageTool(VisionTool):
    name: str = "edit_image"
    makes: ClassVar[type[Artifact]] = ImageArtifact
    description: str = "change an image by an instruction; with a mask- id only that region is repainted"
    args_schema: type[BaseModel] = EditArgs
    creates_images: bool = True

    def unavailable(self, settings) -> str | None:
        return diffusion_unavailable("editor", settings.editor, settings)

    def forward(self, args: EditArgs, ctx: ToolContext) -> ToolOutput:
        if not args.instruction.strip():
            raise ToolError("the instruction is empty; say what to change")
        img = ctx.store.get(args.image, ImageArtifact)
        cfg = ctx.settings.editor
        size = _fit8(img.image.size)
        check_size(*size, cfg, ctx.settings)
        source = img.image.resize(size, Image.Resampling.BICUBIC)
        common = dict(
            prompt=args.instruction,
            num_inference_steps=args.steps,
            guidance_scale=args.guidance,
            callback_on_step_end=progress_callback(ctx.emit, self.name, args.steps),
        )
        region = None
        if args.mask:
            m = ctx.store.get(args.mask, MaskArtifact)
            if m.masks.shape[1:] != (img.image.height, img.image.width):
                raise ToolError(
                    f"{args.mask} is {m.masks.shape[2]}x{m.masks.shape[1]} but {img.id} is "
                    f"{img.image.width}x{img.image.height}; masks must match the image"
                )
            if args.index is not None and args.index >= len(m.masks):
                raise ToolError(f"{args.mask} has {len(m.masks)} masks; index {args.index} does not exist")
            region = m.masks[args.index] if args.index is not None else m.masks.any(axis=0)
            if not region.any():
                raise ToolError(f"{args.mask} is empty; nothing to repaint")
            inpaint_cfg = RoleConfig(
                backend=cfg.backend,
                model=cfg.options_as(DiffusersOptions).inpaint_model or cfg.model,
                device=cfg.device,
                options=cfg.options,
            )
            pipe = load_pipeline("editor", inpaint_cfg, ctx.settings, ctx.models, "inpaint")
            mask_img = Image.fromarray(region.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)
            with pipe.lock:
                out = pipe.pipeline(
                    image=source,
                    mask_image=mask_img,
                    width=size[0],
                    height=size[1],
                    generator=generator_for(pipe, args.seed),
                    **common,
                ).images[0]
            model = inpaint_cfg.model
        else:
            pipe = load_pipeline("editor", cfg, ctx.settings, ctx.models, "instruct-pix2pix")
            with pipe.lock:
                out = pipe.pipeline(
                    image=source,
                    image_guidance_scale=args.image_guidance,
                    generator=generator_for(pipe, args.seed),
                    **common,
                ).images[0]
            model = cfg.model
        result = out.convert("RGB").resize(img.image.size, Image.Resampling.BICUBIC)
        if region is not None:  # the VAE round trip changes everything; restore what was not masked
            keep = np.asarray(img.image)
            result = Image.fromarray(np.where(region[..., None], np.asarray(result), keep))
        art = ctx.new(
            ImageArtifact,
            inputs=(img.id,) + ((args.mask,) if args.mask else ()),
            params=args.model_dump(exclude_none=True),
            model=model,
            image=result,
            parent=img.id,
            origin="edited",
        )
        return ToolOutput(art.summary() + f" ('{args.instruction}')", [art])
