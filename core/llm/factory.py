"""Build the chat model for a role from the config, loading embedded weights lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import SecretStr

from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ConfigError
from mmagent.core.llm.replicas import endpoint_list, replica_clients
from mmagent.core.models import ModelManager, size_on_disk
from mmagent.core.options import LlamaCppOptions, OpenAIOptions
from mmagent.core.resolve import resolve_model


def build_chat_model(
    role: str, cfg: RoleConfig, settings: Settings, manager: ModelManager
) -> tuple[BaseChatModel, str | None]:
    """Returns (chat model, endpoint or None). Embedded models are shared via the manager."""
    if cfg.backend == "llamacpp":
        resolved = resolve_model(cfg.model or "qwen2.5-coder-0.5b-instruct", settings)
        if resolved.source == "hub":
            resolved = _download_gguf(resolved.location, settings)

        from mmagent.core.llm.llamacpp import ChatLlamaCpp

        opts = cfg.options_as(LlamaCppOptions)
        served = endpoint_list(opts.server_url)  # set by attach_running_server (mmagent serve), or replicas
        if served:
            return ChatLlamaCpp(
                model_path=str(resolved.location),
                server_url=served[0],
                replicas=served,
                max_tokens=opts.max_tokens,
                timeout_s=settings.llm_timeout_s,
            ), ",".join(served)

        def load() -> BaseChatModel:
            gpu_layers = 999 if cfg.device.startswith("cuda") else opts.n_gpu_layers
            return ChatLlamaCpp(
                model_path=str(resolved.location),
                n_ctx=opts.n_ctx or settings.llm_context,
                n_threads=settings.llm_threads,
                n_gpu_layers=gpu_layers,
                max_tokens=opts.max_tokens,
                slot_dir=str(_slot_dir(resolved.location, settings)) if settings.llm_prompt_cache else None,
            )

        key = f"llm:{resolved.location}"
        return manager.get(key, load, size_on_disk(resolved.location), pinned=True), None

    if cfg.backend == "openai":
        from langchain_openai import ChatOpenAI

        served_opts = cfg.options_as(OpenAIOptions)
        urls = endpoint_list(served_opts.base_url or settings.lmm_url)
        if not urls:
            raise ConfigError(
                f"role '{role}' uses the openai backend but no endpoint is set: "
                "set MMAGENT_LMM_URL (e.g. http://localhost:8000/v1)"
            )
        clients: dict[str, Any] = {}
        if len(urls) > 1:  # replicas: requests go to the least busy one, a failing one is skipped
            clients["http_client"], clients["http_async_client"] = replica_clients(urls, settings.llm_timeout_s)
        chat = ChatOpenAI(
            base_url=urls[0],
            model=cfg.model or settings.lmm_model,
            api_key=SecretStr(served_opts.api_key or settings.lmm_api_key),
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=1,
            max_completion_tokens=served_opts.max_tokens,  # ChatOpenAI's name for max_tokens; same payload
            **clients,
        )
        return chat, ",".join(urls)
    raise ConfigError(f"role '{role}': unknown LLM backend '{cfg.backend}' (use llamacpp or openai)")


def _slot_dir(model: str | Path, settings: Settings) -> Path:
    """One folder per model file (name, size, mtime): a changed model never reads old caches."""
    p = Path(model)
    st = p.stat()
    return Path(settings.cache_dir) / "llm-slots" / f"{p.stem}-{st.st_size}-{int(st.st_mtime)}"


def _download_gguf(hub_id: str, settings: Settings):
    """Online users only: fetch a GGUF named 'repo/owner/file.gguf' from the hub."""
    from mmagent.core.resolve import ResolvedModel

    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ConfigError("downloading GGUF weights needs huggingface_hub: pip install huggingface_hub") from None
    repo, filename = hub_id.rsplit("/", 1)
    path = hf_hub_download(repo, filename, cache_dir=str(settings.cache_dir / "hub"))
    return ResolvedModel(hub_id, path, "hub")
