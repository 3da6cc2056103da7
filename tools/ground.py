"""`ground`: a phrase ("the red car on the left", "the sign saying EXIT") -> boxes.

Backends: `compositional` (offline default: the phrase's nouns are mapped to COCO classes
with a lexicon, the detector finds them, then colour words filter by pixel statistics inside
each box, position words pick left/right/top/bottom/largest/smallest, and a quoted or
'saying X' text cue keeps boxes next to that OCR text), `transformers` (zero-shot object
detection: OWLv2, OWL-ViT, Grounding DINO), `grounding-lmm` (Kosmos-2 / Florence-2 phrase
grounding) and `openai` (the served LMM asked for boxes; text coordinates parsed by tools.coords).
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import supervision as sv
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact
from mmagent.core.config import Settings
from mmagent.core.errors import ToolError
from mmagent.core.images import tiling
from mmagent.core.llm.messages import sent_size
from mmagent.core.models import ModelManager
from mmagent.core.options import GroundingLmmOptions, OpenAIOptions, unknown_backend
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.coords import parse_boxes, parse_florence2, parse_kosmos2
from mmagent.tools.detect import (
    COCO_NAMES,
    DETECTOR_SIDE,
    detect_tiled,
    keep_classes,
    load_detector,
    normalize_class,
    subset,
)
from mmagent.tools.hf import hf_pipeline, load_hf
from mmagent.tools.ocr import load_ocr
from mmagent.tools.structure.regions import find_shapes, solid_glyph
from mmagent.tools.structure.shape import SHAPE_NAMES
from mmagent.tools.vlm import ask_served, load_hf_image_text

# Hue ranges (degrees) and saturation/value limits for colour words.
COLOURS: dict[str, tuple[tuple[float, float], ...]] = {
    "red": ((0, 15), (345, 360)),
    "orange": ((15, 40),),
    "yellow": ((40, 70),),
    "green": ((70, 165),),
    "cyan": ((165, 200),),
    "blue": ((200, 255),),
    "purple": ((255, 290),),
    "pink": ((290, 345),),
}
ACHROMATIC = {"white", "black", "gray", "grey", "silver"}
POSITIONS = {
    "left": "left",
    "leftmost": "left",
    "right": "right",
    "rightmost": "right",
    "top": "top",
    "upper": "top",
    "highest": "top",
    "bottom": "bottom",
    "lower": "bottom",
    "lowest": "bottom",
    "largest": "largest",
    "biggest": "largest",
    "smallest": "smallest",
    "middle": "center",
    "center": "center",
    "centre": "center",
}
_TEXT_CUE = re.compile(
    r"[\"'“‘]([^\"'”’]+)[\"'”’]|\b(?:saying|reading|labell?ed|with the text|that says)\s+(\w[\w$.\-]*)", re.I
)


def parse_phrase(phrase: str) -> dict:
    words = re.findall(r"[a-z]+", phrase.lower())
    classes: list[str] = []
    for i in range(len(words)):  # two-word classes first ("traffic light", "cell phone")
        for span in (words[i : i + 2], words[i : i + 1]):
            c = normalize_class(" ".join(span))
            if c in COCO_NAMES and c not in classes:
                classes.append(c)
                break
    cue = _TEXT_CUE.search(phrase)
    shapes = [w.rstrip("s") if w.rstrip("s") in SHAPE_NAMES else w for w in words]
    return {
        "classes": classes,
        "shape": next((w for w in shapes if w in SHAPE_NAMES), None),
        "colour": next((w for w in words if w in COLOURS or w in ACHROMATIC), None),
        "position": next((POSITIONS[w] for w in words if w in POSITIONS), None),
        "text": (cue.group(1) or cue.group(2)).strip() if cue else None,
    }


def colour_fraction(image: Image.Image, box: np.ndarray, colour: str) -> float:
    """Share of pixels in the box's central region that have this colour."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    region = image.crop((int(x1 + 0.2 * w), int(y1 + 0.2 * h), int(x2 - 0.2 * w) + 1, int(y2 - 0.2 * h) + 1))
    hsv = np.asarray(region.convert("HSV"), dtype=np.float32)
    if hsv.size == 0:
        return 0.0
    hue, sat, val = hsv[..., 0] * 360 / 255, hsv[..., 1] / 255, hsv[..., 2] / 255
    if colour in ACHROMATIC:
        grey = sat < 0.2
        mask = grey & (
            (val > 0.75) if colour == "white" else (val < 0.25) if colour == "black" else (val >= 0.25) & (val <= 0.75)
        )
    else:
        in_hue = np.zeros(hue.shape, dtype=bool)
        for lo, hi in COLOURS[colour]:
            in_hue |= (hue >= lo) & (hue < hi)
        mask = in_hue & (sat > 0.35) & (val > 0.2)
    return float(mask.mean())


def box_gap(a, b) -> float:
    """Distance between two boxes (0 when they overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return float(np.hypot(dx, dy))


def extreme_index(dets: sv.Detections, position: str, width: int, height: int) -> int:
    """The box furthest one way over all boxes ("the left dog", "the largest car"); unlike
    geometry.pick_position, which reads a cell of the 3x3 grid, this is a superlative."""
    boxes = dets.xyxy
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    key = {
        "left": cx,
        "right": -cx,
        "top": cy,
        "bottom": -cy,
        "largest": -area,
        "smallest": area,
        "center": np.hypot(cx - width / 2, cy - height / 2),
    }[position]
    return int(np.argmin(key))


def compositional_ground(
    image: Image.Image, phrase: str, settings: Settings, manager: ModelManager, min_confidence: float
) -> tuple[sv.Detections, str, list[str]]:
    spec = parse_phrase(phrase)
    if not spec["classes"] and spec["shape"]:
        dets, steps = drawn_shapes(image, spec["shape"], settings, manager)
        model = "compositional:shapes"
    elif not spec["classes"]:
        raise ToolError(
            f"no COCO class or shape in '{phrase}': the compositional grounder maps nouns such as "
            "person, car, cat, bus, cup to detector classes and circle, square, star ... to drawn "
            "shapes; use detect/ocr for other things"
        )
    else:
        detector, name = load_detector(settings.detector, settings, manager)
        tiles = tiling(image.size, DETECTOR_SIDE, settings.slice_factor)  # a large image: as `detect` reads it
        dets = keep_classes(detect_tiled(detector, image, min_confidence, tiles), spec["classes"])
        steps, model = [f"{len(dets)} {'/'.join(spec['classes'])} detected"], f"compositional:{name}"
    if len(dets) and spec["colour"]:
        fractions = np.array([colour_fraction(image, b, spec["colour"]) for b in dets.xyxy])
        keep = fractions >= max(0.15, 0.5 * fractions.max())
        dets = subset(dets, keep)
        steps.append(f"{len(dets)} {spec['colour']} (colour share {fractions.max():.2f} best)")
    if len(dets) and spec["text"]:
        ocr, _ = load_ocr(settings.ocr, manager)
        hits = [w[1] for w in ocr(image) if spec["text"].lower() in w[0].lower()]
        # Each occurrence of the text belongs to the candidate box nearest to it.
        near = sorted({int(np.argmin([box_gap(b, t) for b in dets.xyxy])) for t in hits})
        dets = subset(dets, np.array(near, dtype=int))
        steps.append(f"{len(dets)} near the text '{spec['text']}'")
    if len(dets) > 1 and spec["position"]:
        dets = subset(dets, np.array([extreme_index(dets, spec["position"], *image.size)]))
        steps.append(f"picked the {spec['position']}")
    return dets, model, steps


def drawn_shapes(
    image: Image.Image, shape: str, settings: Settings, manager: ModelManager
) -> tuple[sv.Detections, list[str]]:
    """Flat-coloured drawn shapes of this kind (pixels and geometry, tools/structure): text is
    not a shape, but a filled circle OCR reads as "O" is."""
    ocr, _ = load_ocr(settings.ocr, manager)
    arr = np.asarray(image.convert("RGB"))
    text_boxes = [w[1] for w in ocr(image) if not solid_glyph(arr, w[0], w[1])]
    found = [s for s in find_shapes(arr, text_boxes) if s.shape == shape]
    dets = sv.Detections(
        xyxy=np.array([s.box for s in found], dtype=np.float32).reshape(-1, 4),
        confidence=np.ones(len(found), dtype=np.float32),
        class_id=np.zeros(len(found), dtype=int),
        data={"class_name": np.array([f"{s.colour} {s.shape}" for s in found], dtype=object)},
    )
    colours = ", ".join(s.colour for s in found)
    return dets, [
        f"{len(found)} drawn {shape}{'s' if len(found) != 1 else ''} found" + (f": {colours}" if found else "")
    ]


class GroundArgs(BaseModel):
    image: ImageRef = Field(description="image id")
    phrase: str = Field(description="what to find, e.g. 'the red car on the left'")
    min_confidence: float = Field(default=0.25, ge=0.0, le=1.0)


class GroundTool(VisionTool):
    name: str = "ground"
    makes: ClassVar[type[Artifact]] = DetectionsArtifact
    description: str = "find the thing a phrase describes ('the red car on the left') and return its box"
    args_schema: type[BaseModel] = GroundArgs
    cache_roles: tuple[str, ...] = ("grounder", "detector", "ocr")  # compositional grounding uses all three
    cache_settings: tuple[str, ...] = ("slice_factor",)
    cache_version: str = "2"  # 2: drawn shapes (circle, square ...) by pixels and geometry; large images in tiles

    def forward(self, args: GroundArgs, ctx: ToolContext) -> ToolOutput:
        phrase = args.phrase.strip()
        if not phrase:
            raise ToolError("the phrase is empty; say what to find")
        img = ctx.store.get(args.image, ImageArtifact)
        cfg, image = ctx.settings.grounder, img.image
        steps: list[str] = []
        if cfg.backend == "compositional":
            dets, model, steps = compositional_ground(image, phrase, ctx.settings, ctx.models, args.min_confidence)
        elif cfg.backend == "transformers":
            pipe = load_hf(
                "grounder", cfg, ctx.settings, ctx.models, lambda src: hf_pipeline("zero-shot-object-detection", src)
            )
            found = pipe(image, candidate_labels=[phrase], threshold=args.min_confidence)
            dets = _detections(
                [[o["box"][k] for k in ("xmin", "ymin", "xmax", "ymax")] for o in found], [o["score"] for o in found]
            )
            model = f"transformers:{cfg.model}"
        elif cfg.backend == "grounding-lmm":
            dets, model = lmm_ground(image, phrase, cfg, ctx)
        elif cfg.backend == "openai":
            prompt = (
                f"Locate {phrase} in the image. Reply only with JSON "
                '[{"bbox_2d": [x1, y1, x2, y2], "label": "..."}] in pixel coordinates.'
            )
            reply = ask_served(ctx.llm("grounder"), image, prompt, purpose="ground")
            boxes = parse_boxes(
                reply, *image.size, scale=cfg.options_as(OpenAIOptions).coord_format, sent_size=sent_size(image)
            )
            dets = _detections(boxes, [1.0] * len(boxes))
            model = f"served:{cfg.model or ctx.settings.lmm_model}"
        else:
            raise ToolError(f"grounder: {unknown_backend('grounder', cfg.backend)}")
        dets.data["class_name"] = np.array([phrase] * len(dets), dtype=object)
        art = ctx.new(
            DetectionsArtifact,
            inputs=(img.id,),
            params={"phrase": phrase},
            model=model,
            image_id=img.id,
            detections=dets,
        )
        how = f" ({'; '.join(steps)})" if steps else ""
        return ToolOutput(art.summary() + how, [art])


GROUNDING_PROMPTS = {
    "kosmos-2": ("<grounding><phrase> {phrase}</phrase>", parse_kosmos2),
    "florence2": ("<CAPTION_TO_PHRASE_GROUNDING>{phrase}", parse_florence2),
}


def lmm_ground(image: Image.Image, phrase: str, cfg, ctx: ToolContext) -> tuple[sv.Detections, str]:
    """Kosmos-2 / Florence-2 through transformers: a grounding prompt, boxes parsed from the
    location tokens of the raw output. `grounder.options.style` overrides the model type."""
    model = load_hf_image_text("grounder", cfg, ctx.settings, ctx.models, vqa=False)
    style = cfg.options_as(GroundingLmmOptions).style or model.model_type
    if style not in GROUNDING_PROMPTS:
        raise ToolError(
            f"grounding-lmm supports {sorted(GROUNDING_PROMPTS)}; '{style}' is not one (set grounder.options.style)"
        )
    template, parse = GROUNDING_PROMPTS[style]
    text = model(image, template.format(phrase=phrase), max_new_tokens=64, raw=True)
    boxes = parse(text, *image.size)
    return _detections(boxes, [1.0] * len(boxes)), f"{style}:{cfg.model}"


def _detections(boxes: list, scores: list) -> sv.Detections:
    return sv.Detections(
        xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        confidence=np.asarray(scores, dtype=np.float32),
        class_id=np.zeros(len(boxes), dtype=int),
    )
