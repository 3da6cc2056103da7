"""The agent's event stream as chat messages (Gradio's messages format): collapsible "thought"
messages for the plan, loop thoughts and each tool call with its result, then the answer with
the evidence drawn on the images, and images that tools made shown inline. While the turn runs,
its last message says what it is doing and for how long ("Working: planning (model) - 4 s",
"Working: queued, 1 request ahead - 9 s"), from the first moment to the answer.

Pure data in, dicts out (no Gradio import), so it is unit-tested without a browser.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from mmagent.core.artifacts import ArtifactStore, ImageArtifact
from mmagent.core.events import (
    AnswerGiven,
    ErrorRaised,
    LLMQueued,
    LLMStarted,
    PlanMade,
    RunFinished,
    Thought,
    ToolCalled,
    ToolProgress,
    ToolResult,
)

Message = dict[str, Any]
MAX_OBSERVATION = 1500


# What a model call is doing, by the role that makes it (a tool's own call names the tool).
ROLE_PHASES = {
    "planner": "planning",
    "questioner": "asking sub-questions",
    "reasoner": "reasoning",
    "answerer": "answering",
    "react": "choosing the next step",
}


PENDING_ID = "pending"  # the status message's metadata id


def pending_message() -> Message:
    """The turn's status line, shown from the moment a question is sent."""
    return {
        "role": "assistant",
        "content": "",
        "metadata": {"title": "Working: starting - 0 s", "status": "pending", "id": PENDING_ID},
    }


def is_pending(msg: Message) -> bool:
    """Whether a chat message is a turn's status line (in Gradio's copy of the history too)."""
    return (msg.get("metadata") or {}).get("id") == PENDING_ID


class ChatRenderer:
    """Applies one run's events to the chat history, in place; `pending` (when given) is the
    turn's status message, kept last and updated until the run ends, then removed."""

    def __init__(
        self,
        history: list[Message],
        store: ArtifactStore,
        save_image: Callable[[Image.Image, str], Path],
        pending: Message | None = None,
        all_evidence: bool = False,
    ):
        self.history = history
        self.store = store
        self.save_image = save_image
        self.all_evidence = all_evidence  # draw every box of the cited artifacts, not only the cited ones
        self._step_msg: dict[str, Message] = {}
        self.pending = pending
        self.started = time.perf_counter()
        self.phase = "starting"

    def apply(self, ev: Any) -> None:
        self._track(ev)
        if isinstance(ev, PlanMade):
            lines = [f"{t['id']}: {t['tool']} {json.dumps(t['args'])}" for t in ev.tasks]
            self._thought(f"Plan ({ev.source})", "\n".join(lines) + (f"\n\n{ev.note}" if ev.note else ""))
        elif isinstance(ev, Thought):
            self._thought(f"Reasoning: {ev.role}, round {ev.round}", ev.text)
        elif isinstance(ev, ToolCalled):
            msg = self._thought(f"Tool: {ev.tool} ({ev.step})", f"args: `{json.dumps(ev.args)}`", status="pending")
            self._step_msg[ev.step] = msg
        elif isinstance(ev, ToolProgress):
            pending = [
                m
                for m in self._step_msg.values()
                if m["metadata"]["status"] == "pending" and m["metadata"]["title"].startswith(f"Tool: {ev.tool} ")
            ]
            if pending:
                pending[-1]["metadata"]["log"] = f"step {ev.done}/{ev.total}"
        elif isinstance(ev, ToolResult):
            self._tool_result(ev)
        elif isinstance(ev, ErrorRaised):
            self.history.append({"role": "assistant", "content": f"Error: {ev.message}"})
        elif isinstance(ev, AnswerGiven):
            self._answer(ev)
        elif isinstance(ev, RunFinished):
            for msg in self._step_msg.values():
                msg["metadata"]["status"] = "done"
        self._show_pending()

    def _track(self, ev: Any) -> None:
        """The phase the run is in, from the event that starts it."""
        if isinstance(ev, LLMStarted):
            self.phase = f"{ev.step}: model working" if ev.step else f"{ROLE_PHASES.get(ev.role, ev.role)} (model)"
        elif isinstance(ev, LLMQueued):
            plural = "s" if ev.ahead != 1 else ""
            self.phase = f"queued, {ev.ahead} request{plural} ahead for the {ev.role} model"
        elif isinstance(ev, ToolCalled):
            self.phase = f"running {ev.tool}"
        elif isinstance(ev, ToolResult | PlanMade | Thought):
            self.phase = "thinking"
        elif isinstance(ev, AnswerGiven | ErrorRaised | RunFinished):
            self.end()

    def _show_pending(self) -> None:
        """The status message last in the chat, with the phase and the time since sending."""
        if self.pending is None:
            return
        elapsed = time.perf_counter() - self.started
        self.pending["metadata"]["title"] = f"Working: {self.phase} - {elapsed:.0f} s"
        if not self.history or self.history[-1] is not self.pending:
            if any(m is self.pending for m in self.history):
                self.history[:] = [m for m in self.history if m is not self.pending]
            self.history.append(self.pending)

    def end(self) -> None:
        """The turn is over (answered, failed or stopped): the status message goes."""
        if self.pending is not None:
            self.history[:] = [m for m in self.history if m is not self.pending]
            self.pending = None

    def _thought(self, title: str, text: str, status: str = "done") -> Message:
        msg = {"role": "assistant", "content": text, "metadata": {"title": title, "status": status}}
        self.history.append(msg)
        return msg

    def _tool_result(self, ev: ToolResult) -> None:
        obs = ev.observation if len(ev.observation) <= MAX_OBSERVATION else ev.observation[:MAX_OBSERVATION] + " …"
        msg = self._step_msg.get(ev.step) or self._thought(f"Tool: {ev.tool} ({ev.step})", "")
        msg["content"] += f"\n\n→ {obs}"
        msg["metadata"].update(status="done", duration=round(ev.duration_s, 2))
        if not ev.ok:
            msg["metadata"]["title"] = f"Failed: {ev.tool} ({ev.step})"
        for aid in ev.artifact_ids:
            art = self.store.get(aid) if aid in self.store else None
            if isinstance(art, ImageArtifact):  # an image a tool made: crop, drawing, generated, edited
                self._image(art.image, f"{aid}.png", f"{aid}: {art.summary()}")

    def _answer(self, ev: AnswerGiven) -> None:
        from mmagent.evidence import evidence_views

        cites = f"\n\n*evidence: {', '.join(ev.evidence)}*" if ev.evidence else ""
        self.history.append({"role": "assistant", "content": ev.answer + cites})
        for image_id, view in evidence_views(self.store, ev.evidence, everything=self.all_evidence):
            self._image(view, f"evidence-{image_id}-{len(self.history)}.png", f"evidence on {image_id}")

    def _image(self, image: Image.Image, name: str, alt: str) -> None:
        path = self.save_image(image, name)
        self.history.append({"role": "assistant", "content": {"path": str(path), "alt_text": alt}})
