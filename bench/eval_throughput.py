"""Evaluation throughput against a served model: questions/min at 1 vs K workers, and the
speed-up of a rerun that hits the on-disk tool-call cache.

The served model is llama.cpp's OpenAI-compatible HTTP server (xllamacpp) with K parallel
slots, running the packaged offline LLM; the agent talks to it through the `openai` backend
exactly as it would to vLLM. Writes bench/results/eval_throughput.json.

    .venv/bin/python bench/eval_throughput.py [--n 8] [--workers 4] [--planner plan]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_server(model_path: str, slots: int, ctx_per_slot: int) -> object:
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model_path
    params.n_parallel = slots
    params.n_ctx = slots * ctx_per_slot
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = os.cpu_count() or 1
    params.verbosity = 0
    return xlc.Server(params)


def timed_run(questions: list, settings: object, workers: int, results: Path) -> dict:
    from agent.agent import Agent
    from evals.runner import agent_answerer, run_questions

    agent = Agent(settings)
    t0 = time.perf_counter()
    summary = run_questions(questions, agent_answerer(agent), results, workers, progress=False)
    wall = time.perf_counter() - t0
    rows = [json.loads(ln) for ln in results.read_text().splitlines()]
    cache = agent._tool_cache
    tool_s = sum((r.get("timings") or {}).get("tool_s", 0.0) for r in rows)
    llm_s = sum((r.get("timings") or {}).get("llm_s", 0.0) for r in rows)
    completion = sum((r.get("tokens") or {}).get("completion", 0) for r in rows)
    errors = sorted({str(r.get("error")) for r in rows if r.get("error")})
    return {"workers": workers, "n": summary["n"], "accuracy": summary["accuracy"], "errors": summary["errors"],
            "wall_s": round(wall, 1), "questions_per_min": round(60 * summary["n"] / wall, 2),
            "tool_s_total": round(tool_s, 1), "llm_s_total": round(llm_s, 1), "completion_tokens": completion,
            "cache_hits": cache.hits, "cache_misses": cache.misses, "error_messages": errors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=8, help="synthetic questions")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--planner", default="plan")
    args = ap.parse_args()

    from agent.config import RoleConfig, load_settings
    from agent.resolve import resolve_model
    from evals.synthetic import generate

    base = load_settings()
    model = resolve_model(base.planner.model or "qwen2.5-coder-0.5b-instruct", base)
    server = start_server(str(model.location), args.workers, base.llm_context)
    url = f"{server.listening_address}/v1"  # type: ignore[attr-defined]
    served = RoleConfig(backend="openai", model="local", options={"vision": False})  # a text model
    work = Path(tempfile.mkdtemp(prefix="mmagent-bench-"))
    questions = generate(args.n, 2, work / "images")
    out: dict = {"planner": args.planner, "server": "llama.cpp (xllamacpp) OpenAI-compatible, "
                 f"{args.workers} slots", "model": model.name, "cpu_count": os.cpu_count(), "runs": []}
    try:
        for label, workers, cache in (("cold, 1 worker", 1, "c1"), (f"cold, {args.workers} workers", args.workers, "c4"),
                                      (f"rerun on the warm cache, {args.workers} workers", args.workers, "c4")):
            settings = load_settings(planner_kind=args.planner, lmm_url=url, planner=served, reasoner=served,
                                     answerer=served, tool_cache=True, cache_dir=work / cache)
            results = work / f"{label.replace(' ', '_').replace(',', '')}.jsonl"
            row = {"run": label} | timed_run(questions, settings, workers, results)
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r1, rk, warm = out["runs"]
    out["speedup_workers"] = round(rk["questions_per_min"] / r1["questions_per_min"], 2)
    out["speedup_cache_rerun"] = round(warm["questions_per_min"] / rk["questions_per_min"], 2)
    dest = ROOT / "bench" / "results" / "eval_throughput.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"workers 1 -> {args.workers}: x{out['speedup_workers']}; cache rerun: x{out['speedup_cache_rerun']}; "
          f"written {dest}")


if __name__ == "__main__":
    main()
