"""Key-value rows of a receipt or bill: a label and a money amount on one line.

TOTAL / SUBTOTAL / TAX / ... are document fields, not items; lines without an amount (store
name, address, date, "Receipt #4821", footer) are not items either. Amounts are what the
line prints last with two decimals ("$21.55", "21.55")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mmagent.core.artifacts import OcrLine
from mmagent.tools.structure.geometry import Box
from mmagent.tools.structure.text import AMOUNT, parse_number

# Field names as printed -> the field's name. Order matters: "sub total" before "total".
FIELDS = [
    ("subtotal", re.compile(r"\bsub[\s-]?total\b", re.I)),
    ("total", re.compile(r"\b(grand\s+)?total\b|\bamount\s+due\b|\bbalance\s+due\b", re.I)),
    ("tax", re.compile(r"\b(sales\s+)?tax\b|\bvat\b|\bgst\b", re.I)),
    ("tip", re.compile(r"\btip\b|\bgratuity\b|\bservice\b", re.I)),
    ("discount", re.compile(r"\bdiscount\b|\bcoupon\b|\bsavings?\b", re.I)),
    ("cash", re.compile(r"\bcash\b|\btendered\b", re.I)),
    ("change", re.compile(r"\bchange\b", re.I)),
    ("card", re.compile(r"\b(card|visa|mastercard|amex|debit|credit)\b", re.I)),
]
_LEADER = re.compile(r"[\s.:_\-–—·*]+$")
_QTY = re.compile(r"^\s*(\d+)\s*[xX@]\s+")


@dataclass
class ReceiptRow:
    label: str
    amount: float
    line: int
    box: Box


@dataclass
class Receipt:
    items: list[ReceiptRow] = field(default_factory=list)
    fields: dict[str, ReceiptRow] = field(default_factory=dict)
    other_lines: list[int] = field(default_factory=list)  # store name, address, date, footer


def split_amount(text: str) -> tuple[str, float] | None:
    """(label, amount) when a line ends with a money amount after some words."""
    matches = list(AMOUNT.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    if text[m.end() :].strip(" .*") not in ("", "A", "B", "T", "E", "F", "N"):  # tax-code letters after prices
        return None
    label = _LEADER.sub("", text[: m.start()]).strip()
    label = re.sub(AMOUNT, "", label).strip()  # "2 @ 1.50" unit prices are not part of the name
    label = _LEADER.sub("", _QTY.sub("", label)).strip()
    amount = parse_number(m.group(0))
    if amount is None or not re.search(r"[A-Za-z]", label):
        return None
    return label, amount


def parse_receipt(lines: list[OcrLine] | tuple[OcrLine, ...]) -> Receipt:
    out = Receipt()
    for i, line in enumerate(lines):
        parsed = split_amount(line.text)
        if parsed is None:
            out.other_lines.append(i)
            continue
        label, amount = parsed
        row = ReceiptRow(label, amount, i, line.box)
        name = next((n for n, pat in FIELDS if pat.search(label)), None)
        if name is not None:
            out.fields.setdefault(name, row)
        else:
            out.items.append(row)
    return out
