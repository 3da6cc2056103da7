"""Planners: how a question becomes tool calls. Each takes a RunContext, returns a FinalAnswer."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planners.base import Planner

PLANNERS = ("plan",)


def make_planner(kind: str) -> "Planner":
    if kind == "plan":
        from planners.plan_graph import PlanGraphPlanner

        return PlanGraphPlanner()
    from agent.errors import ConfigError

    raise ConfigError(f"unknown planner '{kind}'; available: {', '.join(PLANNERS)}")
