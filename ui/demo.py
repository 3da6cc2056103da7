"""The README's main job: example images, multi-step questions, answers checked against truth."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mmagent.core.config import Settings
from mmagent.tools.structure.text import LOOSE_NUMBER


@dataclass
class DemoCase:
    question: str
    images: list[Path]
    expect: str  # what a correct answer contains, for the person watching
    check: Callable[[str], bool]


def _has_number(answer: str, value: float) -> bool:
    nums = {round(float(n.replace(",", "")), 2) for n in LOOSE_NUMBER.findall(answer)}
    return round(value, 2) in nums


def build_cases(out_dir: Path) -> list[DemoCase]:
    from mmagent.core.samples import packaged_photo, render_receipt

    out_dir.mkdir(parents=True, exist_ok=True)
    receipt = render_receipt(seed=0)
    receipt_path = out_dir / "receipt.png"
    receipt.image.save(receipt_path)
    top_name, top_price = receipt.most_expensive
    bus = packaged_photo("bus.jpg")
    return [
        DemoCase(
            "What is the total on the receipt and which item is most expensive?",
            [receipt_path],
            f"total ${receipt.total:.2f}; most expensive {top_name} (${top_price:.2f})",
            lambda a: _has_number(a, receipt.total) and top_name.lower() in a.lower(),
        ),
        DemoCase(
            "How many people are in the photo, and what is written on the bus?",
            [bus],
            "4 people (the photo's visible pedestrians); the bus text, e.g. 'cero emisiones'",
            lambda a: bool(re.search(r"\b(4|four)\b", a.lower())) and "emisiones" in a.lower(),
        ),
    ]


def run_demo(out_dir: Path, settings: Settings) -> bool:
    from rich.console import Console

    from mmagent.agent import Agent
    from mmagent.core.trace import TracePrinter

    console = Console(highlight=False)
    agent = Agent(settings)
    printer = TracePrinter()
    passed = 0
    cases = build_cases(out_dir)
    for i, case in enumerate(cases, 1):
        console.rule(f"demo {i}/{len(cases)}: {', '.join(p.name for p in case.images)}")
        result = agent.run(case.question, case.images, on_event=printer)
        printer.final(result)
        ok = result.ok and case.check(result.answer)
        passed += ok
        console.print(f"expected: {case.expect} -> [{'green' if ok else 'red'}]{'CORRECT' if ok else 'WRONG'}[/]")
    console.rule(f"{passed}/{len(cases)} answers correct")
    return passed == len(cases)
