"""`ask_image`: visual question answering by the answerer role, on an image or a crop."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, ImageArtifact, TextArtifact
from mmagent.core.errors import ToolError
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.vlm import no_vlm_reason, run_vlm


class AskImageArgs(BaseModel):
    image: ImageRef = Field(description="image or crop id")
    question: str = Field(description="a short question about that image")


class AskImageTool(VisionTool):
    name: str = "ask_image"
    makes: ClassVar[type[Artifact]] = TextArtifact
    description: str = "ask a vision-language model a short question about an image or crop"
    args_schema: type[BaseModel] = AskImageArgs

    def unavailable(self, settings) -> str | None:
        return no_vlm_reason("answerer", settings.answerer)

    def forward(self, args: AskImageArgs, ctx: ToolContext) -> ToolOutput:
        if not args.question.strip():
            raise ToolError("the question is empty")
        img = ctx.store.get(args.image, ImageArtifact)
        prompt = f"{args.question.strip()} Answer briefly."
        text, model = run_vlm(
            "answerer", ctx.settings.role("answerer"), ctx.settings, ctx.models, ctx.llm, img.image, prompt, vqa=True
        )
        art = ctx.new(
            TextArtifact,
            inputs=(img.id,),
            params={"question": args.question},
            model=model,
            text=text,
            about=f"answer about {img.id} to '{args.question}'",
        )
        return ToolOutput(art.summary(), [art])
