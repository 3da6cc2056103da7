"""`generate_image`: text-to-image with diffusers (AutoPipelineForText2Image)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, ImageArtifact
from mmagent.core.errors import ToolError
from mmagent.tools.base import ToolContext, ToolOutput, VisionTool
from mmagent.tools.diffusion import check_size, diffusion_unavailable, generator_for, load_pipeline, progress_callback


class GenerateArgs(BaseModel):
    prompt: str = Field(description="what to draw")
    width: int = Field(default=512, ge=8, le=4096)
    height: int = Field(default=512, ge=8, le=4096)
    steps: int = Field(default=20, ge=1, le=150)
    seed: int = 0
    guidance: float = Field(default=7.5, ge=0.0, le=30.0)
    negative_prompt: str | None = None


class GenerateImageTool(VisionTool):
    name: str = "generate_image"
    makes: ClassVar[type[Artifact]] = ImageArtifact
    description: str = "make a new image from a text prompt"
    args_schema: type[BaseModel] = GenerateArgs
    creates_images: bool = True

    def unavailable(self, settings) -> str | None:
        return diffusion_unavailable("generator", settings.generator, settings)

    def forward(self, args: GenerateArgs, ctx: ToolContext) -> ToolOutput:
        if not args.prompt.strip():
            raise ToolError("the prompt is empty; say what to draw")
        cfg = ctx.settings.generator
        check_size(args.width, args.height, cfg, ctx.settings)
        pipe = load_pipeline("generator", cfg, ctx.settings, ctx.models, "text2image")
        with pipe.lock:
            out = pipe.pipeline(
                prompt=args.prompt,
                negative_prompt=args.negative_prompt,
                width=args.width,
                height=args.height,
                num_inference_steps=args.steps,
                guidance_scale=args.guidance,
                generator=generator_for(pipe, args.seed),
                callback_on_step_end=progress_callback(ctx.emit, self.name, args.steps),
            )
        art = ctx.new(
            ImageArtifact,
            params=args.model_dump(exclude_none=True),
            model=cfg.model,
            image=out.images[0].convert("RGB"),
            origin="generated",
        )
        return ToolOutput(art.summary() + f" for '{args.prompt}'", [art])
