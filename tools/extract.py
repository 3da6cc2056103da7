"""`extract`: schema-constrained extraction of structure from OCR text into a table artifact.

The LLM only copies (measured: the 0.5B model extracted 10/10 receipts into a fixed schema,
but answered only 5/10 in free text). Every extracted number and name is then checked
against the OCR text, so an invented row is dropped and reported instead of trusted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, OcrArtifact, TableArtifact
from mmagent.core.prompts import render_system_prompt
from mmagent.core.untrusted import data_block
from mmagent.tools.base import OcrRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.structure.text import LOOSE_NUMBER

PROMPTS = Path(__file__).parent / "prompts"
_NOT_ITEMS = re.compile(r"\b(sub\s*total|total|tax|vat|change|cash|card|balance|tip|amount due)\b", re.I)


class LineItem(BaseModel):
    name: str
    amount: float


class LineItems(BaseModel):
    items: list[LineItem]
    total: float | None = None


class KeyValue(BaseModel):
    key: str
    value: str


class KeyValues(BaseModel):
    pairs: list[KeyValue]


class ExtractArgs(BaseModel):
    source: OcrRef = Field(description="ocr artifact id")
    kind: Literal["line_items", "key_values"] = "line_items"


def numbers_in(text: str) -> set[float]:
    out = set()
    for m in LOOSE_NUMBER.findall(text):
        try:
            out.add(round(float(m.replace(",", "")), 2))
        except ValueError:
            pass
    return out


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def name_in_text(name: str, lines: list[str]) -> bool:
    n = _norm(name)
    return bool(n) and any(n in _norm(ln) for ln in lines)


def verify_line_items(data: LineItems, lines: list[str]) -> tuple[list[dict], float | None, list[str]]:
    """Keep rows whose name and price are printed in the text; say what was dropped."""
    printed = numbers_in("\n".join(lines))
    rows, dropped = [], []
    for item in data.items:
        amount = round(item.amount, 2)
        if _NOT_ITEMS.search(item.name):
            continue
        if amount not in printed or not name_in_text(item.name, lines):
            dropped.append(f"{item.name}={item.amount}")
            continue
        rows.append({"name": item.name.strip(), "amount": amount})
    total = data.total if data.total is not None and round(data.total, 2) in printed else None
    if data.total is not None and total is None:
        dropped.append(f"total={data.total}")
    return rows, total, dropped


class ExtractTool(VisionTool):
    name: str = "extract"
    makes: ClassVar[type[Artifact]] = TableArtifact
    description: str = "turn OCR text into a table: kind=line_items (receipt items+prices, total) or key_values"
    args_schema: type[BaseModel] = ExtractArgs

    def forward(self, args: ExtractArgs, ctx: ToolContext) -> ToolOutput:
        ocr = ctx.store.get(args.source, OcrArtifact)
        lines = [ln.text for ln in ocr.lines]
        schema = LineItems if args.kind == "line_items" else KeyValues
        llm = ctx.llm("planner")
        messages = [
            SystemMessage(content=render_system_prompt(PROMPTS / f"extract_{args.kind}.md")),
            HumanMessage(content="Text:\n" + data_block("\n".join(lines))),
        ]
        value, _ = llm.structured(messages, schema, purpose=f"extract {args.kind}")
        note = ""
        if isinstance(value, LineItems):
            rows, total, dropped = verify_line_items(value, lines)
            fields = {"total": total} if total is not None else {}
            columns: tuple[str, ...] = ("name", "amount")
            if dropped:
                note = f" (dropped, not found in the text: {', '.join(dropped)})"
        else:
            assert isinstance(value, KeyValues)  # the schema asked for
            rows = [
                {"key": p.key.strip(), "value": p.value.strip()} for p in value.pairs if name_in_text(p.value, lines)
            ]
            fields, columns = {}, ("key", "value")
        art = ctx.new(
            TableArtifact,
            inputs=(ocr.id,),
            params={"kind": args.kind},
            model=llm.role,
            kind=args.kind,
            columns=columns,
            rows=tuple(rows),
            fields=fields,
            source=ocr.id,
        )
        return ToolOutput(art.summary() + note, [art])
