"""Benchmarks for the foundation: wrapper overhead per tool, end-to-end latency split,
and CLI start-up. Writes bench/results/latest.json and prints a summary.

    .venv/bin/python bench/run_all.py [--reps 20] [--skip-e2e]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def paired_medians(bare, wrapped, reps: int) -> tuple[float, float]:
    """Alternate the two calls so drift (thermal, other load) hits both equally."""
    bare(), wrapped()  # warm-up (model compile, caches)
    tb: list[float] = []
    tw: list[float] = []
    for _ in range(reps):
        for fn, acc in ((bare, tb), (wrapped, tw)):
            t0 = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - t0)
    return statistics.median(tb), statistics.median(tw)


def bench_tools(reps: int) -> dict:
    import numpy as np
    from PIL import Image

    from mmagent.core.config import load_settings
    from mmagent.core.models import shared_manager
    from mmagent.core.samples import packaged_photo, render_receipt, skimage_photo
    from mmagent.tools.detect import load_detector
    from mmagent.tools.ocr import load_ocr
    from tests.conftest import ToolEnv

    settings = load_settings()
    env = ToolEnv(settings)
    out = {}
    images = {"chelsea": skimage_photo("chelsea"), "bus": Image.open(packaged_photo("bus.jpg")).convert("RGB")}
    detector, model = load_detector(settings.detector, settings, shared_manager())
    for name, img in images.items():
        img_id = env.add_image(img)
        bare, wrapped = paired_medians(
            lambda img=img: detector(img, 0.25),  # the same detector object the tool calls
            lambda img_id=img_id: env.call("detect", image=img_id),
            reps,
        )
        out[f"detect/{name}"] = {
            "model": model,
            "bare_ms": bare * 1e3,
            "wrapper_ms": wrapped * 1e3,
            "speed_ratio": bare / wrapped,
        }
    engine, model = load_ocr(settings.ocr, shared_manager())
    receipt = render_receipt(0).image
    for name, img in {"receipt": receipt, "bus": images["bus"]}.items():
        img_id = env.add_image(img)
        bgr = np.ascontiguousarray(np.asarray(img)[:, :, ::-1])
        bare, wrapped = paired_medians(
            lambda bgr=bgr: engine.engine(bgr), lambda img_id=img_id: env.call("ocr", image=img_id), max(5, reps // 4)
        )
        out[f"ocr/{name}"] = {
            "model": model,
            "bare_ms": bare * 1e3,
            "wrapper_ms": wrapped * 1e3,
            "speed_ratio": bare / wrapped,
        }
    return out


def bench_e2e(runs: int) -> list[dict]:
    from mmagent import Agent, load_settings
    from mmagent.ui.demo import build_cases

    agent = Agent(load_settings())
    rows = []
    for case in build_cases(ROOT / "examples"):
        agent.run(case.question, case.images)  # warm-up: model loads, prompt cache
        for _ in range(runs):
            r = agent.run(case.question, case.images)
            t = r.timings
            rows.append(
                {
                    "question": case.question,
                    "correct": bool(r.ok and case.check(r.answer)),
                    "wall_s": t.wall_s,
                    "llm_s": t.llm_s,
                    "tool_s": t.tool_s,
                    "orchestration_s": t.orchestration_s,
                    "overhead_pct": 100 * t.orchestration_s / t.wall_s,
                    "prompt_tokens": r.tokens["prompt"],
                    "completion_tokens": r.tokens["completion"],
                }
            )
    return rows


def bench_help(reps: int = 7) -> dict:
    exe = ROOT / ".venv" / "bin" / "mmagent"
    cmd = [str(exe) if exe.exists() else "mmagent", "--help"]
    subprocess.run(cmd, capture_output=True)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "max_s": max(times)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--e2e-runs", type=int, default=2)
    ap.add_argument("--skip-e2e", action="store_true")
    args = ap.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
        "help": bench_help(),
        "tools": bench_tools(args.reps),
    }
    if not args.skip_e2e:
        results["e2e"] = bench_e2e(args.e2e_runs)
    path = ROOT / "bench" / "results" / "latest.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"mmagent --help: median {results['help']['median_s'] * 1e3:.0f} ms")
    for k, v in results["tools"].items():
        print(
            f"{k:16} bare {v['bare_ms']:8.1f} ms  wrapper {v['wrapper_ms']:8.1f} ms  "
            f"speed ratio {v['speed_ratio']:.3f} (target >= 0.95)"
        )
    for row in results.get("e2e", []):
        print(
            f"e2e wall {row['wall_s']:5.1f}s llm {row['llm_s']:5.1f}s tools {row['tool_s']:4.1f}s "
            f"orchestration {row['orchestration_s']:.3f}s ({row['overhead_pct']:.2f}% of wall, target <= 5%) "
            f"correct={row['correct']}  {row['question'][:50]}"
        )
    print(f"written {path}")


if __name__ == "__main__":
    main()
