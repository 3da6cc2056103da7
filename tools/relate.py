"""`relate`: geometry between boxes and text lines, computed, never guessed by the LLM.

Measured: the 0.5B planner matched "the number under the cat" from raw boxes 1/5 times, so
"text below / above / left of / right of / inside a box", "nearest", "leftmost", "largest"
and "count inside" are answered here from coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, Box, DetectionsArtifact, OcrArtifact, ValueArtifact, fmt_box
from mmagent.core.errors import ToolError
from mmagent.tools.base import BoxesRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.detect import normalize_class

Relation = Literal[
    "below",
    "above",
    "left_of",
    "right_of",
    "inside",
    "nearest",
    "leftmost",
    "rightmost",
    "topmost",
    "bottommost",
    "largest",
    "count_inside",
]
PAIRWISE = {"below", "above", "left_of", "right_of", "inside", "nearest", "count_inside"}


@dataclass(frozen=True)
class Item:
    label: str  # class name or text
    box: Box
    ref: str  # e.g. "det-2#1"


def items_of(art: DetectionsArtifact | OcrArtifact) -> list[Item]:
    if isinstance(art, DetectionsArtifact):
        return [Item(n, b, f"{art.id}#{i}") for i, (n, b) in enumerate(zip(art.class_names, art.boxes))]
    return [Item(ln.text, ln.box, f"{art.id}#{i}") for i, ln in enumerate(art.lines)]


def _center(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _overlap_1d(a1: float, a2: float, b1: float, b2: float) -> float:
    return max(0.0, min(a2, b2) - max(a1, b1))


def relation_gap(rel: str, s: Box, t: Box) -> float | None:
    """Distance of target t from subject s along the relation, or None if t is not there."""
    (scx, scy), (tcx, tcy) = _center(s), _center(t)
    if rel in ("below", "above"):
        # Columns must line up: horizontal overlap, or the target centre within the subject's span.
        if _overlap_1d(s[0], s[2], t[0], t[2]) <= 0 and not s[0] <= tcx <= s[2]:
            return None
        gap = t[1] - s[3] if rel == "below" else s[1] - t[3]
        tol = 0.25 * (s[3] - s[1])  # a label may touch or slightly overlap the object
        return max(gap, 0.0) if gap >= -tol and (tcy > scy if rel == "below" else tcy < scy) else None
    if rel in ("right_of", "left_of"):
        if _overlap_1d(s[1], s[3], t[1], t[3]) <= 0:
            return None
        gap = t[0] - s[2] if rel == "right_of" else s[0] - t[2]
        tol = 0.25 * (s[2] - s[0])
        return max(gap, 0.0) if gap >= -tol and (tcx > scx if rel == "right_of" else tcx < scx) else None
    if rel in ("inside", "count_inside"):
        return 0.0 if s[0] <= tcx <= s[2] and s[1] <= tcy <= s[3] else None
    return float(np.hypot(tcx - scx, tcy - scy))  # nearest


class RelateArgs(BaseModel):
    relation: Relation
    subject: BoxesRef = Field(description="det-/ocr- artifact holding the reference box(es)")
    class_name: str | None = Field(default=None, description="pick subject boxes of this class")
    index: int | None = Field(default=None, ge=0, description="pick subject box #index")
    target: BoxesRef | None = Field(default=None, description="det-/ocr- artifact to search (for pairwise relations)")


class RelateTool(VisionTool):
    name: str = "relate"
    makes: ClassVar[type[Artifact]] = ValueArtifact
    description: str = (
        "spatial relations: relation=below|above|left_of|right_of|inside|nearest|count_inside "
        "finds target items relative to a subject box; leftmost|rightmost|topmost|"
        "bottommost|largest picks among subject boxes"
    )
    args_schema: type[BaseModel] = RelateArgs

    def forward(self, args: RelateArgs, ctx: ToolContext) -> ToolOutput:
        subj_art = ctx.store.get(args.subject)
        if not isinstance(subj_art, (DetectionsArtifact, OcrArtifact)):
            raise ToolError(f"{args.subject} has no boxes; use a det- or ocr- artifact")
        subjects = items_of(subj_art)
        if args.class_name:
            want = normalize_class(args.class_name)
            subjects = [s for s in subjects if s.label.lower() == want]
        if not subjects:
            raise ToolError(f"no {args.class_name or 'boxes'} in {args.subject}")
        if args.index is not None:
            if args.index >= len(subjects):
                raise ToolError(f"only {len(subjects)} matching boxes in {args.subject}; no index {args.index}")
            subjects = [subjects[args.index]]
        inputs: tuple[str, ...] = (subj_art.id,)
        value: str | int | list[str] | None

        if args.relation not in PAIRWISE:
            key = {
                "leftmost": lambda it: _center(it.box)[0],
                "rightmost": lambda it: -_center(it.box)[0],
                "topmost": lambda it: _center(it.box)[1],
                "bottommost": lambda it: -_center(it.box)[1],
                "largest": lambda it: -(it.box[2] - it.box[0]) * (it.box[3] - it.box[1]),
            }[args.relation]
            best = min(subjects, key=key)
            used = [best.ref]
            value, statement = (
                best.label,
                f"the {args.relation} in {args.subject} is {best.label} ({best.ref}, box {fmt_box(best.box)})",
            )
        else:
            if not args.target:
                raise ToolError(f"relation {args.relation} needs target (a det- or ocr- artifact)")
            tgt_art = ctx.store.get(args.target)
            if not isinstance(tgt_art, (DetectionsArtifact, OcrArtifact)):
                raise ToolError(f"{args.target} has no boxes; use a det- or ocr- artifact")
            inputs += (tgt_art.id,)
            subject = subjects[0]
            found = sorted(
                (
                    (g, t)
                    for t in items_of(tgt_art)
                    if t.ref != subject.ref and (g := relation_gap(args.relation, subject.box, t.box)) is not None
                ),
                key=lambda gt: gt[0],
            )
            where = f"the {subject.label} ({subject.ref})"
            used = [subject.ref] + [
                t.ref for _, t in (found if args.relation in ("inside", "count_inside") else found[:1])
            ]
            if args.relation == "count_inside":
                value = len(found)
                statement = f"{value} items of {args.target} inside {where}"
            elif args.relation == "inside" and found:
                inside = sorted((t for _, t in found), key=lambda t: (t.box[1], t.box[0]))
                value = [t.label for t in inside]
                noun = "text" if isinstance(tgt_art, OcrArtifact) else "objects"
                statement = f"{noun} inside {where}: " + ", ".join(f"'{t.label}'" for t in inside)
            elif not found:
                value, statement = None, f"nothing in {args.target} is {args.relation} {where}"
            else:
                t = found[0][1]
                value = t.label
                statement = f"'{t.label}' ({t.ref}) is {args.relation.replace('_', ' ')} {where}"
        art = ctx.new(
            ValueArtifact,
            inputs=inputs,
            params=args.model_dump(exclude_none=True),
            value=value,
            statement=statement,
            evidence=tuple(used),
        )
        return ToolOutput(art.summary(), [art])
