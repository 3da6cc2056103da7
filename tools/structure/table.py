"""A printed table: rows of cells whose columns line up, under a header row naming them.

Cells are OCR phrases; a row is one OCR line. The longest run of consecutive lines that have
the same number (>= 2) of cells, each cell over the same column band, is the table; its first
line is the header when its cells are words and some column below holds numbers. Receipt
lines (a name and a price) align too, but have no header, so they stay key-value rows."""

from __future__ import annotations

from dataclasses import dataclass

from mmagent.tools.structure.geometry import Box, overlap_1d, union
from mmagent.tools.structure.phrases import Phrase
from mmagent.tools.structure.text import parse_number

MIN_DATA_ROWS = 2


@dataclass
class Table:
    header: list[str]
    rows: list[list[str | float | None]]  # cells typed: numbers as float, None if unreadable
    row_boxes: list[Box]
    header_box: Box
    numeric: list[bool]  # per column


def _cells_by_line(phrases: list[Phrase]) -> list[list[Phrase]]:
    lines: dict[int, list[Phrase]] = {}
    for p in phrases:
        lines.setdefault(p.line, []).append(p)
    return [sorted(lines[k], key=lambda p: p.box[0]) for k in sorted(lines)]


def _aligned(a: list[Phrase], b: list[Phrase]) -> bool:
    """Same number of cells, each cell of b over the column of the same cell of a (left,
    right or centre aligned: their x-extents overlap) and not over a neighbour's column."""
    if len(a) != len(b) or len(a) < 2:
        return False
    for k, (ca, cb) in enumerate(zip(a, b)):
        if overlap_1d(ca.box[0], ca.box[2], cb.box[0], cb.box[2]) <= 0:
            return False
        for j, other in enumerate(a):
            if j != k and overlap_1d(other.box[0], other.box[2], cb.box[0], cb.box[2]) > overlap_1d(
                ca.box[0], ca.box[2], cb.box[0], cb.box[2]
            ):
                return False
    return True


def parse_table(phrases: list[Phrase], segments: list[Phrase] | None = None) -> Table | None:
    """The table among the phrases; with `segments` (the OCR's own boxes, one cell each) also
    tried, for columns set closer than the phrase gap ("Age  Score"); the larger table wins."""
    found = [t for t in (_parse(phrases), _parse(segments) if segments else None) if t is not None]
    return max(found, key=lambda t: len(t.rows) * len(t.header)) if found else None


def _parse(phrases: list[Phrase]) -> Table | None:
    lines = _cells_by_line(phrases)
    best: tuple[int, int] | None = None  # (start, end) of the longest aligned run
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or not _aligned(lines[start], lines[i]):
            if i - start >= MIN_DATA_ROWS + 1 and (best is None or i - start > best[1] - best[0]):
                best = (start, i)
            start = i
    if best is None:
        return None
    run = lines[best[0] : best[1]]
    head, body = run[0], run[1:]
    head_numbers = [parse_number(c.text) is not None for c in head]
    # a column is numeric when most of its cells are numbers (an OCR slip leaves one empty)
    numeric = [sum(parse_number(r[k].text) is not None for r in body) >= 0.75 * len(body) for k in range(len(head))]
    if any(head_numbers) or not any(numeric):
        return None  # no header naming the columns: key-value rows (a receipt), not a table
    rows = [[parse_number(c.text) if numeric[k] else c.text for k, c in enumerate(r)] for r in body]
    return Table(
        header=[c.text for c in head],
        rows=rows,
        row_boxes=[union([c.box for c in r]) for r in body],
        header_box=union([c.box for c in head]),
        numeric=numeric,
    )
