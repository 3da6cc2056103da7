"""Sliced perception on a 4000x3000 image: the extra wall time of reading it in tiles (detection
and OCR, through the tools), and detection over tiles against the same tiles through the bare
library (supervision's InferenceSlicer calling the detector, nothing else).

Writes bench/results/sliced.json.

    .venv/bin/python bench/sliced.py [--reps 5]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_s(fn: Any, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    import random

    import supervision as sv
    from PIL import Image, ImageDraw

    from mmagent.core.config import load_settings
    from mmagent.core.images import tiling
    from mmagent.core.models import shared_manager
    from mmagent.core.samples import OBJECT_SOURCES, font, skimage_photo
    from mmagent.tools.detect import DETECTOR_SIDE, detect_tiled, load_detector
    from tests.conftest import ToolEnv

    rng = random.Random(0)
    page = Image.new("RGB", (4000, 3000), (246, 244, 236))
    d = ImageDraw.Draw(page)
    for word in ("EXIT", "GATE 14", "PHARMACY", "OPEN"):  # small signs
        x, y = rng.randint(100, 3700), rng.randint(100, 2800)
        d.rectangle((x - 10, y - 8, x + 160, y + 44), fill=(30, 60, 140))
        d.text((x, y), word, font=font(30), fill="white")
    for cls in ("cup", "cat", "person"):
        src, box = OBJECT_SOURCES[cls]
        photo = skimage_photo(src).crop(box)
        photo = photo.resize((photo.width * 140 // photo.height, 140))
        page.paste(photo, (rng.randint(100, 3700), rng.randint(100, 2700)))

    settings = load_settings()
    env = ToolEnv(settings)
    img = env.add_image(page)
    out: dict[str, Any] = {"image": "4000x3000 page, 4 small signs, 3 small objects", "reps": args.reps}
    for tool in ("detect", "ocr"):
        whole_args, sliced_args = {"image": img, "sliced": False}, {"image": img}

        def call(tool_args: dict[str, Any], name: str = tool) -> Any:
            return env.store.get(env.runner.call(name, tool_args, step="b").made)

        whole = median_s(functools.partial(call, whole_args), args.reps)
        tiled = median_s(functools.partial(call, sliced_args), args.reps)
        made = call(sliced_args)
        out[tool] = {
            "whole_s": round(whole, 3),
            "sliced_s": round(tiled, 3),
            "extra_s": round(tiled - whole, 3),
            "tiles": made.provenance.params.get("tiles", {}).get("n"),
            "found_whole": call(whole_args).summary(),
            "found_sliced": made.summary(),
        }
        print(tool, json.dumps(out[tool]), flush=True)

    detector, _ = load_detector(settings.detector, settings, shared_manager())
    t = tiling(page.size, DETECTOR_SIDE, settings.slice_factor)
    assert t is not None
    arr = np.asarray(page)
    bare = sv.InferenceSlicer(
        lambda part: detector(Image.fromarray(part), 0.25), slice_wh=t.tile_wh, overlap_wh=t.overlap_wh
    )
    bare_s = median_s(lambda: bare(arr), args.reps)
    ours_s = median_s(lambda: detect_tiled(detector, page, 0.25, t), args.reps)
    out["detection_over_tiles"] = {
        "bare_inference_slicer_s": round(bare_s, 3),
        "mmagent_s": round(ours_s, 3),
        "speed_vs_bare": round(bare_s / ours_s, 2),
        "note": "mmagent's adds one whole-image pass and a zoom per small object found (up to 24)",
    }
    print(json.dumps(out["detection_over_tiles"]), flush=True)
    dest = ROOT / "bench" / "results" / "sliced.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {dest}")


if __name__ == "__main__":
    main()
