"""`layout`: the structure of an image, read deterministically from its OCR and pixels.

Each structure found becomes a table artifact (one container, so `query` computes on all):
- items: a receipt's key-value rows (item, price) with TOTAL / SUBTOTAL / TAX as fields;
- key_values: a form's or label's "KEY: VALUE" lines (PLATE: KXT4821);
- table: a printed table, columns named by its header row, numbers typed;
- bars: a bar chart's bars (category, value), values from printed labels or the axis;
- panels: the photos of a collage or grid (panel position, the text under it, the objects
  the detector found inside it);
- shapes: flat-coloured shapes (shape and colour names, the text in or under them, position);
- text: every OCR phrase with its position in the image;
- image: the colour of a picture that has no text and no other structure;
- objects: the detector's boxes (class, position), when detections are given.
No model runs here: OpenCV and geometry on what OCR and the detector already found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact, OcrArtifact, TableArtifact
from mmagent.tools.base import DetectionsRef, ImageRef, OcrRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.detect import COCO_NAMES
from mmagent.tools.structure.chart import parse_chart
from mmagent.tools.structure.colour import COLOUR_NAMES, dominant_colours
from mmagent.tools.structure.fields import parse_fields
from mmagent.tools.structure.geometry import POSITION_NAMES, Box, center, contains_point, overlap_1d, position_name
from mmagent.tools.structure.phrases import Phrase, phrases_of
from mmagent.tools.structure.receipt import parse_receipt
from mmagent.tools.structure.regions import find_panels, find_shapes, solid_glyph
from mmagent.tools.structure.shape import SHAPE_NAMES
from mmagent.tools.structure.table import parse_table


class LayoutArgs(BaseModel):
    image: ImageRef = Field(description="image artifact id")
    ocr: OcrRef = Field(description="ocr artifact of that image")
    detections: DetectionsRef | None = Field(default=None, description="det artifact of that image (objects, panels)")


def text_below(
    box: Box, phrases: list[Phrase], inside_first: bool = False, others: Sequence[Box] = ()
) -> Phrase | None:
    """The phrase a thing is labelled with: inside it (signs), else the nearest one under it in
    its column, else the nearest one above it; never one with another thing (`others`) in between."""
    if inside_first:
        inside = [p for p in phrases if contains_point(box, *center(p.box))]
        if inside:
            return min(inside, key=lambda p: p.box[1])
    width = box[2] - box[0]

    def blocked(p: Phrase) -> bool:
        lo, hi = sorted((center(box)[1], center(p.box)[1]))
        return any(
            o != box and overlap_1d(o[0], o[2], p.box[0], p.box[2]) > 0 and lo < center(o)[1] < hi for o in others
        )

    column = [
        p
        for p in phrases
        if overlap_1d(box[0], box[2], p.box[0], p.box[2]) > 0.3 * min(width, p.box[2] - p.box[0])
        and not contains_point(box, *center(p.box))
        and not blocked(p)
    ]
    below = [p for p in column if p.box[1] >= box[3] - 0.25 * (box[3] - box[1])]
    if below:
        return min(below, key=lambda p: p.box[1] - box[3])
    above = [p for p in column if p.box[3] <= box[1] + 0.25 * (box[3] - box[1])]
    return min(above, key=lambda p: box[1] - p.box[3]) if above else None


class LayoutTool(VisionTool):
    name: str = "layout"
    makes: ClassVar[type[Artifact]] = TableArtifact
    description: str = (
        "structure of an image from its OCR and pixels: receipt items and total, tables, "
        "bar charts, collage panels, coloured shapes, text positions, objects"
    )
    args_schema: type[BaseModel] = LayoutArgs

    def forward(self, args: LayoutArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        ocr = ctx.store.get(args.ocr, OcrArtifact)
        dets = ctx.store.get(args.detections, DetectionsArtifact) if args.detections else None
        arr = np.asarray(img.image.convert("RGB"))
        h, w = arr.shape[:2]
        # A filled circle read at full resolution is an "O": a one-character line whose box is
        # mostly solid foreground is a shape, not text (a glyph's strokes cover far less of it).
        lines = tuple(ln for ln in ocr.lines if not solid_glyph(arr, ln.text, ln.box))
        # Structure is read from data lines only; instruction-like lines appear in the text view, flagged.
        data_lines = tuple(ln for ln in lines if not ln.instruction)
        phrases = phrases_of(data_lines, image_height=h)
        all_phrases = phrases_of(lines, image_height=h)
        inputs = tuple(i for i in (img.id, ocr.id, dets.id if dets else None) if i)
        made: list[TableArtifact] = []

        def table(
            kind: str,
            columns: tuple[str, ...],
            rows: list[dict[str, Any]],
            boxes: Sequence[Box | None],
            label: str,
            **extra: Any,
        ) -> None:
            made.append(
                ctx.new(
                    TableArtifact,
                    inputs=inputs,
                    params={"view": kind},
                    kind=kind,
                    columns=columns,
                    rows=tuple(rows),
                    row_boxes=tuple(boxes),
                    label=label,
                    source=ocr.id,
                    image_id=img.id,
                    image_size=(w, h),
                    **extra,
                )
            )

        pos = lambda b: position_name(b, w, h)  # noqa: E731
        receipt = parse_receipt(data_lines)
        grid = parse_table(phrases, phrases_of(data_lines, gap=float("-inf"), image_height=h))
        if grid is not None:
            cols = tuple(grid.header)
            label = next((c for c, num in zip(cols, grid.numeric) if not num), cols[0])
            table("table", cols, [dict(zip(cols, r)) for r in grid.rows], list(grid.row_boxes), label)
        elif len(receipt.items) >= 2 or (receipt.items and receipt.fields):
            table(
                "items",
                ("item", "price"),
                [{"item": r.label, "price": r.amount} for r in receipt.items],
                [r.box for r in receipt.items],
                "item",
                fields={k: r.amount for k, r in receipt.fields.items()},
                field_boxes={k: r.box for k, r in receipt.fields.items()},
            )
        elif fields := parse_fields(data_lines):
            table(
                "key_values",
                ("key", "value"),
                [{"key": f.key, "value": f.value} for f in fields],
                [f.box for f in fields],
                "key",
            )
        chart = parse_chart(arr, phrases, reread=lambda box: self._reread(img.image, box, ctx))
        if chart is not None:
            table(
                "bars",
                ("category", "value"),
                [{"category": b.category, "value": b.value} for b in chart.bars],
                [b.box for b in chart.bars],
                "category",
            )
        text_boxes = [p.box for p in all_phrases]  # every text, data or not, is not a shape
        panels = find_panels(arr, text_boxes) if chart is None else []
        labels = [text_below(b, phrases, others=panels) for b in panels]
        if len(panels) >= 2 and sum(1 for p in labels if p) >= len(panels) / 2:  # a collage labels its panels
            rows, boxes = [], []
            for b, label_phrase in zip(panels, labels):
                inside = (
                    [n for n, db in zip(dets.class_names, dets.boxes) if contains_point(b, *center(db))] if dets else []
                )
                rows.append(
                    {
                        "panel": pos(b),
                        "text": label_phrase.text if label_phrase else "",
                        "objects": ", ".join(sorted(set(inside))),
                    }
                )
                boxes.append(b)
            table(
                "panels",
                ("panel", "text", "objects"),
                rows,
                boxes,
                "panel",
                vocab={"panel": POSITION_NAMES, "objects": tuple(sorted(COCO_NAMES))},
            )
        shapes = find_shapes(arr, text_boxes) if chart is None and not any(t.kind == "panels" for t in made) else []
        if len(shapes) >= 2 or (shapes and not phrases):  # several shapes, or one alone on a page without text
            rows = []
            for s in shapes:
                label_phrase = text_below(s.box, phrases, inside_first=True, others=[t.box for t in shapes])
                rows.append(
                    {
                        "shape": s.shape,
                        "colour": s.colour,
                        "text": label_phrase.text if label_phrase else "",
                        "position": pos(s.box),
                    }
                )
            order = sorted(range(len(shapes)), key=lambda i: (shapes[i].box[1] // max(1, h / 3), shapes[i].box[0]))
            table(
                "shapes",
                ("shape", "colour", "text", "position"),
                [rows[i] for i in order],
                [shapes[i].box for i in order],
                "shape",
                vocab={"shape": SHAPE_NAMES, "colour": COLOUR_NAMES, "position": POSITION_NAMES},
            )
        if all_phrases:
            table(
                "text",
                ("text", "position"),
                [{"text": p.text, "position": pos(p.box)} for p in all_phrases],
                [p.box for p in all_phrases],
                "text",
                vocab={"position": POSITION_NAMES},
                flagged=tuple(i for i, p in enumerate(all_phrases) if lines[p.line].instruction),
            )
        if not all_phrases and not made:  # a picture with no text and no structure: its colour
            small = img.image.convert("RGB")
            small.thumbnail((96, 96))  # the colour of the whole, cheaply
            colours = dominant_colours(np.asarray(small).reshape(-1, 3))
            table(
                "image",
                ("region", "colour"),
                [{"region": "image", "colour": colours[0][0] if colours else "unknown"}],
                [(0.0, 0.0, float(w), float(h))],
                "region",
                vocab={"colour": COLOUR_NAMES},
            )
        if dets is not None:
            table(
                "objects",
                ("object", "position"),
                [{"object": n, "position": pos(b)} for n, b in zip(dets.class_names, dets.boxes)],
                dets.boxes,
                "object",
                vocab={"object": tuple(sorted(COCO_NAMES)), "position": POSITION_NAMES},
            )
        observation = "\n".join(t.summary() for t in made) or f"no structure found in {img.id}"
        return ToolOutput(observation, made)

    @staticmethod
    def _reread(image: Any, box: Box, ctx: ToolContext, zoom: float = 2.0) -> str:
        """Read a small region again, enlarged: where a chart label must be but OCR of the whole
        image missed it (small text next to a strong edge is often skipped)."""
        from PIL import Image

        from mmagent.tools.ocr import load_ocr

        x1, y1, x2, y2 = (int(round(v)) for v in box)
        if x2 - x1 < 4 or y2 - y1 < 4:
            return ""
        crop = image.crop((x1, y1, x2, y2)).convert("RGB")
        crop = crop.resize((int(crop.width * zoom), int(crop.height * zoom)), Image.Resampling.LANCZOS)
        engine, _ = load_ocr(ctx.settings.ocr, ctx.models)
        return " ".join(w[0] for w in sorted(engine(crop), key=lambda w: w[1][0]) if w[2] >= 0.5)
