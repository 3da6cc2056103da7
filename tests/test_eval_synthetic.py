"""Synthetic benchmark generator: deterministic by seed, answers agree with the scene record and
with what is actually printed, answers balanced, question-only baseline near chance."""

import hashlib
from collections import Counter
from pathlib import Path

from mmagent.evals.metrics import numbers_in
from mmagent.evals.synthetic import FAMILIES, generate, question_only_baseline


def _digest(paths):
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def test_deterministic_by_seed(tmp_path):
    a = generate(12, 7, tmp_path / "a")
    b = generate(12, 7, tmp_path / "b")
    c = generate(12, 8, tmp_path / "c")
    strip = lambda q: q.model_dump(exclude={"images"})  # noqa: E731
    assert [strip(q) for q in a] == [strip(q) for q in b]
    assert [_digest(q.images) for q in a] == [_digest(q.images) for q in b]
    assert [strip(q) for q in a] != [strip(q) for q in c]
    assert {q.family for q in a} == set(FAMILIES)
    assert all(q.program and q.tools and q.steps >= 2 for q in a)
    assert any(q.distractors for q in a)


def test_shape_answers_follow_the_scene_record(tmp_path):
    shapes = [q for q in generate(90, 3, tmp_path) if q.family == "shapes"]
    assert {q.meta["kind"] for q in shapes} == {"count", "under", "colour", "shape"}
    for q in shapes:
        scene, kind = q.meta["scene"], q.meta["kind"]
        if kind == "count":
            assert q.meta["colour"] in q.question
            assert q.answer == sum(s["colour"] == q.meta["colour"] for s in scene)
            continue
        target = scene[q.meta["target"]]
        if kind == "under":  # the question names exactly one shape by colour and kind
            assert target["colour"] in q.question and target["shape"] in q.question
            assert sum(s["colour"] == target["colour"] and s["shape"] == target["shape"] for s in scene) == 1
            assert q.answer == str(target["number"])
        else:  # the question names the number printed under the shape
            assert str(target["number"]) in q.question
            assert q.answer == target["colour" if kind == "colour" else "shape"]


def test_renderings_vary(tmp_path):
    """Fonts, sizes, page colours, rotation and noise vary, so no family is one renderer's copy."""
    from PIL import Image

    qs = [q for q in generate(36, 5, tmp_path) if q.family in ("receipt", "table", "chart")]
    sizes = {Image.open(q.images[0]).size for q in qs}
    pages = {Image.open(q.images[0]).convert("RGB").getpixel((2, 2)) for q in qs}
    assert len(sizes) >= len(qs) - 1 and len(pages) >= 3
    assert {q.family for q in generate(18, 5, tmp_path)} == set(FAMILIES)


def test_receipt_totals_are_what_the_image_prints(tmp_path, tool_env):
    q = next(q for q in generate(90, 1, tmp_path) if q.family == "receipt" and q.meta["kind"] == "total")
    from PIL import Image

    env = tool_env()
    r = env.call("ocr", image=env.add_image(Image.open(q.images[0]).convert("RGB")))
    total_line = next(ln for ln in r.observation.split("|") if "TOTAL" in ln)
    assert q.answer in numbers_in(total_line)


def test_answers_are_balanced_and_guessing_does_not_pay(tmp_path):
    qs = generate(240, 0, tmp_path)
    firsts = Counter(q.answer for q in qs if q.family == "receipts2")
    assert abs(firsts["first"] - firsts["second"]) <= 0.3 * sum(firsts.values())
    panels = Counter(q.answer for q in qs if q.family == "collage" and q.metric == "choice")
    assert {"left", "right"} <= set(panels) and len(panels) >= 4  # rows of 2 or 3 panels, and grids
    presence = Counter(q.answer for q in qs if q.family == "presence")
    assert abs(presence["yes"] - presence["no"]) <= 0.4 * sum(presence.values())
    baseline = question_only_baseline(qs)
    assert baseline["receipt"] < 0.2 and baseline["chart"] < 0.2 and baseline["receipts2"] < 0.7
    assert baseline["table"] < 0.2 and baseline["counts"] < 0.5 and baseline["presence"] < 0.7
