"""`attributes`: colour, shape and size of a region: a detected box, a mask, a box given in
pixels, or the whole image.

Real computer vision, no model: the object is separated from its background (a mask's own
pixels; GrabCut initialised with a box; for a whole image, what differs from its border
colour), its pixels are named by the nearest colour in CIELAB (CIEDE2000), and its outline is
named by polygon approximation, circularity and convexity (OpenCV). See tools/structure/.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field, model_validator

from mmagent.core.artifacts import (
    Artifact,
    Box,
    DetectionsArtifact,
    ImageArtifact,
    MaskArtifact,
    TableArtifact,
    as_box,
)
from mmagent.core.errors import ToolError
from mmagent.tools.base import DetectionsRef, ImageRef, MaskRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.structure.colour import COLOUR_NAMES, border_colour, dominant_colours, foreground_in_box
from mmagent.tools.structure.shape import SHAPE_NAMES, shape_name


class AttributesArgs(BaseModel):
    image: ImageRef = Field(description="image artifact id")
    detections: DetectionsRef | None = Field(default=None, description="det artifact: describe its boxes")
    mask: MaskRef | None = Field(default=None, description="mask artifact: describe its masks")
    index: int | None = Field(default=None, ge=0, description="only box / mask #index")
    box: list[float] | None = Field(default=None, min_length=4, max_length=4, description="x1,y1,x2,y2 in pixels")

    @model_validator(mode="after")
    def _one_source(self) -> AttributesArgs:
        if sum(v is not None for v in (self.detections, self.mask, self.box)) > 1:
            raise ValueError("give one of detections, mask or box (or none for the whole image)")
        return self


def describe(pixels: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Colours and shape of the masked part of an RGB crop (mask: bool, the crop's size)."""
    colours = dominant_colours(pixels[mask])
    ys, xs = np.nonzero(mask)
    return {
        "colour": colours[0][0] if colours else "unknown",
        "colours": ", ".join(f"{n} {s:.0%}" for n, s in colours),
        "shape": shape_name(mask) if mask.any() else "unknown",
        "width": int(xs.max() - xs.min() + 1) if len(xs) else 0,
        "height": int(ys.max() - ys.min() + 1) if len(ys) else 0,
        "area": int(mask.sum()),
    }


class AttributesTool(VisionTool):
    name: str = "attributes"
    makes: ClassVar[type[Artifact]] = TableArtifact
    description: str = (
        "colour names, shape and size of a region (detections or mask [index], a box, "
        "or the whole image), background left out"
    )
    args_schema: type[BaseModel] = AttributesArgs

    def forward(self, args: AttributesArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        arr = np.asarray(img.image.convert("RGB"))
        h, w = arr.shape[:2]
        regions: list[tuple[str, Box, np.ndarray, np.ndarray]] = []  # (name, box, crop, mask)
        inputs: tuple[str, ...] = (img.id,)
        if args.mask:
            masks = ctx.store.get(args.mask, MaskArtifact)
            inputs += (masks.id,)
            for i, (m, label, b) in enumerate(zip(masks.masks, masks.labels, masks.boxes)):
                if args.index is None or args.index == i:
                    x1, y1, x2, y2 = (int(v) for v in b)
                    regions.append((f"{masks.id}#{i} {label}", b, arr[y1:y2, x1:x2], np.asarray(m)[y1:y2, x1:x2]))
        else:
            boxes: list[tuple[str, Box]] = []
            if args.detections:
                det = ctx.store.get(args.detections, DetectionsArtifact)
                inputs += (det.id,)
                boxes = [
                    (f"{det.id}#{i} {n}", b)
                    for i, (n, b) in enumerate(zip(det.class_names, det.boxes))
                    if args.index is None or args.index == i
                ]
            elif args.box:
                boxes = [("box", as_box(args.box))]
            for name, b in boxes:
                x1, y1, x2, y2 = (max(0, int(round(v))) for v in b)
                regions.append((name, b, arr[y1:y2, x1:x2], foreground_in_box(arr, b)))
            if not args.detections and not args.box:
                bg = border_colour(arr)
                regions.append(
                    (
                        "image",
                        (0.0, 0.0, float(w), float(h)),
                        arr,
                        np.abs(arr.astype(np.int16) - bg.astype(np.int16)).sum(axis=2) > 60,
                    )
                )
        if not regions:
            raise ToolError(f"no region to describe (index {args.index} is not there)")
        rows, boxes_out = [], []
        for name, b, crop, mask in regions:
            if mask.shape != crop.shape[:2] or not mask.any():
                mask = np.ones(crop.shape[:2], dtype=bool)  # nothing stands out: the region as a whole
            rows.append({"region": name, **describe(crop, mask)})
            boxes_out.append(b)
        art = ctx.new(
            TableArtifact,
            inputs=inputs,
            params=args.model_dump(exclude_none=True),
            kind="attributes",
            columns=("region", "colour", "colours", "shape", "width", "height", "area"),
            rows=tuple(rows),
            row_boxes=tuple(boxes_out),
            label="region",
            source=inputs[-1],
            image_id=img.id,
            image_size=(w, h),
            vocab={"colour": COLOUR_NAMES, "shape": SHAPE_NAMES},
        )
        lines = "; ".join(f"{r['region']}: {r['colours']}, {r['shape']}, {r['width']}x{r['height']} px" for r in rows)
        return ToolOutput(f"{art.id}: attributes of {img.id}: {lines}", [art])
