"""mmagent: a planner LLM answers questions about images with real vision tools.

    from mmagent import Agent
    result = Agent().run("What is the total?", images=["receipt.png"])

Imports are lazy so `mmagent --help` stays fast (torch, ultralytics load on first use).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Library defaults that must be set before those libraries are imported: ultralytics prints
# to stdout (which `mmagent ask --json` owns) and may try to download fonts or weights.
os.environ.setdefault("YOLO_VERBOSE", "False")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if TYPE_CHECKING:
    from mmagent.agent import Agent
    from mmagent.core.config import Settings, load_settings
    from mmagent.core.result import Result

__all__ = ["Agent", "Settings", "load_settings", "Result"]


def __getattr__(name: str) -> Any:
    if name == "Agent":
        from mmagent.agent import Agent

        return Agent
    if name in ("Settings", "load_settings"):
        from mmagent.core import config

        return getattr(config, name)
    if name == "Result":
        from mmagent.core.result import Result

        return Result
    raise AttributeError(name)
