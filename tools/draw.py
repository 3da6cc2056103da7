"""`draw`: boxes, labels, masks and OCR lines drawn on an image with supervision annotators."""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
import supervision as sv
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact, MaskArtifact, OcrArtifact
from mmagent.core.errors import ToolError
from mmagent.tools.base import ImageRef, Refers, ToolContext, ToolOutput, VisionTool

DrawableRef = Annotated[str, Refers(DetectionsArtifact, OcrArtifact, MaskArtifact)]


def as_detections(art: Artifact) -> sv.Detections:
    """Any box- or mask-bearing artifact as supervision.Detections with labels in class_name."""
    if isinstance(art, DetectionsArtifact):
        return art.detections
    if isinstance(art, OcrArtifact):
        boxes = np.array([ln.box for ln in art.lines], dtype=np.float32).reshape(-1, 4)
        return sv.Detections(
            xyxy=boxes,
            confidence=np.array([ln.score for ln in art.lines], dtype=np.float32),
            class_id=np.zeros(len(boxes), dtype=int),
            data={"class_name": np.array([ln.text for ln in art.lines], dtype=object)},
        )
    if isinstance(art, MaskArtifact):
        return sv.Detections(
            xyxy=np.array(art.boxes, dtype=np.float32).reshape(-1, 4),
            mask=art.masks,
            class_id=np.arange(len(art.masks)),
            data={"class_name": np.array(art.labels, dtype=object)},
        )
    raise ToolError(f"{art.id} has nothing to draw; use det-, ocr- or mask- artifacts")


def annotate(image, detections: list[sv.Detections]):
    scene = np.asarray(image.convert("RGB")).copy()
    for i, dets in enumerate(detections):
        if len(dets) == 0:
            continue
        colour = sv.ColorPalette.DEFAULT.by_idx(i)
        lookup = sv.ColorLookup.INDEX if dets.mask is not None else sv.ColorLookup.CLASS
        if dets.mask is not None:
            scene = sv.MaskAnnotator(color_lookup=lookup, opacity=0.45).annotate(scene, dets)
        scene = sv.BoxAnnotator(color=colour, thickness=2).annotate(scene, dets)
        labels = [str(n) for n in dets.data.get("class_name", [""] * len(dets))]
        scene = sv.LabelAnnotator(color=colour, text_scale=0.5, text_padding=3).annotate(scene, dets, labels=labels)
    from PIL import Image

    return Image.fromarray(scene)


class DrawArgs(BaseModel):
    image: ImageRef = Field(description="image id to draw on")
    sources: list[DrawableRef] = Field(description="det-, ocr- or mask- ids to draw", min_length=1)


class DrawTool(VisionTool):
    name: str = "draw"
    makes: ClassVar[type[Artifact]] = ImageArtifact
    description: str = "draw boxes, labels, masks or OCR lines of artifacts on an image (evidence view)"
    args_schema: type[BaseModel] = DrawArgs
    plannable: bool = False

    def forward(self, args: DrawArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        layers = []
        for sid in args.sources:
            art = ctx.store.get(sid)
            target = getattr(art, "image_id", None)
            if target and target != img.id:
                raise ToolError(f"{sid} belongs to {target}, not {img.id}")
            layers.append(as_detections(art))
        out = annotate(img.image, layers)
        art = ctx.new(ImageArtifact, inputs=(img.id, *args.sources), image=out, parent=img.id, origin="drawn")
        return ToolOutput(art.summary(), [art])
