"""`direct`: the one-call baseline every evaluation compares against.

A reasoner that sees images answers from the images alone. The embedded text LLM cannot see,
so it answers from a scene description the caption tool composes for each image (offline:
detector + classifier + OCR summary), which is still a single reasoning call.
"""

from __future__ import annotations

import time

from mmagent.planners.answer import answer_part
from mmagent.planners.base import FinalAnswer, RunContext


class DirectPlanner:
    name = "direct"

    def solve(self, run: RunContext) -> FinalAnswer:
        t0 = time.perf_counter()
        observations = []
        if not run.llm("reasoner").vision:
            for n, image_id in enumerate(run.image_ids, 1):
                result = run.runner.call("caption", {"image": image_id}, step=f"c{n}")
                observations.append(f"{image_id} caption: {result.observation}")
        run.phase_seconds["execute"] = time.perf_counter() - t0
        return answer_part(run, run.question, observations, system="direct_system.md")
