"""Compositional grounding accuracy (IoU >= 0.5) on generated scenes with known boxes and on
real photos with boxes read off by eye.  .venv/bin/python bench/grounding.py [--scenes 50]"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmagent.tools.structure.geometry import iou  # noqa: E402


def score_grounding(n_scenes: int, settings=None) -> dict:
    from PIL import Image

    from mmagent.core.config import load_settings
    from mmagent.core.models import shared_manager
    from mmagent.core.samples import REAL_GROUNDING, grounding_scene, packaged_photo
    from mmagent.tools.ground import compositional_ground

    settings = settings or load_settings()
    per_kind: dict[str, list[bool]] = defaultdict(list)
    failures = []
    cases = [(grounding_scene(i), f"scene-{i}") for i in range(n_scenes)]
    for name, phrase, box in REAL_GROUNDING:
        from mmagent.core.samples import GroundingScene

        cases.append((GroundingScene(Image.open(packaged_photo(name)).convert("RGB"), phrase, box, "real-photo"), name))
    for scene, label in cases:
        dets, _, _ = compositional_ground(scene.image, scene.phrase, settings, shared_manager(), 0.25)
        ok = len(dets) == 1 and iou(dets.xyxy[0], scene.box) >= 0.5
        per_kind[scene.kind].append(ok)
        if not ok:
            failures.append(f"{label}: '{scene.phrase}' -> {[list(map(int, b)) for b in dets.xyxy]} vs {scene.box}")
    summary = {k: {"n": len(v), "acc": sum(v) / len(v)} for k, v in per_kind.items()}
    synthetic = [ok for k, v in per_kind.items() if k != "real-photo" for ok in v]
    summary["synthetic_all"] = {"n": len(synthetic), "acc": sum(synthetic) / len(synthetic)}
    return {"accuracy": summary, "failures": failures}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=50)
    out = score_grounding(ap.parse_args().scenes)
    print(json.dumps(out, indent=2))
    (ROOT / "bench" / "results" / "grounding.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
