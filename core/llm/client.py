"""The one way planners talk to a chat model: timed, counted, schema-validated.

`structured()` asks the backend to constrain decoding to the pydantic model's JSON schema
(llama.cpp grammar, vLLM guided decoding: both take OpenAI's `response_format`), validates
the reply with pydantic anyway, gives the model one repair attempt quoting the validation
error, and then fails with StructuredOutputError.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from mmagent.core.errors import (
    BackendUnavailableError,
    MMAgentError,
    RunCancelled,
    StructuredOutputError,
    validation_problems,
)
from mmagent.core.events import LLMCalled, LLMQueued, LLMStarted
from mmagent.core.llm.turns import watching

M = TypeVar("M", bound=BaseModel)
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.S)


def parse_json_reply(text: str) -> Any:
    """JSON from a reply, tolerating the ``` fences some models wrap it in."""
    stripped = _FENCE.sub("", text.strip())
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        start, end = stripped.find("{"), stripped.rfind("}")
        if start != -1 and end > start:
            return json.loads(stripped[start : end + 1])
        raise


class LLMClient:
    def __init__(
        self,
        role: str,
        chat: BaseChatModel,
        emit: Callable[[Any], None],
        endpoint: str | None = None,
        constrained: bool = True,
        step: str = "",
        vision: bool = False,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        self.role = role
        self.stop_requested = stop_requested  # a stopped run leaves the model's queue at once
        self.step = step
        self.chat = chat
        self.emit = emit
        self.endpoint = endpoint
        self.constrained = constrained
        self.vision = vision  # the model accepts images in messages

    def _invoke(self, messages: list[BaseMessage], purpose: str, runnable: Any = None, **kwargs: Any) -> AIMessage:
        self.emit(LLMStarted(role=self.role, purpose=purpose, step=self.step))
        t0 = time.perf_counter()
        ok = False
        usage: dict[str, Any] = {}
        heard: list[int] = []

        def waiting(ahead: int) -> None:  # the model answers other requests first (core.llm.turns)
            if self.stop_requested():
                raise RunCancelled("the run was stopped while waiting for the model")
            if not heard or heard[-1] != ahead:
                heard.append(ahead)
                self.emit(LLMQueued(role=self.role, ahead=ahead))

        try:
            with watching(waiting):
                reply = (runnable or self.chat).invoke(messages, **kwargs)
            usage = dict(getattr(reply, "usage_metadata", None) or {})
            ok = True
            return reply
        except Exception as exc:
            if _is_connection_error(exc):
                raise BackendUnavailableError(
                    f"the {self.role} model server at {self.endpoint} cannot be reached "
                    f"({type(exc).__name__}); start it (`mmagent serve`) or fix MMAGENT_LMM_URL"
                ) from None
            if "context size" in str(exc) or "context length" in str(exc):  # llama.cpp, vLLM / OpenAI
                raise MMAgentError(
                    f"the {self.role} model's prompt ({purpose}) is longer than its context window; "
                    "raise MMAGENT_LLM_CONTEXT or ask about fewer or smaller images"
                ) from None
            raise
        finally:
            dt = time.perf_counter() - t0
            cached = int((usage.get("input_token_details") or {}).get("cache_read") or 0)
            self.emit(
                LLMCalled(
                    role=self.role,
                    purpose=purpose,
                    step=self.step,
                    duration_s=dt,
                    ok=ok,
                    prompt_tokens=usage.get("input_tokens", 0),
                    cached_tokens=cached,
                    endpoint=self.endpoint or "",
                    completion_tokens=usage.get("output_tokens", 0),
                )
            )

    def complete(self, messages: list[BaseMessage], purpose: str, **kwargs: Any) -> str:
        return str(self._invoke(messages, purpose, **kwargs).content)

    def with_tools(self, messages: list[BaseMessage], tools: list[Any], purpose: str) -> AIMessage:
        """Native tool calling (the reply's `tool_calls`), for backends that support it."""
        return self._invoke(messages, purpose, runnable=self.chat.bind_tools(tools))

    def structured(
        self,
        messages: list[BaseMessage],
        schema: type[M],
        purpose: str,
        check: Callable[[M], list[str]] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> tuple[M, bool]:
        """Returns (value, repaired). `check` adds semantic problems beyond the schema."""
        kwargs: dict[str, Any] = {}
        if self.constrained:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema or schema.model_json_schema()},
            }
        history = list(messages)
        problem = ""
        last_valid: M | None = None
        for attempt in range(2):
            try:
                text = self.complete(history, purpose if attempt == 0 else f"{purpose} (repair)", **kwargs)
            except Exception as exc:
                if type(exc).__name__ != "LengthFinishReasonError":  # langchain-openai, on a cut-off reply
                    raise
                problem = "the reply ran to the token limit without finishing the JSON; be brief"
                history = list(messages) + [HumanMessage(content=f"Your last reply was invalid: {problem}.")]
                continue
            try:
                value = schema.model_validate(parse_json_reply(text))
                last_valid = value
                problems = check(value) if check else []
                if not problems:
                    return value, attempt > 0
                problem = "; ".join(problems)
            except (json.JSONDecodeError, ValidationError) as exc:
                problem = _short_error(exc)
            history = list(messages) + [
                AIMessage(content=text[:2000]),
                HumanMessage(content=f"That reply is invalid: {problem}. Reply again with corrected JSON only."),
            ]
        raise StructuredOutputError(
            f"{self.role} model gave invalid {schema.__name__} twice: {problem}", last_valid=last_valid
        )


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return validation_problems(exc, limit=5, unnamed="reply")
    return f"not valid JSON ({exc})"


def _is_connection_error(exc: Exception) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"APIConnectionError", "ConnectError", "ConnectionError", "APITimeoutError"})


def _chain(exc: BaseException | None):
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
