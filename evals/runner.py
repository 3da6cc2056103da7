"""Run questions through an answer function, K in flight, appending one JSON line per question as
it finishes. A killed run resumes where it stopped: finished ids are skipped, nothing is lost, and
a question that errors is recorded as an error, never dropped."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from mmagent.evals.metrics import box_in, evidence_hit, score
from mmagent.evals.schema import Question

AnswerFn = Callable[[Question], dict[str, Any]]


def read_results(results: Path, drop_torn: bool = False) -> list[dict[str, Any]]:
    """The recorded rows of a results file. A torn line (a run killed mid-write) is skipped;
    `drop_torn` also rewrites the file without it, before a resumed run appends to it."""
    lines = results.read_text().splitlines() if results.is_file() else []
    rows, kept = [], []
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "id" in row:
            rows.append(row)
            kept.append(line)
    if drop_torn and len(kept) != len(lines):
        results.write_text("".join(ln + "\n" for ln in kept))
    return rows


def answer_question(q: Question, answer: AnswerFn) -> dict[str, Any]:
    """One question's results-file record: the answer function's fields, the score, the wall
    time; an exception is recorded as the question's error, never raised (the batch goes on).
    Every runner (threads, Ray actors) writes exactly these records."""
    record: dict[str, Any] = {
        "id": q.id,
        "family": q.family,
        "steps": q.steps,
        "question": q.question,
        "gold": q.answer,
        "metric": q.metric,
        "groups": q.groups,
    }
    missing = [p for p in q.images if not Path(p).is_file()]
    t0 = time.perf_counter()
    if missing:
        record.update(prediction="", score=0.0, error=f"image missing: {missing}", missing_images=len(missing))
        return record
    try:
        out = answer(q)
        record.update(out)
        record["score"] = score(q.metric, out.get("prediction", ""), q.answer, q.choices, q.distractors)
        if "target_boxes" in q.meta:  # gold evidence (visual search): did a cited region hit the target?
            record["evidence_hit"] = evidence_hit(out.get("evidence_boxes", []), q.meta["target_boxes"])
        if not str(out.get("prediction", "")).strip():
            record["error"] = "empty prediction"
    except Exception as exc:  # recorded, never dropped; the batch continues
        record.update(prediction="", score=0.0, error=f"{type(exc).__name__}: {exc}")
    record["wall_s"] = time.perf_counter() - t0
    return record


class ResultsWriter:
    """Appends records to the one results file as questions finish (fsynced, so a killed run
    loses at most the line being written), with the running totals on the progress bar.

        writer = ResultsWriter(path, questions)   # drops a torn last line; knows what is done
        for q in writer.todo: writer.write(answer_question(q, answer))
        writer.close()
    """

    def __init__(self, results: Path, questions: list[Question], progress: bool = True) -> None:
        results.parent.mkdir(parents=True, exist_ok=True)
        self.path = results
        done = {row["id"] for row in read_results(results, drop_torn=True)}
        self.todo = [q for q in questions if q.id not in done]
        self._lock = threading.Lock()
        self.totals = {"n": 0, "score": 0.0, "errors": 0, "missing_images": 0}
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=len(questions), initial=len(done), desc="eval", unit="q")

    def write(self, record: dict[str, Any]) -> None:
        with self._lock:
            with open(self.path, "a") as f:
                f.write(json.dumps(record, default=str) + "\n")
                f.flush()
                os.fsync(f.fileno())
            totals = self.totals
            totals["n"] += 1
            totals["score"] += record["score"]
            totals["errors"] += bool(record.get("error"))
            totals["missing_images"] += record.get("missing_images", 0)
            if self._bar is not None:
                self._bar.update(1)
                self._bar.set_postfix(acc=f"{totals['score'] / totals['n']:.3f}", errors=totals["errors"])

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_questions(
    questions: list[Question], answer: AnswerFn, results: Path, workers: int = 1, progress: bool = True
) -> dict[str, Any]:
    """Answer the questions not yet in `results` on `workers` threads sharing one answer function."""
    writer = ResultsWriter(results, questions, progress)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for fut in as_completed([pool.submit(answer_question, q, answer) for q in writer.todo]):
                writer.write(fut.result())
    finally:
        writer.close()
    return summarize(results)


def summarize(results: Path) -> dict[str, Any]:
    rows = read_results(results)
    by_family: dict[str, list[float]] = {}
    for r in rows:
        by_family.setdefault(r.get("family") or "all", []).append(r["score"])
    right_with_gold = [r for r in rows if "evidence_hit" in r and r["score"] >= 1.0]
    summary: dict[str, Any] = {
        "n": len(rows),
        "accuracy": sum(r["score"] for r in rows) / len(rows) if rows else 0.0,
        "errors": sum(1 for r in rows if r.get("error")),
        "missing_images": sum(r.get("missing_images", 0) for r in rows),
        "by_family": {f: sum(v) / len(v) for f, v in sorted(by_family.items())},
    }
    if right_with_gold:  # of the right answers, how many cite a region on the target
        summary["evidence_hit_of_right"] = sum(bool(r["evidence_hit"]) for r in right_with_gold) / len(right_with_gold)
    return summary


def box_answer(result: Any) -> list[float] | None:
    """For box questions (RefCOCO): the first box among the detections the answer cites."""
    cited = set(result.evidence)
    for art in result.artifacts:
        if art.get("type") == "det" and art["id"] in cited and art.get("boxes"):
            return art["boxes"][0]
    return None


def agent_answerer(agent: Any, prompt_suffix: str = "") -> AnswerFn:
    """Answers with an mmagent Agent and records its trace (the event stream) and costs."""

    def answer(q: Question) -> dict[str, Any]:
        if "hypothesis" in q.meta:  # SNLI-VE: the loops judge the hypothesis itself
            result = agent.run(q.meta["hypothesis"], q.images, choices=q.choices, mode="hypothesis")
        else:
            result = agent.run(f"{q.question} {prompt_suffix}".strip(), q.images, choices=q.choices)
        prediction: Any = result.short_answer or result.answer  # short answers are scored, as VQA does
        if q.metric == "iou" and box_in(result.answer) is None:
            prediction = box_answer(result) or result.answer
        return {
            "prediction": prediction,
            "answer_text": result.answer,
            "evidence": result.evidence,
            "ok": result.ok,
            "notes": result.notes,
            "tool_calls": len(result.steps),
            "tokens": result.tokens,
            "timings": result.timings.model_dump(),
            "plan_source": result.plan_source,
            "rounds": result.rounds,
            "evidence_boxes": [r["input_box"] for r in result.evidence_regions],  # on the input image
            # sliced perception: tiles read and zooms made (look-closer and the zoom tool)
            "tiles": sum((a.get("params", {}).get("tiles") or {}).get("n", 0) for a in result.artifacts),
            "zooms": sum(a.get("params", {}).get("zooms", 0) + (a.get("tool") == "zoom") for a in result.artifacts),
            "trace": result.trace,  # the run's own record of its events
        }

    return answer


def replay(source: Path, questions: list[Question], results: Path) -> dict[str, Any]:
    """Reproduce a run from its recorded results and traces, without any model: each recorded
    prediction (and its trace) is re-scored with the current metrics into a new results file."""
    rows = {row["id"]: row for row in read_results(source)}
    missing = [q.id for q in questions if q.id not in rows]
    results.parent.mkdir(parents=True, exist_ok=True)
    with open(results, "w") as f:
        for q in questions:
            if q.id not in rows:
                continue
            row = dict(rows[q.id], gold=q.answer, metric=q.metric, replayed_from=str(source))
            row["score"] = score(q.metric, row.get("prediction", ""), q.answer, q.choices, q.distractors)
            f.write(json.dumps(row, default=str) + "\n")
    summary = summarize(results)
    summary["not_in_recording"] = len(missing)
    return summary
