"""Shared fixtures: settings pointing at ../shared/models, a scripted chat model, images."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = REPO.parent / "shared" / "models"
# Resolved now: tests chdir into temporary directories.
ENV_MODEL_DIR = Path(os.environ["MMAGENT_MODEL_DIR"]).resolve() if os.environ.get("MMAGENT_MODEL_DIR") else None


class ScriptedChat(BaseChatModel):
    """Replies from a script, in order, and records each request (messages + kwargs).

    Drives control flow in tests; every real backend has its own test elsewhere."""

    replies: list[Any]
    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self._calls

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        self._calls.append({"messages": messages, "kwargs": kwargs})
        if not self.replies:
            raise AssertionError(f"ScriptedChat ran out of replies; last prompt: {messages[-1].content!r}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class SchemaChat(BaseChatModel):
    """Replies the same to the same request, in any process and any order: under a JSON schema
    (structured output), the first allowed value of every required field; else `text`. For
    runs whose LLM calls differ in number per question (a whole evaluation), where a script in
    order cannot be written."""

    text: str = "not sure"

    @property
    def _llm_type(self) -> str:
        return "schema-first-choice"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        fmt = kwargs.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema")
        text = json.dumps(first_instance(schema, schema.get("$defs", {}))) if schema else self.text
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def first_instance(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The simplest value a JSON schema allows: first enum value, first anyOf branch, required fields only."""
    if "$ref" in schema:
        return first_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return first_instance(schema[key][0], defs)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: first_instance(props[k], defs) for k in schema.get("required", [])}
    if kind == "array":
        return [first_instance(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    return {"string": "x", "integer": 0, "number": 0, "boolean": False, "null": None}.get(kind, "x")


@pytest.fixture
def scripted():
    return lambda *replies: ScriptedChat(replies=list(replies))


@pytest.fixture(scope="session")
def settings_kwargs() -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if ENV_MODEL_DIR is not None:
        kw["model_dir"] = ENV_MODEL_DIR
    elif SHARED_MODELS.is_dir():
        kw["model_dir"] = SHARED_MODELS
    return kw


@pytest.fixture
def settings(settings_kwargs):
    from mmagent.core.config import Settings

    return Settings(**settings_kwargs)


@pytest.fixture(scope="session")
def receipt():
    from mmagent.core.samples import render_receipt

    return render_receipt(seed=0)


@pytest.fixture(scope="session")
def chelsea():
    from mmagent.core.samples import skimage_photo

    return skimage_photo("chelsea")


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch, tmp_path):
    """No user config or MMAGENT_* variables (other than the model dir) leak into tests."""
    for key in list(os.environ):
        if key.startswith("MMAGENT_") and key not in ("MMAGENT_MODEL_DIR", "MMAGENT_CACHE_DIR", "MMAGENT_WEIGHTS_DIR"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MMAGENT_SERVER", "off")  # a developer's running `mmagent serve` stays out of tests
    if ENV_MODEL_DIR is not None:
        monkeypatch.setenv("MMAGENT_MODEL_DIR", str(ENV_MODEL_DIR))
    monkeypatch.chdir(tmp_path)


class ToolEnv:
    """A store + runner over the default tools, as one agent run would set them up."""

    def __init__(self, settings, chat=None):
        from mmagent.core.artifacts import ArtifactStore
        from mmagent.core.events import EventStream
        from mmagent.core.llm.client import LLMClient
        from mmagent.core.models import shared_manager
        from mmagent.tools import ToolContext, default_tools
        from mmagent.tools.runner import ToolRunner

        self.store = ArtifactStore()
        self.events = EventStream()
        llm = lambda role: LLMClient(role, chat, self.events.emit, step="tool")  # noqa: E731
        self.runner = ToolRunner(
            default_tools(),
            lambda name: ToolContext(self.store, settings, shared_manager(), llm, tool=name),
            self.events.emit,
        )

    def override_context(self, **fields) -> None:
        """Set fields (e.g. models=, emit=) on every ToolContext this env makes from now on."""
        make = self.runner.make_context

        def made(name):
            ctx = make(name)
            for key, value in fields.items():
                setattr(ctx, key, value)
            return ctx

        self.runner.make_context = made

    def add_image(self, image) -> str:
        from mmagent.core.artifacts import ImageArtifact, Provenance

        return self.store.add(ImageArtifact, Provenance("input"), image=image).id

    def call(self, tool, **args):
        return self.runner.call(tool, args, step="test")


@pytest.fixture
def tool_env(settings):
    return lambda chat=None: ToolEnv(settings, chat)
