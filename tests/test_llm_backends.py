"""Both chat backends on real code: embedded llama.cpp (xllamacpp) and an OpenAI-compatible
server (the same llama.cpp build serving HTTP on localhost), plus an unreachable endpoint."""

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from mmagent.core.config import RoleConfig
from mmagent.core.errors import BackendUnavailableError
from mmagent.core.events import EventStream, LLMCalled
from mmagent.core.llm.client import LLMClient
from mmagent.core.llm.factory import build_chat_model
from mmagent.core.models import shared_manager

pytestmark = pytest.mark.llm


class Shopping(BaseModel):
    items: list[str]
    count: int


MESSAGES = [
    SystemMessage(content="Extract the shopping list as JSON."),
    HumanMessage(content="Buy eggs, milk and bread."),
]


@pytest.fixture(scope="module")
def embedded(settings_kwargs):
    from mmagent.core.config import Settings

    s = Settings(**settings_kwargs)
    chat, endpoint = build_chat_model("planner", s.planner, s, shared_manager())
    return chat


def test_embedded_structured_output_is_constrained_and_counted(embedded):
    events = EventStream()
    client = LLMClient("planner", embedded, events.emit)
    value, repaired = client.structured(MESSAGES, Shopping, purpose="test")
    assert isinstance(value, Shopping) and not repaired
    assert {"eggs", "milk", "bread"} <= {i.lower() for i in value.items}
    call = events.events[-1]
    assert isinstance(call, LLMCalled) and call.prompt_tokens > 10 and call.completion_tokens > 3


def test_openai_compatible_backend_against_local_server(embedded, settings_kwargs):
    """ChatOpenAI with base_url, talking HTTP to llama.cpp's OpenAI-compatible server."""
    from mmagent.core.config import Settings

    address = embedded._ensure_server().listening_address
    s = Settings(**settings_kwargs, lmm_url=f"{address}/v1", lmm_model="local")
    chat, endpoint = build_chat_model("reasoner", s.reasoner, s, shared_manager())
    assert type(chat).__name__ == "ChatOpenAI" and endpoint == f"{address}/v1"
    events = EventStream()
    client = LLMClient("reasoner", chat, events.emit, endpoint=endpoint)
    value, _ = client.structured(MESSAGES, Shopping, purpose="test")
    assert len(value.items) >= 2
    assert events.events[-1].prompt_tokens > 10  # the call's record (the LLMCalled event) counts the tokens


def test_unreachable_server_names_the_endpoint(settings_kwargs):
    from mmagent.core.config import Settings

    s = Settings(**settings_kwargs, lmm_url="http://127.0.0.1:9/v1", llm_timeout_s=5)
    chat, endpoint = build_chat_model("reasoner", s.reasoner, s, shared_manager())
    client = LLMClient("reasoner", chat, EventStream().emit, endpoint=endpoint)
    with pytest.raises(BackendUnavailableError, match=r"http://127.0.0.1:9/v1 cannot be reached"):
        client.complete(MESSAGES, purpose="test")


def test_unknown_backend_is_a_config_error(settings):
    from mmagent.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown LLM backend"):
        build_chat_model("planner", RoleConfig(backend="telepathy"), settings, shared_manager())


def test_a_reply_cut_off_at_the_token_limit_gets_one_repair(scripted):
    from pydantic import BaseModel

    class LengthFinishReasonError(Exception):  # what langchain-openai raises on finish_reason=length
        pass

    class Answer(BaseModel):
        answer: str

    chat = scripted(LengthFinishReasonError("length limit reached"), {"answer": "ok"})
    value, repaired = LLMClient("reasoner", chat, EventStream().emit).structured(MESSAGES, Answer, purpose="t")
    assert value.answer == "ok" and repaired
    assert "token limit" in chat.calls[1]["messages"][-1].content


def test_prompt_cache_survives_a_new_process(tmp_path, settings_kwargs):
    """Embedded: the slots' prompt caches are saved to disk and a new server (as in a fresh
    `mmagent ask` process) restores them, so the same system prompt is not evaluated again;
    the reuse shows in the call's cached-token count."""
    from mmagent.core.config import Settings
    from mmagent.core.llm.llamacpp import ChatLlamaCpp
    from mmagent.core.resolve import resolve_model

    s = Settings(**settings_kwargs)
    path = str(resolve_model("qwen2.5-coder-0.5b-instruct", s).location)
    system = SystemMessage(content="You list shopping items as JSON. " * 20)
    first = ChatLlamaCpp(model_path=path, slot_dir=str(tmp_path), max_tokens=16, n_threads=s.llm_threads)
    calls = []
    LLMClient("planner", first, calls.append).complete([system, HumanMessage(content="Eggs and milk.")], "t")
    assert calls[-1].cached_tokens == 0
    first.save_slots()
    first.close()
    assert list(tmp_path.glob("slot*.bin"))
    second = ChatLlamaCpp(model_path=path, slot_dir=str(tmp_path), max_tokens=16, n_threads=s.llm_threads)
    LLMClient("planner", second, calls.append).complete([system, HumanMessage(content="Bread, please.")], "t")
    assert calls[-1].cached_tokens > 0.8 * calls[-1].prompt_tokens, calls[-1]
    second.close()
