"""Planners: how a question becomes tool calls. Each takes a RunContext, returns a FinalAnswer.
A planner is its module plus one line in pyproject.toml's `mmagent.planners` entry points.

plan: a task graph planned up front (HuggingGPT); direct: one reasoning call (the baseline);
react: a tool-calling loop; ideal-paper: IdealGPT as published; ideal: our grounded IdealGPT loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmagent.core.config import planner_entry_points

if TYPE_CHECKING:
    from mmagent.planners.base import Planner


def planner_names() -> list[str]:
    """Every registered planner (the `mmagent.planners` entry points in pyproject.toml)."""
    return list(planner_entry_points())


def make_planner(kind: str) -> Planner:
    registry = planner_entry_points()
    if kind not in registry:
        from mmagent.core.errors import ConfigError

        raise ConfigError(f"unknown planner '{kind}'; available: {', '.join(registry)}")
    return registry[kind].load()()
