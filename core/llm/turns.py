"""Taking turns at a model that answers one request at a time (the embedded llama.cpp model
shared by every chat session and evaluation worker in this process), first come first served,
telling each waiting request how many are ahead of it.

    turns = ModelTurns()
    with turns.turn():          # a caller inside `watching(...)` hears "2 ahead", "1 ahead"
        run_the_model()

A waiter's watcher is set per call through a context variable (`watching`), so the shared model
object needs no knowledge of who is asking; the watcher may raise (a stopped run) and the waiter
leaves the queue.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Watcher = Callable[[int], None]  # called with the number of requests ahead, while waiting

_watcher: contextvars.ContextVar[Watcher | None] = contextvars.ContextVar("mmagent_model_watcher", default=None)

POLL_S = 0.25  # how often a waiter hears its place again (and may be stopped)


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """Calls `watcher(ahead)` while a model call made inside this block waits for its turn."""
    token = _watcher.set(watcher)
    try:
        yield
    finally:
        _watcher.reset(token)


class ModelTurns:
    """A first-come-first-served lock whose waiters know their place in the queue."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()  # the head holds the model

    def waiting(self) -> int:
        """Requests waiting now (not counting the one being answered)."""
        with self._cond:
            return max(len(self._queue) - 1, 0)

    @contextmanager
    def turn(self) -> Iterator[None]:
        ticket = object()
        watcher = _watcher.get()
        with self._cond:
            self._queue.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._queue[0] is ticket:
                        break
                    ahead = self._queue.index(ticket)
                if watcher is not None:
                    watcher(ahead)  # outside the lock: it emits events and may raise
                with self._cond:
                    if self._queue[0] is not ticket:
                        self._cond.wait(POLL_S)
        except BaseException:
            with self._cond:
                self._queue.remove(ticket)
                self._cond.notify_all()
            raise
        try:
            yield
        finally:
            with self._cond:
                self._queue.popleft()
                self._cond.notify_all()
