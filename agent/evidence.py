"""Evidence shown, not just told: the boxes, OCR lines and masks behind an answer drawn on the
images they belong to (supervision annotators, via tools.draw)."""
from __future__ import annotations

from PIL import Image

from agent.artifacts import Artifact, ArtifactStore, DetectionsArtifact, ImageArtifact, MaskArtifact, OcrArtifact

BOXED = (DetectionsArtifact, OcrArtifact, MaskArtifact)


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


def evidence_views(store: ArtifactStore, artifact_ids: list[str]) -> list[tuple[str, Image.Image]]:
    """(image id, annotated image) for every image the evidence has boxes on."""
    from tools.draw import annotate, as_detections

    by_image: dict[str, list[Artifact]] = {}
    for art in boxed_sources(store, artifact_ids):
        image_id = getattr(art, "image_id", "")
        if image_id in store and isinstance(store.get(image_id), ImageArtifact):
            by_image.setdefault(image_id, []).append(art)
    return [(image_id, annotate(store.get(image_id, ImageArtifact).image, [as_detections(a) for a in arts]))
            for image_id, arts in by_image.items()]
