"""Agent: the Python API. `Agent(settings).run(question, images)` or `.stream(...)`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models.chat_models import BaseChatModel
from PIL import Image

from mmagent.core.artifacts import ArtifactStore, ImageArtifact, Provenance
from mmagent.core.config import Settings, load_settings
from mmagent.core.errors import MMAgentError, RunCancelled, UserInputError
from mmagent.core.events import (
    AnswerGiven,
    ErrorRaised,
    EventStream,
    LLMCalled,
    LLMStarted,
    PlanMade,
    RunFinished,
    RunStarted,
    ToolCalled,
    ToolResult,
)
from mmagent.core.images import LoadedImage, load_image, normalize_mode
from mmagent.core.llm.client import LLMClient
from mmagent.core.models import ModelManager, shared_manager
from mmagent.core.options import LlamaCppOptions, OpenAIOptions
from mmagent.core.question import asks_for_image, clean_question
from mmagent.core.result import Result, Step, Timings
from mmagent.evidence import cited_value, evidence_regions
from mmagent.planners import make_planner
from mmagent.planners.answer_format import split_format
from mmagent.planners.base import ENTAILMENT, RunContext, task_text
from mmagent.session import ChatSession
from mmagent.tools import ToolContext, VisionTool, all_tools
from mmagent.tools.runner import ToolRunner
from mmagent.vetting import vet

ImageInput = str | Path | Image.Image | LoadedImage  # LoadedImage: checked and decoded at the edge
Mode = Literal["question", "hypothesis"]


class Agent:
    """Answers questions about images with the configured planner and tools.

    from mmagent import Agent
    result = Agent().run("What is the total?", ["receipt.png"])
    result.short_answer          # "25.13": the computed value, scored as VQA scores it
    result.answer, result.evidence  # the sentence, and the artifact ids it rests on
    for event in Agent().stream("How many people?", ["bus.jpg"]):
        print(event.type)        # run_started, tool_call, tool_result, llm_call ... run_finished
    """

    def __init__(
        self,
        settings: Settings | None = None,
        tools: Sequence[VisionTool] | None = None,
        chat_models: dict[str, BaseChatModel] | None = None,
        models: ModelManager | None = None,
    ) -> None:
        """`chat_models` overrides the configured chat model per role (tests, custom backends).
        A running `mmagent serve` serves the LLM roles (see core.llm.server)."""
        from mmagent.core.llm.server import attach_running_server

        self.settings = attach_running_server(settings or load_settings())
        self.models = models or shared_manager(self.settings.memory_budget)
        self._tool_factory = (lambda: list(tools)) if tools is not None else all_tools
        self._chat_overrides = dict(chat_models or {})
        self._chat_cache: dict[str, tuple[BaseChatModel, str | None]] = {}
        self._lock = threading.Lock()
        self._tool_cache = None
        if self.settings.tool_cache:
            from mmagent.core.cache import ToolCache

            self._tool_cache = ToolCache(self.settings.cache_dir / "tools")

    # -- models -------------------------------------------------------------------------
    def chat_model(self, role: str) -> tuple[BaseChatModel, str | None]:
        with self._lock:
            if role in self._chat_overrides:
                return self._chat_overrides[role], None
            if role not in self._chat_cache:
                from mmagent.core.llm.factory import build_chat_model

                self._chat_cache[role] = build_chat_model(role, self.settings.role(role), self.settings, self.models)
            return self._chat_cache[role]

    def _preload(self, role: str) -> None:
        try:
            chat, _ = self.chat_model(role)
            warm = getattr(chat, "warm", None)
            if warm is not None:
                warm()
        except Exception:  # noqa: BLE001 - the planner's first call reports any real problem
            pass

    def _client_factory(
        self, emit: Callable[[Any], None], step: str = "", stop_requested: Callable[[], bool] = lambda: False
    ) -> Callable[[str], LLMClient]:
        def make(role: str) -> LLMClient:
            chat, endpoint = self.chat_model(role)
            options = self.settings.role(role).typed_options
            constrained = not isinstance(options, LlamaCppOptions | OpenAIOptions) or options.structured
            declared = self.settings.role(role).vision  # the role's capability, else its model class's
            vision = declared if declared is not None else getattr(chat, "sees_images", True)
            return LLMClient(
                role,
                chat,
                emit,
                endpoint=endpoint,
                constrained=constrained,
                step=step,
                vision=vision,
                stop_requested=stop_requested,
            )

        return make

    def tool_status(self) -> dict[str, str | None]:
        """Each tool and why it cannot run here (None when it can): no weights offline, no VLM."""
        return {t.name: t.unavailable(self.settings) for t in self._tool_factory()}

    # -- running ------------------------------------------------------------------------
    def run(
        self,
        question: str,
        images: Sequence[ImageInput] = (),
        on_event: Callable[[Any], None] | None = None,
        *,
        choices: Sequence[str] | None = None,
        mode: Mode = "question",
        session: ChatSession | None = None,
    ) -> Result:
        """`choices`: answer options (multiple choice, VCR); `mode="hypothesis"`: `question` is a
        hypothesis to judge as entailment / neutral / contradiction (SNLI-VE); `session`: a chat
        whose earlier images and artifacts this question may refer to."""
        events = EventStream()
        if on_event:
            events.subscribe(on_event)
        return self._run(question, images, events, choices, mode, session)

    def stream(
        self,
        question: str,
        images: Sequence[ImageInput] = (),
        *,
        choices: Sequence[str] | None = None,
        mode: Mode = "question",
        session: ChatSession | None = None,
        heartbeat_s: float | None = None,
    ) -> Iterator[Any]:
        """Yield events as they happen; the last one is RunFinished carrying the result. With
        `heartbeat_s`, also a `Heartbeat` whenever nothing happened for that long."""
        events = EventStream()
        work = lambda: self._run(question, images, events, choices, mode, session)  # noqa: E731
        yield from events.iterate_live(work, heartbeat_s)

    def _load_inputs(self, images: Sequence[ImageInput], store: ArtifactStore) -> list[str]:
        ids = []
        for item in images:
            if isinstance(item, LoadedImage):
                img, source = item.image, item.source
            elif isinstance(item, Image.Image):
                img, source = normalize_mode(item), None
            else:
                img, source = load_image(item), str(item)
            art = store.add(ImageArtifact, Provenance("input", params={"source": source}), image=img, source=source)
            ids.append(art.id)
        return ids

    def _run(
        self,
        question: str,
        images: Sequence[ImageInput],
        events: EventStream,
        choices: Sequence[str] | None = None,
        mode: Mode = "question",
        session: ChatSession | None = None,
    ) -> Result:
        t0 = time.perf_counter()
        question = clean_question(question)
        if not images and not (session and session.current_images):
            raise UserInputError("no image given; pass at least one image")
        if mode not in ("question", "hypothesis"):
            raise UserInputError(f"mode must be 'question' or 'hypothesis', not '{mode}'")
        choice_list = [str(c).strip() for c in choices] if choices else None
        if choice_list is not None and (len(choice_list) < 2 or not all(choice_list)):
            raise UserInputError("give at least two non-empty answer choices, or none")
        if mode == "hypothesis":
            choice_list = choice_list or list(ENTAILMENT)
        store = session.store if session else ArtifactStore()
        known_before = set(store.ids())
        image_ids = self._load_inputs(images, store) if images else list(session.current_images)  # type: ignore[union-attr]
        planner = make_planner(self.settings.planner_kind)
        # A fresh process loads the planner's model while the tools perceive, not in its first call.
        threading.Thread(target=self._preload, args=("planner",), daemon=True).start()
        events.emit(RunStarted(question=question, images=image_ids, planner=planner.name))

        tools, unavailable = [], {}
        for tool in self._tool_factory():
            reason = tool.unavailable(self.settings)
            if reason is None and tool.creates_images and not asks_for_image(question):
                reason = "not asked for: it runs only when the question asks to make or edit an image"
            if reason is None:
                tools.append(tool)
            else:
                unavailable[tool.name] = reason
        emit = self._cancellable(events, session)
        stopped = session.cancel.is_set if session else (lambda: False)
        llm = self._client_factory(emit, stop_requested=stopped)
        runner = ToolRunner(
            tools,
            lambda name: ToolContext(
                store,
                self.settings,
                self.models,
                self._client_factory(emit, step=name, stop_requested=stopped),
                tool=name,
                emit=emit,
            ),
            emit,
            unavailable,
            self._tool_cache,
        )
        # "Answer with a single word ..." is how to answer, not what to find: planners never see it
        asked, (question, answer_format) = question, split_format(question)
        task = task_text(question, choice_list, mode)
        if session and session.turns:
            task = f"Earlier in this chat:\n{session.history()}\nNow: {task}"
        run = RunContext(
            task,
            image_ids,
            store,
            runner,
            self.settings,
            llm,
            emit,
            main_question=question,
            choices=choice_list,
            mode=mode,
            events=events.events,
        )
        try:
            final = planner.solve(run)
        except MMAgentError as exc:
            # A backend that is down or a config error ends the run with a clear message; the
            # images stay the session's current ones, so asking again needs no new upload.
            if session is not None:
                session.current_images = image_ids
            events.emit(ErrorRaised(message=str(exc), where="planner"))
            events.emit(RunFinished(ok=False, wall_s=time.perf_counter() - t0))
            raise
        if not final.short and (value := cited_value(store, final.evidence)) is not None:
            final.short = value.short  # a loop's answer cites the value it computed
        vet(final, store, [store.get(i) for i in store.ids() if i not in known_before], question)
        if answer_format and final.short:
            final.answer = final.short
            final.notes.append(f"answer-format instruction honoured: {answer_format!r}")
        events.emit(AnswerGiven(answer=final.answer, evidence=final.evidence))
        if session is not None:
            session.record(
                question, final.answer, final.evidence, image_ids, [i for i in store.ids() if i not in known_before]
            )
        result = self._result(asked, planner.name, final, store, events, time.perf_counter() - t0, run.phase_seconds)
        events.emit(RunFinished(ok=result.ok, wall_s=result.timings.wall_s, result=result.model_dump()))
        return result

    @staticmethod
    def _cancellable(events: EventStream, session: ChatSession | None) -> Callable[[Any], None]:
        """The run's emit; once the session's stop flag is set, the next tool or model call
        raises RunCancelled (a model call already running finishes first)."""
        if session is None:
            return events.emit
        session.cancel.clear()

        def emit(event: Any) -> None:
            events.emit(event)
            if session.cancel.is_set() and isinstance(event, (ToolCalled, LLMStarted, LLMCalled)):
                raise RunCancelled("the run was stopped")

        return emit

    def _result(
        self,
        question: str,
        planner: str,
        final: Any,
        store: ArtifactStore,
        events: EventStream,
        wall: float,
        phases: dict[str, float],
    ) -> Result:
        steps: list[Step] = []
        open_steps: dict[str, list[Step]] = {}  # a result closes the oldest open call of its step id
        llm_s = llm_in_tools = 0.0
        # prompt_cached: prompt tokens the server reused from its cache instead of evaluating
        tokens = {"prompt": 0, "prompt_cached": 0, "completion": 0, "llm_calls": 0}
        plan_source = ""
        served_by: dict[str, str] = {}
        for ev in events.events:
            if isinstance(ev, ToolCalled):
                steps.append(Step(step=ev.step, tool=ev.tool, args=ev.args, ok=False, observation=""))
                open_steps.setdefault(ev.step, []).append(steps[-1])
            elif isinstance(ev, ToolResult) and open_steps.get(ev.step):
                s = open_steps[ev.step].pop(0)
                s.ok, s.observation, s.artifact_ids, s.duration_s = (
                    ev.ok,
                    ev.observation,
                    ev.artifact_ids,
                    ev.duration_s,
                )
            elif isinstance(ev, LLMCalled):
                llm_s += ev.duration_s
                llm_in_tools += ev.duration_s if ev.step else 0.0
                tokens["prompt"] += ev.prompt_tokens
                tokens["prompt_cached"] += ev.cached_tokens
                tokens["llm_calls"] += 1
                served_by[ev.role] = ev.endpoint or "embedded"
                tokens["completion"] += ev.completion_tokens
            elif isinstance(ev, PlanMade):
                plan_source = ev.source
        # Tool time is the wall time of the execute phase when known (tasks overlap there).
        tool_wall = phases.get("execute", sum(s.duration_s for s in steps))
        tool_s = max(0.0, tool_wall - llm_in_tools)
        return Result(
            question=question,
            answer=final.answer,
            evidence=final.evidence,
            steps=steps,
            artifacts=[a.to_json() for a in store.all()],
            timings=Timings(wall_s=wall, llm_s=llm_s, tool_s=tool_s, orchestration_s=max(0.0, wall - llm_s - tool_s)),
            tokens=tokens,
            served_by=served_by,
            planner=planner,
            plan_source=plan_source,
            notes=final.notes
            + [
                f"step {s.step} ({s.tool}) failed: {s.observation.removeprefix('ERROR: ')[:160]}"
                for s in steps
                if not s.ok
            ],
            ok=final.ok,
            rounds=final.rounds,
            details=final.details,
            short_answer=final.short or final.answer,
            evidence_regions=[r.to_json() for r in evidence_regions(store, final.evidence)],
            trace=[e.model_dump(mode="json") for e in events.events],
        )
