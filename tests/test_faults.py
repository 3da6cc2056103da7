"""Faults: a served model that stops mid-question, a tool raising mid-plan; the run says what
failed, keeps what it made, and the next question (in the API and in the UI) works.

The served model is a real HTTP server on localhost speaking OpenAI's chat API (what vLLM and
llama.cpp's server speak), replying from a script, so the product's own client
(langchain-openai) meets a connection cut mid-request and a server that comes back."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import BaseModel

from mmagent import Agent
from mmagent.core.config import RoleConfig
from mmagent.core.errors import BackendUnavailableError
from mmagent.core.events import ErrorRaised, RunFinished, ToolResult
from mmagent.session import ChatSession
from mmagent.tools import VisionTool, default_tools


class ScriptedServer:
    """An OpenAI-compatible chat server on a fixed port; `cut=True` drops the next request's
    connection and stops listening (the model process died mid-question)."""

    def __init__(self, port: int = 0) -> None:
        self.replies: list[dict] = []
        self.cut = False
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.requests += 1
                if owner.cut:
                    self.close_connection = True
                    self.connection.close()
                    threading.Thread(target=owner.stop).start()
                    return
                content = json.dumps(owner.replies.pop(0))
                body = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "scripted",
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
                    }
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(settings):
    server = ScriptedServer()
    model = RoleConfig(backend="openai", model="scripted")
    s = settings.model_copy(
        update={"lmm_url": server.url, "planner": model, "reasoner": model, "answerer": model, "llm_timeout_s": 10}
    )
    yield server, s
    if server.httpd.socket.fileno() != -1:
        server.stop()


Q = "What is the total?"
INTENT = {"intent": "value"}  # the planner's choice; the receipt's only value candidate is its total


def test_served_model_stopping_mid_question_then_coming_back(served, receipt):
    server, settings = served
    agent, session, events = Agent(settings), ChatSession(), []
    server.cut = True  # perception runs on local tools, then the planner's first call meets a dead server
    with pytest.raises(BackendUnavailableError, match=rf"planner model server at {server.url} cannot be reached"):
        agent.run(Q, [receipt.image], on_event=events.append, session=session)
    made = [e for e in events if isinstance(e, ToolResult) and e.ok]
    assert {e.tool for e in made} >= {"ocr", "layout"}, "the tool results before the failure are kept"
    assert any(isinstance(e, ErrorRaised) and server.url in e.message for e in events)
    assert isinstance(events[-1], RunFinished) and not events[-1].ok
    assert all(a in session.store for e in made for a in e.artifact_ids), "its artifacts stay in the session"

    back = ScriptedServer(server.port)  # the model server restarts on the same address
    back.replies = [INTENT]
    try:
        result = agent.run(Q, session=session)  # a follow-up on the session's image
        assert result.ok and result.short_answer == f"{receipt.total:.2f}"
    finally:
        back.stop()


def test_ui_stays_usable_after_the_server_stops(served, receipt, tmp_path):
    from app import respond

    server, settings = served
    image = tmp_path / "receipt.png"
    receipt.image.save(image)
    server.cut = True
    turn = dict(planner="plan", max_rounds=2, max_steps=4, settings=settings, root=tmp_path)
    *_, (history, _, session) = respond({"text": Q, "files": [str(image)]}, [], None, **turn)
    said = history[-1]["content"]
    assert said.startswith("Error: the planner model server at") and server.url in said
    back = ScriptedServer(server.port)
    back.replies = [INTENT]
    try:
        *_, (history, _, session) = respond({"text": Q, "files": []}, history, session, **turn)
    finally:
        back.stop()
    said = [m["content"] for m in history if m["role"] == "assistant" and isinstance(m["content"], str)]
    assert any(server.url in s for s in said), "the error stays in the chat history"
    assert f"{receipt.total:.2f}" in said[-1]


class _Args(BaseModel):
    image: str


class BrokenTool(VisionTool):
    """A tool whose model raises mid-run (a library bug, out of memory)."""

    name: str = "broken"
    description: str = "test tool that raises"
    args_schema: type[BaseModel] = _Args

    def forward(self, args, ctx):
        raise RuntimeError("CUDA error: device-side assert triggered")


def test_a_tool_raising_mid_plan_leaves_the_other_branches_running(settings, scripted, receipt):
    plan = {
        "tasks": [
            {"id": "t1", "tool": "broken", "args": {"image": "img-1"}},
            {"id": "t2", "tool": "ocr", "args": {"image": "img-1"}},
        ]
    }
    chat = scripted({"intent": "other"}, plan, {"answer": f"The total is {receipt.total:.2f}.", "evidence": ["ocr-7"]})
    agent = Agent(settings, tools=[BrokenTool(), *default_tools()], chat_models={"planner": chat, "reasoner": chat})
    result = agent.run("What does the receipt say at the bottom?", [receipt.image])
    broken = next(s for s in result.steps if s.tool == "broken")
    assert not broken.ok and "RuntimeError: CUDA error" in broken.observation
    assert any(s.tool == "ocr" and s.ok and s.step == "t2" for s in result.steps), "the other branch ran"
    assert any("t1 (broken) failed" in n for n in result.notes), result.notes
    assert result.ok and f"{receipt.total:.2f}" in result.answer


def test_a_prompt_longer_than_the_context_is_one_clear_error(settings, scripted, receipt):
    from mmagent.core.errors import MMAgentError

    overflow = RuntimeError(
        "llama.cpp error: {'code': 400, 'message': 'request (4725 tokens) exceeds the "
        "available context size (4096 tokens), try increasing it'}"
    )
    chat = scripted(overflow)
    agent = Agent(settings, chat_models={"planner": chat, "reasoner": chat})
    with pytest.raises(MMAgentError, match="longer than its context window; raise MMAGENT_LLM_CONTEXT"):
        agent.run(Q, [receipt.image])
