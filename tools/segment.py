"""`segment`: masks from box or point prompts with ultralytics SAM / MobileSAM / SAM 2 / FastSAM.

No segmentation weights exist offline (see ../shared/MODELS.md); the model is resolved like
any other (path -> MMAGENT_MODEL_DIR -> hub name when online use is allowed).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact, MaskArtifact
from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ModelNotFoundError, ToolError
from mmagent.core.models import ModelManager, pick_device, size_on_disk
from mmagent.core.options import unknown_backend
from mmagent.core.resolve import resolve_model
from mmagent.tools.base import DetectionsRef, ImageRef, ToolContext, ToolOutput, VisionTool


class UltralyticsSegmenter:
    def __init__(self, location: str, backend: str, device: str) -> None:
        from ultralytics import SAM, FastSAM

        self.model = FastSAM(location) if backend == "fastsam" else SAM(location)
        self.device = device
        self._lock = threading.Lock()

    def __call__(
        self, image: Image.Image, boxes: list[list[float]] | None, points: list[list[float]] | None
    ) -> np.ndarray:
        # conf=0: a prompt asks for its mask; do not drop it on the predicted-quality score.
        kw: dict = {"device": self.device, "verbose": False, "conf": 0.0}
        if boxes:
            kw["bboxes"] = boxes
        if points:
            kw["points"], kw["labels"] = points, [1] * len(points)
        with self._lock:
            result = self.model.predict(image, **kw)[0]
        if result.masks is None:
            return np.zeros((0, image.height, image.width), dtype=bool)
        masks = result.masks.data.cpu().numpy() > 0.5
        if masks.shape[1:] != (image.height, image.width):  # some predictors return the letterboxed size
            masks = np.stack(
                [np.asarray(Image.fromarray(m).resize(image.size, Image.Resampling.NEAREST)) for m in masks]
            )
        return masks


def load_segmenter(cfg: RoleConfig, settings: Settings, manager: ModelManager) -> tuple[UltralyticsSegmenter, str]:
    if cfg.backend not in ("sam", "fastsam"):
        raise ToolError(f"segmenter: {unknown_backend('segmenter', cfg.backend)}")
    model = cfg.model or "mobile_sam.pt"
    key = f"segmenter:{cfg.backend}:{model}:{cfg.device}:{settings.model_dir}"

    def load() -> UltralyticsSegmenter:
        return UltralyticsSegmenter(resolve_model(model, settings).location, cfg.backend, pick_device(cfg.device))

    return manager.get(key, load, lambda: size_on_disk(resolve_model(model, settings).location)), Path(model).name


class SegmentArgs(BaseModel):
    image: ImageRef = Field(description="image id")
    source: DetectionsRef | None = Field(default=None, description="det- artifact whose boxes prompt the masks")
    box: list[float] | None = Field(default=None, description="[x1, y1, x2, y2] prompt")
    points: list[list[float]] | None = Field(default=None, description="[[x, y], ...] foreground points")


class SegmentTool(VisionTool):
    name: str = "segment"
    makes: ClassVar[type[Artifact]] = MaskArtifact
    description: str = "pixel masks for boxes (a det- artifact or a box) or points, with area and bbox"
    args_schema: type[BaseModel] = SegmentArgs
    cache_roles: tuple[str, ...] = ("segmenter",)

    def unavailable(self, settings: Settings) -> str | None:
        try:
            resolve_model(settings.segmenter.model or "mobile_sam.pt", settings)
        except ModelNotFoundError as exc:
            return f"no segmentation weights: {exc.tried[-1]}"
        return None

    def forward(self, args: SegmentArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        w, h = img.image.size
        boxes: list[list[float]] = []
        labels: list[str] = []
        if args.source:
            det = ctx.store.get(args.source, DetectionsArtifact)
            if det.image_id != img.id:
                raise ToolError(f"{args.source} was detected on {det.image_id}, not on {img.id}")
            boxes = [list(map(float, b)) for b in det.detections.xyxy]
            labels = det.class_names
            if not boxes:
                raise ToolError(f"{args.source} has no boxes to segment")
        if args.box is not None:
            if len(args.box) != 4 or args.box[2] <= args.box[0] or args.box[3] <= args.box[1]:
                raise ToolError(f"box {args.box} is not [x1, y1, x2, y2] with x2 > x1 and y2 > y1")
            boxes.append([float(v) for v in args.box])
            labels.append("box")
        for b in boxes:
            if b[2] <= 0 or b[3] <= 0 or b[0] >= w or b[1] >= h:
                raise ToolError(f"box {[round(v) for v in b]} lies outside {img.id} ({w}x{h} px)")
        for p in args.points or []:
            if len(p) != 2 or not (0 <= p[0] < w and 0 <= p[1] < h):
                raise ToolError(f"point {p} lies outside {img.id} ({w}x{h} px)")
        if not boxes and not args.points:
            raise ToolError("give a prompt: source (det- id), box, or points")
        segmenter, model = load_segmenter(ctx.settings.segmenter, ctx.settings, ctx.models)
        masks = segmenter(img.image, boxes or None, args.points)
        if not labels or len(labels) != len(masks):
            labels = [f"mask {i}" for i in range(len(masks))]
        art = ctx.new(
            MaskArtifact,
            inputs=(img.id,) + ((args.source,) if args.source else ()),
            params=args.model_dump(exclude_none=True),
            model=model,
            image_id=img.id,
            masks=masks,
            labels=tuple(labels),
        )
        return ToolOutput(art.summary(), [art])
