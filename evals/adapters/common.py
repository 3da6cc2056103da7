"""Reading official benchmark files with errors that name the file and the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmagent.core.errors import UserInputError


def load_json(path: str | None, what: str) -> Any:
    if not path:
        raise UserInputError(f"the {what} file is not set in the config (data.path / data.annotations)")
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"{what} file not found: {p}")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{p} is not valid JSON: {exc}") from None


def field(record: dict, key: str, where: str) -> Any:
    if key not in record:
        raise UserInputError(f"{where}: a record has no '{key}' field")
    return record[key]


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-empty line; a clear error for a missing file or bad JSON."""
    if not path.is_file():
        raise UserInputError(f"questions file not found: {path}")
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"{path} line {n}: not JSON ({exc})") from None
