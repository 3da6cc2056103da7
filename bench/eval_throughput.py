"""Evaluation throughput against a served model: questions/min at 1 vs K workers, and the
speed-up of a rerun that hits the on-disk tool-call cache.

The served model is `mmagent serve` (llama.cpp's HTTP server, K parallel slots, prompt
caching) over the packaged planner LLM, found by the agent as any mmagent process finds it.
Writes bench/results/eval_throughput.json.

    .venv/bin/python bench/eval_throughput.py [--n 8] [--workers 4] [--planner plan]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmagent.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds(server_pid: int) -> float:
    """CPU time of this process (agent, tools) plus the model server's."""
    t = os.times()
    try:
        fields = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        server = 0.0
    return t.user + t.system + server


def timed_run(questions: list, settings: Settings, workers: int, results: Path, server_pid: int) -> dict:
    from mmagent.agent import Agent
    from mmagent.evals.runner import agent_answerer, run_questions

    agent = Agent(settings)
    t0, c0 = time.perf_counter(), cpu_seconds(server_pid)
    summary = run_questions(questions, agent_answerer(agent), results, workers, progress=False)
    wall = time.perf_counter() - t0
    # how much of the machine the run kept busy: near 1.0 leaves nothing for more workers
    busy = (cpu_seconds(server_pid) - c0) / (wall * (os.cpu_count() or 1))
    rows = [json.loads(ln) for ln in results.read_text().splitlines()]
    cache = agent._tool_cache
    assert cache is not None, "the bench turns the tool cache on"
    tool_s = sum((r.get("timings") or {}).get("tool_s", 0.0) for r in rows)
    llm_s = sum((r.get("timings") or {}).get("llm_s", 0.0) for r in rows)
    completion = sum((r.get("tokens") or {}).get("completion", 0) for r in rows)
    prompt = sum((r.get("tokens") or {}).get("prompt", 0) for r in rows)
    cached = sum((r.get("tokens") or {}).get("prompt_cached", 0) for r in rows)
    endpoints = sorted(
        {e.get("endpoint") or "embedded" for r in rows for e in r.get("trace", []) if e.get("type") == "llm_call"}
    )
    errors = sorted({str(r.get("error")) for r in rows if r.get("error")})
    return {
        "workers": workers,
        "n": summary["n"],
        "accuracy": summary["accuracy"],
        "errors": summary["errors"],
        "wall_s": round(wall, 1),
        "cpu_busy_share": round(busy, 2),
        "questions_per_min": round(60 * summary["n"] / wall, 2),
        "tool_s_total": round(tool_s, 1),
        "llm_s_total": round(llm_s, 1),
        "completion_tokens": completion,
        "prompt_cached_share": round(cached / prompt, 3) if prompt else 0.0,
        "llm_endpoints": endpoints,
        "cache_hits": cache.hits,
        "cache_misses": cache.misses,
        "error_messages": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=8, help="synthetic questions")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--planner", default="plan")
    args = ap.parse_args()

    from mmagent.core.config import load_settings
    from mmagent.core.llm.server import start_server, stop_server
    from mmagent.evals.synthetic import generate

    work = Path(tempfile.mkdtemp(prefix="mmagent-bench-"))
    base = load_settings(cache_dir=work / "cache", server="auto")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = start_server(base, backend="llamacpp", port=port, slots=args.workers, agent=False)
    questions = generate(args.n, 2, work / "images")
    from mmagent.agent import Agent

    warm_up = generate(1, 3, work / "warm-up")[0]  # tool models load once, before any timed run
    Agent(base).run(warm_up.question, warm_up.images)
    out: dict = {
        "planner": args.planner,
        "server": f"mmagent serve: llama.cpp, {args.workers} slots",
        "model": base.planner.model,
        "cpu_count": os.cpu_count(),
        "runs": [],
    }
    try:
        for label, workers, fresh in (
            ("cold, 1 worker", 1, True),
            (f"cold, {args.workers} workers", args.workers, True),
            (f"rerun on the warm cache, {args.workers} workers", args.workers, False),
        ):
            if fresh:  # the tool-call cache starts empty
                shutil.rmtree(work / "cache" / "tools", ignore_errors=True)
            settings = base.model_copy(update={"planner_kind": args.planner, "tool_cache": True})
            results = work / f"{label.replace(' ', '_').replace(',', '')}.jsonl"
            row = {"run": label} | timed_run(questions, settings, workers, results, state.pid)
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        stop_server(base)
        shutil.rmtree(work, ignore_errors=True)
    r1, rk, warm = out["runs"]
    out["speedup_workers"] = round(rk["questions_per_min"] / r1["questions_per_min"], 2)
    out["speedup_cache_rerun"] = round(warm["questions_per_min"] / rk["questions_per_min"], 2)
    dest = ROOT / "bench" / "results" / "eval_throughput.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"workers 1 -> {args.workers}: x{out['speedup_workers']}; cache rerun: x{out['speedup_cache_rerun']}; "
        f"written {dest}"
    )


if __name__ == "__main__":
    main()
