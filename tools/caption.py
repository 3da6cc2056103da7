"""`caption`: a short description of an image or crop.

Backends: `scene-summary` (offline default; NOT a captioning model: it composes the
detector's classes and counts, the ImageNet classifier's top labels and any OCR text into a
caption-like line, and says so), `transformers` (BLIP, BLIP-2, GIT, Florence-2 ... by path
or hub id) and `openai` (the served LMM, asked to describe the image briefly).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, ImageArtifact, TextArtifact
from mmagent.core.config import Settings
from mmagent.core.errors import ToolError
from mmagent.core.models import ModelManager
from mmagent.core.options import OpenAIOptions, TransformersOptions, unknown_backend
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.classify import classify_image, load_classifier
from mmagent.tools.detect import load_detector
from mmagent.tools.ocr import load_ocr
from mmagent.tools.vlm import run_vlm

CAPTION_PROMPT = "Describe this image briefly in one sentence."


def scene_summary(image: Image.Image, settings: Settings, manager: ModelManager) -> tuple[str, list[str]]:
    """Caption-like text composed from the detector, classifier and OCR (and the models used)."""
    detector, det_model = load_detector(settings.detector, settings, manager)
    dets = detector(image, 0.35)
    counts = Counter(str(n) for n in dets.data.get("class_name", []))
    classifier, cls_model = load_classifier(settings.classifier, settings, manager)
    labels = (
        classify_image(classifier, settings.classifier.backend, image, [], 3)
        if settings.classifier.backend != "zero-shot"
        else []
    )
    ocr, ocr_model = load_ocr(settings.ocr, manager)
    words = [w[0] for w in ocr(image) if w[2] >= 0.6]
    objects = ", ".join(f"{n} {c}" if n > 1 else f"a {c}" for c, n in counts.most_common()) or "no COCO objects"
    parts = [f"objects: {objects}"]
    if labels:
        parts.append("looks like: " + ", ".join(f"{n} ({s:.2f})" for n, s in labels))
    parts.append("text: " + (" / ".join(words[:12]) if words else "none"))
    text = "[scene summary composed from tools, not a captioning model] " + "; ".join(parts)
    return text, [det_model, cls_model, ocr_model]


class CaptionArgs(BaseModel):
    image: ImageRef = Field(description="image or crop id")


class CaptionTool(VisionTool):
    name: str = "caption"
    makes: ClassVar[type[Artifact]] = TextArtifact
    description: str = "describe an image or crop briefly"
    args_schema: type[BaseModel] = CaptionArgs
    cache_roles: tuple[str, ...] = ("captioner", "detector", "classifier", "ocr")  # scene summary uses all four

    def forward(self, args: CaptionArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        cfg = ctx.settings.captioner
        if cfg.backend == "scene-summary":
            text, models = scene_summary(img.image, ctx.settings, ctx.models)
            model = "+".join(models)
        elif cfg.backend in ("transformers", "openai"):
            opts = cfg.typed_options
            given = opts.prompt if isinstance(opts, OpenAIOptions | TransformersOptions) else None
            prompt = given or (CAPTION_PROMPT if cfg.backend == "openai" else None)  # None: unconditional
            text, model = run_vlm("captioner", cfg, ctx.settings, ctx.models, ctx.llm, img.image, prompt, vqa=False)
        else:
            raise ToolError(f"captioner: {unknown_backend('captioner', cfg.backend)}")
        art = ctx.new(TextArtifact, inputs=(img.id,), model=model, text=f"caption of {img.id}: {text}")
        return ToolOutput(art.summary(), [art])
