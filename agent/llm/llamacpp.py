"""Embedded chat model: a GGUF run in-process by xllamacpp, as a langchain-core chat model.

xllamacpp is a prebuilt llama.cpp wheel whose Server takes OpenAI-style request dicts
directly, including `response_format` with a JSON schema (constrained decoding).
"""
from __future__ import annotations

import threading
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from agent.llm.messages import to_openai_messages


class ChatLlamaCpp(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    n_gpu_layers: int = 0
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0

    _server: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "xllamacpp"

    def _ensure_server(self) -> Any:
        if self._server is None:
            import xllamacpp as xlc

            params = xlc.CommonParams()
            params.model.path = self.model_path
            params.n_ctx = self.n_ctx
            params.cpuparams.n_threads = self.n_threads
            params.cpuparams_batch.n_threads = self.n_threads
            params.n_gpu_layers = self.n_gpu_layers
            params.verbosity = 0
            self._server = xlc.Server(params)
        return self._server

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request: dict[str, Any] = {
            "messages": to_openai_messages(messages),
            "temperature": kwargs.pop("temperature", self.temperature),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
            "seed": self.seed,
        }
        if stop:
            request["stop"] = stop
        fmt = kwargs.pop("response_format", None)
        if fmt and fmt.get("type") == "json_schema":
            # llama.cpp's own schema-to-grammar path: measured 43 tok/s from the first call,
            # where response_format (llguidance) spent ~70 s compiling each new schema.
            request["json_schema"] = fmt["json_schema"]["schema"]
        elif fmt:
            request["response_format"] = fmt
        with self._lock:  # one slot: llama.cpp serialises requests anyway
            response = self._ensure_server().handle_chat_completions(request)
        if "error" in response:
            raise RuntimeError(f"llama.cpp error: {response['error']}")
        choice = response["choices"][0]
        usage = response.get("usage", {})
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=UsageMetadata(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
            response_metadata={"finish_reason": choice.get("finish_reason"),
                               "timings": response.get("timings", {})},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def close(self) -> None:
        self._server = None
