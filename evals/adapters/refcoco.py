"""RefCOCO / RefCOCO+ / RefCOCOg: refs(unc|google|umd).p + COCO instances.json; one question per
referring sentence, scored Acc@IoU≥0.5 against the referred object's box.

The refs file is a Python pickle (that is the official format). Unpickling runs code from the
file, so only point this at a refs file from the official release.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError
from mmagent.evals.adapters.common import field, load_json
from mmagent.evals.schema import Question

PROMPT = 'Find the region described by: "{sent}". Give its bounding box as [x1, y1, x2, y2] in pixels of the image.'


def load_refs(path: str | None) -> list[dict]:
    p = Path(path or "")
    if not p.is_file():
        raise UserInputError(f"refs file not found: {p} (set data.path to refs(unc).p or refs(umd).p)")
    try:
        with open(p, "rb") as f:
            refs = pickle.load(f)
    except Exception as exc:  # a truncated or non-pickle file
        raise UserInputError(f"{p} is not a RefCOCO refs pickle: {exc}") from None
    if not isinstance(refs, list):
        raise UserInputError(f"{p}: expected a list of refs, got {type(refs).__name__}")
    return refs


def refcoco(cfg: Any) -> list[Question]:
    refs = load_refs(cfg.path)
    instances = load_json(cfg.annotations, "instances")
    where_inst = str(cfg.annotations)
    boxes = {a["id"]: a["bbox"] for a in field(instances, "annotations", where_inst)}
    files = {im["id"]: im["file_name"] for im in field(instances, "images", where_inst)}
    split = cfg.split or "val"
    out = []
    for ref in refs:
        where = f"{cfg.path} ref {ref.get('ref_id', '?')}"
        if field(ref, "split", where) != split:
            continue
        ann_id, image_id = field(ref, "ann_id", where), field(ref, "image_id", where)
        if ann_id not in boxes:
            raise UserInputError(f"{where}: ann_id {ann_id} is not in {cfg.annotations}")
        if image_id not in files:
            raise UserInputError(f"{where}: image_id {image_id} is not in {cfg.annotations}")
        x, y, w, h = boxes[ann_id]
        for s in field(ref, "sentences", where):
            sent = str(field(s, "sent", where))
            out.append(
                Question(
                    id=str(s.get("sent_id", f"{ref['ref_id']}-{sent}")),
                    question=PROMPT.format(sent=sent),
                    images=[str(Path(cfg.image_root or ".") / files[image_id])],
                    answer=[x, y, x + w, y + h],
                    metric="iou",
                    answer_type="box",
                    family=f"refcoco-{split}",
                    tools=["ground"],
                    meta={"expression": sent, "ref_id": ref.get("ref_id"), "category_id": ref.get("category_id")},
                )
            )
    return out
