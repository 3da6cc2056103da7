"""Chat UI pieces without a browser: event-to-message rendering, upload checks, multi-turn
sessions, isolation between sessions, stopping a run."""

import pytest

from mmagent import Agent
from mmagent.core.errors import RunCancelled, UserInputError
from mmagent.session import ChatSession
from mmagent.ui.render import ChatRenderer

Q = "Which item is most expensive?"


def saver(tmp_path):
    def save(image, name):
        path = tmp_path / name
        image.save(path)
        return path

    return save


def test_events_render_as_thoughts_tool_steps_answer_and_evidence_image(settings, scripted, receipt, tmp_path):
    chat = scripted({"intent": "most_or_least"}, {"choice": "the item with the highest price"})
    session = ChatSession()
    history = []
    renderer = ChatRenderer(history, session.store, saver(tmp_path))
    for event in Agent(settings, chat_models={"planner": chat, "reasoner": chat}).stream(
        Q, [receipt.image], session=session
    ):
        renderer.apply(event)
    titles = [m["metadata"]["title"] for m in history if "metadata" in m]
    assert titles[:3] == ["Tool: ocr (t1)", "Tool: detect (t2)", "Tool: layout (t3)"] or titles[:3] == [
        "Tool: detect (t2)",
        "Tool: ocr (t1)",
        "Tool: layout (t3)",
    ]  # OCR and detection run at once
    assert titles[3:] == ["Plan (choice)", "Tool: query (q1)"]  # the plan shows before its step runs
    assert all(m["metadata"]["status"] == "done" for m in history if "metadata" in m)
    query = next(m for m in history if m.get("metadata", {}).get("title") == "Tool: query (q1)")
    assert "args:" in query["content"] and "max price in tab-4: Coffee Beans (21.55)" in query["content"]
    answer = next(m for m in history if isinstance(m["content"], str) and m["content"].startswith("The item"))
    assert "Coffee Beans" in answer["content"] and "*evidence: val-7*" in answer["content"]
    # the evidence is exactly the receipt line the value came from (val-7 -> tab-4#4), drawn on the receipt
    image = history[-1]["content"]
    assert image["alt_text"] == "evidence on img-1" and (tmp_path / image["path"].split("/")[-1]).stat().st_size > 1000
    from mmagent.evidence import evidence_regions

    regions = evidence_regions(session.store, ["val-7"])
    assert [r.ref for r in regions] == ["tab-4#4"] and regions[0].label == "Coffee Beans 21.55"


def test_failed_tool_and_error_messages(settings, scripted, chelsea, tmp_path):
    from mmagent.core.events import ErrorRaised, ToolCalled, ToolResult

    history, store = [], ChatSession().store
    r = ChatRenderer(history, store, saver(tmp_path))
    r.apply(ToolCalled(step="s1", tool="crop", args={"image": "img-9"}))
    r.apply(
        ToolResult(step="s1", tool="crop", ok=False, observation="ERROR: unknown artifact id 'img-9'", duration_s=0.01)
    )
    r.apply(ErrorRaised(message="the reasoner model server at http://x/v1 cannot be reached"))
    assert history[0]["metadata"]["title"] == "Failed: crop (s1)" and "unknown artifact" in history[0]["content"]
    assert history[1]["content"].startswith("Error: the reasoner model server")


def test_follow_up_question_uses_the_session_images_and_history(settings, scripted, chelsea):
    s = settings.model_copy(update={"planner_kind": "react"})
    chat = scripted(
        {"thought": "find", "tool": "detect", "args": {"image": "img-1"}},
        {"thought": "ok", "tool": "final_answer", "answer": "There is 1 cat.", "evidence": ["det-2"]},
        {"thought": "crop it", "tool": "crop", "args": {"source": "det-2"}},
        {"thought": "done", "tool": "final_answer", "answer": "Cropped the cat.", "evidence": ["img-3"]},
    )
    agent = Agent(s, chat_models={"planner": chat, "reasoner": chat})
    session = ChatSession()
    agent.run("How many cats?", [chelsea], session=session)
    second = agent.run("Now crop the cat.", [], session=session)  # no new image: the earlier one
    assert second.ok and second.evidence == ["img-3"] and [t.question for t in session.turns][-1] == "Now crop the cat."
    prompt = chat.calls[2]["messages"][1].content
    text = prompt[0]["text"] if isinstance(prompt, list) else prompt
    assert "Earlier in this chat:" in text and "Q: How many cats? A: There is 1 cat." in text and "det-2" in text


def test_sessions_are_isolated(settings, scripted, chelsea, receipt):
    chat = scripted({"answer": "A cat.", "evidence": []}, {"answer": "A receipt.", "evidence": []})
    s = settings.model_copy(
        update={"planner_kind": "direct", "reasoner": settings.planner.model_copy(update={"backend": "openai"})}
    )
    agent = Agent(s, chat_models={"planner": chat, "reasoner": chat})
    a, b = ChatSession(), ChatSession()
    agent.run("What is it?", [chelsea], session=a)
    agent.run("What is it?", [receipt.image], session=b)
    img_a, img_b = a.store.get("img-1").image, b.store.get("img-1").image
    assert img_a.size != img_b.size and a.id != b.id
    with pytest.raises(UserInputError, match="no image given"):
        agent.run("And this?", [], session=ChatSession())  # a new session sees nothing of the others


def test_stop_cancels_at_the_next_call(settings, scripted, chelsea):
    s = settings.model_copy(update={"planner_kind": "react"})
    call = {"thought": "look", "tool": "detect", "args": {"image": "img-1"}}
    chat = scripted(call, call, call)
    session = ChatSession()

    def stop_after_first_result(event):
        if event.type == "tool_result":
            session.cancel.set()

    with pytest.raises(RunCancelled):
        Agent(s, chat_models={"planner": chat, "reasoner": chat}).run(
            "What?", [chelsea], on_event=stop_after_first_result, session=session
        )
    assert len(chat.replies) == 2  # stopped before the model was asked for the second action


def test_upload_checks(tmp_path, receipt):
    from app import MAX_IMAGES, check_uploads

    good = tmp_path / "r.png"
    receipt.image.save(good)
    assert check_uploads([str(good)]) == [good]
    with pytest.raises(UserInputError, match=f"at most {MAX_IMAGES} images"):
        check_uploads([str(good)] * (MAX_IMAGES + 1))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(UserInputError, match="notes.txt is not an image"):
        check_uploads([{"path": str(text)}])
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 11_000_000)
    with pytest.raises(UserInputError, match="big.png is 11.0 MB; the limit is 10 MB"):
        check_uploads([str(big)])


def test_only_an_image_made_in_this_turn_becomes_current(chelsea, receipt):
    from mmagent.core.artifacts import ImageArtifact, Provenance

    session = ChatSession()
    upload = session.store.add(ImageArtifact, Provenance("input"), image=chelsea).id
    edited = session.store.add(ImageArtifact, Provenance("edit_image", (upload,)), image=chelsea, origin="edited").id
    session.record("Make it blue.", "Done.", [edited], [upload], [upload, edited])
    assert session.current_images == [edited]  # the follow-up is about the edited image
    new = session.store.add(ImageArtifact, Provenance("input"), image=receipt.image).id
    session.record("What is the total?", "$69.95.", [], [new], [new])
    assert session.current_images == [new]  # an older edit does not take over a new upload
