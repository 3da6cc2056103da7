"""Readable trace of the event stream for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mmagent.core.events import (
    AnswerGiven,
    ErrorRaised,
    LLMCalled,
    PlanMade,
    RunStarted,
    Thought,
    ToolCalled,
    ToolResult,
)


class TracePrinter:
    def __init__(self, to_stderr: bool = False) -> None:
        self.console = Console(stderr=to_stderr, highlight=False, soft_wrap=True)

    def __call__(self, ev: Any) -> None:
        c = self.console
        if isinstance(ev, RunStarted):
            c.print(f"[bold]question[/]: {ev.question}  [dim](images {', '.join(ev.images)}, planner {ev.planner})[/]")
        elif isinstance(ev, PlanMade):
            c.print(f"[bold]plan[/] ({ev.source}):")
            for t in ev.tasks:
                c.print(f"  {t['id']}: {t['tool']} {t['args']}", markup=False)
            if ev.note:
                c.print(f"  [yellow]{ev.note}[/]")
        elif isinstance(ev, Thought):
            c.print(f"[magenta]{ev.role} (round {ev.round})[/]: {escape(ev.text)}")
        elif isinstance(ev, ToolCalled):
            c.print(f"[cyan]→ {ev.step} {ev.tool}[/] {ev.args}")
        elif isinstance(ev, ToolResult):
            colour = "green" if ev.ok else "red"
            obs = ev.observation if len(ev.observation) < 600 else ev.observation[:600] + " …"
            c.print(f"[{colour}]← {ev.step} {ev.tool} {ev.duration_s:.2f}s[/] {escape(obs)}")
        elif isinstance(ev, LLMCalled):
            c.print(
                f"[dim]llm {ev.role}/{ev.purpose}: {ev.duration_s:.1f}s, "
                f"{ev.prompt_tokens}+{ev.completion_tokens} tokens ({ev.cached_tokens} of the prompt cached)[/]"
            )
        elif isinstance(ev, ErrorRaised):
            c.print(f"[red]error[/]: {ev.message}", markup=False)
        elif isinstance(ev, AnswerGiven):
            pass  # printed by final()

    def final(self, result: Any) -> None:
        c = self.console
        c.print(f"[bold green]answer[/]: {result.answer}")
        c.print(f"[bold]evidence[/]: {', '.join(result.evidence) or '(none cited)'}")
        for note in result.notes:
            c.print(f"[yellow]note[/]: {escape(note)}")
        t = result.timings
        c.print(
            f"[dim]wall {t.wall_s:.1f}s = llm {t.llm_s:.1f}s + tools {t.tool_s:.1f}s + "
            f"orchestration {t.orchestration_s:.2f}s; tokens {result.tokens}[/]"
        )
