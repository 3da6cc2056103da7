"""Gradio chat UI: not built yet.

The chat UI (multimodal input, streamed steps, evidence images, per-session isolation) is
planned work (issue 6) on top of `Agent.stream()`. Until then this entry point says so
instead of pretending; use the CLI or the Python API.
"""
from __future__ import annotations

import sys

MESSAGE = (
    "The mmagent Gradio UI is not built yet. Use the CLI instead:\n"
    "  .venv/bin/mmagent ask --image PATH \"your question\"\n"
    "or the Python API: from agent import Agent; Agent().run(question, images=[...])"
)

if __name__ == "__main__":
    print(MESSAGE, file=sys.stderr)
    sys.exit(1)
