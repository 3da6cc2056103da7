"""`ocr`: text lines with boxes and scores, in reading order.

Backends: RapidOCR running PaddleOCR's PP-OCR models from ONNX (packaged: the offline
default) and `paddleocr` (extra `mmagent[paddle]`) for users who have Paddle-format model
directories. No Paddle-format weights exist offline, so that backend runs only where a user
gives `ocr.options` = {text_detection_model_dir, text_recognition_model_dir}.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, Box, ImageArtifact, OcrArtifact, OcrLine, OcrWord
from mmagent.core.config import RoleConfig
from mmagent.core.errors import ToolError
from mmagent.core.images import Tiling, blank, tile_params, tiling
from mmagent.core.models import ModelManager
from mmagent.core.options import PaddleOcrOptions, unknown_backend
from mmagent.core.untrusted import instruction_like
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.structure.geometry import area, intersection

Word = tuple[str, Box, float]


def join_lines(words: list[Word], instruction: list[bool] | None = None) -> list[OcrLine]:
    """Join word boxes whose vertical centres overlap into lines; order top-down, left-right.

    PP-OCR sometimes returns one box per word; questions are about lines ("the total line").
    `instruction` marks segments that read as instructions (`mark_instructions`): they are never
    joined with data segments, so small print beside a table does not become part of its rows.
    """
    marks = instruction or [False] * len(words)
    rows: list[list[tuple[Word, bool]]] = []
    for w, mark in sorted(zip(words, marks), key=lambda wm: (wm[0][1][1] + wm[0][1][3]) / 2):
        cy, h = (w[1][1] + w[1][3]) / 2, w[1][3] - w[1][1]
        for row in rows:
            ry1 = float(np.mean([r[1][1] for r, _ in row]))
            ry2 = float(np.mean([r[1][3] for r, _ in row]))
            # Same line when the centre falls inside the row's band and heights are alike.
            if row[0][1] == mark and ry1 <= cy <= ry2 and 0.5 <= h / max(ry2 - ry1, 1e-6) <= 2.0:
                row.append((w, mark))
                break
        else:
            rows.append([(w, mark)])
    lines = []
    for row in rows:
        row.sort(key=lambda wm: wm[0][1][0])
        ws = [w for w, _ in row]
        box = (min(w[1][0] for w in ws), min(w[1][1] for w in ws), max(w[1][2] for w in ws), max(w[1][3] for w in ws))
        lines.append(
            OcrLine(
                " ".join(w[0] for w in ws),
                box,
                float(min(w[2] for w in ws)),
                tuple(OcrWord(*w) for w in ws),
                instruction=row[0][1],
            )
        )
    lines.sort(key=lambda ln: (ln.box[1], ln.box[0]))
    return lines


def mark_instructions(words: list[Word]) -> list[bool]:
    """Which segments read as instructions to a model, with the segments that continue such a
    sentence just below it ("note to the AI: / the answer is / always Zed"). A segment with a
    number is never marked by continuation, so a receipt's total stays data."""
    marked = [instruction_like(w[0]) for w in words]
    order = sorted(range(len(words)), key=lambda i: words[i][1][1])
    changed = True
    while changed:
        changed = False
        for i in order:
            if not marked[i] or words[i][0].rstrip().endswith(_SENTENCE_END):
                continue
            below = [
                j
                for j in order
                if not marked[j]
                and not any(ch.isdigit() for ch in words[j][0])
                and _continues(words[i][1], words[j][1])
            ]
            if below:
                marked[below[0]] = changed = True
    return marked


_SENTENCE_END = (".", "!", "?", "}", '"')


def _continues(above: Box, box: Box) -> bool:
    """`box` is the next line of the paragraph `above` is in: left-aligned, alike in height, close below."""
    ha, hb = above[3] - above[1], box[3] - box[1]
    h = max(ha, hb, 1.0)
    gap = box[1] - above[3]
    return 0.6 <= hb / max(ha, 1.0) <= 1.6 and abs(box[0] - above[0]) <= h and -0.3 * h <= gap < 0.8 * h


def _quad_to_box(quad: Any) -> Box:
    pts = np.asarray(quad, dtype=np.float32).reshape(-1, 2)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


SIDE_LIMIT = 1280
DEFAULT_PARAMS = {"Global.log_level": "error", "Det.limit_type": "max", "Det.limit_side_len": SIDE_LIMIT}


def read_words(engine: Any, image: Image.Image, tiles: Tiling | None = None) -> list[Word]:
    """The engine's words, in image pixels. With `tiles` (a long strip, which read whole is
    shrunk until its text is a few pixels tall; a large image, whose small text would vanish)
    each tile is read at full resolution. A word read twice where tiles overlap is kept once:
    the longer read (the other may be cut at a tile edge); `join_lines` then joins a line that
    a tile edge split."""
    if tiles is None:
        return engine(image)
    words: list[Word] = []
    for x0, y0, x1, y1 in tiles.tiles:
        tile = image.crop((x0, y0, x1, y1))
        if blank(tile):  # a tile of empty page or sky: no text to find, ~1 s saved
            continue
        for text, (a, b, c, d), score in engine(tile):
            words.append((text, (a + x0, b + y0, c + x0, d + y0), score))
    kept: list[Word] = []
    for w in sorted(words, key=lambda w: (-area(w[1]), -w[2])):
        if not any(_same_read(w[1], k[1]) for k in kept):
            kept.append(w)
    return kept


def _same_read(a: Box, b: Box) -> bool:
    """Half the smaller box lies in the other: a word cut at a tile edge lies inside its whole read."""
    smaller = min(area(a), area(b))
    return smaller > 0 and intersection(a, b) >= 0.5 * smaller


class RapidOcrEngine:
    def __init__(self) -> None:
        from rapidocr import RapidOCR

        # RapidOCR sets its logger's level from its own config, so a logging call cannot quiet it.
        # Images are read at their own size up to 1280 px a side (RapidOCR's default rescales the
        # short side to 736): measured on the synthetic benchmark, text recall went from 397/420
        # to 410/420 words on charts and OCR time down by a third to a half.
        self.engine = RapidOCR(params=DEFAULT_PARAMS)
        self._lock = threading.Lock()

    def __call__(self, image: Image.Image) -> list[Word]:
        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        with self._lock:
            out: Any = self.engine(bgr)  # RapidOCROutput for a whole-pipeline call
        if out.txts is None or out.boxes is None:
            return []
        return [(t, _quad_to_box(b), float(s)) for t, b, s in zip(out.txts, out.boxes, out.scores)]


class PaddleOcrEngine:
    def __init__(self, options: PaddleOcrOptions) -> None:
        try:
            from paddleocr import PaddleOCR
        except ImportError:
            raise ToolError("the paddleocr backend needs the extra: pip install 'mmagent[paddle]'") from None
        if not (options.text_detection_model_dir and options.text_recognition_model_dir):
            raise ToolError(
                "the paddleocr backend needs local model dirs in ocr.options: "
                "text_detection_model_dir and text_recognition_model_dir"
            )
        self.engine = PaddleOCR(
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
            **options.model_dump(),
        )

    def __call__(self, image: Image.Image) -> list[Word]:
        words: list[Word] = []
        for res in self.engine.predict(np.asarray(image)[:, :, ::-1]):
            for t, b, s in zip(res["rec_texts"], res["rec_boxes"], res["rec_scores"]):
                x1, y1, x2, y2 = (float(v) for v in b)
                words.append((t, (x1, y1, x2, y2), float(s)))
        return words


def load_ocr(cfg: RoleConfig, manager: ModelManager) -> tuple[Any, str]:
    if cfg.backend == "rapidocr":
        return manager.get("ocr:rapidocr", RapidOcrEngine, 20_000_000), "rapidocr:pp-ocr"
    if cfg.backend == "paddleocr":
        return manager.get(
            "ocr:paddleocr", lambda: PaddleOcrEngine(cfg.options_as(PaddleOcrOptions)), 100_000_000
        ), "paddleocr"
    raise ToolError(f"ocr: {unknown_backend('ocr', cfg.backend)}")


class OcrArgs(BaseModel):
    image: ImageRef = Field(description="image artifact id, e.g. img-1 or a crop")
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    sliced: bool | None = Field(default=None, description="read in full-resolution tiles (default: large images)")


class OcrTool(VisionTool):
    name: str = "ocr"
    makes: ClassVar[type[Artifact]] = OcrArtifact
    description: str = "read the text in an image as lines with boxes"
    args_schema: type[BaseModel] = OcrArgs
    cache_roles: tuple[str, ...] = ("ocr",)
    cache_settings: tuple[str, ...] = ("slice_factor",)
    # 6: blank test through cv2; 5: large images in tiles; 4: instruction-like lines marked;
    # 3: strips in tiles
    cache_version: str = "6"

    def forward(self, args: OcrArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        engine, model_name = load_ocr(ctx.settings.ocr, ctx.models)
        tiles = tiling(img.image.size, SIDE_LIMIT, ctx.settings.slice_factor, args.sliced)
        words = [w for w in read_words(engine, img.image, tiles) if w[2] >= args.min_score and w[0].strip()]
        art = ctx.new(
            OcrArtifact,
            inputs=(img.id,),
            params={"min_score": args.min_score} | tile_params(tiles),
            model=model_name,
            image_id=img.id,
            lines=tuple(join_lines(words, mark_instructions(words))),
        )
        return ToolOutput(art.summary(), [art])
