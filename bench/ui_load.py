"""Load on the chat UI: K browser-like sessions (gradio_client, one session each) ask at once on
the offline stack, each about its own receipt. Checks every session completes without an error
and gets its own receipt's total (no cross-talk); reports the latencies.
Writes bench/results/ui_load.json.

    .venv/bin/python bench/ui_load.py [--sessions 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
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


def start_app(
    env: dict, serve: bool, app_dir: Path = ROOT, python: str = sys.executable
) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [python, str(app_dir / "app.py"), "--port", str(port)] + (["--serve"] if serve else []),
        cwd=app_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(240):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("app.py did not start")


def ask(url: str, image: Path, question: str) -> tuple[float, str]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)  # its own session, like a separate browser
    t0 = time.perf_counter()
    history = client.predict(
        {"text": question, "files": [handle_file(str(image))]}, [], "plan", 4, 8, False, api_name="/on_submit"
    )[0]
    return time.perf_counter() - t0, last_answer(history)


def last_answer(history: list[dict]) -> str:
    """The last plain assistant text (not a thought, not an image). Gradio 6 returns content
    either as a string or as a list of typed parts."""
    texts = []
    for m in history:
        if m["role"] != "assistant" or (m.get("metadata") or {}).get("title"):
            continue
        parts = m["content"] if isinstance(m["content"], list) else [m["content"]]
        text = " ".join(
            p if isinstance(p, str) else p.get("text", "")
            for p in parts
            if isinstance(p, str) or p.get("type") == "text"
        )
        if text.strip():
            texts.append(text)
    return texts[-1] if texts else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument(
        "--serve",
        action="store_true",
        help="the app starts `mmagent serve` (parallel slots) instead of using the embedded model",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ui_load.json")
    args = ap.parse_args()
    from mmagent.core.llm.server import DEFAULT_SLOTS
    from mmagent.core.samples import render_receipt

    work = Path(tempfile.mkdtemp(prefix="mmagent-ui-load-"))
    receipts = [render_receipt(seed=s) for s in range(args.sessions)]
    paths = []
    for i, r in enumerate(receipts):
        paths.append(work / f"receipt-{i}.png")
        r.image.save(paths[-1])
    env = dict(
        os.environ,
        GRADIO_ANALYTICS_ENABLED="False",
        MMAGENT_CACHE_DIR=str(work / "cache"),
        MMAGENT_SERVER="auto" if args.serve else "off",
    )
    proc, url = start_app(env, args.serve)
    try:
        ask(url, paths[0], "What is the total on the receipt?")  # warm-up: models load once
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.sessions) as pool:
            done = list(pool.map(lambda p: ask(url, p, "What is the total on the receipt?"), paths))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        if args.serve:
            subprocess.run([sys.executable, "-m", "mmagent.ui.cli", "serve", "--stop"], cwd=ROOT, env=env)
    from mmagent.evals.metrics import numeric_match

    rows: list[dict[str, Any]] = []
    for r, (latency, answer) in zip(receipts, done):
        own = bool(numeric_match(answer, r.total))  # 58.9 and $58.90 state the same total
        others = [
            f"{o.total:.2f}" for o in receipts if o is not r and numeric_match(answer, o.total) and o.total != r.total
        ]
        rows.append(
            {
                "total": r.total,
                "answer": answer,
                "latency_s": round(latency, 1),
                "correct": own,
                "error": answer.startswith("Error") or not answer,
                "other_sessions_totals": others,
            }
        )
    lat = sorted(float(r["latency_s"]) for r in rows)
    out = {
        "sessions": args.sessions,
        "model": f"mmagent serve (llama.cpp, {DEFAULT_SLOTS} slots)" if args.serve else "embedded",
        "wall_s": round(wall, 1),
        "latency_median_s": statistics.median(lat),
        "latency_max_s": lat[-1],
        "errors": sum(bool(r["error"]) for r in rows),
        "correct": sum(bool(r["correct"]) for r in rows),
        "cross_talk": sum(bool(r["other_sessions_totals"]) for r in rows),
        "rows": rows,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}))


if __name__ == "__main__":
    main()
