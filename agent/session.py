"""A chat session: one artifact store and the turns so far, so follow-up questions can refer to
earlier images and artifacts ("now crop the second person"). Each UI browser session owns one;
nothing in it is shared with another session."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from mmagent.core.artifacts import ArtifactStore, ImageArtifact

MAX_HISTORY_TURNS = 4


@dataclass
class Turn:
    question: str
    answer: str
    evidence: list[str]
    image_ids: list[str]


@dataclass
class ChatSession:
    store: ArtifactStore = field(default_factory=ArtifactStore)
    turns: list[Turn] = field(default_factory=list)
    current_images: list[str] = field(default_factory=list)  # what a question without images is about
    cancel: threading.Event = field(default_factory=threading.Event)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def history(self) -> str:
        """Earlier turns for the planner, with the artifacts their answers cited."""
        lines = []
        for t in self.turns[-MAX_HISTORY_TURNS:]:
            cited = "; ".join(self.store.get(e).summary() for e in t.evidence if e in self.store)
            lines.append(f"- Q: {t.question} A: {t.answer}" + (f" (evidence: {cited})" if cited else ""))
        return "\n".join(lines)

    def record(self, question: str, answer: str, evidence: list[str], image_ids: list[str], new_ids: list[str]) -> None:
        """`new_ids`: the artifacts this turn made. An image it generated or edited becomes what
        the next question is about; otherwise the turn's images stay current."""
        self.turns.append(Turn(question, answer, evidence, image_ids))
        made = [
            i
            for i in new_ids
            if isinstance(art := self.store.get(i), ImageArtifact) and art.origin in ("generated", "edited")
        ]
        self.current_images = [made[-1]] if made else image_ids
