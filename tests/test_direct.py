"""`direct`: one reasoning call. Offline it reads the tool-composed scene description; a model
that sees images gets the images and no tool runs."""

from typing import ClassVar

from mmagent import Agent
from mmagent.core.config import RoleConfig


def test_offline_direct_answers_from_the_scene_description(settings, scripted, chelsea):
    chat = scripted({"answer": "It is a cat.", "evidence": ["txt-2"]})
    s = settings.model_copy(update={"planner_kind": "direct"})
    # a text-only model, as ChatLlamaCpp declares itself
    llamacpp_like = type(
        "Embedded", (type(chat),), {"__annotations__": {"sees_images": ClassVar[bool]}, "sees_images": False}
    )
    chat = llamacpp_like(replies=chat.replies)
    result = Agent(s, chat_models={"planner": chat, "reasoner": chat}).run("What animal?", [chelsea])
    assert result.ok and result.answer == "It is a cat." and [st.tool for st in result.steps] == ["caption"]
    sent = chat.calls[0]["messages"][-1].content
    assert isinstance(sent, str) and "[scene summary composed from tools" in sent and "cat" in sent


def test_direct_with_a_vision_model_sends_the_images_and_runs_no_tool(settings, scripted, chelsea):
    chat = scripted({"answer": "A tabby cat.", "evidence": []})
    s = settings.model_copy(update={"planner_kind": "direct", "reasoner": RoleConfig(backend="openai", model="served")})
    result = Agent(s, chat_models={"planner": chat, "reasoner": chat}).run(
        "What animal?", [chelsea], choices=["a dog", "a tabby cat"]
    )
    assert result.steps == [] and result.answer == "A tabby cat."
    sent = chat.calls[0]["messages"][-1].content
    assert "Choices: a dog, a tabby cat." in sent[0]["text"] and sent[1]["type"] == "image_url"


def test_unknown_planner_and_bad_choices_are_clear_errors(settings, chelsea):
    import pytest

    from mmagent.core.config import load_settings
    from mmagent.core.errors import ConfigError, UserInputError

    with pytest.raises(ConfigError, match="planner_kind"):
        load_settings(planner_kind="telepathy")
    with pytest.raises(UserInputError, match="at least two non-empty answer choices"):
        Agent(settings).run("Which?", [chelsea], choices=["only one"])
    with pytest.raises(UserInputError, match="mode must be"):
        Agent(settings).run("Which?", [chelsea], mode="poem")
