"""`mmagent serve`: a real llama.cpp server over the packaged GGUF on a free localhost port,
found by the CLI and the Python API through its state file; stale state, a taken port and a
dead server give clear messages and the embedded fallback."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from mmagent.core.config import load_settings
from mmagent.core.llm import server as srv
from mmagent.core.samples import render_receipt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mmagent(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mmagent.ui.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def env(tmp_path, settings_kwargs):
    e = dict(os.environ, MMAGENT_CACHE_DIR=str(tmp_path / "cache"), MMAGENT_SERVER="auto")
    if "model_dir" in settings_kwargs:
        e["MMAGENT_MODEL_DIR"] = str(settings_kwargs["model_dir"])
    return e


@pytest.fixture
def health_server():
    """A stand-in that answers /health like llama.cpp (for discovery logic, not for answers)."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b'{"status":"ok"}')

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def write_state(settings, **fields) -> Path:
    path = srv.state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(srv.ServerState(**fields).model_dump_json())
    return path


def test_serve_start_status_ask_cached_then_stop(env, tmp_path, settings_kwargs):
    """The whole life of a server, on the real packaged model: start (ready, endpoint printed,
    state file), status, a CLI question answered by its warm agent twice (the second reuses the
    server's prompt cache; the trace streams), bad input through the warm agent, the Python API
    and an evaluation attached to it, stop, then the same question embedded."""
    port = free_port()
    started = mmagent("serve", "--port", str(port), "--slots", "2", env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert f"ready at http://127.0.0.1:{port}/v1" in started.stdout
        status = mmagent("serve", "--status", env=env)
        assert status.returncode == 0 and f"http://127.0.0.1:{port}/v1" in status.stdout
        assert f"warm agent http://127.0.0.1:{port + 1}" in status.stdout

        receipt = tmp_path / "receipt.png"
        render_receipt(seed=3).image.save(receipt)
        answers = []
        for _ in range(2):
            out = mmagent("ask", "--json", "What is the total amount?", "--image", str(receipt), env=env)
            assert out.returncode == 0, out.stderr
            assert "→ t" in out.stderr and "ocr" in out.stderr  # the warm agent's events, printed as they came
            answers.append(json.loads(out.stdout))
        assert all(a["served_by"]["planner"] == f"http://127.0.0.1:{port}" for a in answers)
        assert float(answers[0]["short_answer"]) == float(answers[1]["short_answer"]) == render_receipt(seed=3).total
        first, second = (a["tokens"] for a in answers)
        # the same question again: (nearly) the whole prompt comes from the server's cache
        assert second["prompt_cached"] >= 0.9 * second["prompt"] > 0, (first, second)

        from mmagent.agent import Agent

        attached = Agent(load_settings(server="auto", cache_dir=env["MMAGENT_CACHE_DIR"], **settings_kwargs)).settings
        assert attached.planner.options["server_url"] == f"http://127.0.0.1:{port}"

        from mmagent.agent_server import ask_agent
        from mmagent.core.errors import UserInputError

        with pytest.raises(UserInputError, match="not found"):
            ask_agent(f"http://127.0.0.1:{port + 1}", "What is the total?", [tmp_path / "missing.png"], None)

        config = tmp_path / "one.toml"
        config.write_text('name = "one"\nplanner = "plan"\n[data]\nsource = "synthetic"\nn = 1\nseed = 5\n')
        evaluated = mmagent("eval", str(config), "--out", str(tmp_path / "runs"), env=env)
        assert evaluated.returncode == 0, evaluated.stderr
        row = json.loads((tmp_path / "runs" / "one-plan" / "results.jsonl").read_text().splitlines()[0])
        assert {e["endpoint"] for e in row["trace"] if e["type"] == "llm_call"} == {f"http://127.0.0.1:{port}"}

        again = mmagent("serve", "--port", str(free_port()), env=env)
        assert again.returncode == 2 and "already running" in again.stderr
    finally:
        stopped = mmagent("serve", "--stop", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert mmagent("serve", "--status", env=env).returncode == 1
    assert not Path(env["MMAGENT_CACHE_DIR"], "serve", "state.json").exists()
    # no server any more: the same question runs embedded, with the same answer
    out = mmagent("ask", "--json", "What is the total amount?", "--image", str(receipt), env=env)
    assert out.returncode == 0, out.stderr
    embedded = json.loads(out.stdout)
    assert embedded["served_by"]["planner"] == "embedded"
    assert float(embedded["short_answer"]) == render_receipt(seed=3).total


def test_port_in_use_is_a_clear_error(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        out = mmagent("serve", "--port", str(busy.getsockname()[1]), "--backend", "llamacpp", env=env)
    assert out.returncode == 2 and "is in use" in out.stderr and "--port" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_model_is_a_clear_error(env):
    env = dict(env, MMAGENT_PLANNER__BACKEND="llamacpp", MMAGENT_PLANNER__MODEL="no-such-model.gguf")
    out = mmagent("serve", "--port", str(free_port()), "--backend", "llamacpp", env=env)
    assert out.returncode == 2 and "could not be found" in out.stderr and "Traceback" not in out.stderr


def test_stale_state_file_warns_and_falls_back(tmp_path, settings_kwargs, caplog):
    settings = load_settings(cache_dir=tmp_path, server="auto", **settings_kwargs)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_state(settings, pid=dead.pid, backend="llamacpp", url="http://127.0.0.1:9")
    with caplog.at_level(logging.WARNING, logger="mmagent.serve"):
        attached = srv.attach_running_server(settings)
    assert attached.planner.options.get("server_url") is None  # embedded, as without a server
    assert "no longer running" in caplog.text and "mmagent serve" in caplog.text


def test_stale_state_through_the_cli_is_one_warning(env, tmp_path):
    settings = load_settings(cache_dir=Path(env["MMAGENT_CACHE_DIR"]))
    write_state(settings, pid=2**22 + 12345, backend="llamacpp", url="http://127.0.0.1:9")
    out = mmagent("models", env=env)
    assert out.returncode == 0, out.stderr
    assert "no longer running" in out.stderr and "server at" not in out.stdout


def test_a_live_process_whose_server_does_not_answer_is_not_used(tmp_path, settings_kwargs, caplog):
    settings = load_settings(cache_dir=tmp_path, server="auto", **settings_kwargs)
    write_state(settings, pid=os.getpid(), backend="llamacpp", url=f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.WARNING, logger="mmagent.serve"):
        assert srv.find_server(settings) is None
    assert "does not answer" in caplog.text


def test_attach_maps_served_models_to_roles(tmp_path, settings_kwargs, health_server):
    settings = load_settings(cache_dir=tmp_path, server="auto", **settings_kwargs)
    from mmagent.core.resolve import resolve_model

    gguf = str(resolve_model(settings.planner.model, settings).location)
    write_state(settings, pid=os.getpid(), backend="llamacpp", url=health_server, models={gguf: health_server})
    attached = srv.attach_running_server(settings)
    assert attached.planner.options["server_url"] == health_server
    assert attached.reasoner.options["server_url"] == health_server
    assert settings.planner.options.get("server_url") is None  # the caller's settings are not changed
    assert srv.attach_running_server(settings.model_copy(update={"server": "off"})).planner.options == {}

    write_state(
        settings, pid=os.getpid(), backend="vllm", url=health_server, served_model="Qwen/Qwen2.5-VL-7B-Instruct"
    )
    on_gpu = srv.attach_running_server(settings)
    assert on_gpu.lmm_url == f"{health_server}/v1"
    assert {on_gpu.role(r).backend for r in ("planner", "reasoner", "answerer")} == {"openai"}
    assert on_gpu.planner.vision is True


def test_backend_choice(monkeypatch):
    monkeypatch.setattr(srv, "has_cuda_gpu", lambda: False)
    assert srv.pick_backend("auto") == "llamacpp"
    assert srv.pick_backend("vllm") == "vllm"  # the flag overrides detection
    monkeypatch.setattr(srv, "has_cuda_gpu", lambda: True)
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "vllm" else None)
    assert srv.pick_backend("auto") == "vllm"
    cmd = srv.vllm_command("Qwen/Qwen2.5-VL-7B-Instruct", "127.0.0.1", 8000, 4096)
    assert cmd[:3] == ["vllm", "serve", "Qwen/Qwen2.5-VL-7B-Instruct"] and "--enable-prefix-caching" in cmd


def test_concurrent_questions_through_the_server_keep_their_own_answers(tmp_path, settings_kwargs):
    """Four questions at once through one served model (two slots, continuous batching): each gets
    its own receipt's total, and every answer came from the server."""
    from concurrent.futures import ThreadPoolExecutor

    from mmagent.agent import Agent

    settings = load_settings(cache_dir=tmp_path / "cache", server="auto", **settings_kwargs)
    state = srv.start_server(settings, backend="llamacpp", port=free_port(), agent=False)
    try:
        agent = Agent(settings)
        receipts = [render_receipt(seed=s) for s in range(4)]
        paths = []
        for i, r in enumerate(receipts):
            paths.append(tmp_path / f"r{i}.png")
            r.image.save(paths[-1])
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda p: agent.run("What is the total?", [p]), paths))
    finally:
        srv.stop_server(settings)
    assert [float(r.short_answer) for r in results] == [r.total for r in receipts]
    assert {r.served_by["planner"] for r in results} == {state.url}
