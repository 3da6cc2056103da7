"""The real thing, offline: the packaged LLM planner + YOLO + PP-OCR + layout answer multi-step
questions; short answers are checked exactly against the generator's ground truth."""

import json
import random
import subprocess
import sys

import pytest

from mmagent import Agent, load_settings
from mmagent.core.samples import packaged_photo
from mmagent.evals.metrics import score

pytestmark = [pytest.mark.slow, pytest.mark.llm]


@pytest.fixture(scope="module")
def agent(settings_kwargs):
    return Agent(load_settings(**settings_kwargs))


def first_question(tmp_path, family, wanted):
    """The first generated question of a family (seed 0, 1, ...) that `wanted` accepts."""
    from mmagent.evals.synthetic import GENERATORS

    for seed in range(200):
        q = GENERATORS[family](random.Random(f"e2e:{seed}"), f"e2e-{family}-{seed}", tmp_path)
        if wanted(q):
            return q
    raise AssertionError(f"no {family} question found")


@pytest.mark.parametrize(
    "family,wanted",
    [
        ("receipt", lambda q: q.meta["kind"] == "price"),  # a receipt lookup
        ("chart", lambda q: "highest" in q.question or "tallest" in q.question or "longest" in q.question),  # argmax
        ("table", lambda q: q.meta["kind"] == "lookup"),  # a table lookup
        ("collage", lambda q: q.metric != "choice"),  # the number under a photo
    ],
)
def test_short_answer_is_exact(agent, tmp_path, family, wanted):
    q = first_question(tmp_path, family, wanted)
    result = agent.run(q.question, q.images)
    assert result.ok, result.notes
    assert score(q.metric, result.short_answer, q.answer, q.choices, q.distractors) == 1.0, (
        q.question,
        q.answer,
        result.short_answer,
        result.answer,
        result.notes,
    )
    assert result.short_answer in result.answer  # the sentence states exactly the computed value
    # the evidence is the exact row the value came from, on the image
    assert result.evidence_regions and all(r["image"] == "img-1" for r in result.evidence_regions)
    assert result.timings.llm_s > 0 and result.tokens["prompt"] > 0


def test_receipt_total_and_most_expensive_item(agent, receipt, tmp_path):
    path = tmp_path / "receipt.png"
    receipt.image.save(path)
    result = agent.run("What is the total on the receipt and which item is most expensive?", [path])
    assert result.ok, result.notes
    name, _ = receipt.most_expensive
    assert f"{receipt.total:.2f}" in result.answer and name.lower() in result.answer.lower()
    assert {"ocr", "layout", "query"} <= {s.tool for s in result.steps}
    assert set(result.evidence) <= {a["id"] for a in result.artifacts} and result.evidence
    assert result.short_answer == f"{receipt.total:.2f}; {name}"


def test_answer_format_instruction_is_honoured(agent, receipt, tmp_path):
    path = tmp_path / "receipt.png"
    receipt.image.save(path)
    result = agent.run("What is the total on the receipt? Answer with a single word, number or short phrase.", [path])
    assert result.answer == result.short_answer == f"{receipt.total:.2f}"


def test_cli_json_is_one_object_on_stdout(settings_kwargs):
    bus = packaged_photo("bus.jpg")
    env = dict(__import__("os").environ)
    if "model_dir" in settings_kwargs:
        env["MMAGENT_MODEL_DIR"] = str(settings_kwargs["model_dir"])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mmagent.ui.cli",
            "ask",
            "--json",
            "--image",
            str(bus),
            "How many people are in the photo?",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)  # exactly one JSON object, nothing else on stdout
    assert {"answer", "short_answer", "evidence", "evidence_regions", "steps", "timings"} <= set(data)
    assert data["short_answer"] == "4"
    assert any(s["tool"] == "detect" for s in data["steps"])
    assert len(data["evidence_regions"]) == 4 and all(r["label"].startswith("person") for r in data["evidence_regions"])
