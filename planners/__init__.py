"""Planners: how a question becomes tool calls. Each takes a RunContext, returns a FinalAnswer.

plan: a task graph planned up front (HuggingGPT); direct: one reasoning call (the baseline);
react: a tool-calling loop; ideal-paper: IdealGPT as published; ideal: our grounded IdealGPT loop.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmagent.planners.base import Planner

PLANNERS = {
    "plan": ("mmagent.planners.plan_graph", "PlanGraphPlanner"),
    "direct": ("mmagent.planners.direct", "DirectPlanner"),
    "react": ("mmagent.planners.react", "ReActPlanner"),
    "ideal-paper": ("mmagent.planners.ideal_paper", "IdealPaperPlanner"),
    "ideal": ("mmagent.planners.ideal", "IdealPlanner"),
}


def make_planner(kind: str) -> "Planner":
    if kind not in PLANNERS:
        from mmagent.core.errors import ConfigError

        raise ConfigError(f"unknown planner '{kind}'; available: {', '.join(PLANNERS)}")
    module, cls = PLANNERS[kind]
    return getattr(import_module(module), cls)()
