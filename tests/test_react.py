"""ReAct loop control flow with scripted models: tool calls with artifact ids, the step limit,
images passed back to a model that sees images, native tool calls, errors back to the model."""

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from mmagent import Agent
from tests.conftest import ScriptedChat


def make_agent(settings, chat, **overrides):
    s = settings.model_copy(update={"planner_kind": "react", **overrides})
    return Agent(s, chat_models={"planner": chat, "reasoner": chat})


def test_tool_calls_then_final_answer(settings, scripted, receipt):
    chat = scripted(
        {"thought": "read it", "tool": "ocr", "args": {"image": "img-1"}},
        {"thought": "items", "tool": "extract", "args": {"source": "ocr-2", "kind": "line_items"}},
        {"items": [{"name": n, "amount": p} for n, p in receipt.items], "total": receipt.total},  # extract's LLM
        {"thought": "max", "tool": "query", "args": {"table": "tab-3", "op": "max"}},
        {
            "thought": "done",
            "tool": "final_answer",
            "answer": "Coffee Beans is the most expensive.",
            "evidence": ["val-4"],
        },
    )
    result = make_agent(settings, chat).run("Which item is most expensive?", [receipt.image])
    assert result.ok and result.planner == "react" and result.rounds == 3
    assert [s.tool for s in result.steps] == ["ocr", "extract", "query"] and result.evidence == ["val-4"]
    # each observation names the artifact it made, and the next decision is constrained to existing ids
    last = chat.calls[-1]
    assert "val-4" in last["messages"][-1].content
    schema = last["kwargs"]["response_format"]["json_schema"]["schema"]
    final = [v for v in schema["anyOf"] if v["properties"]["tool"].get("const") == "final_answer"][0]
    assert final["properties"]["evidence"]["items"]["enum"] == ["img-1", "ocr-2", "tab-3", "val-4"]


def test_step_limit_forces_a_final_answer(settings, scripted, chelsea):
    call = {"thought": "look", "tool": "detect", "args": {"image": "img-1"}}
    chat = scripted(call, call, {"thought": "x", "tool": "final_answer", "answer": "A cat.", "evidence": ["det-2"]})
    result = make_agent(settings, chat, max_steps=2).run("What animal is this?", [chelsea])
    assert result.answer == "A cat." and result.rounds == 2 and any("step limit 2" in n for n in result.notes)
    forced = chat.calls[-1]
    assert "Step limit (2) reached" in forced["messages"][-1].content
    only = forced["kwargs"]["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [v["properties"]["tool"]["const"] for v in only] == ["final_answer"]


def test_tool_error_goes_back_to_the_model_and_crops_are_shown_as_images(settings, scripted, chelsea):
    chat = scripted(
        {"thought": "crop", "tool": "crop", "args": {"image": "img-9", "box": [0, 0, 50, 10]}},  # no such id
        {"thought": "crop", "tool": "crop", "args": {"image": "img-1", "box": [0, 0, 100, 100]}},
        {"thought": "ok", "tool": "final_answer", "answer": "Fur.", "evidence": ["img-2"]},
    )
    result = make_agent(settings, chat).run("What is in the corner?", [chelsea])
    assert result.ok and [s.ok for s in result.steps] == [False, True]
    error_obs = chat.calls[1]["messages"][-1].content
    assert "ERROR" in error_obs[0]["text"] if isinstance(error_obs, list) else "ERROR" in error_obs
    crop_obs = chat.calls[2]["messages"][-1].content  # a model that sees images gets the crop itself
    assert "img-2" in crop_obs[0]["text"] and crop_obs[1]["image_url"]["url"].startswith("data:image/png")


class ToolCallingChat(ScriptedChat):
    """Replies with native tool calls, like a served model with a tool parser."""

    def bind_tools(self, tools, **kwargs):
        self.calls.append({"bound": [getattr(t, "name", getattr(t, "__name__", "")) for t in tools]})
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls.append({"messages": messages, "kwargs": kwargs})
        name, args = self.replies.pop(0)
        msg = AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call{len(self.calls)}"}])
        return ChatResult(generations=[ChatGeneration(message=msg)])


def test_native_tool_calls(settings, chelsea):
    from mmagent.core.config import RoleConfig

    chat = ToolCallingChat(
        replies=[("detect", {"image": "img-1"}), ("FinalArgs", {"answer": "There is 1 cat.", "evidence": ["det-2"]})]
    )
    s = settings.model_copy(
        update={"planner_kind": "react", "reasoner": RoleConfig(backend="openai", options={"native_tools": True})}
    )
    result = Agent(s, chat_models={"planner": chat, "reasoner": chat}).run("How many cats?", [chelsea])
    assert result.answer == "There is 1 cat." and result.evidence == ["det-2"]
    assert "detect" in chat.calls[0]["bound"] and "FinalArgs" in chat.calls[0]["bound"]
    tool_msg = chat.calls[-1]["messages"][-1]
    assert tool_msg.type == "tool" and tool_msg.tool_call_id == "call2" and "det-2" in tool_msg.content


def test_react_zooms_into_a_region_reads_it_and_cites_it_on_the_input_image(settings, scripted):
    """The model's own search on a large image: zoom into a named region, read the zoom, answer
    citing what it read; the zoomed image goes back to a model that sees images, and the
    evidence box lands on the input image where the text was drawn."""
    from PIL import Image, ImageDraw

    from mmagent.core.samples import font

    page = Image.new("RGB", (3200, 2400), (250, 248, 240))
    ImageDraw.Draw(page).text((2300, 300), "GATE 14 NORTH", font=font(28), fill=(0, 0, 0))
    chat = scripted(
        {"thought": "look closer", "tool": "zoom", "args": {"image": "img-1", "region": "top-right quarter"}},
        {"thought": "read the zoom", "tool": "ocr", "args": {"image": "img-2"}},
        {"thought": "found", "tool": "final_answer", "answer": "GATE 14 NORTH", "evidence": ["ocr-3"]},
    )
    result = make_agent(settings, chat).run("What does the small sign say?", [page])
    assert result.ok and [s.tool for s in result.steps] == ["zoom", "ocr"] and result.answer == "GATE 14 NORTH"
    zoom_obs = chat.calls[1]["messages"][-1].content
    assert "img-2" in zoom_obs[0]["text"] and zoom_obs[1]["image_url"]["url"].startswith("data:image/png")
    (region,) = result.evidence_regions
    x1, y1, x2, y2 = region["input_box"]
    assert region["input_image"] == "img-1"
    assert 2280 <= x1 <= 2320 and 290 <= y1 <= 320 and 2450 < x2 < 2600 and y2 < 360
