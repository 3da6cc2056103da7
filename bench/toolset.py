"""Per-tool load time and per-call latency (CPU here; any device the settings pick), and the
model manager's eviction under a small memory budget (peak RSS with and without budget).

    .venv/bin/python bench/toolset.py [--reps 5] [--device cpu|cuda]
Tools with packaged weights run their real models; the others run tiny random models built
from configs (tests/tiny_models.py): their latency is plumbing cost, not a real model's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import mmagent  # noqa: E402,F401  (sets library defaults before torch/ultralytics load)


def build_tiny(base: Path) -> dict[str, str]:
    import tests.tiny_models as tiny

    return {
        "blip": str(tiny.blip(base / "blip")),
        "blip-vqa": str(tiny.blip(base / "blip-vqa", vqa=True)),
        "owlvit": str(tiny.owlvit(base / "owlvit")),
        "clip": str(tiny.clip(base / "clip")),
        "sd": str(tiny.stable_diffusion(base / "sd")),
        "pix2pix": str(tiny.stable_diffusion(base / "pix2pix", "instruct-pix2pix")),
        "inpaint": str(tiny.stable_diffusion(base / "inpaint", "inpaint")),
        "mobile_sam": str(tiny.mobile_sam(base / "mobile_sam")),
    }


def bench_tools(reps: int, device: str, tiny: dict[str, str]) -> list[dict]:
    import numpy as np

    from mmagent.core.artifacts import MaskArtifact, Provenance
    from mmagent.core.config import RoleConfig, load_settings
    from mmagent.core.models import ModelManager
    from mmagent.core.samples import render_receipt, skimage_photo
    from tests.conftest import ToolEnv

    s = load_settings()
    dev: dict[str, Any] = {"device": device}
    s.captioner = RoleConfig(backend="scene-summary")
    s.segmenter = RoleConfig(backend="sam", model=tiny["mobile_sam"], **dev)
    s.generator = RoleConfig(backend="diffusers", model=tiny["sd"], **dev)
    s.editor = RoleConfig(backend="diffusers", model=tiny["pix2pix"], options={"inpaint_model": tiny["inpaint"]}, **dev)
    s.answerer = RoleConfig(backend="transformers", model=tiny["blip-vqa"], **dev)
    chelsea, receipt = skimage_photo("chelsea"), render_receipt(0).image
    small = chelsea.resize((96, 64))  # edit_image: the tiny UNet's attention is quadratic in pixels
    cases: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("detect", "yolo11n int8 (real)", {}, {"image": "@chelsea"}),
        ("ocr", "PP-OCR ONNX (real)", {}, {"image": "@receipt"}),
        ("classify", "EfficientNet-Lite3 int8 (real)", {}, {"image": "@chelsea"}),
        ("caption", "scene summary (real det+cls+ocr)", {}, {"image": "@chelsea"}),
        ("ground", "compositional (real)", {}, {"image": "@chelsea", "phrase": "the cat on the left"}),
        (
            "caption",
            "BLIP (tiny random)",
            {"captioner": RoleConfig(backend="transformers", model=tiny["blip"], **dev)},
            {"image": "@chelsea"},
        ),
        (
            "ground",
            "OWL-ViT (tiny random)",
            {"grounder": RoleConfig(backend="transformers", model=tiny["owlvit"], **dev)},
            {"image": "@chelsea", "phrase": "a cat"},
        ),
        (
            "classify",
            "CLIP zero-shot (tiny random)",
            {"classifier": RoleConfig(backend="zero-shot", model=tiny["clip"], **dev)},
            {"image": "@chelsea", "labels": ["cat", "dog"]},
        ),
        ("ask_image", "BLIP VQA (tiny random)", {}, {"image": "@chelsea", "question": "what is this?"}),
        ("segment", "MobileSAM (tiny random)", {}, {"image": "@chelsea", "box": [3, 1, 400, 293]}),
        (
            "generate_image",
            "SD UNet (tiny random) 64x64, 4 steps",
            {},
            {"prompt": "a cat", "width": 64, "height": 64, "steps": 4},
        ),
        (
            "edit_image",
            "InstructPix2Pix (tiny random) 96x64, 4 steps",
            {},
            {"image": "@small", "instruction": "make it blue", "steps": 4},
        ),
        (
            "edit_image",
            "inpaint (tiny random) 96x64, 4 steps",
            {},
            {"image": "@small", "instruction": "a dog", "mask": "@smallmask", "steps": 4},
        ),
        ("draw", "supervision annotators", {}, {"image": "@chelsea", "sources": ["@mask"]}),
    ]
    rows = []
    for tool, label, overrides, args in cases:
        settings = s.model_copy(update=overrides)
        env = ToolEnv(settings)
        env.override_context(models=ModelManager())  # each case loads its own models: first call = load
        refs = {"@chelsea": env.add_image(chelsea), "@receipt": env.add_image(receipt)}
        masks = np.zeros((1, chelsea.height, chelsea.width), dtype=bool)
        masks[0, 50:200, 100:300] = True
        refs["@mask"] = env.store.add(
            MaskArtifact, Provenance("bench"), image_id=refs["@chelsea"], masks=masks, labels=("r",)
        ).id
        refs["@small"] = env.add_image(small)
        refs["@smallmask"] = env.store.add(
            MaskArtifact,
            Provenance("bench"),
            image_id=refs["@small"],
            masks=np.zeros((1, 64, 96), dtype=bool) | _box_mask(64, 96),
            labels=("r",),
        ).id
        call_args = {
            k: ([refs.get(x, x) for x in v] if isinstance(v, list) else refs.get(v, v)) for k, v in args.items()
        }
        t0 = time.perf_counter()
        first = env.call(tool, **call_args)
        first_s = time.perf_counter() - t0
        if not first.ok:
            rows.append({"tool": tool, "model": label, "error": first.observation})
            continue
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            env.call(tool, **call_args)
            times.append(time.perf_counter() - t0)
        warm = statistics.median(times)
        rows.append(
            {
                "tool": tool,
                "model": label,
                "first_call_s": first_s,
                "load_s": max(0.0, first_s - warm),
                "call_ms": warm * 1e3,
            }
        )
        print(f"{tool:15} {label:40} first {first_s:6.2f}s  warm call {warm * 1e3:8.1f} ms", flush=True)
    return rows


def _box_mask(h: int, w: int):
    import numpy as np

    m = np.zeros((1, h, w), dtype=bool)
    m[0, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = True
    return m


EVICTION_CHILD = r"""
import json, sys, threading, time, gc, os
sys.path.insert(0, ROOT)
import psutil, numpy as np
from mmagent.core.config import RoleConfig, load_settings
from mmagent.core.models import ModelManager
from mmagent.core.samples import skimage_photo
from tests.conftest import ToolEnv
tiny = json.loads(TINY)
budget = float(BUDGET) if BUDGET != "none" else None
s = load_settings(memory_budget=budget)
proc = psutil.Process()
import torch, transformers, diffusers, ultralytics, cv2  # libraries in memory before the baseline
gc.collect(); base = proc.memory_info().rss
peak = [base]; stop = False
def sample():
    while not stop:
        peak[0] = max(peak[0], proc.memory_info().rss); time.sleep(0.005)
threading.Thread(target=sample, daemon=True).start()
m = ModelManager(budget)
env = ToolEnv(s)
env.override_context(models=m)
img = env.add_image(skimage_photo("chelsea"))
s.segmenter = RoleConfig(backend="sam", model=tiny["mobile_sam"])
s.generator = RoleConfig(backend="diffusers", model=tiny["sd"])
s.detector = RoleConfig(backend="ssd")
steps = [("detect", {"image": img}), ("classify", {"image": img}), ("ocr", {"image": img}),
         ("segment", {"image": img, "box": [3, 1, 400, 293]}),
         ("generate_image", {"prompt": "x", "width": 64, "height": 64, "steps": 2}),
         ("detect", {"image": img})]
trace = []
for tool, args in steps:
    r = env.call(tool, **args)
    assert r.ok, r.observation
    trace.append({"after": tool, "resident_mb": round(m.resident_bytes() / 1e6, 1),
                  "rss_over_base_mb": round((proc.memory_info().rss - base) / 1e6, 1)})
stop = True; time.sleep(0.05)
print(json.dumps({"budget_gb": budget, "peak_rss_over_base_mb": round((peak[0] - base) / 1e6, 1),
                  "evictions": m.evictions, "trace": trace}))
"""


def bench_eviction(tiny: dict[str, str], budget_gb: str) -> dict:
    code = (
        EVICTION_CHILD.replace("ROOT", repr(str(ROOT)))
        .replace("TINY", repr(json.dumps(tiny)))
        .replace("BUDGET", repr(budget_gb))
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=dict(os.environ)
    )
    if out.returncode != 0:
        return {"budget_gb": budget_gb, "error": out.stderr[-1500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "toolset.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny(Path(tmp))
        rows = bench_tools(args.reps, args.device, tiny)
        eviction = [bench_eviction(tiny, "none"), bench_eviction(tiny, "0.06")] if args.device == "cpu" else []
    result = {"device": args.device, "tools": rows, "eviction": eviction}
    Path(args.out).write_text(json.dumps(result, indent=2))
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:15} {r['model']:40} ERROR {r['error'][:100]}")
        else:
            print(f"{r['tool']:15} {r['model']:40} load {r['load_s']:6.2f}s  call {r['call_ms']:8.1f} ms")
    for e in eviction:
        print(json.dumps(e))


if __name__ == "__main__":
    main()
