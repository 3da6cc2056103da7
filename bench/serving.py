"""Model-server benchmark: time to first token, decode tokens/s and requests/s at several
concurrencies, plus one agent question end to end, against an OpenAI-compatible server.

GPU (the purpose): with no --url it starts `mmagent serve --backend vllm` (prefix caching on)
with the configured LMM, or, when that model's weights are not on the machine, with a randomly
initialised model of the same architecture (`--random-init`; its answers are noise, its speed is
the real architecture's) and says so. On a machine without a CUDA GPU it says so and exits 0.
CPU (to check the harness, and for the llama.cpp numbers): `--url` of a running server, e.g.
`mmagent serve --backend llamacpp`.

    .venv/bin/python bench/serving.py [--url http://127.0.0.1:8765] [--concurrency 1,8,32]
        [--requests 32] [--max-tokens 64] [--out bench/results/serving.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One fixed system prompt and varied questions, as the agent sends them: the prefix is shared.
SYSTEM = (
    "You answer questions about receipts, tables and charts from the text an OCR tool read. "
    "Reply with one short sentence. " * 8
)


def one_request(url: str, model: str, i: int, max_tokens: int) -> dict:
    """Streams one chat completion; returns seconds to first token, decode tokens/s, total seconds."""
    import httpx

    body = {
        "model": model,
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Question {i}: what is the total of item {i} and item {i + 1}?"},
        ],
    }
    t0 = time.perf_counter()
    first = None
    tokens = 0
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"].get("completion_tokens", tokens)
            if chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                first = first or time.perf_counter()
                tokens = max(tokens, 1)
    end = time.perf_counter()
    first = first or end
    decode = (tokens - 1) / (end - first) if tokens > 1 and end > first else 0.0
    return {"ttft_s": first - t0, "decode_tok_s": decode, "total_s": end - t0, "tokens": tokens}


def load_test(url: str, model: str, concurrency: int, requests: int, max_tokens: int) -> dict:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        rows = list(pool.map(lambda i: one_request(url, model, i, max_tokens), range(requests)))
    wall = time.perf_counter() - t0
    return {
        "concurrency": concurrency,
        "requests": requests,
        "wall_s": round(wall, 2),
        "requests_per_s": round(requests / wall, 3),
        "ttft_median_s": round(statistics.median(r["ttft_s"] for r in rows), 3),
        "decode_tok_s_median": round(statistics.median(r["decode_tok_s"] for r in rows), 1),
        "output_tok_s_total": round(sum(r["tokens"] for r in rows) / wall, 1),
    }


def served_model(url: str) -> str:
    import httpx

    data = httpx.get(f"{url}/v1/models", timeout=30).json()
    return data["data"][0]["id"] if data.get("data") else "local"


def agent_question(url: str) -> dict:
    """One synthetic question end to end through the agent, its LLM roles on this server."""
    from mmagent.agent import Agent
    from mmagent.core.config import RoleConfig, load_settings
    from mmagent.evals.synthetic import generate

    work = Path(tempfile.mkdtemp(prefix="mmagent-serving-"))
    q = generate(1, 7, work)[0]
    served = RoleConfig(backend="openai", model=served_model(url))
    settings = load_settings(lmm_url=f"{url}/v1", planner=served, reasoner=served, answerer=served)
    t0 = time.perf_counter()
    result = Agent(settings).run(q.question, q.images)
    return {
        "question": q.question,
        "gold": str(q.answer),
        "answer": result.short_answer,
        "wall_s": round(time.perf_counter() - t0, 2),
        "llm_s": round(result.timings.llm_s, 2),
        "tokens": result.tokens,
    }


def random_init_model(model_id: str, dest: Path) -> Path:
    """A randomly initialised model of `model_id`'s architecture (config from the local
    transformers defaults when the hub is unreachable), with its weights saved for vLLM."""
    from transformers import AutoConfig, AutoModelForImageTextToText

    try:
        config = AutoConfig.from_pretrained(model_id)
    except OSError:
        from transformers import Qwen2_5_VLConfig  # the default LMM's architecture, default sizes (7B)

        config = Qwen2_5_VLConfig()
    model = AutoModelForImageTextToText.from_config(config)
    model.save_pretrained(dest)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running OpenAI-compatible server (base URL, without /v1)")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--random-init", action="store_true", help="serve a random model of the LMM's architecture")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serving.json")
    args = ap.parse_args()
    from mmagent.core.config import load_settings
    from mmagent.core.llm.server import has_cuda_gpu, start_server, stop_server

    report: dict = {"url": args.url, "gpu": has_cuda_gpu()}
    started = None
    settings = load_settings(cache_dir=Path(tempfile.mkdtemp(prefix="mmagent-serving-cache-")))
    if args.url is None:
        if not report["gpu"]:
            print(
                "no CUDA GPU on this machine: the GPU serving benchmark did not run "
                "(give --url of a running server to measure it instead)"
            )
            return
        model = None
        if args.random_init:
            model = str(random_init_model(settings.lmm_model, Path(tempfile.mkdtemp(prefix="mmagent-random-"))))
            report["note"] = f"randomly initialised {settings.lmm_model} architecture: speed only, answers are noise"
        started = start_server(settings, backend="vllm", model=model, timeout_s=1200)
        args.url = started.url
    try:
        model = served_model(args.url)
        report |= {"model": model, "cpu_count": os.cpu_count(), "runs": []}
        one_request(args.url, model, -1, 4)  # warm-up
        for c in (int(x) for x in args.concurrency.split(",")):
            row = load_test(args.url, model, c, max(args.requests, c), args.max_tokens)
            report["runs"].append(row)
            print(json.dumps(row), flush=True)
        report["agent_question"] = agent_question(args.url)
        print(json.dumps(report["agent_question"]), flush=True)
    finally:
        if started is not None:
            stop_server(settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
