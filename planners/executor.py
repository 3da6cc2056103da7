"""PlanExecutor: runs a checked plan; each task starts as soon as its dependencies are done."""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from mmagent.core.events import StepStarted
from mmagent.planners.base import RunContext
from mmagent.planners.tasks import Plan, rename_refs, topological_order
from mmagent.tools.runner import ToolCallResult


class PlanExecutor:
    def __init__(self, run: RunContext) -> None:
        self.run = run

    def execute(self, plan: Plan) -> dict[str, ToolCallResult]:
        tasks = {t.id: t for t in plan.tasks}
        waiting = topological_order(plan)
        results: dict[str, ToolCallResult] = {}
        outputs: dict[str, str] = {}  # task id -> the artifact id it made
        pending: dict[Future[ToolCallResult], str] = {}
        with ThreadPoolExecutor(
            max_workers=max(1, self.run.settings.tool_workers), thread_name_prefix="mmagent-tool"
        ) as pool:
            while waiting or pending:
                for tid in list(waiting):
                    task = tasks[tid]
                    if any(d not in results for d in task.deps):
                        continue
                    waiting.remove(tid)
                    failed = [d for d in task.deps if d not in outputs]
                    if failed:
                        results[tid] = ToolCallResult(task.tool, False, f"ERROR: skipped, depends on failed {failed}")
                        continue
                    args = rename_refs(task.args, outputs)
                    self.run.emit(StepStarted(step=tid, description=f"{task.tool} {args}"))
                    pending[pool.submit(self.run.runner.call, task.tool, args, tid)] = tid
                if not pending:
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    tid = pending.pop(fut)
                    results[tid] = fut.result()
                    if results[tid].ok and results[tid].primary:
                        outputs[tid] = results[tid].primary  # type: ignore[assignment]
        return results
