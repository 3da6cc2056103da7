"""`crop`: cut a region out of an image so later steps can look closer."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from mmagent.core.artifacts import (
    Artifact,
    ArtifactStore,
    Box,
    DetectionsArtifact,
    ImageArtifact,
    OcrArtifact,
    as_box,
)
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
            parent, box = source_box(ctx.store, args.source, args.index)
        else:
            parent, box = ctx.store.get(args.image or "", ImageArtifact), as_box(args.box or ())
        region = padded_region(box, parent.image.size, args.padding, args.padding, parent.id)
        art = ctx.new(
            ImageArtifact,
            inputs=(parent.id,) + ((args.source,) if args.source else ()),
            params={"box": list(region)},
            image=parent.image.crop(region),
            parent=parent.id,
            region=region,
        )
        return ToolOutput(art.summary(), [art])


def source_box(store: ArtifactStore, source: str, index: int) -> tuple[ImageArtifact, Box]:
    """Box #index of a det-/ocr- artifact and the image it is on (crop's and zoom's `source`)."""
    src = store.get(source)
    if isinstance(src, DetectionsArtifact):
        boxes = src.boxes
    elif isinstance(src, OcrArtifact):
        boxes = [ln.box for ln in src.lines]
    else:
        raise ToolError(f"{source} has no boxes; use a det- or ocr- artifact")
    if index >= len(boxes):
        raise ToolError(f"{source} has {len(boxes)} boxes; index {index} does not exist")
    return store.image_of(source), boxes[index]


def padded_region(
    box: Box, size: tuple[int, int], pad_x: float, pad_y: float, image: str = "the image"
) -> tuple[int, int, int, int]:
    """The box grown by (pad_x, pad_y) px on each side, in whole pixels inside an image of
    `size`; a box that is empty or lies outside the image is an error naming it."""
    x1, y1, x2, y2 = box
    w, h = size
    if x2 <= x1 or y2 <= y1:
        raise ToolError(f"box {list(box)} is empty (needs x2 > x1 and y2 > y1)")
    if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
        raise ToolError(f"box {list(box)} lies outside {image} ({w}x{h} px)")
    return (max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y)), min(w, round(x2 + pad_x)), min(h, round(y2 + pad_y)))
