"""Evidence shown, not just told: the boxes, OCR lines and masks behind an answer drawn on the
images they belong to (supervision annotators, via tools.draw).

A computed value names the exact rows, fields, lines and boxes it came from
(`ValueArtifact.evidence`: "tab-4#2", "tab-4:total", "det-3#0", "ocr-2#5"); those, and only
those, are the evidence regions. Artifacts without such refs fall back to every box they hold."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PIL import Image

from mmagent.core.artifacts import (
    Artifact,
    ArtifactStore,
    DetectionsArtifact,
    ImageArtifact,
    MaskArtifact,
    OcrArtifact,
    TableArtifact,
    ValueArtifact,
    format_value,
)

BOXED = (DetectionsArtifact, OcrArtifact, MaskArtifact)


@dataclass(frozen=True)
class Region:
    ref: str  # "tab-4#2", "tab-4:total", "det-3#0", "ocr-2#5"
    image_id: str
    box: tuple[float, float, float, float]
    label: str
    # The same region on the input image it was cut from, when `image_id` is a crop or a zoom.
    input_image: str = ""
    input_box: tuple[float, float, float, float] | None = None

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "image": self.image_id,
            "box": [round(float(v), 1) for v in self.box],
            "label": self.label,
            "input_image": self.input_image or self.image_id,
            "input_box": [round(float(v), 1) for v in (self.input_box or self.box)],
        }


MAX_CITED_BOXES = 5  # a detection cited with more boxes points at no region in particular


def resolve_ref(store: ArtifactStore, ref: str) -> Region | None:
    """The image region a row / field / line / box reference points at, if it has one."""
    aid, sep, key = ref.partition("#") if "#" in ref else ref.partition(":")
    if not sep or aid not in store:
        return None
    art = store.get(aid)
    if isinstance(art, TableArtifact):
        if sep == ":":
            box, label = art.field_boxes.get(key), f"{key} {format_value(art.fields.get(key))}"
        else:
            i = int(key)
            box = art.row_box(i)
            label = " ".join(format_value(v) for v in art.rows[i].values()) if i < len(art.rows) else ""
        return Region(ref, art.image_id, box, label) if box and art.image_id else None
    if isinstance(art, DetectionsArtifact) and key.isdigit() and int(key) < len(art.detections):
        i = int(key)
        return Region(ref, art.image_id, art.boxes[i], art.class_names[i])
    if isinstance(art, OcrArtifact) and key.isdigit() and int(key) < len(art.lines):
        line = art.lines[int(key)]
        return Region(ref, art.image_id, line.box, line.text)
    return None


def evidence_regions(store: ArtifactStore, artifact_ids: list[str]) -> list[Region]:
    """The exact regions cited values came from; for an artifact cited itself, its one OCR line
    or table row, or the boxes of a detection that holds a few (a model that read a zoom cites
    what it read, a count cites the things counted); empty when nothing cited names a region."""
    refs: list[str] = []
    for aid in artifact_ids:
        art = store.get(aid) if aid in store else None
        if isinstance(art, ValueArtifact):
            refs += art.evidence
        elif isinstance(art, OcrArtifact) and len(art.lines) == 1:
            refs.append(f"{aid}#0")
        elif isinstance(art, TableArtifact) and len(art.rows) == 1:
            refs.append(f"{aid}#0")
        elif isinstance(art, DetectionsArtifact) and 0 < len(art.detections) <= MAX_CITED_BOXES:
            refs += [f"{aid}#{i}" for i in range(len(art.detections))]
    out = [r for r in (resolve_ref(store, ref) for ref in refs) if r is not None]
    located = []
    for r in out:
        input_image, input_box = store.in_input(r.image_id, r.box)
        located.append(replace(r, input_image=input_image, input_box=input_box))
    return located


def boxed_sources(store: ArtifactStore, artifact_ids: list[str], depth: int = 3) -> list[Artifact]:
    """Box-bearing artifacts among the ids, or behind them: a value computed by relate or query
    points back, through its inputs, to the detections and OCR lines it came from."""
    found: dict[str, Artifact] = {}
    frontier = [i for i in artifact_ids if i in store]
    for _ in range(depth + 1):
        nxt = []
        for aid in frontier:
            art = store.get(aid)
            if isinstance(art, BOXED):
                found.setdefault(aid, art)
            elif not isinstance(art, ImageArtifact):
                nxt += [i for i in art.provenance.inputs if i in store]
        frontier = nxt
    return list(found.values())


def evidence_views(
    store: ArtifactStore, artifact_ids: list[str], everything: bool = False
) -> list[tuple[str, Image.Image]]:
    """(image id, annotated image) for every image the evidence has boxes on: only the exact
    regions when the cited values name them (the TOTAL line, not the whole receipt), else every
    box of the artifacts behind the evidence. `everything`: the exact regions drawn over every
    box of those artifacts (the rest of the receipt in other colours)."""
    import numpy as np
    import supervision as sv

    from mmagent.tools.draw import annotate, as_detections

    by_image: dict[str, list[Artifact]] = {}
    for art in boxed_sources(store, artifact_ids):
        image_id = getattr(art, "image_id", "")
        if image_id in store and isinstance(store.get(image_id), ImageArtifact):
            by_image.setdefault(image_id, []).append(art)
    regions = evidence_regions(store, artifact_ids)
    if not regions:
        return [
            (image_id, annotate(store.get(image_id, ImageArtifact).image, [as_detections(a) for a in arts]))
            for image_id, arts in by_image.items()
        ]
    grouped: dict[str, list[Region]] = {}
    for r in regions:
        grouped.setdefault(r.image_id, []).append(r)
    views = []
    for image_id, rs in grouped.items():
        cited = sv.Detections(
            xyxy=np.array([r.box for r in rs], dtype=np.float32).reshape(-1, 4),
            class_id=np.zeros(len(rs), dtype=int),
            data={"class_name": np.array([r.label for r in rs], dtype=object)},
        )
        rest = [as_detections(a) for a in by_image.get(image_id, [])] if everything else []
        views.append((image_id, annotate(store.get(image_id, ImageArtifact).image, [*rest, cited])))
    return views


def cited_value(store: ArtifactStore, artifact_ids: list[str]) -> ValueArtifact | None:
    """The last computed value among the cited artifacts (its value is the short answer)."""
    values = [store.get(a) for a in artifact_ids if a in store and isinstance(store.get(a), ValueArtifact)]
    return values[-1] if values else None  # type: ignore[return-value]
