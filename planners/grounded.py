"""Answering one sub-question with tools, grounded on the thing it is about.

The questioner of the `ideal` loop picks, per sub-question, how to answer it; each way is a
short fixed program over the real tools, so the answer comes with the artifacts (boxes, OCR
lines, crops) that support it:

- look:       ground `about`, crop it, ask the VLM about the crop (no VLM: caption the crop)
- read:       OCR lines that mention `about` (a receipt's "total"); else ground it, OCR the crop
- read_below: detect or ground `about`, OCR the image, the text just below that box
- count:      detect objects of class `about` (grounding when it is not a detector class)
- find:       ground `about`: its box
- calculate:  exact arithmetic on `about` (numbers from earlier answers)
- compute:    the `plan` planner's structured path on that image: its layout tables, the
              candidate programs for the sub-question, the planner's choice, the computed value
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import (
    ARTIFACT_ID,
    ArtifactStore,
    DetectionsArtifact,
    ImageArtifact,
    OcrArtifact,
    TextArtifact,
)
from mmagent.core.images import grey_4x, grid_tiles
from mmagent.planners.base import RunContext
from mmagent.tools.runner import ToolCallResult
from mmagent.tools.structure.geometry import Box, center, sides
from mmagent.tools.structure.text import LOOSE_NUMBER

How = Literal["look", "read", "read_below", "count", "find", "calculate", "compute"]
SEARCHABLE = ("look", "read", "read_below", "count", "find")  # ways that can miss a small thing
SEARCH_SIDE = 1600  # images at least this long are searched by zooming when a sub-question misses
_WORD = re.compile(r"[a-z0-9]+")
# Characters of one finding the loop's prompts show: findings add up over rounds, and a whole
# shapes table or OCR dump per finding overflowed the 4096-token context (measured: 4725).
MAX_FINDING = 400
_GENERIC = {"the", "a", "an", "of", "in", "on", "image", "picture", "text", "number", "value", "written"}


class SubQuestion(BaseModel):
    question: str = Field(min_length=3)
    how: How
    about: str = ""  # the object, words or expression the answer is grounded on
    image: str


@dataclass
class Finding:
    sub: SubQuestion
    answer: str
    artifacts: list[str] = field(default_factory=list)
    tool_calls: int = 0
    zooms: int = 0  # regions zoomed into while searching for what the sub-question is about

    def line(self) -> str:
        cites = f" [{', '.join(self.artifacts)}]" if self.artifacts else ""
        answer = self.answer if len(self.answer) <= MAX_FINDING else self.answer[:MAX_FINDING] + " ...(truncated)"
        return f"- {self.sub.question} ({self.sub.how} {self.sub.about!r} on {self.sub.image}) -> {answer}{cites}"


class GroundedAnswerer:
    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.vlm = "ask_image" in run.runner.tools
        self._tables: list[list] | None = None  # the layout tables of every image, read once

    def answer(self, sub: SubQuestion, step: str) -> Finding:
        self._calls: list[ToolCallResult] = []
        self._step = step
        if sub.image not in self.run.store:
            return Finding(sub, f"ERROR: no image {sub.image}; images are {', '.join(self.run.image_ids)}")
        program = {
            "look": self._look,
            "read": self._read,
            "read_below": self._read_below,
            "count": self._count,
            "find": self._find,
            "calculate": self._calculate,
            "compute": self._compute,
        }[sub.how]
        self._missed = False  # set by a program that did not find what the sub-question is about
        text, cited = program(sub)
        zooms = 0
        if self._missed and sub.how in SEARCHABLE:
            text, cited, zooms = self._search(sub, program, text, cited)
        return Finding(sub, text, cited, len(self._calls), zooms)

    def _search(
        self, sub: SubQuestion, program: Callable[[SubQuestion], tuple[str, list[str]]], text: str, cited: list[str]
    ) -> tuple[str, list[str], int]:
        """Zoom into the image's most promising regions (cells the models read at full
        resolution, those with the most ink first), answer the sub-question on each zoom, and
        stop at the first that finds it; after `zoom_budget` zooms, the answer says the search
        found nothing. Only large images are searched: one of ordinary size is seen whole."""
        from mmagent.tools.zoom import TARGET_SIDE

        image = self.run.store.get(sub.image, ImageArtifact).image
        budget = self.run.settings.zoom_budget
        if budget <= 0 or max(image.size) < SEARCH_SIDE:
            return text, cited, 0
        cells = grid_tiles(image.size, (TARGET_SIDE, TARGET_SIDE), (TARGET_SIDE // 8, TARGET_SIDE // 8))
        cells.sort(key=lambda box: -_ink(image, box))
        for n, box in enumerate(cells[:budget], 1):
            zoom = self._call("zoom", image=sub.image, box=list(box), padding=0)
            if not zoom.ok:
                continue
            self._missed = False
            found_text, found_cited = program(sub.model_copy(update={"image": zoom.made}))
            if not self._missed:
                where = f"in the zoom {zoom.made} of {sub.image} at {list(box)}"
                return f"{where}: {found_text}", [zoom.made] + found_cited, n
        searched = min(budget, len(cells))
        missing = sub.about or "it"
        return f"{text}; searched {searched} zoomed regions of {sub.image}, {missing} is in none", cited, searched

    # -- programs: each returns (answer text, artifact ids that support it) -------------
    def _look(self, sub: SubQuestion) -> tuple[str, list[str]]:
        image, found, cited = self._crop_of(sub.about, sub.image)
        self._missed = bool(sub.about.strip()) and not cited
        if self.vlm:
            r = self._call("ask_image", image=image, question=sub.question)
            return (self._text(r), cited + self._ids(r)) if r.ok else (r.observation, cited)
        r = self._call("caption", image=image)
        text, ids = (self._text(r), cited + self._ids(r)) if r.ok else (r.observation, cited)
        if found is not None:  # no model sees the crop: its colour and shape from the pixels (tools/attributes)
            a = self._call("attributes", image=sub.image, detections=found.made, index=0)
            if a.ok:
                text, ids = f"{self._text(a)}; {text}", ids + self._ids(a)
        return text, ids

    def _read(self, sub: SubQuestion) -> tuple[str, list[str]]:
        ocr = self._call("ocr", image=sub.image)
        if not ocr.ok:
            return ocr.observation, []
        art = self.run.store.get(ocr.made, OcrArtifact)
        words = {w for w in _WORD.findall(sub.about.lower()) if w not in _GENERIC}
        hits = [ln.text for ln in art.lines if words & set(_WORD.findall(ln.text.lower()))]
        if hits or not words:
            lines = hits or [ln.text for ln in art.lines]
            self._missed = not lines
            return "text: " + " | ".join(lines[:12]) if lines else "no text found", [art.id]
        image, found, cited = self._crop_of(sub.about, sub.image)
        if found is None or image == sub.image:
            self._missed = True  # neither the words nor the thing they are on
            return "text: " + " | ".join(ln.text for ln in art.lines[:12]), [art.id]
        crop_ocr = self._call("ocr", image=image)
        read_on = self._text(found)  # what the text was read on (a drawn circle's colour, say)
        if not crop_ocr.ok:
            return f"{read_on}; {crop_ocr.observation}", cited
        return f"{read_on}; {self._text(crop_ocr)}", cited + self._ids(crop_ocr)

    def _read_below(self, sub: SubQuestion) -> tuple[str, list[str]]:
        """OCR of the band under the object's box, as wide as the box. OCR joins words of one
        row into a line, so a whole-image line under the object can hold its neighbours' text."""
        boxes = self._locate(sub.about, sub.image)
        if boxes is None:  # still useful: everything the image says
            text, cited = self._read(sub.model_copy(update={"about": ""}))
            self._missed = True
            return f"no {sub.about} found in {sub.image}; all its {text}", cited
        det = self.run.store.get(boxes.made, DetectionsArtifact)
        x1, y1, x2, y2 = (float(v) for v in det.detections.xyxy[0])
        height = self.run.store.get(sub.image, ImageArtifact).image.height
        band = [x1, y2, x2, min(float(height), y2 + max(y2 - y1, 60.0))]
        cited = [boxes.made]
        if band[3] - band[1] >= 8:
            crop = self._call("crop", image=sub.image, box=band)
            if crop.ok:
                ocr = self._call("ocr", image=crop.made)
                lines = self.run.store.get(ocr.made, OcrArtifact).lines if ocr.ok else ()
                if lines:
                    return (
                        f"text below the {sub.about}: " + " | ".join(ln.text for ln in lines),
                        cited + [crop.made, ocr.made],
                    )
        ocr = self._call("ocr", image=sub.image)
        if not ocr.ok:
            return ocr.observation, cited
        r = self._call("relate", relation="below", subject=boxes.made, target=ocr.made)
        return (self._text(r), cited + [ocr.made] + self._ids(r)) if r.ok else (r.observation, cited)

    def _count(self, sub: SubQuestion) -> tuple[str, list[str]]:
        r = self._boxes_of(sub.about, sub.image)
        if not r.ok:
            return r.observation, []
        n = len(self.run.store.get(r.made, DetectionsArtifact).class_names)
        self._missed = n == 0
        return f"{n} {sub.about}", self._ids(r)

    def _find(self, sub: SubQuestion) -> tuple[str, list[str]]:
        r = self._call("ground", image=sub.image, phrase=sub.about or sub.question)
        self._missed = not r.ok or not self.run.store.get(r.made, DetectionsArtifact).class_names
        return (r.observation, self._ids(r)) if r.ok else (r.observation, [])

    def _compute(self, sub: SubQuestion) -> tuple[str, list[str]]:
        from mmagent.planners.choose import choose_program
        from mmagent.planners.plan import perceive
        from mmagent.planners.programs import candidate_programs

        if self._tables is None:
            self._tables = perceive(self.run)[1]
        tables = self._tables[self.run.image_ids.index(sub.image)] if sub.image in self.run.image_ids else []
        candidates = candidate_programs(sub.question, [tables])
        program, _ = choose_program(self.run, sub.question, candidates) if candidates else (None, "")
        if program is None:
            return self._read(sub)  # nothing the structure computes: read the text instead
        r = self._call(program.tool, **program.args)
        return (self._text(r), self._ids(r)) if r.ok else (r.observation, [])

    def _calculate(self, sub: SubQuestion) -> tuple[str, list[str]]:
        r = self._call("calculate", expression=sub.about)
        return (self._text(r), self._ids(r)) if r.ok else (r.observation, [])

    # -- helpers --------------------------------------------------------------------------
    def _boxes_of(self, about: str, image: str) -> ToolCallResult:
        """Boxes of `about`: the detector for a detector class, else open-vocabulary grounding."""
        from mmagent.tools.detect import COCO_NAMES, normalize_class

        cls = normalize_class(about)
        if cls in COCO_NAMES:
            return self._call("detect", image=image, classes=[cls])
        return self._call("ground", image=image, phrase=about)

    def _locate(self, about: str, image: str) -> ToolCallResult | None:
        """The boxes of `about` when there are any."""
        if not about.strip():
            return None
        r = self._boxes_of(about, image)
        if r.ok and self.run.store.get(r.made, DetectionsArtifact).class_names:
            return r
        return None

    def _crop_of(self, about: str, image: str) -> tuple[str, ToolCallResult | None, list[str]]:
        """(a crop around `about`, the call that located it, the artifacts cited) when it can be
        found; otherwise the whole image, None and nothing."""
        found = self._locate(about, image)
        if found is None:
            return image, None, []
        crop = self._call("crop", source=found.made, index=0, padding=8)
        return (crop.made, found, [found.made, crop.made]) if crop.ok else (image, found, [found.made])

    def _call(self, tool: str, **args: object) -> ToolCallResult:
        r = self.run.runner.call(tool, args, step=f"{self._step}{chr(ord('a') + len(self._calls))}")
        self._calls.append(r)
        return r

    def _text(self, r: ToolCallResult) -> str:
        art = self.run.store.get(r.primary) if r.primary else None
        if isinstance(art, TextArtifact):
            return art.text
        return r.observation

    @staticmethod
    def _ids(r: ToolCallResult) -> list[str]:
        return list(r.artifact_ids)


_ID = re.compile(ARTIFACT_ID.pattern + r"(?:#\d+)?")  # an id, or one box of it (det-2#1)


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """How much is drawn in a region: the spread of its grey levels (box-filtered 4x, so a
    plain or faintly textured page scores low and text, objects and shapes high)."""
    grey = grey_4x(image.crop(box)).astype(np.float32)
    return float(grey.max() - grey.min()) + float(grey.std())


def numbers_note(findings: list[Finding], image_names: dict[str, str] | None = None) -> str | None:
    """Order (and, for two, subtract) the numbers the findings read, exactly, and say where
    each came from, so the reasoner copies a comparison instead of making one: measured, the
    0.5B model called 65.75 larger than 77.15."""
    values = []
    for f in findings:
        nums = LOOSE_NUMBER.findall(_ID.sub("", f.answer))
        if len(nums) == 1:
            where = (image_names or {}).get(f.sub.image, f.sub.image)
            values.append((float(nums[0].replace(",", "")), nums[0], f"{where}, {f.sub.question}"))
    if len(values) < 2:
        return None
    ordered = sorted(values, key=lambda v: -v[0])
    (top, raw_top, src_top), (low, raw_low, src_low) = ordered[0], ordered[-1]
    note = (
        f"Computed from the findings: the largest number is {raw_top} ({src_top}); "
        f"the smallest is {raw_low} ({src_low})"
    )
    if len(values) == 2:
        note += f"; difference {raw_top} - {raw_low} = {round(top - low, 6):g}"
    return note + "."


def positions_note(findings: list[Finding], store: ArtifactStore) -> str | None:
    """Where the things the findings located lie relative to each other, from their boxes on
    the input image (through any crop or zoom), so the reasoner copies a comparison instead of
    making one: measured, from the crops' captions alone the 1.5B model said "right" of a cup
    lying left of the cat."""
    located: dict[str, tuple[str, str, Box]] = {}  # name -> (det id, input image, box on it)
    for f in findings:
        for aid in f.artifacts:
            art = store.get(aid) if aid in store else None
            if not isinstance(art, DetectionsArtifact) or not art.class_names:
                continue
            name = art.class_names[0]  # the box the finding cropped (index 0)
            located.setdefault(name, (aid, *store.in_input(art.image_id, art.boxes[0])))
    names = list(located)
    facts = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (id_a, img_a, box_a), (id_b, img_b, box_b) = located[a], located[b]
            if img_a != img_b:
                continue
            side, above = sides(box_a, box_b)
            (xa, ya), (xb, yb) = center(box_a), center(box_b)
            facts.append(
                f"the {a} ({id_a}, centre x {xa:.0f}, y {ya:.0f}) is {side} of and {above} "
                f"the {b} ({id_b}, centre x {xb:.0f}, y {yb:.0f}) on {img_a}"
            )
    return f"Computed from the boxes: {'; '.join(facts)}." if facts else None
