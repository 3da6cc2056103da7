"""`mmagent serve`: one warm OpenAI-compatible model server that every mmagent process finds.

On CPU it is llama.cpp's HTTP server (the xllamacpp wheel) over the packaged GGUFs of the LLM
roles, with parallel slots and prompt caching; on a CUDA GPU it is `vllm serve` with the
configured LMM and prefix caching, and then that LMM is the planner, reasoner and answerer.

The server runs as its own process (detached, logging to a file). A state file under the cache
directory records its pid, URL and what it serves; `attach_running_server(settings)` reads it,
checks the server answers, and returns settings that use it. A state file whose server is gone
gives one clear message and the embedded fallback.

Example:
    >>> state = start_server(load_settings(), backend="llamacpp", port=8765)   # doctest: +SKIP
    >>> state.url
    'http://127.0.0.1:8765'
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import BackendUnavailableError, ConfigError, MMAgentError

log = logging.getLogger("mmagent.serve")
Backend = Literal["llamacpp", "vllm"]
# The roles a served model takes over (tools' models stay in the process that runs the tools).
LLM_ROLES = ("planner", "reasoner", "answerer")
DEFAULT_PORT = 8765
# llama.cpp slots on CPU. Each slot caches its own prompt prefix, and a request that lands in an
# idle slot holding another prompt evaluates its ~650 static tokens again: 8 UI sessions at once
# waited a median 18 s with 2 slots, 35 s with 4 (and 8.5 s embedded, one request at a time).
DEFAULT_SLOTS = 2


class ServerState(BaseModel):
    """What the state file records about a running `mmagent serve`."""

    pid: int
    backend: Backend
    url: str  # base URL without /v1, e.g. http://127.0.0.1:8765
    # llama.cpp: resolved GGUF path -> the base URL serving it (one server per distinct model)
    models: dict[str, str] = Field(default_factory=dict)
    served_model: str = ""  # vLLM: the model name requests must name
    slots: int = 1
    # the warm agent beside it (agent.agent_server): `mmagent ask` sends whole questions there
    agent_url: str = ""
    agent_pid: int = 0
    log: str = ""
    started_at: float = 0.0


def state_path(settings: Settings) -> Path:
    return Path(settings.cache_dir) / "serve" / "state.json"


def log_path(settings: Settings) -> Path:
    return Path(settings.cache_dir) / "serve" / "server.log"


# -- finding a running server ---------------------------------------------------------------
def read_state(settings: Settings) -> ServerState | None:
    path = state_path(settings)
    if not path.is_file():
        return None
    try:
        return ServerState.model_validate_json(path.read_text())
    except (ValidationError, OSError, ValueError):
        return None


def is_healthy(url: str, timeout: float = 1.0) -> bool:
    """llama.cpp and vLLM both answer GET /health with 200 once the model is loaded."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_warned: set[str] = set()


def find_server(settings: Settings) -> ServerState | None:
    """The running server recorded in the state file, or None (a stale file is reported once)."""
    path = state_path(settings)
    if not path.exists():
        return None
    state = read_state(settings)
    if state is None:
        problem = "is not a valid state file"
    elif not _alive(state.pid):
        problem = f"names a server (pid {state.pid}, {state.url}) that is no longer running"
    elif not all(is_healthy(u) for u in set(state.models.values()) | {state.url}):
        problem = f"names a server (pid {state.pid}, {state.url}) that does not answer"
    else:
        if state.agent_url and not is_healthy(state.agent_url):
            log.warning("mmagent: the warm agent at %s does not answer; questions run in this process", state.agent_url)
            state = state.model_copy(update={"agent_url": ""})
        return state
    key = f"{path}:{problem}"
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "mmagent: %s %s; using the embedded model instead. Start a server with "
            "`mmagent serve` (or `mmagent serve --stop` to clear the file).",
            path,
            problem,
        )
    return None


def attach_running_server(settings: Settings) -> Settings:
    """Settings that use the running `mmagent serve`, when there is one and the roles allow it.

    llama.cpp: each LLM role whose packaged GGUF the server serves talks to it over HTTP.
    vLLM: the served LMM becomes the planner, reasoner and answerer, and the served VLM for the
    tools that ask an image model (`lmm_url`). Explicit choices win: a role that names another
    backend, or MMAGENT_LMM_URL, is left as it is; MMAGENT_SERVER=off turns discovery off.
    """
    if settings.server == "off" or settings.lmm_url:
        return settings
    state = find_server(settings)
    if state is None:
        return settings
    if state.backend == "vllm":
        served = RoleConfig(backend="openai", model=state.served_model, vision=True)
        update: dict = {"lmm_url": f"{state.url}/v1", "lmm_model": state.served_model}
        for role in LLM_ROLES:
            if settings.role(role).backend == "llamacpp":
                update[role] = served
        return settings.model_copy(update=update)
    from mmagent.core.resolve import resolve_model

    update = {}
    for role in LLM_ROLES:
        cfg = settings.role(role)
        if cfg.backend != "llamacpp":
            continue
        try:
            path = resolve_model(cfg.model or "", settings).location
        except MMAgentError:
            continue
        if str(path) in state.models:
            update[role] = cfg.model_copy(update={"options": cfg.options | {"server_url": state.models[str(path)]}})
    return settings.model_copy(update=update) if update else settings


# -- starting and stopping -----------------------------------------------------------------
def has_cuda_gpu() -> bool:
    """An NVIDIA GPU that the driver lists (no torch import: the CLI stays fast)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def pick_backend(requested: str) -> Backend:
    if requested in ("llamacpp", "vllm"):
        return requested  # type: ignore[return-value]
    if requested != "auto":
        raise ConfigError(f"unknown server backend '{requested}' (use auto, llamacpp or vllm)")
    if has_cuda_gpu():
        import importlib.util

        if importlib.util.find_spec("vllm") is not None:
            return "vllm"
        log.warning(
            "mmagent: a CUDA GPU is present but vLLM is not installed (pip install 'mmagent[vllm]'); "
            "serving the packaged GGUF with llama.cpp instead"
        )
    return "llamacpp"


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _llamacpp_models(settings: Settings) -> list[str]:
    """The resolved GGUF path of every distinct packaged model of the LLM roles, in role order."""
    from mmagent.core.resolve import resolve_model

    paths: list[str] = []
    for role in LLM_ROLES:
        cfg = settings.role(role)
        if cfg.backend == "llamacpp":
            path = str(resolve_model(cfg.model or "", settings).location)  # ModelNotFoundError names the fix
            if path not in paths:
                paths.append(path)
    if not paths:
        raise ConfigError(
            "no role uses an embedded llama.cpp model, so there is nothing to serve on CPU; "
            "the planner, reasoner and answerer use other backends"
        )
    return paths


def _require_free(host: str, ports: dict[int, str]) -> None:
    """{port: what it is for}: one clear error naming the first port another program holds."""
    for port, what in ports.items():
        if not port_free(host, port):
            raise ConfigError(
                f"port {port} on {host} ({what}) is in use by another program; choose another "
                "with --port (`mmagent serve --status` shows whether mmagent already serves there)"
            )


def vllm_command(model: str, host: str, port: int, context: int) -> list[str]:
    """`vllm serve` with prefix caching; the name requests use is the model id itself."""
    return [
        "vllm",
        "serve",
        model,
        "--host",
        host,
        "--port",
        str(port),
        "--served-model-name",
        model,
        "--enable-prefix-caching",
        "--max-model-len",
        str(max(context, 8192)),
        "--limit-mm-per-prompt",
        json.dumps({"image": 4}),
    ]


def start_server(
    settings: Settings,
    backend: str = "auto",
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    slots: int = DEFAULT_SLOTS,
    timeout_s: float = 300.0,
    model: str | None = None,
    agent: bool = True,
) -> ServerState:
    """Start the server detached, wait until it answers, write the state file, return it.
    `agent`: also start the warm agent (agent.agent_server) that `mmagent ask` hands questions to."""
    running = find_server(settings)
    if running is not None:
        raise ConfigError(
            f"mmagent serve is already running at {running.url} (pid {running.pid}); `mmagent serve --stop` stops it"
        )
    chosen = pick_backend(backend)
    served_model = ""
    if chosen == "llamacpp":
        paths = _llamacpp_models(settings)  # one server each, on consecutive ports
        models = {path: f"http://{host}:{port + i}" for i, path in enumerate(paths)}
        cmd = [
            sys.executable,
            "-m",
            "mmagent.core.llm.serve_worker",
            "--host",
            host,
            "--slots",
            str(slots),
            "--ctx",
            str(settings.llm_context),
            "--threads",
            str(settings.llm_threads),
        ]
        cmd += [a for i, path in enumerate(paths) for a in ("--model", f"{path}={port + i}")]
        ports = {port + i: f"model server for {Path(path).name}" for i, path in enumerate(paths)}
    else:
        if shutil.which("vllm") is None:
            raise BackendUnavailableError(
                "vLLM is not installed: pip install 'mmagent[vllm]' (needs a CUDA GPU), "
                "or serve on CPU with --backend llamacpp"
            )
        served_model = model or settings.lmm_model
        cmd, models = vllm_command(served_model, host, port, settings.llm_context), {}
        ports = {port: "model server"}
    agent_port = port + len(ports)
    if agent:
        ports[agent_port] = "warm agent"
    _require_free(host, ports)
    logfile = log_path(settings)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout_s
    proc = _spawn(cmd, settings, logfile)
    state = ServerState(
        pid=proc.pid,
        backend=chosen,
        url=url,
        models=models,
        served_model=served_model,
        slots=slots,
        log=str(logfile),
        started_at=time.time(),
    )
    _wait_ready(proc, set(models.values()) | {url}, deadline, "model server", logfile)
    state_path(settings).write_text(state.model_dump_json(indent=1))
    if agent:  # it finds the model server through the state file just written
        agent_url = f"http://{host}:{agent_port}"
        worker = _spawn(
            [sys.executable, "-m", "mmagent.agent_server", "--host", host, "--port", str(agent_port)], settings, logfile
        )
        try:
            _wait_ready(worker, {agent_url}, deadline, "warm agent", logfile)
        except BackendUnavailableError:
            stop_server(settings)
            raise
        state = state.model_copy(update={"agent_url": agent_url, "agent_pid": worker.pid})
        state_path(settings).write_text(state.model_dump_json(indent=1))
    return state


def _spawn(cmd: list[str], settings: Settings, logfile: Path) -> subprocess.Popen:
    """A detached process (its own session: it outlives this command) logging to `logfile`, with
    the settings it must share with this process (cache dir: the state file; models and weights dirs)."""
    env = dict(
        os.environ,
        MMAGENT_CACHE_DIR=str(settings.cache_dir),
        MMAGENT_WEIGHTS_DIR=str(settings.weights_dir),
        MMAGENT_SERVER="auto",
    )
    if settings.model_dir is not None:
        env["MMAGENT_MODEL_DIR"] = str(settings.model_dir)
    with open(logfile, "ab") as out:
        out.write(f"\n=== mmagent serve {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(cmd)}\n".encode())
        out.flush()
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )


def _wait_ready(proc: subprocess.Popen, urls: set[str], deadline: float, what: str, logfile: Path) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendUnavailableError(
                f"the {what} exited during start-up (code {proc.returncode}); "
                f"its log {logfile} ends with:\n{_tail(logfile)}"
            )
        if all(is_healthy(u) for u in urls):
            return
        time.sleep(0.5)
    _terminate(proc.pid)
    raise BackendUnavailableError(
        f"the {what} did not become ready in time (raise --timeout); its log {logfile} ends with:\n{_tail(logfile)}"
    )


def stop_server(settings: Settings) -> ServerState | None:
    """Stop the recorded server (if its process still runs) and remove the state file."""
    path = state_path(settings)
    state = read_state(settings)
    if state is not None:
        for pid in (state.agent_pid, state.pid):
            if pid and _alive(pid):
                _terminate(pid)
    path.unlink(missing_ok=True)
    return state


def _terminate(pid: int, grace_s: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)  # the worker leads its own session (and vLLM's children)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _alive(pid):
        _reap(pid)
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the server (else it lingers as a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
