"""The packaged GGUF as a langchain-core chat model: run in-process by xllamacpp (embedded), or
by the llama.cpp server `mmagent serve` keeps warm (`server_url`), with the same requests.

xllamacpp is a prebuilt llama.cpp wheel whose Server takes OpenAI-style request dicts
directly, including a JSON schema for constrained decoding; its HTTP server takes the same dict.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from mmagent.core.llm.messages import to_openai_messages
from mmagent.core.llm.turns import ModelTurns


def server_params(model_path: str, slots: int, ctx_per_slot: int, threads: int, gpu_layers: int = 0) -> Any:
    """llama.cpp server parameters, the same in-process and for `mmagent serve`: `slots` parallel
    slots, each with the context one call has and its own cached prompt prefix."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = model_path
    params.n_parallel = slots
    params.n_ctx = ctx_per_slot * slots
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    params.n_gpu_layers = gpu_layers
    params.cache_prompt = True  # a request reuses the longest prefix its slot already evaluated
    params.verbosity = 0
    return params


class ChatLlamaCpp(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    # The packaged GGUFs are text models: images in messages are not sent (a role's `vision`
    # overrides this for a multimodal GGUF served with its projector).
    sees_images: ClassVar[bool] = False

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    n_gpu_layers: int = 0
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0
    n_slots: int = 2  # embedded: the planner's two prompts (intent, choose) each keep a cached slot
    server_url: str | None = None  # a running llama.cpp server serving this GGUF (mmagent serve)
    replicas: list[str] = Field(default_factory=list)  # server_url and its replicas, balanced (core.llm.replicas)
    timeout_s: float = 300.0
    # Embedded: where the slots' prompt caches are kept between processes. A fresh process
    # restores them, so a one-off `mmagent ask` does not evaluate the static system prompts again
    # (~650 tokens a call, 12 s at this CPU's 54 tokens/s); None keeps nothing on disk.
    slot_dir: str | None = None

    _server: Any = PrivateAttr(default=None)
    # in-process: one request at a time, in order of arrival; a waiting caller hears its place
    _turns: ModelTurns = PrivateAttr(default_factory=ModelTurns)
    _http: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "xllamacpp"

    def _ensure_server(self) -> Any:
        if self._server is None:
            import xllamacpp as xlc

            params = server_params(self.model_path, self.n_slots, self.n_ctx, self.n_threads, self.n_gpu_layers)
            if self.slot_dir:
                Path(self.slot_dir).mkdir(parents=True, exist_ok=True)
                params.slot_save_path = os.path.join(self.slot_dir, "")  # llama.cpp appends the name
            self._server = xlc.Server(params)
            if self.slot_dir:
                self._slots("restore", self.slot_dir)
                atexit.register(self.save_slots)
        return self._server

    def warm(self) -> None:
        """Load the model (and restore its slots) now, e.g. while tools run, not in the first call."""
        if not self.server_url:
            with self._turns.turn():
                self._ensure_server()

    def save_slots(self) -> None:
        """Write every slot's prompt cache to `slot_dir` (at exit; a later process restores it)."""
        if self._server is not None and self.slot_dir:
            self._slots("save", self.slot_dir)

    def _slots(self, action: str, slot_dir: str) -> None:
        """Save or restore every slot's KV cache (llama.cpp's /slots API on the embedded server).
        Best effort: a missing or incompatible file only means that prompt is evaluated afresh."""
        import httpx

        base = self._server.listening_address
        for slot in range(self.n_slots):
            name = f"slot{slot}.bin"
            if action == "restore" and not (Path(slot_dir) / name).is_file():
                continue
            try:  # no lock: restore runs inside _generate's turn, and the server queues slot tasks itself
                httpx.post(f"{base}/slots/{slot}?action={action}", json={"filename": name}, timeout=30)
            except Exception:  # noqa: BLE001 - a cache, never a reason to fail
                pass

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
        if self.server_url:  # the server batches parallel requests over its slots
            response = self._post(request)
        else:
            with self._turns.turn():
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
                input_token_details={"cache_read": (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)},
            ),
            response_metadata={"finish_reason": choice.get("finish_reason"), "timings": response.get("timings", {})},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _post(self, request: dict[str, Any]) -> dict[str, Any]:
        import httpx

        if self._http is None:
            from mmagent.core.llm.replicas import replica_clients

            several = len(self.replicas) > 1
            self._http = (
                replica_clients(self.replicas, self.timeout_s)[0] if several else httpx.Client(timeout=self.timeout_s)
            )
        r = self._http.post(f"{self.server_url}/v1/chat/completions", json=request)
        try:
            return r.json()
        except ValueError:
            return {"error": f"HTTP {r.status_code}: {r.text[:300]}"}

    def close(self) -> None:
        self._server = None
