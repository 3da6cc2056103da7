"""Scale-out: questions/minute with the thread runner and with Ray (1 and 2 actors), all against
two replicas of the packaged planner LLM (two llama.cpp servers, balanced by the agent), Ray's
start-up overhead, and the throughput to expect on a 4-GPU node from the measured model time.

Writes bench/results/ray_scale.json and ray_scale.md.

    .venv/bin/python bench/ray_scale.py [--n 12] [--seed 3033]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_replicas(gguf: str, ports: list[int], threads: int) -> list[subprocess.Popen]:
    from mmagent.core.llm.server import is_healthy

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mmagent.core.llm.serve_worker", "--slots", "2", "--threads", str(threads)]
            + ["--model", f"{gguf}={p}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    deadline = time.time() + 180
    while not all(is_healthy(f"http://127.0.0.1:{p}") for p in ports):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("the llama.cpp replicas did not start")
        time.sleep(0.2)
    return procs


def summarize_rows(results: Path, wall: float) -> dict[str, Any]:
    rows = [json.loads(ln) for ln in results.read_text().splitlines()]
    n = len(rows)
    llm_s = sum((r.get("timings") or {}).get("llm_s", 0.0) for r in rows)
    tool_s = sum((r.get("timings") or {}).get("tool_s", 0.0) for r in rows)
    return {
        "n": n,
        "wall_s": round(wall, 1),
        "questions_per_min": round(60 * n / wall, 1),
        "accuracy": round(sum(r["score"] for r in rows) / n, 3),
        "errors": sum(1 for r in rows if r.get("error")),
        "llm_s_per_question": round(llm_s / n, 2),
        "tool_s_per_question": round(tool_s / n, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=3033)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads per replica")
    args = ap.parse_args()

    from mmagent.agent import Agent
    from mmagent.core.config import load_settings
    from mmagent.core.resolve import resolve_model
    from mmagent.evals.config import RayConfig
    from mmagent.evals.ray_runner import run_on_ray, start_ray
    from mmagent.evals.runner import agent_answerer, run_questions
    from mmagent.evals.synthetic import generate
    from tests.test_serve import free_port

    work = Path(tempfile.mkdtemp(prefix="mmagent-ray-bench-"))
    base = load_settings(server="off")
    gguf = str(resolve_model(base.planner.model or "", base).location)
    ports = [free_port(), free_port()]
    replicas = start_replicas(gguf, ports, args.threads)
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    llm = base.planner.model_copy(update={"options": {"server_url": urls}})
    settings = base.model_copy(update={"planner": llm, "reasoner": llm, "answerer": llm})
    questions = generate(args.n, args.seed, work / "images")
    warm = generate(1, args.seed + 1, work / "warm")[0]
    out: dict[str, Any] = {
        "machine": f"{os.cpu_count()} CPUs",
        "model": f"{base.planner.model}, 2 llama.cpp replicas x {args.threads} thread(s), 2 slots each",
        "questions": f"synthetic seed {args.seed}, {args.n} questions",
        "runs": [],
    }
    try:
        agent = Agent(settings)
        agent.run(warm.question, warm.images)  # thread runner: tool models loaded before timing
        t0 = time.perf_counter()
        run_questions(questions, agent_answerer(agent), work / "threads.jsonl", workers=2, progress=False)
        out["runs"].append(
            {"run": "threads, 2 in flight"} | summarize_rows(work / "threads.jsonl", time.perf_counter() - t0)
        )
        print(json.dumps(out["runs"][-1]), flush=True)

        out["ray_init_s"] = round(start_ray(RayConfig(actors=2)), 2)
        for actors, per_actor in ((1, 2), (2, 1)):
            results = work / f"ray-{actors}.jsonl"
            cfg = RayConfig(actors=actors, questions_per_actor=per_actor, num_cpus=1)
            t0 = time.perf_counter()
            summary = run_on_ray(questions, functools.partial(Agent, settings), "", results, cfg, progress=False)
            row = {"run": f"Ray, {actors} actor(s) x {per_actor} in flight"} | summarize_rows(
                results, time.perf_counter() - t0
            )
            row["actors_started"] = summary["ray"]["actors_started"]
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        for p in replicas:
            p.kill()
        import ray

        if ray.is_initialized():
            ray.shutdown()
    threads = out["runs"][0]
    # The throughput model: with R model replicas (one per GPU, data parallel) and enough agent
    # actors to keep them busy, questions/s = R x (1 / model seconds per question) x the server's
    # batching gain, until the agents' tool time (CPU) is the limit: cores / tool seconds per question.
    t_llm, t_tool = threads["llm_s_per_question"], threads["tool_s_per_question"]
    out["throughput_model"] = {
        "llm_s_per_question_measured": t_llm,
        "tool_s_per_question_measured": t_tool,
        "formula": "q/s = min(R * b / t_llm, C / t_tool); R replicas, b batching gain per replica, C agent cores",
    }
    dest = ROOT / "bench" / "results" / "ray_scale.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {dest}")


if __name__ == "__main__":
    main()
