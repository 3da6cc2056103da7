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


def expected_4_gpu(out: dict[str, Any]) -> list[dict[str, Any]]:
    """The throughput model applied to this run's measured times: with R replicas (one per GPU,
    data parallel) and agents enough to keep them busy, questions/s = R / t_llm, until the
    agents' tool time is the limit: C cores / t_tool. t_llm is the model time a question
    measured here (a CPU replica); a GPU replica's own t_llm divides straight in."""
    threads = [r for r in out["runs"] if r["run"].startswith("threads")]
    t_llm = sum(r["llm_s_per_question"] for r in threads) / len(threads)
    t_tool = sum(r["tool_s_per_question"] for r in threads) / len(threads)
    return [
        {
            "replicas": r,
            "model_bound_q_per_min": round(60 * r / t_llm, 1),
            "agent_cores_needed": round(r * t_tool / t_llm, 1),
        }
        for r in (1, 2, 4)
    ]


def write_report(out: dict[str, Any], dest: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = out["runs"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh([r["run"] for r in runs], [r["questions_per_min"] for r in runs], color="#4c78a8")
    for i, r in enumerate(runs):
        ax.text(r["questions_per_min"] + 0.5, i, f"{r['questions_per_min']:.1f}", va="center")
    ax.set_xlabel("questions / minute (incl. Ray actors' start)")
    ax.invert_yaxis()
    ax.set_title(f"{out['questions']}; {out['model']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(dest.with_suffix(".png"), dpi=120)
    lines = [
        "# Scale-out: thread runner vs Ray, against two model replicas",
        "",
        f"Machine: {out['machine']}. Model: {out['model']}. Questions: {out['questions']}.",
        f"Ray start-up (`ray.init`, local cluster): {out['ray_init_s']} s.",
        "",
        "| run | questions/min | wall s | right | errors | model s / q | tool s / q | first result s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['run']} | {r['questions_per_min']} | {r['wall_s']} | {r['accuracy']} | {r['errors']} | "
            f"{r['llm_s_per_question']} | {r['tool_s_per_question']} | {r.get('first_result_s', '-')} |"
        )
    lines += [
        "",
        "![questions per minute](ray_scale.png)",
        "",
        "## What to expect with more replicas (the throughput model, measured times)",
        "",
        "q/s = min(R / t_llm, C / t_tool): R replicas, t_llm the model time of a question on one",
        "replica, C agent cores, t_tool the tool time of a question. Times from the thread runs above.",
        "",
        "| replicas | model-bound questions/min | agent cores needed |",
        "|---|---|---|",
    ]
    for e in out["expected"]:
        lines.append(f"| {e['replicas']} | {e['model_bound_q_per_min']} | {e['agent_cores_needed']} |")
    dest.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=3033)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads per replica")
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md and .png from the .json")
    args = ap.parse_args()
    dest = ROOT / "bench" / "results" / "ray_scale.json"
    if args.report_only:
        write_report(json.loads(dest.read_text()), dest)
        return

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
    warm = generate(8, args.seed + 1, work / "warm")
    out: dict[str, Any] = {
        "machine": f"{os.cpu_count()} CPUs",
        "model": f"{base.planner.model}, 2 llama.cpp replicas x {args.threads} thread(s), 2 slots each",
        "questions": f"synthetic seed {args.seed}, {args.n} questions",
        "runs": [],
    }
    try:
        agent = Agent(settings)
        # Untimed: the tool models load, and every slot of both replicas evaluates the static
        # prompts once (each run after this finds its prompt kinds cached, as a long run does).
        run_questions(warm, agent_answerer(agent), work / "warm.jsonl", workers=4, progress=False)

        def threads(label: str) -> None:
            results = work / f"{label}.jsonl"
            t0 = time.perf_counter()
            run_questions(questions, agent_answerer(agent), results, workers=2, progress=False)
            wall = time.perf_counter() - t0
            out["runs"].append({"run": f"threads, 2 in flight ({label})"} | summarize_rows(results, wall))
            print(json.dumps(out["runs"][-1]), flush=True)

        threads("first")

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
            row["first_result_s"] = summary["ray"]["first_result_s"]
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
        threads("again, after Ray")
    finally:
        for p in replicas:
            p.kill()
        import ray

        if ray.is_initialized():
            ray.shutdown()
    out["expected"] = expected_4_gpu(out)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    write_report(out, dest)
    print(f"written {dest}")


if __name__ == "__main__":
    main()
