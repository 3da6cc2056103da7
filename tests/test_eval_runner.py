"""Evaluation runner: resumes after a kill with nothing lost and no duplicates; errors recorded;
missing images counted; reports written; bad configs and files get clear messages."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmagent.core.errors import UserInputError
from mmagent.evals.config import EvalConfig, load_config
from mmagent.evals.datasets import load_questions, read_jsonl
from mmagent.evals.report import write_report
from mmagent.evals.runner import run_questions
from mmagent.evals.schema import Question

REPO = Path(__file__).resolve().parents[1]


def _questions(tmp_path, n):
    img = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(img)
    return [
        Question(id=f"q{i}", question=f"What is {i}?", images=[str(img)], answer=str(i), family="f", steps=1 + i % 2)
        for i in range(n)
    ]


SLOW_RUN = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from mmagent.evals.runner import run_questions
from mmagent.evals.schema import Question
qs = [Question.model_validate(q) for q in {qs!r}]
def answer(q):
    time.sleep(0.15)
    return {{"prediction": q.answer}}
run_questions(qs, answer, Path({out!r}), workers=2, progress=False)
"""


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    qs = _questions(tmp_path, 24)
    out = tmp_path / "results.jsonl"
    code = SLOW_RUN.format(repo=str(REPO), qs=[q.model_dump() for q in qs], out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = [json.loads(ln)["id"] for ln in out.read_text().splitlines() if ln.strip()]
    assert 5 <= len(partial) < 24
    with open(out, "a") as f:
        f.write('{"id": "q1", "torn')  # a write cut off by the kill
    summary = run_questions(qs, lambda q: {"prediction": q.answer}, out, workers=3, progress=False)
    ids = [json.loads(ln)["id"] for ln in out.read_text().splitlines()]
    assert sorted(ids) == sorted(q.id for q in qs) and len(ids) == len(set(ids))
    assert ids[: len(partial)] == partial  # what was written before the kill is kept as it was
    assert summary["n"] == 24 and summary["accuracy"] == 1.0


def test_errors_empty_answers_and_missing_images_are_recorded(tmp_path):
    qs = _questions(tmp_path, 4)
    qs[1].images = [str(tmp_path / "gone.png")]

    def answer(q):
        if q.id == "q2":
            raise RuntimeError("model server down")
        return {"prediction": "" if q.id == "q3" else q.answer}

    summary = run_questions(qs, answer, tmp_path / "r.jsonl", progress=False)
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert rows["q0"]["score"] == 1.0
    assert "image missing" in rows["q1"]["error"] and summary["missing_images"] == 1
    assert rows["q2"]["error"] == "RuntimeError: model server down" and rows["q2"]["score"] == 0
    assert rows["q3"]["error"] == "empty prediction"
    assert summary["n"] == 4 and summary["errors"] == 3


def test_report_compares_runs(tmp_path):
    qs = _questions(tmp_path, 6)
    for i, q in enumerate(qs):  # ScienceQA-style breakdowns; a list counts in each of its groups
        q.groups = {"context": ["TXT", "IMG"] if i < 2 else ["IMG"]}
    run_questions(
        qs,
        lambda q: {"prediction": q.answer, "tokens": {"prompt": 10}, "rounds": 1},
        tmp_path / "a" / "results.jsonl",
        progress=False,
    )
    run_questions(
        qs,
        lambda q: {"prediction": "no" if int(q.answer) < 3 else q.answer, "rounds": 2},
        tmp_path / "b" / "results.jsonl",
        progress=False,
    )
    report = write_report([tmp_path / "a", tmp_path / "b"], tmp_path / "rep")
    text = report.read_text()
    assert "| a | 6 | 1.000 | 0 | 1.00 |" in text and "| b | 6 | 0.500 | 0 | 2.00 |" in text
    assert "| IMG | 1.000 (n=6) | 0.500 (n=6) |" in text and "| TXT | 1.000 (n=2) | 0.000 (n=2) |" in text
    for png in ("accuracy_by_family.png", "accuracy_by_steps.png", "accuracy_by_rounds.png", "latency_tokens.png"):
        assert (tmp_path / "rep" / png).stat().st_size > 1000
    import csv

    rows = list(csv.DictReader((tmp_path / "rep" / "rows.csv").open()))
    assert len(rows) == 12 and {r["run"] for r in rows} == {"a", "b"}
    assert sum(float(r["score"]) for r in rows if r["run"] == "b") == 3


def test_replay_rescores_a_recorded_run_without_models(tmp_path):
    from mmagent.evals.runner import replay

    qs = _questions(tmp_path, 3)
    src = tmp_path / "r.jsonl"
    run_questions(
        qs, lambda q: {"prediction": f"It is {q.answer}.", "trace": [{"type": "answer"}]}, src, progress=False
    )
    qs[0].answer = "99"  # e.g. a corrected gold answer
    summary = replay(src, qs + [Question(id="new", question="?", images=[], answer="1")], tmp_path / "replay.jsonl")
    rows = [json.loads(ln) for ln in (tmp_path / "replay.jsonl").read_text().splitlines()]
    assert [r["score"] for r in rows] == [0.0, 1.0, 1.0] and rows[1]["trace"] == [{"type": "answer"}]
    assert summary["not_in_recording"] == 1 and summary["n"] == 3


def test_bad_configs_and_files(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nsource = "imagenet"\n')
    with pytest.raises(UserInputError, match="data.source"):
        load_config(bad)
    jl = tmp_path / "q.jsonl"
    jl.write_text('{"id": "a", "question": "q?", "images": []}\n')
    with pytest.raises(UserInputError, match="line 1: field 'answer'"):
        read_jsonl(jl, None)
    jl.write_text('{"id": "a", "question": "q?", "images": [], "answer": 1}\n' * 2)
    with pytest.raises(UserInputError, match="duplicate question ids"):
        load_questions(EvalConfig(name="t", data={"source": "jsonl", "path": str(jl)}), tmp_path)


def test_eval_cli_runs_a_config_end_to_end_with_the_real_stack(tmp_path):
    """Two synthetic questions through `mmagent eval` on the offline stack (LLM, YOLO, OCR)."""
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('name = "tiny"\n[data]\nsource = "synthetic"\nn = 2\nseed = 0\nfamilies = ["receipt", "sign"]\n')
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-m", "mmagent.ui.cli", "eval", str(cfg), "--out", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(ln) for ln in (tmp_path / "runs" / "tiny-plan" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["trace"] and "prediction" in r for r in rows)
    assert json.loads(out.stdout[out.stdout.index("{") :])["n"] == 2


test_eval_cli_runs_a_config_end_to_end_with_the_real_stack = pytest.mark.slow(
    pytest.mark.llm(test_eval_cli_runs_a_config_end_to_end_with_the_real_stack)
)


def test_task_text_and_box_answers():
    from types import SimpleNamespace

    from mmagent.evals.runner import box_answer
    from mmagent.planners.base import task_text

    vcr = task_text("Why?", ["He is late for work.", "He is lost.", "It rains."])
    assert vcr.endswith("Choices:\n(1) He is late for work.\n(2) He is lost.\n(3) It rains.")
    assert task_text("Which?", ["cat", "dog"]) == "Which? Choices: cat, dog."
    assert task_text("A dog runs.", mode="hypothesis") == (
        'Does the image entail, contradict, or is it neutral to the hypothesis: "A dog runs."? '
        "Choices: entailment, neutral, contradiction."
    )
    result = SimpleNamespace(
        evidence=["det-2"],
        artifacts=[
            {"id": "det-1", "type": "det", "boxes": [[0, 0, 1, 1]]},
            {"id": "det-2", "type": "det", "boxes": [[5, 6, 7, 8], [1, 1, 2, 2]]},
        ],
    )
    assert box_answer(result) == [5, 6, 7, 8]  # the cited detections, not the first ones made
    assert box_answer(SimpleNamespace(evidence=[], artifacts=result.artifacts)) is None
