"""Seconds a question, cold and warm, embedded and served: the numbers behind "warm and fast".

Modes (each on the same synthetic questions, tool cache off, default planner):
- `cold`: a fresh `mmagent ask --json` process per question, no model server (what a new user
  running one command sees: imports, model loads, then the question);
- `cli-llm-server`: the same with `mmagent serve --no-agent` running (the CLI's process still
  imports and loads the tool models; the LLM is served);
- `cli-serve`: the same with `mmagent serve` running: the CLI hands the question to its warm
  agent, whose tool models are loaded;
- `warm`: one process, one Agent answering every question, embedded model;
- `warm-llm-server`: one process, one Agent, the LLM served by `mmagent serve --no-agent`.
Records per mode accuracy (exact short answers), median and p90 seconds a question, LLM calls a
question and the share of prompt tokens the model server reused from its prompt cache.
The served modes start `mmagent serve` and stop it after the mode.

    .venv/bin/python bench/latency.py [--n 18] [--seed 99] [--modes cold,cli-llm-server,cli-serve,warm,warm-llm-server]
        [--out bench/results/latency.json]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MMAGENT = [str(Path(sys.executable).parent / "mmagent")]


def _row(q, out: dict, wall: float) -> dict:
    from mmagent.evals.metrics import score

    tokens = out.get("tokens") or {}
    prediction = out.get("short_answer") or out.get("answer") or ""
    return {
        "id": q.id,
        "family": q.family,
        "gold": q.answer,
        "prediction": prediction,
        "score": score(q.metric, prediction, q.answer, q.choices, q.distractors),
        "wall_s": round(wall, 2),
        "llm_calls": tokens.get("llm_calls", 0),
        "prompt_tokens": tokens.get("prompt", 0),
        "prompt_cached": tokens.get("prompt_cached", 0),
        "error": out.get("error"),
    }


def run_cold(questions: list, env: dict) -> list[dict]:
    rows = []
    for q in questions:
        cmd = MMAGENT + ["ask", "--json", q.question] + [a for p in q.images for a in ("--image", p)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        try:
            out = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            out = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
        rows.append(_row(q, out, wall))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def run_warm(questions: list, env: dict) -> list[dict]:
    """One Agent in this process; the environment decides embedded or served."""
    from mmagent.agent import Agent
    from mmagent.core.config import load_settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        agent = Agent(load_settings())
        rows = []
        for q in questions:
            t0 = time.perf_counter()
            try:
                out = agent.run(q.question, q.images).model_dump()
            except Exception as exc:  # recorded, the run goes on
                out = {"error": f"{type(exc).__name__}: {exc}"}
            rows.append(_row(q, out, time.perf_counter() - t0))
            print(json.dumps(rows[-1]), flush=True)
        return rows
    finally:
        os.environ.clear()
        os.environ.update(saved)


def summary(rows: list[dict]) -> dict:
    walls = sorted(r["wall_s"] for r in rows)
    prompt = sum(r["prompt_tokens"] for r in rows)
    return {
        "n": len(rows),
        "accuracy": round(sum(r["score"] for r in rows) / max(1, len(rows)), 3),
        "errors": sum(bool(r["error"]) for r in rows),
        "median_s": round(statistics.median(walls), 2) if walls else None,
        "p90_s": round(walls[min(len(walls) - 1, int(0.9 * len(walls)))], 2) if walls else None,
        "llm_calls_mean": round(sum(r["llm_calls"] for r in rows) / max(1, len(rows)), 2),
        "prompt_cached_share": round(sum(r["prompt_cached"] for r in rows) / prompt, 3) if prompt else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=18)
    ap.add_argument("--seed", type=int, default=99)
    ap.add_argument("--modes", default="cold,cli-llm-server,cli-serve,warm,warm-llm-server")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latency.json")
    ap.add_argument("--label", default="", help="a name for this run (e.g. the commit)")
    ap.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="RUN.json",
        help="only write a Markdown table and a plot comparing recorded runs (before after ...)",
    )
    args = ap.parse_args()
    if args.report:
        write_report(args.report, args.out.with_suffix(".md"))
        return
    from mmagent.evals.synthetic import generate

    work = Path(tempfile.mkdtemp(prefix="mmagent-latency-"))
    questions = generate(args.n, args.seed, work / "images")
    base = dict(os.environ, MMAGENT_TOOL_CACHE="false", MMAGENT_CACHE_DIR=str(work / "cache"))
    report: dict = {"label": args.label, "seed": args.seed, "n": args.n, "cpu_count": os.cpu_count(), "modes": {}}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        env = dict(base, MMAGENT_SERVER="off")
        served = mode.endswith("serve") or mode.endswith("server")
        if served:
            env = start_server(base, agent=mode == "cli-serve")
        try:
            t0 = time.perf_counter()
            rows = (run_warm if mode.startswith("warm") else run_cold)(questions, env)
        finally:
            if served:
                subprocess.run(MMAGENT + ["serve", "--stop"], cwd=ROOT, env=env)
        report["modes"][mode] = summary(rows) | {"wall_s": round(time.perf_counter() - t0, 1), "rows": rows}
        print(mode, json.dumps({k: v for k, v in report["modes"][mode].items() if k != "rows"}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written {args.out}")


def write_report(runs: list[Path], dest: Path) -> None:
    """One table (a row per run and mode) and one plot of median/p90 seconds a question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = [json.loads(p.read_text()) for p in runs]
    lines = [
        "# Seconds a question: cold and warm, embedded and served",
        "",
        f"Synthetic benchmark seed {data[-1]['seed']}, {data[-1]['n']} questions (2 per family), default "
        f"`plan` planner, tool cache off, {data[-1]['cpu_count']}-core CPU. `bench/latency.py`.",
        "",
        "Modes: `cold` a fresh `mmagent ask` process per question, no server; `cli-llm-server` the same "
        "with `mmagent serve --no-agent` (LLM served, tools loaded by each process); `cli-serve` the same "
        "with `mmagent serve` (the CLI hands the question to the warm agent); `warm` one process "
        "answering every question, embedded model; `warm-llm-server` one process, LLM served.",
        "",
        "| run | mode | accuracy | median s | p90 s | LLM calls / question | prompt tokens from cache |",
        "|---|---|---|---|---|---|---|",
    ]
    labels, medians, p90s = [], [], []
    for d in data:
        for mode, m in d["modes"].items():
            lines.append(
                f"| {d['label']} | {mode} | {m['accuracy']:.3f} | {m['median_s']} | {m['p90_s']} | "
                f"{m['llm_calls_mean']} | {m['prompt_cached_share']:.0%} |"
            )
            labels.append(f"{d['label']}\n{mode}")
            medians.append(m["median_s"])
            p90s.append(m["p90_s"])
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(labels)), 3.6))
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], medians, 0.4, label="median")
    ax.bar([i + 0.2 for i in x], p90s, 0.4, label="p90")
    ax.set_xticks(list(x), labels, fontsize=7)
    ax.set_ylabel("seconds a question")
    ax.legend()
    fig.tight_layout()
    fig.savefig(dest.with_suffix(".png"), dpi=110)
    lines += ["", f"![seconds a question]({dest.with_suffix('.png').name})", ""]
    dest.write_text("\n".join(lines))
    print(f"written {dest}")


def start_server(env: dict, agent: bool) -> dict:
    """`mmagent serve` (its own state file under this run's cache dir); the env that finds it."""
    env = dict(env, MMAGENT_SERVER="auto")
    t0 = time.perf_counter()
    subprocess.run(MMAGENT + ["serve", "--agent" if agent else "--no-agent"], cwd=ROOT, env=env, check=True)
    print(f"mmagent serve ready in {time.perf_counter() - t0:.1f}s", flush=True)
    return env


if __name__ == "__main__":
    main()
