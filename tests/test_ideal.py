"""The `ideal` loop: control flow with scripted models over the real tools (grounded crops,
stopping rules, budgets, tool failures reported back), and one real-model run offline."""

import pytest

from mmagent import Agent


def make_agent(settings, chat, **overrides):
    s = settings.model_copy(update={"planner_kind": "ideal", **overrides})
    return Agent(s, chat_models={"planner": chat, "reasoner": chat})


def sub(question, how, about, image="img-1"):
    return {"question": question, "how": how, "about": about, "image": image}


def test_grounded_look_crops_the_thing_and_stops_on_cited_evidence(settings, scripted, chelsea):
    chat = scripted(
        {"sub_questions": [sub("What is the cat like?", "look", "cat")]},
        {"analysis": "a cat", "answer": "It is a cat.", "confident": True, "evidence": ["det-3"]},
    )
    result = make_agent(settings, chat).run("What animal is it?", [chelsea])
    assert result.ok and result.answer == "It is a cat." and result.rounds == 1 and result.evidence == ["det-3"]
    assert result.details["stop"] == "confident, citing tool evidence"
    tools = [s.tool for s in result.steps]
    # caption, ground the cat, crop it, look at the crop; no model sees it: its colour and shape from pixels
    assert tools == ["caption", "detect", "crop", "caption", "attributes"]
    det = next(a for a in result.artifacts if a["id"] == "det-3")
    crop = result.steps[2]
    assert crop.args["source"] == "det-3" and det["labels"] == ["cat"]
    crop_art = next(a for a in result.artifacts if a["id"] == crop.artifact_ids[0])
    assert crop_art["type"] == "img" and crop_art["inputs"] == ["img-1", "det-3"]
    x1, y1, x2, y2 = det["boxes"][0]  # the crop is the cat's box, padded by 8 px, clipped to the image
    assert crop_art["params"]["box"] == pytest.approx(
        [max(0, x1 - 8), max(0, y1 - 8), min(451, x2 + 8), min(300, y2 + 8)], abs=1.0
    )
    # the reasoner could only cite artifacts the findings made
    schema = chat.calls[-1]["kwargs"]["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]["evidence"]["items"]["enum"]) == {"det-3", "img-4", "txt-5", "tab-6"}


def test_read_below_reads_the_band_under_the_object(settings, scripted, tmp_path):
    import random

    from mmagent.evals.synthetic import collage_question

    q = next(
        q
        for seed in range(50)
        if "under the cat" in (q := collage_question(random.Random(seed), f"c{seed}", tmp_path)).question
    )
    thing = q.question.split("under the ")[1].rstrip("?")
    chat = scripted(
        {"sub_questions": [sub(q.question, "read_below", thing)]},
        {"analysis": "read", "answer": f"The number is {q.answer}.", "confident": True, "evidence": ["ocr-5"]},
    )
    result = make_agent(settings, chat).run(q.question, q.images)
    finding = result.details["findings"][0]
    assert finding["answer"] == f"text below the {thing}: {q.answer}"  # only this panel's number
    assert [s.tool for s in result.steps][1:] == ["detect", "crop", "ocr"]


def test_stable_answer_stops_and_tool_errors_reach_the_questioner(settings, scripted, chelsea):
    chat = scripted(
        {"sub_questions": [sub("Where is it?", "find", "")]},  # empty phrase: the tool fails
        {"analysis": "unsure", "answer": "A cat.", "confident": False, "evidence": []},
        {"sub_questions": [sub("How many cats?", "count", "cat")]},
        {"analysis": "one cat", "answer": "a cat", "confident": False, "evidence": ["det-4"]},
    )
    events = []
    result = make_agent(settings, chat).run("What animal is it?", [chelsea], on_event=events.append)
    assert result.details["stop"] == "answer stable across two rounds" and result.rounds == 2
    thoughts = [(e.round, e.role) for e in events if e.type == "thought"]  # streamed for the CLI and UI
    assert thoughts == [(1, "questioner"), (1, "reasoner"), (2, "questioner"), (2, "reasoner")]
    second_ask = chat.calls[2]["messages"][-1].content
    assert "ERROR" in second_ask and "Latest analysis: unsure" in second_ask
    assert result.details["findings"][1]["answer"] == "1 cat"


def test_budget_stops_the_run_and_flags_the_guess(settings, scripted, chelsea):
    chat = scripted(
        {"sub_questions": [sub("How many cats?", "count", "cat")]},
        {"analysis": "?", "answer": "maybe a dog", "confident": False, "evidence": []},
    )
    result = make_agent(settings, chat, max_tool_calls=2).run("What animal?", [chelsea])
    assert result.details["stop"] == "budget: 2 tool calls" and result.details["forced_guess"]
    assert any("best guess, flagged" in n for n in result.notes)


def test_choices_constrain_the_answer(settings, scripted, chelsea):
    chat = scripted(
        {"sub_questions": [sub("How many cats?", "count", "cat")]},
        {"analysis": "1 cat", "answer": "cat", "confident": True, "evidence": ["det-3"]},
    )
    result = make_agent(settings, chat).run("Which animal?", [chelsea], choices=["dog", "cat"])
    assert result.answer == "cat."
    schema = chat.calls[-1]["kwargs"]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["answer"]["enum"] == ["dog", "cat"]
    assert "Choices: dog, cat." in chat.calls[0]["messages"][-1].content


@pytest.mark.slow
@pytest.mark.llm
def test_real_offline_stack_reads_under_an_object_then_compares(settings, tmp_path):
    import random

    from mmagent.evals.metrics import score
    from mmagent.evals.synthetic import collage_question, receipts2_question

    agent = Agent(settings.model_copy(update={"planner_kind": "ideal"}))
    under = next(
        q for s in range(50) if "under the cat" in (q := collage_question(random.Random(s), f"c{s}", tmp_path)).question
    )
    compare = receipts2_question(random.Random(3), "r", tmp_path)
    for q in (under, compare):
        result = agent.run(q.question, q.images, choices=q.choices)
        assert score(q.metric, result.answer, q.answer, q.choices, q.distractors) == 1.0, (q.question, result.answer)
        assert result.evidence, "the answer cites the artifacts behind it"


def _large_page_with(text: str | None):
    from PIL import Image, ImageDraw

    from mmagent.core.samples import font

    page = Image.new("RGB", (3600, 2700), (250, 248, 240))
    if text:
        ImageDraw.Draw(page).text((2600, 2000), text, font=font(24), fill=(0, 0, 0))  # bottom-right quarter
    return page


def test_a_missed_sub_question_is_searched_by_zooming_and_stops_at_the_first_find(settings, scripted):
    """Read whole (no slicing), 24 px text on a 3600x2700 page is lost; the loop zooms into the
    quarter with the most ink first, reads it there, and zooms no further."""
    chat = scripted(
        {"sub_questions": [sub("What does the gate sign say?", "read", "gate")]},
        {"analysis": "read in a zoom", "answer": "GATE 14", "confident": False, "evidence": []},
    )
    agent = make_agent(settings, chat, slice_factor=0, max_rounds=1, zoom_budget=4)
    result = agent.run("What does the gate sign say?", [_large_page_with("GATE 14 NORTH")])
    tools = [s.tool for s in result.steps]
    assert tools.count("zoom") == 1, tools
    zoom = next(s for s in result.steps if s.tool == "zoom")
    x1, y1, x2, y2 = zoom.args["box"]
    assert x1 <= 2600 < x2 and y1 <= 2000 < y2, "the cell with the text is zoomed first"
    finding = result.details["findings"][0]["answer"]
    assert finding.startswith("in the zoom img-") and "GATE 14 NORTH" in finding


def test_the_zoom_budget_stops_a_search_that_finds_nothing_and_the_answer_says_so(settings, scripted):
    chat = scripted(
        {"sub_questions": [sub("What does the gate sign say?", "read", "gate")]},
        {"analysis": "nothing found", "answer": "not sure", "confident": False, "evidence": []},
    )
    agent = make_agent(settings, chat, slice_factor=0, max_rounds=1, zoom_budget=2)
    result = agent.run("What does the gate sign say?", [_large_page_with(None)])
    assert [s.tool for s in result.steps].count("zoom") == 2
    assert "searched 2 zoomed regions of img-1, gate is in none" in result.details["findings"][0]["answer"]


def test_the_reasoner_gets_where_located_things_lie_relative_to_each_other(settings, scripted):
    """Two looks find a cup and a cat; the findings come with the comparison computed from their
    boxes on the input image, and a colour and shape from the crop's pixels."""
    from PIL import Image

    from mmagent.core.samples import OBJECT_SOURCES, skimage_photo

    page = Image.new("RGB", (1400, 700), (250, 248, 240))
    for cls, x in (("cup", 150), ("cat", 900)):
        src, box = OBJECT_SOURCES[cls]
        page.paste(skimage_photo(src).crop(box).resize((220, 200)), (x, 300))
    chat = scripted(
        {"sub_questions": [sub("Where is the cup?", "look", "cup"), sub("Where is the cat?", "look", "cat")]},
        {"analysis": "computed", "answer": "left", "confident": True, "evidence": ["det-3"]},
    )
    result = make_agent(settings, chat, max_rounds=1).run("Is the cup left or right of the cat?", [page])
    prompt = chat.calls[-1]["messages"][-1].content
    assert "Computed from the boxes: the cup (det-3, centre x " in prompt, prompt
    assert "is left of and above the cat (det-" in prompt or "is left of and below the cat (det-" in prompt
    assert "attributes of img-1: det-3#0 cup:" in result.details["findings"][0]["answer"]
