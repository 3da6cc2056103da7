"""Evaluations on Ray: questions spread over actors, each holding a warm Agent (its tool models
loaded once), while this process writes the one results file exactly as the thread runner does.

Only this module imports Ray, and only `mmagent eval --ray` (or a config's `[ray]` table) imports
this module: without it nothing loads Ray, which is an extra (`pip install 'mmagent[ray]'`).

    run_on_ray(questions, functools.partial(eval_agent, settings), "", Path("results.jsonl"), RayConfig(actors=2))

Faults: a question whose actor dies (killed, out of memory, a node lost) is given to another
actor (a replacement is started) and written once when it finishes; after `max_retries` deaths
it is recorded as an error. Nothing is written before a question finishes, so a run interrupted
and started again resumes without repeating finished questions.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmagent.core.errors import BackendUnavailableError, MMAgentError
from mmagent.evals.config import RayConfig
from mmagent.evals.runner import ResultsWriter, agent_answerer, answer_question, summarize
from mmagent.evals.schema import Question

log = logging.getLogger("mmagent.eval")

NAMESPACE = "mmagent"  # actors are named mmagent-eval-0, -1 ... in it (ray.get_actor finds them)


class EvalActor:
    """One Ray actor: a warm Agent built once by `make_agent` (a picklable factory), answering
    questions into results-file records."""

    def __init__(self, make_agent: Callable[[], Any], prompt_suffix: str) -> None:
        self._answer = agent_answerer(make_agent(), prompt_suffix)

    def answer(self, q: Question) -> dict[str, Any]:
        return answer_question(q, self._answer)

    def pid(self) -> int:
        return os.getpid()


def start_ray(cfg: RayConfig) -> float:
    """Connect to the cluster at `cfg.address`, or start a local one sized for the actors;
    returns the seconds it took."""
    try:
        import ray
    except ImportError:
        raise BackendUnavailableError("Ray is not installed: pip install 'mmagent[ray]'") from None
    t0 = time.perf_counter()
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False, "include_dashboard": False}
        if cfg.address:
            _check_reachable(cfg.address)
            kwargs["address"] = cfg.address
        else:  # a local cluster: enough CPUs for the actors' reservations, even on a small machine
            kwargs["num_cpus"] = max(os.cpu_count() or 1, int(cfg.actors * cfg.num_cpus + 0.999))
        try:
            ray.init(**kwargs)
        except ConnectionError as exc:
            raise BackendUnavailableError(
                f"no Ray cluster answers at {cfg.address} ({exc}); "
                "start one (`ray start --head`) or leave out the address"
            ) from None
    return time.perf_counter() - t0


def _check_reachable(address: str) -> None:
    """A cluster address with a port must accept a connection within seconds: `ray.init` itself
    keeps retrying an address nobody serves for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and the like: Ray finds the address, or fails at once
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise BackendUnavailableError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); "
            "start one (`ray start --head`) or leave out the address"
        ) from None


def run_on_ray(
    questions: list[Question],
    make_agent: Callable[[], Any],
    prompt_suffix: str,
    results: Path,
    cfg: RayConfig,
    progress: bool = True,
) -> dict[str, Any]:
    """Answer the questions not yet in `results` on `cfg.actors` Ray actors; the summary has the
    thread runner's fields plus `ray` (start-up seconds, actors started, questions retried)."""
    import ray
    from ray.exceptions import RayActorError

    startup_s = start_ray(cfg)
    t0 = time.perf_counter()
    first_result_s: float | None = None
    writer = ResultsWriter(results, questions, progress)
    actor_class = ray.remote(EvalActor)
    started = 0

    def new_actor() -> Any:
        nonlocal started
        options = {  # max_restarts 0: a dead actor is replaced here, its question sent elsewhere
            "name": f"mmagent-eval-{started}",
            "num_cpus": cfg.num_cpus,
            "num_gpus": cfg.num_gpus,
            "max_concurrency": cfg.questions_per_actor,
            "max_restarts": 0,
        }
        started += 1
        return actor_class.options(**options).remote(make_agent, prompt_suffix)

    actors = [new_actor() for _ in range(min(cfg.actors, max(1, len(writer.todo))))]
    slots = deque(a for a in actors for _ in range(cfg.questions_per_actor))  # free places to send a question
    queue = deque(writer.todo)
    deaths: Counter[str] = Counter()  # question id -> times its actor died under it
    replaced: set[Any] = set()  # dead actors already replaced (several of their questions fail)
    in_flight: dict[Any, tuple[Question, Any]] = {}
    replacements_left = 3 * cfg.actors + cfg.max_retries  # a factory that always fails must not loop
    try:
        while queue or in_flight:
            while queue and slots:
                q, actor = queue.popleft(), slots.popleft()
                in_flight[actor.answer.remote(q)] = (q, actor)
            (ref,), _ = ray.wait(list(in_flight), num_returns=1)
            q, actor = in_flight.pop(ref)
            try:
                writer.write(ray.get(ref))
                slots.append(actor)
                if first_result_s is None:  # the actors' start (agent, tool models) + one question
                    first_result_s = time.perf_counter() - t0
            except RayActorError as exc:
                deaths[q.id] += 1
                if actor not in replaced:
                    replaced.add(actor)
                    slots = deque(s for s in slots if s is not actor)
                    if replacements_left <= 0:
                        raise MMAgentError(f"Ray actors keep dying; the last one: {_first_line(exc)}") from None
                    replacements_left -= 1
                    replacement = new_actor()
                    slots.extend([replacement] * cfg.questions_per_actor)
                    log.warning("an eval actor died (%s); started a replacement", _first_line(exc))
                if deaths[q.id] <= cfg.max_retries:
                    queue.appendleft(q)  # retried on another actor, written once when it finishes
                else:
                    record = answer_question(q, _died(exc))
                    writer.write(record)
    finally:
        writer.close()
        for a in {*actors, *slots, *(a for _, a in in_flight.values())}:
            ray.kill(a)
    summary = summarize(results)
    summary["ray"] = {
        "startup_s": round(startup_s, 2),
        "first_result_s": round(first_result_s, 2) if first_result_s is not None else None,
        "actors_started": started,
        "questions_retried": sum(1 for n in deaths.values() if n),
    }
    return summary


def _died(exc: Exception) -> Callable[[Question], dict[str, Any]]:
    def fail(q: Question) -> dict[str, Any]:
        raise MMAgentError(f"its Ray actor died on every try: {_first_line(exc)}")

    return fail


def _first_line(exc: Exception) -> str:
    """What went wrong, in a line: the last exception named in Ray's nested record (an error in
    the actor's constructor ends in the original one), else the message's first line."""
    named = _NAMED_ERROR.findall(repr(exc))
    if named:
        return f"{named[-1][0]}: {named[-1][1]}"[:300]
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


_NAMED_ERROR = re.compile(r"([A-Z][A-Za-z]*(?:Error|Exception)): ([^\\\n]+?)(?:\\n|\n|$)")
