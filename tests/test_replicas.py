"""Model replicas: requests balanced by fewest in flight, a failing replica taken out and tried
again later, requests retried elsewhere; and two real llama.cpp servers, one stopped mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx
import pytest

from mmagent.core.config import load_settings
from mmagent.core.llm.replicas import ReplicaSet, ReplicaTransport, endpoint_list
from mmagent.core.llm.server import is_healthy
from tests.test_serve import free_port

A, B = "http://a.test:8000/v1", "http://b.test:8000/v1"


def _client(handler, retry_after_s: float = 5.0) -> tuple[httpx.Client, ReplicaSet]:
    replicas = ReplicaSet([A, B], retry_after_s=retry_after_s)
    return httpx.Client(transport=ReplicaTransport(replicas, inner=httpx.MockTransport(handler))), replicas


def test_endpoint_list_reads_lists_and_comma_separated_urls():
    assert endpoint_list(f"{A}, {B}/") == [A, B]
    assert endpoint_list([A]) == [A] and endpoint_list(None) == [] and endpoint_list("") == []


def test_requests_go_to_the_replica_with_fewest_in_flight():
    hosts: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["host"] == request.url.host + ":8000"  # the chosen replica's, not the primary's
        with lock:
            hosts[request.url.host] += 1
        time.sleep(0.2)
        return httpx.Response(200, json={"path": request.url.path})

    client, _ = _client(handler)
    replies: list[dict] = []

    def ask() -> None:
        replies.append(client.post(f"{A}/chat/completions").json())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hosts == {"a.test": 2, "b.test": 2}
    assert all(r["path"] == "/v1/chat/completions" for r in replies)


def test_a_failing_replica_is_skipped_and_tried_again_later():
    down = {"a.test"}
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host in down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"ok": True})

    client, replicas = _client(handler, retry_after_s=0.3)
    for _ in range(3):
        assert client.post(f"{A}/chat/completions").json() == {"ok": True}  # answered by b every time
    assert hosts == ["a.test", "b.test", "b.test", "b.test"], "a is tried once, then left out"
    down.clear()
    time.sleep(0.35)
    hosts.clear()
    client.post(f"{A}/chat/completions")
    client.post(f"{A}/chat/completions")
    assert "a.test" in hosts, "back in rotation after its time out"
    assert replicas.replicas[0].failures == 0


def test_unavailable_status_fails_over_and_all_down_is_one_clear_error():
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.host == "a.test" else 200, json={"host": request.url.host})

    client, _ = _client(busy)
    assert client.post(f"{A}/x").json() == {"host": "b.test"}

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("server closed the connection mid-reply", request=request)

    client, _ = _client(dead)
    with pytest.raises(httpx.ConnectError, match="none of the 2 model replicas answered"):
        client.post(f"{A}/x")


def test_a_role_can_name_several_endpoints(settings_kwargs):
    from mmagent.core.llm.factory import build_chat_model
    from mmagent.core.models import ModelManager
    from mmagent.core.resolve import served_by

    s = load_settings(
        reasoner={"backend": "openai", "options": {"base_url": [A, B]}},
        planner={"backend": "llamacpp", "options": {"server_url": f"{A},{B}"}},
        **settings_kwargs,
    )
    chat, endpoint = build_chat_model("reasoner", s.role("reasoner"), s, ModelManager())
    assert endpoint == f"{A},{B}" and isinstance(chat.http_client._transport, ReplicaTransport)
    planner, endpoint = build_chat_model("planner", s.role("planner"), s, ModelManager())
    assert endpoint == f"{A},{B}" and planner.replicas == [A, B]
    assert served_by("reasoner", s) == f"2 replicas at {A}, {B}"


def _start_llamacpp(path: str, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "mmagent.core.llm.serve_worker", "--slots", "2", "--threads", "1"]
    return subprocess.Popen(cmd + ["--model", f"{path}={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.llm
@pytest.mark.slow
def test_two_llamacpp_replicas_one_stopped_mid_run(tmp_path, settings_kwargs):
    """Two real llama.cpp servers (the packaged 0.5B model) as the planner's replicas; one is
    stopped after the first answers: every question is answered, none errors."""
    from mmagent.agent import Agent
    from mmagent.core.resolve import resolve_model
    from mmagent.evals.runner import agent_answerer, run_questions
    from mmagent.evals.synthetic import generate

    base = load_settings(**settings_kwargs)
    gguf = str(resolve_model("qwen2.5-coder-0.5b-instruct", base).location)
    ports = [free_port(), free_port()]
    servers = [_start_llamacpp(gguf, p) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.time() + 120
        while not all(is_healthy(u) for u in urls):
            assert time.time() < deadline and all(s.poll() is None for s in servers), "servers did not start"
            time.sleep(0.2)
        llm = {"backend": "llamacpp", "model": "qwen2.5-coder-0.5b-instruct", "options": {"server_url": urls}}
        settings = load_settings(planner=llm, reasoner=llm, server="off", **settings_kwargs)
        questions = generate(6, seed=11, out_dir=tmp_path / "data", families=("receipt", "sign", "table"))
        out = tmp_path / "results.jsonl"

        def stop_one() -> None:
            while not (out.is_file() and out.read_text().count("\n") >= 2):
                time.sleep(0.05)
            os.kill(servers[0].pid, signal.SIGKILL)  # mid-run: the other questions are in flight

        stopper = threading.Thread(target=stop_one, daemon=True)
        stopper.start()
        summary = run_questions(questions, agent_answerer(Agent(settings)), out, workers=2, progress=False)
        stopper.join(timeout=5)
        rows = [json.loads(ln) for ln in out.read_text().splitlines()]
        assert servers[0].poll() is not None, "one replica was stopped during the run"
        assert sorted(r["id"] for r in rows) == sorted(q.id for q in questions)
        assert not [r["error"] for r in rows if r.get("error")], "every question answered, on the other replica"
        assert summary["n"] == 6
    finally:
        for s in servers:
            s.kill()
            s.wait()
