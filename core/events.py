"""The one event stream: the CLI prints it, the UI renders it, evaluations record it."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class _Event(BaseModel):
    t: float = Field(default_factory=time.time)


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    question: str
    images: list[str]
    planner: str


class PlanMade(_Event):
    type: Literal["plan"] = "plan"
    tasks: list[dict[str, Any]]
    source: str  # "llm", "llm-repaired" or "fallback"
    note: str = ""


class Thought(_Event):
    """A reasoning loop's step in words: sub-questions asked, an analysis, a ReAct thought."""

    type: Literal["thought"] = "thought"
    round: int
    role: str  # questioner | reasoner | react
    text: str


class StepStarted(_Event):
    type: Literal["step_started"] = "step_started"
    step: str
    description: str


class ToolCalled(_Event):
    type: Literal["tool_call"] = "tool_call"
    step: str
    tool: str
    args: dict[str, Any]


class ToolResult(_Event):
    type: Literal["tool_result"] = "tool_result"
    step: str
    tool: str
    ok: bool
    artifact_ids: list[str] = []
    observation: str
    duration_s: float


class ToolProgress(_Event):
    """A long tool call reporting progress (e.g. diffusion denoising steps)."""

    type: Literal["tool_progress"] = "tool_progress"
    tool: str
    done: int
    total: int


class LLMStarted(_Event):
    """A model call begins (it may wait its turn first): the UI shows the model at work."""

    type: Literal["llm_start"] = "llm_start"
    role: str
    purpose: str
    step: str = ""


class LLMQueued(_Event):
    """A model call waits while the model answers other requests (other chat sessions)."""

    type: Literal["llm_queued"] = "llm_queued"
    role: str
    ahead: int  # requests before this one, the one being answered included


class Heartbeat(_Event):
    """Nothing new for a while, the run still working (a stream's reader updates elapsed time);
    not part of a run's record."""

    type: Literal["heartbeat"] = "heartbeat"


class LLMCalled(_Event):
    type: Literal["llm_call"] = "llm_call"
    role: str
    purpose: str
    step: str = ""  # set when a tool (e.g. extract) made the call
    duration_s: float
    prompt_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, how many the server reused from its prompt cache
    endpoint: str = ""  # the model server's URL; "" for a model run in this process
    completion_tokens: int = 0
    ok: bool = True


class AnswerGiven(_Event):
    type: Literal["answer"] = "answer"
    answer: str
    evidence: list[str]


class ErrorRaised(_Event):
    type: Literal["error"] = "error"
    message: str
    where: str = ""


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    ok: bool
    wall_s: float
    result: dict[str, Any] | None = None  # the Result as JSON, on success


Event = Annotated[
    RunStarted
    | PlanMade
    | StepStarted
    | ToolCalled
    | ToolResult
    | ToolProgress
    | LLMStarted
    | LLMQueued
    | LLMCalled
    | AnswerGiven
    | ErrorRaised
    | RunFinished
    | Thought,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_json(data: dict[str, Any]) -> Event:
    """Read an event back (replay, evaluation traces)."""
    return EVENT_ADAPTER.validate_python(data)


def llm_tokens(events: Iterable[Any]) -> int:
    """Prompt and completion tokens of every LLM call among `events` (a loop's token budget)."""
    return sum(e.prompt_tokens + e.completion_tokens for e in events if isinstance(e, LLMCalled))


class EventStream:
    """Collects a run's events in order and forwards each to subscribers as it happens."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._subscribers: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Callable[[Any], None]) -> None:
        self._subscribers.append(fn)

    def emit(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)
            subscribers = list(self._subscribers)
        for fn in subscribers:
            fn(event)

    def iterate_live(self, work: Callable[[], Any], heartbeat_s: float | None = None) -> Iterator[Any]:
        """Run `work` in a thread and yield its events while it runs; re-raise its error. With
        `heartbeat_s`, a `Heartbeat` when no event came for that long (a long model call)."""
        q: queue.Queue[Any] = queue.Queue()
        done = object()
        self.subscribe(q.put)
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the consumer below
                outcome["error"] = exc
            finally:
                q.put(done)

        thread = threading.Thread(target=target, name="mmagent-run", daemon=True)
        thread.start()
        while True:
            try:
                item = q.get(timeout=heartbeat_s)
            except queue.Empty:
                yield Heartbeat()
                continue
            if item is done:
                break
            yield item
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
