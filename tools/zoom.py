"""Zoom: a region of an image, cropped and enlarged, as a new image any tool (OCR, detection,
the served LMM) can read. The region is a box, box #index of a det-/ocr- artifact, or a named
part of the image ("top-right quarter", "left half", "middle"); the zoomed image records its
region in the parent's pixels, so what is found in it maps back (`ImageArtifact.to_parent`)."""

from __future__ import annotations

from typing import ClassVar

from PIL import Image
from pydantic import BaseModel, Field, model_validator

from mmagent.core.artifacts import Artifact, Box, ImageArtifact, as_box
from mmagent.core.errors import ToolError
from mmagent.tools.base import BoxesRef, ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.crop import padded_region, source_box

# Named regions as fractions of the image (x1, y1, x2, y2).
REGIONS: dict[str, tuple[float, float, float, float]] = {
    "top-left quarter": (0.0, 0.0, 0.5, 0.5),
    "top-right quarter": (0.5, 0.0, 1.0, 0.5),
    "bottom-left quarter": (0.0, 0.5, 0.5, 1.0),
    "bottom-right quarter": (0.5, 0.5, 1.0, 1.0),
    "top half": (0.0, 0.0, 1.0, 0.5),
    "bottom half": (0.0, 0.5, 1.0, 1.0),
    "left half": (0.0, 0.0, 0.5, 1.0),
    "right half": (0.5, 0.0, 1.0, 1.0),
    "middle": (0.25, 0.25, 0.75, 0.75),
}
TARGET_SIDE = 1024  # a zoomed region is enlarged until its long side is this (at most `max_scale` x)


def named_region(name: str, width: int, height: int) -> Box:
    """The box of a named region ("top-right quarter"; "top right" and "upper right" too).

    >>> named_region("top right", 400, 300)
    (200.0, 0.0, 400.0, 150.0)
    """
    from mmagent.tools.structure.geometry import position_word

    key = name.strip().lower().replace("_", " ")
    if key not in REGIONS:
        word = position_word(key)  # "upper right" -> "top-right"
        half = {"top": "top half", "bottom": "bottom half", "left": "left half", "right": "right half"}
        key = half.get(word or "", f"{word} quarter" if word and "-" in word else word or key)
    if key not in REGIONS:
        raise ToolError(f"unknown region '{name}'; use one of: {', '.join(REGIONS)}")
    fx1, fy1, fx2, fy2 = REGIONS[key]
    return (fx1 * width, fy1 * height, fx2 * width, fy2 * height)


class ZoomArgs(BaseModel):
    image: ImageRef | None = Field(default=None, description="image id; optional when source is given")
    box: list[float] | None = Field(default=None, description="[x1, y1, x2, y2] pixels")
    source: BoxesRef | None = Field(default=None, description="det-/ocr- artifact whose box to zoom into")
    index: int = Field(default=0, ge=0, description="which box of the source")
    region: str | None = Field(default=None, description="a named part: top-left quarter, left half, middle ...")
    padding: float = Field(default=0.1, ge=0.0, le=1.0, description="margin around a box, as a share of its size")
    max_scale: float = Field(default=4.0, ge=1.0, le=8.0)

    @model_validator(mode="after")
    def _one_region(self) -> ZoomArgs:
        given = [k for k in ("box", "source", "region") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of box, source or region")
        if self.source is None and self.image is None:
            raise ValueError("a box or a region needs the image it belongs to")
        return self


class ZoomTool(VisionTool):
    name: str = "zoom"
    makes: ClassVar[type[Artifact]] = ImageArtifact
    description: str = "enlarge a region (box, box #index of a det-/ocr- artifact, or e.g. 'top-right quarter')"
    args_schema: type[BaseModel] = ZoomArgs

    def forward(self, args: ZoomArgs, ctx: ToolContext) -> ToolOutput:
        if args.source is not None:
            parent, box = source_box(ctx.store, args.source, args.index)
        else:
            parent = ctx.store.get(args.image or "", ImageArtifact)
            w, h = parent.image.size
            box = named_region(args.region, w, h) if args.region else as_box(args.box or ())
        pad = 0.0 if args.region else args.padding  # a named part: as named
        region = padded_region(box, parent.image.size, pad * (box[2] - box[0]), pad * (box[3] - box[1]), parent.id)
        rw, rh = region[2] - region[0], region[3] - region[1]
        scale = max(1.0, min(args.max_scale, TARGET_SIDE / max(rw, rh)))
        size = (max(1, round(rw * scale)), max(1, round(rh * scale)))
        art = ctx.new(
            ImageArtifact,
            inputs=(parent.id,) + ((args.source,) if args.source else ()),
            params={"box": list(region), "scale": round(scale, 3)},
            image=parent.image.crop(region).resize(size, Image.Resampling.LANCZOS),
            parent=parent.id,
            region=region,
        )
        return ToolOutput(art.summary() + f", {scale:.1f}x", [art])
