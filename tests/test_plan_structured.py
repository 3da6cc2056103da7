"""The `plan` planner's structured path with a scripted planner over the real tools: perceive,
candidate programs, the planner's two choices (intent, then program), the computed short
answer, answer-format instructions, votes; and what every planner's answer gets checked for."""

import pytest

from mmagent import Agent
from mmagent.core.artifacts import format_value
from mmagent.planners.answer_format import split_format
from mmagent.planners.programs import candidate_programs


def make_agent(settings, chat, **overrides):
    s = settings.model_copy(update=overrides)
    return Agent(s, chat_models={"planner": chat, "reasoner": chat})


def test_the_planner_picks_an_intent_then_a_program_and_the_tool_computes(settings, scripted, receipt):
    chat = scripted({"intent": "value"}, {"choice": "the price of Granola"})
    result = make_agent(settings, chat).run("How much does the Granola cost?", [receipt.image])
    assert result.ok and result.short_answer == "13.9" and result.answer == "The price of Granola is 13.9."
    assert [s.tool for s in result.steps][-1] == "query" and result.plan_source == "choice"
    # decoding is constrained: the intents the candidates offer (plus "other"), then their glosses
    intents = chat.calls[0]["kwargs"]["response_format"]["json_schema"]["schema"]["properties"]["intent"]["enum"]
    assert intents[0] == "value" and intents[-1] == "other" and "yes_no" not in intents
    glosses = chat.calls[1]["kwargs"]["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"]
    assert "the price of Granola" in glosses and all(g.startswith("the ") for g in glosses)
    assert [r["ref"] for r in result.evidence_regions] == ["tab-4#2"]  # the Granola line, nothing else


def test_answer_format_instruction_is_recognised_and_honoured(settings, scripted, receipt):
    chat = scripted({"intent": "value"}, {"choice": "the total"})
    result = make_agent(settings, chat).run(
        "What is the total on the receipt? Answer with a single word, number or short phrase.", [receipt.image]
    )
    assert result.answer == result.short_answer == "69.95"
    assert any("answer-format instruction honoured" in n for n in result.notes)
    asked = chat.calls[0]["messages"][-1].content
    assert "single word" not in asked  # never planned as a sub-question: the planner does not see it
    assert split_format("Is it red? Reply with yes or no.") == ("Is it red?", "Reply with yes or no.")
    assert split_format("Answer with one word.") == ("Answer with one word.", None)  # nothing else is asked


def test_votes_reverse_the_options_and_report_agreement(settings, scripted, receipt):
    chat = scripted(
        {"intent": "most_or_least"},
        {"choice": "the item with the highest price"},
        {"intent": "most_or_least"},
        {"choice": "the item with the lowest price"},
        {"intent": "most_or_least"},
        {"choice": "the item with the highest price"},
    )
    result = make_agent(settings, chat, plan_votes=2).run("Which item is most expensive?", [receipt.image])
    assert result.short_answer == "Coffee Beans" and "choice agreed 2/3" in result.notes
    first = chat.calls[1]["kwargs"]["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"]
    second = chat.calls[3]["kwargs"]["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"]
    assert second == first[::-1]


def test_compound_questions_are_split_and_each_part_computed(settings, scripted, receipt):
    chat = scripted(
        {"parts": ["What is the total?", "Which item is the cheapest?"]},
        {"intent": "value"},
        {"choice": "the total"},
        {"intent": "most_or_least"},
        {"choice": "the item with the lowest price"},
    )
    result = make_agent(settings, chat).run("What is the total and which item is the cheapest?", [receipt.image])
    assert result.short_answer == "69.95; Salmon"
    assert result.answer == "The total is 69.95. The item with the lowest price is Salmon."


def test_candidates_come_from_the_structure_and_the_question(settings, tool_env, receipt):
    from mmagent.core.artifacts import TableArtifact

    env = tool_env()
    img = env.add_image(receipt.image)
    ocr, det = env.call("ocr", image=img), env.call("detect", image=img)
    tables = [
        env.store.get(a, TableArtifact)
        for a in env.call("layout", image=img, ocr=ocr.primary, detections=det.primary).artifact_ids
    ]
    glosses = [c.gloss for c in candidate_programs("How much more does the Salmon cost than the Lemons?", [tables])]
    assert "the difference between the price of Salmon and of Lemons" in glosses
    assert not any("Cheddar" in g for g in glosses)  # rows the question does not name are not offered
    counts = [c.gloss for c in candidate_programs("How many items cost more than $12?", [tables])]
    assert "the number of items with price more than 12" in counts


def test_a_question_no_program_answers_goes_to_the_free_task_graph(settings, scripted, chelsea):
    """No candidate for "describe": the planner is not asked to choose, it plans tool calls."""
    plan = {"tasks": [{"id": "t1", "tool": "caption", "args": {"image": "img-1"}}]}
    chat = scripted(plan, {"answer": "A cat lying down.", "short": "a cat", "evidence": []})
    result = make_agent(settings, chat).run("Describe the picture.", [chelsea])
    assert result.answer == "A cat lying down." and result.short_answer == "a cat" and result.plan_source == "llm"
    assert "no structure to compute on" in result.notes
    assert "unsupported: the answer cites no artifact" in result.notes  # flagged, not hidden


def test_a_stated_value_no_evidence_holds_is_flagged(settings, scripted, receipt):
    chat = scripted({"answer": "The total is 99.99.", "evidence": ["img-1"]})
    result = make_agent(settings, chat, planner_kind="direct").run("What is the total?", [receipt.image])
    assert any(n.startswith("unsupported: the answer states 99.99") for n in result.notes)


def test_react_answers_once_a_value_is_computed(settings, scripted, receipt):
    chat = scripted(
        {"thought": "sum", "tool": "calculate", "args": {"expression": "8.10 + 14.55"}},
        {"thought": "done", "tool": "final_answer", "answer": "It is 22.65.", "evidence": ["val-2"]},
    )
    result = make_agent(settings, chat, planner_kind="react").run(
        "What do Salmon and Cheddar cost together?", [receipt.image]
    )
    assert result.short_answer == "22.65" and any("answered once val-2 was computed" in n for n in result.notes)
    only = chat.calls[-1]["kwargs"]["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [v["properties"]["tool"]["const"] for v in only] == ["final_answer"]


@pytest.mark.parametrize(
    "value,short",
    [
        (3.0, "3"),
        (20.17, "20.17"),
        (8.5, "8.5"),
        ("Honey", "Honey"),
        (["A", "B"], "A, B"),
        (None, "not found"),
        (True, "yes"),
    ],
)
def test_short_answer_formatting(value, short):
    assert format_value(value) == short
