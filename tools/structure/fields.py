"""Labelled fields: "KEY: VALUE" lines of a form, label, ticket or badge ("PLATE: KXT4821",
"COLOR OF THE DAY: GREEN"). The key is a short name (letters first, at most six words); the
value is typed as a number when it is one, else kept as printed.

>>> parse_fields([OcrLine("PLATE: KXT4821", (0, 0, 100, 20), 0.9), OcrLine("12:30 TABLE 4", (0, 30, 90, 50), 0.9)])
[Field(key='PLATE', value='KXT4821', box=(0, 0, 100, 20))]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mmagent.core.artifacts import OcrLine
from mmagent.tools.structure.geometry import Box
from mmagent.tools.structure.text import parse_number

_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 .#/&'()-]{0,40}?)\s*:(?!//)\s*(\S.*?)\s*$")  # not "http://"


@dataclass(frozen=True)
class Field:
    key: str
    value: Any
    box: Box


def parse_fields(lines: list[OcrLine] | tuple[OcrLine, ...]) -> list[Field]:
    out = []
    for ln in lines:
        m = _FIELD.match(ln.text)
        if m is None or len(m.group(1).split()) > 6:
            continue
        value = m.group(2)
        number = parse_number(value)
        out.append(
            Field(
                m.group(1).strip(),
                number
                if number is not None and value.strip("$€£ ") and re.fullmatch(r"[-+$€£\s\d.,%]+", value)
                else value,
                ln.box,
            )
        )
    return out
