"""Synthetic benchmark generator: deterministic by seed, answers agree with the scene record and
with what is actually printed, answers balanced, question-only baseline near chance."""
import hashlib
from collections import Counter
from pathlib import Path

from evals.metrics import numbers_in
from evals.synthetic import FAMILIES, generate, question_only_baseline


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
    for q in [q for q in generate(60, 3, tmp_path) if q.family == "shapes"]:
        scene = q.meta["scene"]
        if q.question.startswith("How many"):
            colour = q.question.split()[2]
            assert q.answer == sum(s["colour"] == colour for s in scene)
        elif q.question.startswith("What number"):
            words = q.question.rstrip("?").split()
            shape, colour = words[-1], words[-2]
            assert q.answer == str(next(s["number"] for s in scene if s["shape"] == shape and s["colour"] == colour))
        else:
            number = int(q.question.rstrip("?").split()[-1])
            assert q.answer == next(s["colour"] for s in scene if s["number"] == number)


def test_receipt_totals_are_what_the_image_prints(tmp_path, tool_env):
    q = next(q for q in generate(40, 1, tmp_path) if q.family == "receipt" and "total" in q.question)
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
    assert set(panels) == {"left", "middle", "right"}
    baseline = question_only_baseline(qs)
    assert baseline["receipt"] < 0.2 and baseline["chart"] < 0.2 and baseline["receipts2"] < 0.7
