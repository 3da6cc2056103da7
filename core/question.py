"""Taking a user's question safely: whatever bytes arrive, the planners get printable text.

Python decodes argv bytes that are not UTF-8 into lone surrogates ("\\udcff"), which no
tokenizer or JSON encoder accepts; terminals' escape sequences, other control characters and
bidirectional overrides (which make text display in another order than it is read) carry no
meaning for a question. They are replaced or dropped here, once, for the CLI, the UI and the API.
"""

from __future__ import annotations

import re
import unicodedata

from mmagent.core.errors import UserInputError

MAX_QUESTION_CHARS = 4000  # a long question is a paragraph; 20,000 characters is a paste gone wrong
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # ANSI/VT100 sequences: colours, cursor moves
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


_MAKE = re.compile(
    r"^\W*(?:please\s+|can you\s+|could you\s+)?(?:generate|create|draw|paint|render|sketch|imagine)\b|"
    r"\b(?:generate|create|draw|paint|render|make|produce|design|edit|change|modify|recolou?r|"
    r"replace|remove|add|turn|inpaint)\b.{0,60}\b(?:image|picture|photo|drawing|painting|"
    r"illustration|it|this|that|sky|background)\b|\b(?:make|turn)\b.{0,40}\b(?:red|blue|green|"
    r"yellow|black|white|brighter|darker)\b",
    re.IGNORECASE,
)


def asks_for_image(question: str) -> bool:
    """Whether the user's question asks to make or edit an image (only then may a run create one).

    >>> asks_for_image("Generate an image of a red bus"), asks_for_image("What is the total?")
    (True, False)
    """
    return bool(_MAKE.search(question))


def clean_question(text: str) -> str:
    """The question as printable text, or UserInputError naming what is wrong with it.

    >>> clean_question("What is the \\x1b[31mtotal\\u202e?\\udcff") == "What is the total?\\ufffd"
    True
    """
    text = (text or "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _ESCAPE.sub("", text).translate(_BIDI)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else " " for ch in text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise UserInputError("the question is empty; ask something about the image(s)")
    if len(text) > MAX_QUESTION_CHARS:
        raise UserInputError(
            f"the question is {len(text):,} characters long, more than the "
            f"{MAX_QUESTION_CHARS:,} allowed; ask it in fewer words"
        )
    return text
