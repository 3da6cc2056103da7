"""The warm agent `mmagent serve` keeps beside the model server: tool models (OCR, detector)
loaded once, so `mmagent ask` sends its question here instead of starting a Python process
that imports torch and loads every model again (~6-7 s of a cold question on 2 cores).

POST /ask {"question": str, "images": [absolute path], "planner": str | null} answers with
NDJSON: one `{"event": {...}}` line per event as it happens (the CLI prints the trace live),
then `{"result": {...}}` (without its trace: the client has it from the event lines), or
`{"error": "...", "input": true|false}`. GET /health is 200 once the warm-up question has
loaded the models. It listens on localhost only: like the CLI, it
reads image files by path.

    python -m agent.agent_server --host 127.0.0.1 --port 8767
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mmagent.core.errors import BackendUnavailableError, MMAgentError, UserInputError


class _Agents:
    """One Agent per planner kind; they share the process's model manager."""

    def __init__(self) -> None:
        from mmagent.core.config import load_settings

        self.settings = load_settings()
        self._agents: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, planner: str | None) -> Any:
        from mmagent.agent import Agent

        kind = planner or self.settings.planner_kind
        with self._lock:
            if kind not in self._agents:
                self._agents[kind] = Agent(self.settings.model_copy(update={"planner_kind": kind}))
            return self._agents[kind]


def _handler(agents: _Agents, ready: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the stream ends when the connection closes

        def do_GET(self) -> None:
            ok = self.path == "/health" and ready.is_set()
            self.send_response(200 if ok else 503)
            self.end_headers()

        def do_POST(self) -> None:
            if self.path != "/ask":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()

            def send(obj: dict) -> None:
                self.wfile.write((json.dumps(obj, default=str) + "\n").encode())
                self.wfile.flush()

            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                agent = agents.get(body.get("planner"))
                result = agent.run(
                    str(body.get("question", "")),
                    [str(p) for p in body.get("images", [])],
                    on_event=lambda ev: send({"event": ev.model_dump(exclude={"result"})}),
                )
                send({"result": result.model_dump(exclude={"trace"})})  # the events went out already
            except UserInputError as exc:
                send({"error": str(exc), "input": True})
            except MMAgentError as exc:
                send({"error": str(exc), "input": False})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away; the run's result is dropped
            except Exception as exc:  # noqa: BLE001 - one clear line for the CLI, never a traceback
                send({"error": f"internal error: {type(exc).__name__}: {exc}", "input": False})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def warm_up(agents: _Agents) -> dict[str, float]:
    """Answer one rendered receipt question so OCR, the detector and the LLM client are loaded;
    returns each tool's first-call seconds (loading included), which the log records."""
    from mmagent.core.samples import render_receipt

    path = Path(tempfile.mkdtemp(prefix="mmagent-warm-")) / "receipt.png"
    render_receipt(seed=0).image.save(path)
    result = agents.get(None).run("What is the total?", [path])
    return {s.tool: round(s.duration_s, 2) for s in result.steps}


def ask_agent(
    url: str,
    question: str,
    images: list[Path],
    planner: str | None,
    on_event: Callable[[Any], None] | None = None,
    timeout_s: float = 600.0,
) -> Any:
    """The client side (`mmagent ask`): the Result, events passed to `on_event` as they come."""
    import httpx

    from mmagent.core.events import EVENT_ADAPTER
    from mmagent.core.result import Result

    body = {"question": question, "images": [str(Path(p).resolve()) for p in images], "planner": planner}
    trace: list[dict[str, Any]] = []  # the run's events as they came: the Result's trace
    try:
        with httpx.stream("POST", f"{url}/ask", json=body, timeout=timeout_s) as r:
            for line in r.iter_lines():
                if not line.strip():
                    continue
                msg = json.loads(line)
                if "event" in msg:
                    if msg["event"].get("type") != "run_finished":  # the trace ends before it, as Agent records it
                        trace.append(msg["event"])
                    if on_event is not None:
                        on_event(EVENT_ADAPTER.validate_python(msg["event"]))
                elif "result" in msg:
                    return Result.model_validate(msg["result"] | {"trace": trace})
                elif "error" in msg:
                    raise (UserInputError if msg.get("input") else MMAgentError)(msg["error"])
    except httpx.TransportError as exc:
        raise BackendUnavailableError(
            f"the mmagent agent server at {url} stopped answering ({type(exc).__name__}); "
            "`mmagent serve --stop`, then ask again (embedded) or restart it"
        ) from None
    raise MMAgentError(f"the mmagent agent server at {url} ended the answer without a result")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    agents = _Agents()
    ready = threading.Event()
    httpd = ThreadingHTTPServer((args.host, args.port), _handler(agents, ready))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    t0 = time.perf_counter()
    first_calls = warm_up(agents)
    print(f"agent ready in {time.perf_counter() - t0:.1f} s; first calls (loading included): {first_calls}", flush=True)
    ready.set()
    threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
