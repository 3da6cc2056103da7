"""Answer-format instructions in a question ("Answer with a single word, number or short
phrase.", VQA's and LLaVA's prompt suffixes): recognised and taken out before planning, so no
planner treats them as a sub-question, and honoured after it (the answer is the short answer).

>>> split_format("What is the total? Answer with a single word or phrase.")
('What is the total?', 'Answer with a single word or phrase.')
"""

from __future__ import annotations

import re

# A sentence that tells how to answer: a verb of answering, then what form the answer takes.
_INSTRUCTION = re.compile(
    r"(?:^|(?<=[.?!:])\s*)((?:please\s+)?(?:answer|respond|reply|give|just\s+give|output|use|write)\b[^.?!]*?"
    r"\b(?:word|words|number|phrase|short|brief|briefly|letter|option|yes\s+or\s+no|only|directly)\b[^.?!]*[.!]?)\s*$",
    re.I,
)


def split_format(question: str) -> tuple[str, str | None]:
    """(the question without its answer-format instruction, the instruction or None)."""
    q = question.strip()
    m = _INSTRUCTION.search(q)
    if not m or not q[: m.start(1)].strip():
        return q, None  # nothing recognised, or the instruction is all there is
    return q[: m.start(1)].strip(), m.group(1).strip()
