"""`crop`: cut a region out of an image so later steps can look closer."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact, OcrArtifact, as_box
from mmagent.core.errors import ToolError
from mmagent.tools.base import BoxesRef, ImageRef, ToolContext, ToolOutput, VisionTool


class CropArgs(BaseModel):
    image: ImageRef | None = Field(default=None, description="image id; optional when source is given")
    box: list[float] | None = Field(default=None, description="[x1, y1, x2, y2] pixels")
    source: BoxesRef | None = Field(default=None, description="det-/ocr- artifact whose box to crop")
    index: int = Field(default=0, ge=0, description="which box of the source")
    padding: int = Field(default=0, ge=0, le=512)

    @model_validator(mode="after")
    def _one_region(self) -> CropArgs:
        if (self.box is None) == (self.source is None):
            raise ValueError("give exactly one of box or source")
        if self.box is not None and len(self.box) != 4:
            raise ValueError("box needs four numbers [x1, y1, x2, y2]")
        if self.box is not None and self.image is None:
            raise ValueError("a box needs the image it belongs to")
        return self


class CropTool(VisionTool):
    name: str = "crop"
    makes: ClassVar[type[Artifact]] = ImageArtifact
    description: str = "crop an image to a box, or to box #index of a det-/ocr- artifact"
    args_schema: type[BaseModel] = CropArgs

    def forward(self, args: CropArgs, ctx: ToolContext) -> ToolOutput:
        if args.source is not None:
            src = ctx.store.get(args.source)
            if isinstance(src, DetectionsArtifact):
                boxes = src.boxes
            elif isinstance(src, OcrArtifact):
                boxes = [ln.box for ln in src.lines]
            else:
                raise ToolError(f"{args.source} has no boxes; use a det- or ocr- artifact")
            if args.index >= len(boxes):
                raise ToolError(f"{args.source} has {len(boxes)} boxes; index {args.index} does not exist")
            parent = ctx.store.image_of(args.source)
            box = boxes[args.index]
        else:
            parent = ctx.store.get(args.image or "", ImageArtifact)
            box = as_box(args.box or ())
        w, h = parent.image.size
        x1, y1, x2, y2 = box
        if x2 <= x1 or y2 <= y1:
            raise ToolError(f"box {list(box)} is empty (needs x2 > x1 and y2 > y1)")
        if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
            raise ToolError(f"box {list(box)} lies outside {parent.id} ({w}x{h} px)")
        p = args.padding
        region = (max(0, int(x1) - p), max(0, int(y1) - p), min(w, int(round(x2)) + p), min(h, int(round(y2)) + p))
        art = ctx.new(
            ImageArtifact,
            inputs=(parent.id,) + ((args.source,) if args.source else ()),
            params={"box": list(region)},
            image=parent.image.crop(region),
            parent=parent.id,
            region=region,
        )
        return ToolOutput(art.summary(), [art])
