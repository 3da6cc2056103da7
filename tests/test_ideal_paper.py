"""IdealGPT as published, driven by scripted models: stops at the first confident round, forces
a guess at the round limit, retries unparseable replies then reports an error, and uses a VLM
answerer (as images) when one is configured."""

from mmagent import Agent
from mmagent.core.config import RoleConfig

SUBS = "Sub-question 1: What animal is in the image?\nSub-question 2: What colour is its fur?"


def make_agent(settings, chat, answerer=None, **overrides):
    s = settings.model_copy(update={"planner_kind": "ideal-paper", **overrides})
    models = {"planner": chat, "reasoner": chat, "answerer": answerer or chat}
    if answerer is not None:
        s.answerer = RoleConfig(backend="openai", model="served-vlm")
    return Agent(s, chat_models=models)


def test_stops_at_the_first_confident_round(settings, scripted, chelsea):
    chat = scripted(SUBS, "a cat", "orange", "Analysis: The animal is a cat.\nMore Likely Answer: 2")
    result = make_agent(settings, chat).run("What is shown?", [chelsea], choices=["a dog", "a cat"])
    assert result.ok and result.answer == "a cat." and result.rounds == 1
    d = result.details
    assert d["sub_questions"] == [["What animal is in the image?", "What colour is its fur?"]]
    assert d["sub_answers"] == [["a cat", "orange"]] and d["forced_guess"] is False
    assert "[scene summary composed from tools" in d["caption"]  # the caption step ran the real tools
    assert any("no VLM configured" in n for n in result.notes)
    asker = chat.calls[0]["messages"]
    assert "Imperfect Caption:" in asker[1].content and "Answer 2: a cat" in asker[1].content
    assert all(c["kwargs"].get("temperature") == 0.0 for c in chat.calls)


def test_not_sure_asks_more_then_forces_a_guess_at_the_limit(settings, scripted, chelsea):
    chat = scripted(
        SUBS,
        "cat",
        "orange",
        "Analysis: Cannot tell the breed.\nMore Likely Answer: not sure",
        "Sub-question 1: Is its tail striped?",
        "yes",
        "Analysis: Striped tail suggests a tabby.\nMore Likely Answer: tabby cat",
    )
    result = make_agent(settings, chat, max_rounds=2).run("What breed is it?", [chelsea])
    assert result.answer == "tabby cat." and result.rounds == 2 and result.details["forced_guess"]
    assert any("forced a best guess" in n for n in result.notes)
    more = chat.calls[4]["messages"]  # the follow-up questioner sees the pairs and the analysis
    assert "Sub-question: What animal is in the image? Answer: cat" in more[1].content
    assert "Analysis: Cannot tell the breed." in more[1].content
    assert "must answer the main question now" in chat.calls[-1]["messages"][0].content


def test_unparseable_replies_retry_then_report_an_error(settings, scripted, chelsea):
    chat = scripted(SUBS, "cat", "orange", "I think cat", "Analysis: cat\nMore Likely Answer: cat")
    result = make_agent(settings, chat).run("What animal?", [chelsea])
    assert result.ok and result.answer == "cat."
    temps = [c["kwargs"]["temperature"] for c in chat.calls[-2:]]
    assert temps[0] == 0.0 and temps[1] > 0.0  # the retry is nudged off temperature 0
    bad = scripted("no format", "still none", "nope")
    result = make_agent(settings, bad).run("What animal?", [chelsea])
    assert not result.ok and "questioner: unparseable after 3 attempts" in result.answer


def test_vlm_answerer_gets_the_image(settings, scripted, chelsea):
    chat = scripted(SUBS, "Analysis: A ginger cat.\nMore Likely Answer: a cat")
    vlm = scripted("a cat", "ginger")
    result = make_agent(settings, chat, answerer=vlm).run("What animal?", [chelsea])
    assert result.ok and result.details["sub_answers"] == [["a cat", "ginger"]]
    assert not any("no VLM" in n for n in result.notes)
    sent = vlm.calls[0]["messages"][-1].content
    assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert [e for e in result.evidence if e.startswith("txt-")]  # the caption and the VLM answers
