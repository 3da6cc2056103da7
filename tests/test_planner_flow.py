"""Control flow of the `plan` planner's free task graph (the path for questions no program over
the perceived structure answers) and of the Agent, driven by a scripted chat model.

Every run first perceives each image (OCR, detection, layout: img-1, ocr-2, det-3 and the
layout's tables tab-4..tab-6 for a receipt), then the scripted planner names the intent
"other", which sends the question to the task graph; its artifacts follow from id 7 on."""

import threading

import pytest
from pydantic import BaseModel

from mmagent import Agent
from mmagent.core.artifacts import ValueArtifact
from mmagent.core.errors import UserInputError
from mmagent.core.events import AnswerGiven, PlanMade, RunFinished, RunStarted, ToolCalled, ToolResult
from mmagent.tools import ToolOutput, VisionTool, default_tools

Q = "Which item is most expensive?"
PLAN = {
    "tasks": [
        {"id": "t1", "tool": "ocr", "args": {"image": "img-1"}},
        {"id": "t2", "tool": "extract", "args": {"source": "$t1", "kind": "line_items"}},
        {"id": "t3", "tool": "query", "args": {"table": "$t2", "op": "max"}},
    ]
}


def extraction(receipt):
    return {"items": [{"name": n, "amount": p} for n, p in receipt.items], "total": receipt.total}


OTHER = {"intent": "other"}  # the planner's first decision: no program over the structure answers it
PERCEIVED = ["ocr", "detect", "layout"]


def make_agent(settings, chat, tools=None):
    return Agent(settings, tools=tools, chat_models={"planner": chat, "reasoner": chat})


def test_plan_execute_answer(settings, scripted, receipt):
    chat = scripted(
        OTHER,
        PLAN,
        extraction(receipt),
        {"answer": "Coffee Beans is the most expensive item ($21.55).", "short": "Coffee Beans", "evidence": ["val-9"]},
    )
    events = []
    result = make_agent(settings, chat).run(Q, [receipt.image], on_event=events.append)
    assert result.ok and result.answer.startswith("Coffee Beans") and result.evidence == ["val-9"]
    assert result.short_answer == "Coffee Beans"
    assert [s.tool for s in result.steps] == PERCEIVED + ["ocr", "extract", "query"] and all(s.ok for s in result.steps)
    assert result.steps[5].args == {"table": "tab-8", "op": "max"}  # $t2 resolved to the artifact id
    assert [a["id"] for a in result.artifacts][6:] == ["ocr-7", "tab-8", "val-9"]
    assert "Coffee Beans (21.55)" in result.artifacts[8]["summary"]  # computed by query, not the LLM
    assert result.plan_source == "llm"
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and PlanMade in kinds and kinds[-2] is AnswerGiven and kinds[-1] is RunFinished
    t = result.timings
    assert t.wall_s >= t.llm_s + t.tool_s - 1e-6 and t.orchestration_s >= 0
    # a reasoner that is not the embedded text model gets the images as base64 data URLs
    answer_content = chat.calls[-1]["messages"][-1].content
    assert answer_content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    # planner calls ask for schema-constrained decoding
    plan_call = chat.calls[1]["kwargs"]["response_format"]["json_schema"]["schema"]
    assert (
        chat.calls[0]["kwargs"]["response_format"]["json_schema"]["schema"]["properties"]["intent"]["enum"][-1]
        == "other"
    )
    assert plan_call["properties"]["tasks"]["items"]["anyOf"]


def test_invalid_plan_is_repaired_with_the_error_quoted(settings, scripted, receipt):
    chat = scripted(
        OTHER,
        "Sure! Here is my plan: ocr the image",
        PLAN,
        extraction(receipt),
        {"answer": "Coffee Beans.", "evidence": []},
    )
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert result.plan_source == "llm-repaired" and result.ok
    repair_prompt = chat.calls[2]["messages"][-1].content
    assert "invalid" in repair_prompt and "not valid JSON" in repair_prompt


def test_unknown_tool_and_bad_args_are_pruned(settings, scripted, receipt):
    bad = {
        "tasks": [
            {"id": "t1", "tool": "ocr", "args": {"image": "img-1"}},
            {"id": "t2", "tool": "teleport", "args": {}},
            {"id": "t3", "tool": "query", "args": {"table": "$t1", "op": "max"}},
            {"id": "t4", "tool": "detect", "args": {"image": "img-7"}},
            {"id": "t5", "tool": "query", "args": {"table": "$t1", "op": "median"}},
        ]
    }
    chat = scripted(OTHER, bad, bad, {"answer": "The text is read.", "evidence": ["ocr-7"]})
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert result.plan_source == "llm-pruned" and [s.tool for s in result.steps] == PERCEIVED + ["ocr"]
    repair = chat.calls[2]["messages"][-1].content
    assert "unknown tool 'teleport'" in repair and "unknown artifact id 'img-7'" in repair
    assert "table needs a tab artifact" in repair and "t5: bad arguments for query: op" in repair


def test_unusable_plan_falls_back_to_ocr_and_detection(settings, scripted, receipt):
    chat = scripted(OTHER, "[]", "{}", {"answer": "Unclear.", "evidence": []})
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert result.plan_source == "fallback" and {s.tool for s in result.steps[3:]} == {"ocr", "detect"}
    assert any("fallback" in n for n in result.notes)


def test_reasoner_citing_unknown_artifacts(settings, scripted, receipt):
    plan = {"tasks": [{"id": "t1", "tool": "ocr", "args": {"image": "img-1"}}]}
    chat = scripted(
        OTHER,
        plan,
        {"answer": "A", "evidence": ["det-99"]},
        {"answer": "Coffee Beans", "evidence": ["ocr-7", "tab-77"]},
    )
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert result.answer == "Coffee Beans." and result.evidence == ["ocr-7"]
    assert "det-99" in chat.calls[3]["messages"][-1].content  # told which ids were unknown
    assert any("unknown artifacts" in n for n in result.notes)


def test_reasoner_that_never_answers_is_flagged_not_invented(settings, scripted, receipt):
    plan = {"tasks": [{"id": "t1", "tool": "ocr", "args": {"image": "img-1"}}]}
    chat = scripted(OTHER, plan, "???", "still no json")
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert not result.ok and result.answer.startswith("No answer")


def test_multi_part_question_shares_tasks_and_answers_every_part(settings, scripted, receipt):
    total_plan = {
        "tasks": [
            {"id": "t1", "tool": "ocr", "args": {"image": "img-1"}},
            {"id": "t2", "tool": "extract", "args": {"source": "$t1", "kind": "line_items"}},
            {"id": "t3", "tool": "query", "args": {"table": "$t2", "op": "lookup", "key": "total"}},
        ]
    }
    chat = scripted(
        {"parts": ["What is the total?", Q]},
        OTHER,
        OTHER,
        total_plan,
        PLAN,
        extraction(receipt),
        {"answer": "The total is $69.95", "evidence": ["val-9"]},
        {"answer": "Coffee Beans is the most expensive", "evidence": ["val-10"]},
    )
    result = make_agent(settings, chat).run("What is the total and which item is most expensive?", [receipt.image])
    assert [s.tool for s in result.steps][3:].count("ocr") == 1  # identical tasks merged
    assert result.answer == "The total is $69.95. Coffee Beans is the most expensive."
    assert result.evidence == ["val-9", "val-10"]
    first_answer_prompt = chat.calls[6]["messages"][-1].content[0]["text"]
    assert "What is the total?" in first_answer_prompt and "val-9: value of total" in first_answer_prompt


def test_failed_dependency_skips_dependents(settings, scripted, receipt):
    plan = {
        "tasks": [
            {"id": "t1", "tool": "crop", "args": {"image": "img-1", "box": [9000, 0, 9100, 10]}},
            {"id": "t2", "tool": "ocr", "args": {"image": "$t1"}},
        ]
    }
    chat = scripted(OTHER, plan, {"answer": "Could not read it.", "evidence": []})
    result = make_agent(settings, chat).run(Q, [receipt.image])
    assert [s.tool for s in result.steps][3:] == ["crop"] and not result.steps[3].ok
    answer_prompt = chat.calls[2]["messages"][-1].content[0]["text"]
    assert "skipped, depends on failed ['t1']" in answer_prompt


class _BarrierArgs(BaseModel):
    image: str


class BarrierTool(VisionTool):
    """Passes only if another task reaches the barrier at the same time."""

    name: str = "barrier"
    description: str = "test tool"
    args_schema: type[BaseModel] = _BarrierArgs
    barrier: object = None

    def forward(self, args, ctx):
        self.barrier.wait(timeout=10)
        art = ctx.new(ValueArtifact, value=1, statement="met")
        return ToolOutput(art.summary(), [art])


def test_independent_tasks_run_concurrently(settings, scripted, receipt):
    tool = BarrierTool(barrier=threading.Barrier(2))
    plan = {
        "tasks": [
            {"id": "t1", "tool": "barrier", "args": {"image": "img-1"}},
            {"id": "t2", "tool": "barrier", "args": {"image": "img-2"}},
        ]
    }
    chat = scripted(OTHER, plan, {"answer": "ok", "evidence": []})
    result = make_agent(settings, chat, tools=[tool, *default_tools()]).run(Q, [receipt.image, receipt.image])
    assert [s.ok for s in result.steps if s.tool == "barrier"] == [True, True]


def test_stream_yields_events_live_and_the_result_last(settings, scripted, receipt):
    plan = {"tasks": [{"id": "t1", "tool": "ocr", "args": {"image": "img-1"}}]}
    chat = scripted(OTHER, plan, {"answer": "Coffee Beans", "evidence": ["img-1"]})
    events = list(make_agent(settings, chat).stream(Q, [receipt.image]))
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert any(isinstance(e, ToolCalled) for e in events) and any(isinstance(e, ToolResult) for e in events)
    assert events[-1].result["answer"] == "Coffee Beans."


def test_bad_questions_and_images(settings, scripted, tmp_path):
    agent = make_agent(settings, scripted())
    with pytest.raises(UserInputError, match="question is empty"):
        agent.run("   ", [tmp_path])
    with pytest.raises(UserInputError, match="no image"):
        agent.run("what?", [])
    with pytest.raises(UserInputError, match="directory"):
        agent.run("what?", [tmp_path])


def test_recorded_events_read_back(settings, scripted, receipt):
    """Traces are stored as JSON (evaluations); every event type reads back as itself."""
    import json

    from mmagent.core.events import event_from_json

    plan = {"tasks": [{"id": "t1", "tool": "ocr", "args": {"image": "img-1"}}]}
    chat = scripted(OTHER, plan, {"answer": "Coffee Beans", "evidence": ["img-1"]})
    events = []
    make_agent(settings, chat).run(Q, [receipt.image], on_event=events.append)
    stored = json.loads(json.dumps([e.model_dump() for e in events], default=str))
    assert [event_from_json(d) for d in stored] == events
