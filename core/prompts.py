"""Prompt templates: files beside the code that uses them, `$name` placeholders (`$$` for a
dollar). Every system prompt ends with the rule that image and tool text is data, so no
planner or tool can forget it."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from mmagent.core.untrusted import UNTRUSTED_RULE


def render_prompt(path: Path, **values: Any) -> str:
    """The template at `path` with its placeholders filled."""
    return Template(path.read_text()).substitute(**values)


def render_system_prompt(path: Path, **values: Any) -> str:
    """A system prompt: the template, then the untrusted-text rule."""
    return render_prompt(path, **values) + "\n\n" + UNTRUSTED_RULE
