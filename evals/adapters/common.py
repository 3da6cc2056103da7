"""Reading official benchmark files with errors that name the file and the field."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.errors import UserInputError


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
