"""The process `mmagent serve` leaves running on CPU: llama.cpp's HTTP server (xllamacpp) for
each packaged GGUF, with parallel slots (continuous batching) and prompt caching, until SIGTERM.

    python -m mmagent.core.llm.serve_worker --host 127.0.0.1 --slots 4 --ctx 4096 --threads 2 \
        --model /path/model.gguf=8765 [--model other.gguf=8766]
"""

from __future__ import annotations

import argparse
import signal
import threading


def make_server(path: str, host: str, port: int, slots: int, ctx: int, threads: int):
    import xllamacpp as xlc

    from mmagent.core.llm.llamacpp import server_params

    params = server_params(path, slots, ctx, threads)
    params.hostnames = [host]
    params.port = port
    return xlc.Server(params)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", action="append", required=True, help="GGUF=PORT")
    args = ap.parse_args()
    servers = []
    for spec in args.model:
        path, port = spec.rsplit("=", 1)
        servers.append(make_server(path, args.host, int(port), args.slots, args.ctx, args.threads))
        print(f"serving {path} at http://{args.host}:{port} ({args.slots} slots)", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    print("stopping", flush=True)


if __name__ == "__main__":
    main()
