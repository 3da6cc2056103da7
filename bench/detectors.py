"""Which packaged detector counts objects right: YOLO11n vs YOLOv8n (both INT8 OpenVINO) on the
synthetic benchmark's counting and presence scenes (object photos pasted at known places; the
development seed 99, so the choice is not made on the reported questions), per class and
confidence threshold, with the time per image.
.venv/bin/python bench/detectors.py [--scenes 120]  ->  bench/results/detectors.json"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def compare(n_scenes: int, models=("yolo11n", "yolov8n"), thresholds=(0.15, 0.25, 0.35)) -> dict:
    from PIL import Image

    from mmagent.core.config import RoleConfig, load_settings
    from mmagent.core.models import shared_manager
    from mmagent.evals.synthetic import generate
    from mmagent.tools.detect import load_detector

    out: dict = {"scenes": n_scenes, "seed": 99, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        questions = generate(n_scenes, 99, Path(tmp), families=("counts", "presence"))
        images = [(Image.open(q.images[0]).convert("RGB"), q.meta["counts"]) for q in questions]
        for model in models:
            settings = load_settings(detector=RoleConfig(backend="yolo", model=model))
            detector, _ = load_detector(settings.detector, settings, shared_manager())
            detector(images[0][0], 0.25)  # compile
            per: dict = {str(t): Counter() for t in thresholds}
            t0 = time.perf_counter()
            for image, counts in images:
                dets = detector(image, min(thresholds))
                for t in thresholds:
                    names = [str(n) for n, c in zip(dets.data.get("class_name", []), dets.confidence) if c >= t]
                    for cls, n in counts.items():
                        per[str(t)][cls] += names.count(cls) == n
                    per[str(t)]["scenes_all_right"] += all(names.count(c) == n for c, n in counts.items())
            out["models"][model] = {
                "ms_per_image": round(1000 * (time.perf_counter() - t0) / len(images), 1),
                "exact_counts": {t: dict(c) for t, c in per.items()},
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=120)
    result = compare(ap.parse_args().scenes)
    path = ROOT / "bench" / "results" / "detectors.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
