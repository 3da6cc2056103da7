"""Agents with a deterministic fake LLM, built by name inside other processes (Ray actors
import this module as `tests.fake_agents`; a test module itself is imported by pytest under
another name, so a factory defined there cannot be found by an actor)."""

from __future__ import annotations

from typing import Any

from tests.conftest import SchemaChat


def schema_agent(settings: Any) -> Any:
    """An Agent whose planner and reasoner follow the reply schema (SchemaChat): the same
    answers in any process, in any order."""
    from mmagent.agent import Agent

    return Agent(settings, chat_models={"planner": SchemaChat(), "reasoner": SchemaChat()})
