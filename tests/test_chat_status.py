"""The chat says what a turn is doing: the status message from the first moment, the phase and
elapsed time, its place in the queue while another session has the model, Stop while queued,
and the evidence toggle."""

from __future__ import annotations

import threading
import time

import pytest
from langchain_core.messages import HumanMessage

from mmagent.core.errors import RunCancelled
from mmagent.core.events import (
    Heartbeat,
    LLMQueued,
    LLMStarted,
    RunFinished,
    ToolCalled,
    ToolResult,
)
from mmagent.core.llm.client import LLMClient
from mmagent.core.llm.turns import ModelTurns, watching
from mmagent.ui.render import ChatRenderer, pending_message
from tests.conftest import ScriptedChat


def test_turns_are_first_come_first_served_and_waiters_hear_their_place():
    turns = ModelTurns()
    order: list[str] = []
    heard: dict[str, list[int]] = {"b": [], "c": []}
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with turns.turn():
            first_in.set()
            release.wait(5)
            order.append("a")

    def later(name: str) -> None:
        with watching(heard[name].append), turns.turn():
            order.append(name)
            time.sleep(0.3)  # c hears that it moved up

    a = threading.Thread(target=first)
    a.start()
    first_in.wait(5)
    b = threading.Thread(target=later, args=("b",))
    b.start()
    while turns.waiting() < 1:
        time.sleep(0.01)
    c = threading.Thread(target=later, args=("c",))
    c.start()
    while turns.waiting() < 2:
        time.sleep(0.01)
    time.sleep(0.3)
    release.set()
    for t in (a, b, c):
        t.join(5)
    assert order == ["a", "b", "c"]
    assert heard["b"][0] == 1 and heard["c"][0] == 2 and 1 in heard["c"], heard
    assert turns.waiting() == 0


def test_a_waiter_that_stops_leaves_the_queue():
    turns = ModelTurns()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with turns.turn():
            holding.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    holding.wait(5)

    def stop(ahead: int) -> None:
        raise RunCancelled("stopped")

    with pytest.raises(RunCancelled), watching(stop), turns.turn():
        pass
    assert turns.waiting() == 0, "the stopped waiter is gone from the queue"
    release.set()
    t.join(5)
    with turns.turn():  # and the model is free again
        pass


class TurnTakingChat(ScriptedChat):
    """A scripted model that, like the embedded one, answers one request at a time."""

    turns: ModelTurns = ModelTurns()

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        with self.turns.turn():
            return super()._generate(messages, stop, run_manager, **kwargs)


def test_a_model_call_says_it_starts_and_that_it_waits_for_another_session():
    chat = TurnTakingChat(replies=["fine"])
    events: list = []
    stop = threading.Event()
    client = LLMClient("planner", chat, events.append, stop_requested=stop.is_set)
    holding, release = threading.Event(), threading.Event()

    def other_session() -> None:
        with chat.turns.turn():
            holding.set()
            release.wait(5)

    t = threading.Thread(target=other_session)
    t.start()
    holding.wait(5)
    threading.Timer(0.6, release.set).start()
    assert client.complete([HumanMessage(content="hi")], "test") == "fine"
    t.join(5)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["LLMStarted", "LLMQueued", "LLMCalled"], kinds
    assert events[1].ahead == 1

    # Stop while queued: the call leaves the queue without an answer
    t = threading.Thread(target=other_session)
    holding.clear()
    release.clear()
    t.start()
    holding.wait(5)
    threading.Timer(0.4, stop.set).start()
    with pytest.raises(RunCancelled):
        client.complete([HumanMessage(content="hi")], "test")
    release.set()
    t.join(5)
    assert chat.turns.waiting() == 0


def test_the_status_message_shows_the_phase_and_time_and_goes_when_the_turn_ends(tmp_path):
    from mmagent.core.artifacts import ArtifactStore

    history: list = [{"role": "user", "content": "What is the total?"}]
    pending = pending_message()
    r = ChatRenderer(history, ArtifactStore(), lambda im, name: tmp_path / name, pending=pending)
    r.apply(Heartbeat())
    assert history[-1] is pending and history[-1]["metadata"]["title"].startswith("Working: starting - 0 s")
    r.apply(LLMStarted(role="planner", purpose="plan"))
    assert history[-1]["metadata"]["title"].startswith("Working: planning (model)")
    r.apply(LLMQueued(role="planner", ahead=1))
    assert "queued, 1 request ahead for the planner model" in history[-1]["metadata"]["title"]
    r.apply(ToolCalled(step="s1", tool="ocr", args={"image": "img-1"}))
    assert history[-1] is pending and "running ocr" in pending["metadata"]["title"]
    assert history[-2]["metadata"]["title"] == "Tool: ocr (s1)", "steps go above the status line"
    r.apply(ToolResult(step="s1", tool="ocr", ok=True, observation="ocr-2: ...", duration_s=0.1))
    r.started -= 7
    r.apply(Heartbeat())
    assert pending["metadata"]["title"] == "Working: thinking - 7 s"
    r.apply(RunFinished(ok=True, wall_s=7.0))
    assert all(m is not pending for m in history)


def test_the_first_update_of_a_turn_already_shows_the_status(settings, receipt, tmp_path):
    """respond's first yield, before any model or tool loads, has the status message last."""
    from app import UiSession, respond

    path = tmp_path / "r.png"
    receipt.image.save(path)
    turn = respond(
        {"text": "What is the total?", "files": [str(path)]},
        [],
        None,
        "plan",
        4,
        8,
        False,
        settings=settings,
        root=tmp_path,
    )
    t0 = time.perf_counter()
    history, _, session = next(turn)
    first_s = time.perf_counter() - t0
    assert isinstance(session, UiSession)
    assert history[-1]["metadata"]["title"].startswith("Working:"), history[-1]
    assert history[-2] == {"role": "user", "content": "What is the total?"}
    print(f"first update in {first_s:.3f} s")
    turn.close()  # Stop: the turn's run is told to stop
    assert session.chat.cancel.is_set()


def test_the_evidence_toggle_draws_every_box_of_the_cited_artifact(settings, scripted, receipt):
    import numpy as np

    from mmagent import Agent
    from mmagent.evidence import evidence_views
    from mmagent.session import ChatSession

    chat = scripted({"intent": "value"}, {"choice": "the total"})
    session = ChatSession()
    result = Agent(settings, chat_models={"planner": chat, "reasoner": chat}).run(
        "What is the total amount?", [receipt.image], session=session
    )
    assert result.ok and result.evidence
    ((_, only),) = evidence_views(session.store, result.evidence)
    ((_, every),) = evidence_views(session.store, result.evidence, everything=True)
    original = np.asarray(receipt.image.convert("RGB"), dtype=int)

    def changed(view) -> int:
        return int((np.abs(np.asarray(view, dtype=int) - original).sum(axis=2) > 0).sum())

    assert 0 < changed(only) < changed(every)
