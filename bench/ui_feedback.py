"""Time to first visible feedback and to the answer in the chat UI, for 1 and 4 sessions asking
at once (gradio_client, one session each, each about its own receipt, embedded offline model).
"First feedback": the first streamed update that shows anything from the assistant below the
question (the status line); "first step": the first step message (plan, tool), which is all the
chat showed before the status line existed, so it is also the "before" time to first feedback.

    .venv/bin/python bench/ui_feedback.py [--app-dir DIR --python DIR/.venv/bin/python]
        [--label after] [--sessions 1 4] [--busy 2]

`--app-dir` runs another checkout's app.py (the code before a change) with its own interpreter;
`--busy N` keeps N other processes busy meanwhile (the app sharing the CPU with another job);
results are added to bench/results/ui_feedback.json under `--label`.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ui_load import last_answer, start_app  # noqa: E402

QUESTION = "What is the total on the receipt?"


def ask_streamed(url: str, image: Path, question: str, with_toggle: bool) -> dict[str, Any]:
    from gradio_client import Client, handle_file

    from mmagent.ui.render import is_pending

    client = Client(url, verbose=False)  # its own session, like a separate browser
    inputs: list[Any] = [{"text": question, "files": [handle_file(str(image))]}, [], "plan", 4, 8]
    t0 = time.perf_counter()
    job = client.submit(*inputs, *([False] if with_toggle else []), api_name="/on_submit")
    first: dict[str, float] = {}
    seen, updates = 0, [0.0]  # when each new streamed update arrived
    while not job.done():
        outputs = job.outputs()
        if len(outputs) > seen:
            seen = len(outputs)
            updates.append(time.perf_counter() - t0)
        history = outputs[-1][0] if outputs else []
        said = [m for m in history if m["role"] == "assistant"]
        if said and "feedback" not in first:
            first["feedback"] = time.perf_counter() - t0
        if any(not is_pending(m) for m in said) and "step" not in first:
            first["step"] = time.perf_counter() - t0
        time.sleep(0.05)
    history = job.result()[0]
    done = time.perf_counter() - t0
    updates.append(done)
    return {
        # the longest the chat showed nothing new while the turn ran (a model call without a status line)
        "longest_silence_s": round(max(b - a for a, b in zip(updates, updates[1:])), 2),
        "first_feedback_s": round(first.get("feedback", done), 2),  # the status line (or a step, before it)
        "first_step_s": round(first.get("step", done), 2),  # all the chat showed first before the status line
        "answer_s": round(done, 2),
        "answer": last_answer(history),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app-dir", type=Path, default=ROOT)
    ap.add_argument("--python", default=sys.executable, help="the interpreter that runs app.py (the checkout's venv)")
    ap.add_argument("--busy", type=int, default=0, help="this many busy processes share the CPU meanwhile")
    ap.add_argument("--label", default="after")
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ui_feedback.json")
    args = ap.parse_args()
    from mmagent.core.samples import render_receipt
    from mmagent.evals.metrics import numeric_match

    work = Path(tempfile.mkdtemp(prefix="mmagent-ui-feedback-"))
    receipts = [render_receipt(seed=s) for s in range(max(args.sessions))]
    paths = []
    for i, r in enumerate(receipts):
        paths.append(work / f"receipt-{i}.png")
        r.image.save(paths[-1])
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", MMAGENT_CACHE_DIR=str(work / "cache"))
    env["MMAGENT_SERVER"] = "off"
    with_toggle = "all_evidence" in (args.app_dir / "app.py").read_text()
    proc, url = start_app(env, False, args.app_dir, args.python)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    results: dict[str, Any] = {"busy_processes": args.busy}
    try:
        cold = ask_streamed(url, paths[0], QUESTION, with_toggle)  # the app's first question: models load
        results["cold_first_question"] = cold
        print(args.label, "cold", json.dumps(cold))
        for k in args.sessions:
            with ThreadPoolExecutor(k) as pool:
                rows = list(pool.map(lambda p: ask_streamed(url, p, QUESTION, with_toggle), paths[:k]))
            for r, row in zip(receipts, rows):
                row["correct"] = bool(numeric_match(row["answer"], r.total))
            results[f"{k}_sessions"] = {
                "first_feedback_median_s": statistics.median(r["first_feedback_s"] for r in rows),
                "first_feedback_max_s": max(r["first_feedback_s"] for r in rows),
                "first_step_median_s": statistics.median(r["first_step_s"] for r in rows),
                "first_step_max_s": max(r["first_step_s"] for r in rows),
                "longest_silence_max_s": max(r["longest_silence_s"] for r in rows),
                "answer_median_s": statistics.median(r["answer_s"] for r in rows),
                "answer_max_s": max(r["answer_s"] for r in rows),
                "correct": sum(r["correct"] for r in rows),
                "rows": rows,
            }
            print(args.label, k, json.dumps({x: y for x, y in results[f"{k}_sessions"].items() if x != "rows"}))
    finally:
        proc.terminate()
        for b in busy:
            b.kill()
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    old[args.label] = results | {"machine": f"{os.cpu_count()} cores"}
    args.out.write_text(json.dumps(old, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
