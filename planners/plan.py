"""`plan`: perceive, then choose a program over the structure, then compute (the default).

1. perceive: every image is read by OCR and the detector, and `layout` turns what they found
   (and the pixels) into tables: receipt items and fields, printed tables, chart bars, collage
   panels, shapes, positioned text, objects. No LLM.
2. split: a compound question ("the total and the most expensive item") is split into parts.
3. choose: for each part, `programs.candidate_programs` lists the computations the structure
   supports for the rows, values and numbers the question names; the planner LLM picks one
   gloss from that list (constrained decoding: it cannot spell anything else).
4. compute: the `query` tool computes the chosen program; the value is the short answer, and
   the sentence states exactly that value, citing the value artifact (which cites its rows).
A part no candidate answers ("none of these", or no structure) goes to the free task graph
(`task_graph.TaskGraph`: the LLM plans tool calls under a schema, the reasoner answers).
"""

from __future__ import annotations

import time

from mmagent.core.artifacts import TableArtifact, ValueArtifact
from mmagent.core.events import PlanMade
from mmagent.planners.base import FinalAnswer, RunContext
from mmagent.planners.choose import choose_program
from mmagent.planners.executor import PlanExecutor
from mmagent.planners.programs import Program, candidate_programs, sentence
from mmagent.planners.task_graph import TaskGraph, split_question
from mmagent.planners.tasks import Plan, Task, normalize, read_and_detect


def perception_plan(image_ids: list[str]) -> Plan:
    """OCR and detection of every image (concurrently), then its layout from both."""
    tasks: list[Task] = []
    for img in image_ids:
        n = len(tasks)
        tasks += read_and_detect(img, n + 1)
        tasks.append(
            Task(id=f"t{n + 3}", tool="layout", args={"image": img, "ocr": f"$t{n + 1}", "detections": f"$t{n + 2}"})
        )
    return normalize(Plan(tasks=tasks))


def perceive(run: RunContext) -> tuple[Plan, list[list[TableArtifact]]]:
    """The perception plan and, per image, the tables its layout made (empty if it failed)."""
    plan = perception_plan(run.image_ids)
    results = PlanExecutor(run).execute(plan)
    tables = []
    for k in range(len(run.image_ids)):
        layout = results.get(f"t{3 * k + 3}")
        ids = layout.artifact_ids if layout is not None and layout.ok else []
        tables.append([run.store.get(a, TableArtifact) for a in ids])
    return plan, tables


class PlanPlanner:
    name = "plan"

    def solve(self, run: RunContext) -> FinalAnswer:
        t0 = time.perf_counter()
        perception, tables = perceive(run)
        t1 = time.perf_counter()
        # tool time (perception and queries) vs. planning time, for Result.timings
        run.phase_seconds["execute"] = t1 - t0
        parts = split_question(run, run.main_question or run.question)
        chosen: list[Program | None] = []
        notes: list[str] = []
        for k, part in enumerate(parts, 1):
            candidates = candidate_programs(part, tables)
            program, how = choose_program(run, part, candidates) if candidates else (None, "no structure to compute on")
            notes.append(f"part {k}: {how}" if len(parts) > 1 else how)
            chosen.append(program)
        run.emit(
            PlanMade(
                tasks=[t.model_dump() for t in perception.tasks]
                + [
                    {"id": f"q{k}", "tool": p.tool, "args": p.args, "deps": [], "gloss": p.gloss}
                    for k, p in enumerate(chosen, 1)
                    if p is not None
                ],
                source="choice" if all(chosen) else "choice+llm",
                note=" | ".join(f"{q} [{p.gloss if p else 'free plan'}]" for q, p in zip(parts, chosen)),
            )
        )
        run.phase_seconds["plan"] = time.perf_counter() - t1
        answers: list[FinalAnswer | None] = []
        for k, program in enumerate(chosen, 1):
            answers.append(self.compute(run, program, f"q{k}", notes) if program is not None else None)
        free = [p for p, a in zip(parts, answers) if a is None]
        if free:  # one free plan serves every part without a program; its answer goes in the first one's place
            answers[answers.index(None)] = TaskGraph().solve(run, free)
        return FinalAnswer(
            answer=" ".join(a.answer for a in answers if a),
            evidence=list(dict.fromkeys(e for a in answers if a for e in a.evidence)),
            notes=notes + [n for a in answers if a for n in a.notes],
            ok=all(a.ok for a in answers if a),
            short="; ".join(a.short for a in answers if a and a.short),
        )

    @staticmethod
    def compute(run: RunContext, program: Program, step: str, notes: list[str]) -> FinalAnswer | None:
        """Run the chosen program; its value is the short answer and the sentence states it."""
        result = run.runner.call(program.tool, program.args, step=step)
        run.phase_seconds["execute"] += result.duration_s
        if not result.ok or result.primary is None:
            notes.append(f"the chosen program failed ({result.observation}); planning tools instead")
            return None
        value = run.store.get(result.primary, ValueArtifact)
        return FinalAnswer(sentence(program, value.short), [value.id], short=value.short)
