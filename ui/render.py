"""The agent's event stream as chat messages (Gradio's messages format): collapsible "thought"
messages for the plan, loop thoughts and each tool call with its result, then the answer with
the evidence drawn on the images, and images that tools made shown inline.

Pure data in, dicts out (no Gradio import), so it is unit-tested without a browser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from mmagent.core.artifacts import ArtifactStore, ImageArtifact
from mmagent.core.events import (
    AnswerGiven,
    ErrorRaised,
    PlanMade,
    RunFinished,
    Thought,
    ToolCalled,
    ToolProgress,
    ToolResult,
)

Message = dict[str, Any]
MAX_OBSERVATION = 1500


class ChatRenderer:
    """Applies one run's events to the chat history, in place."""

    def __init__(self, history: list[Message], store: ArtifactStore, save_image: Callable[[Image.Image, str], Path]):
        self.history = history
        self.store = store
        self.save_image = save_image
        self._step_msg: dict[str, Message] = {}

    def apply(self, ev: Any) -> None:
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
        for image_id, view in evidence_views(self.store, ev.evidence):
            self._image(view, f"evidence-{image_id}-{len(self.history)}.png", f"evidence on {image_id}")

    def _image(self, image: Image.Image, name: str, alt: str) -> None:
        path = self.save_image(image, name)
        self.history.append({"role": "assistant", "content": {"path": str(path), "alt_text": alt}})
