"""Numbers and OCR-tolerant text matching.

OCR misreads a letter here and there ("Yogurt" -> "Yogut", "Oslo" -> "OISO"), so a name in a
question is matched to a name read off the image by similarity of normalised words, not by
equality; numbers are parsed from what is printed ("$1,204.50", "45%", "12")."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

NUMBER = re.compile(
    r"(?<![\w.])[-+]?[$€£]?\s?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?(?![\w])|"
    r"(?<![\w.])[-+]?[$€£]?\s?\d+(?:\.\d+)?%?(?![\w])"
)
# A money amount: two decimals, optionally a currency sign (receipts print prices this way).
AMOUNT = re.compile(r"[-]?[$€£]?\s?\d{1,3}(?:,\d{3})*\.\d{2}\b|[-]?[$€£]?\s?\d+\.\d{2}\b")
# A number as free text writes it (answers, model replies, VQA golds): thousands commas allowed.
LOOSE_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[a-z0-9]+")


def parse_number(text: str) -> float | None:
    """The number a cell prints, or None when the text is not just a number."""
    t = re.sub(r"(?<=[$€£])\s+", "", text.strip())  # "$ 12.50"; other spaces separate numbers
    if not t:
        return None
    t = t.replace("O", "0") if re.fullmatch(r"[$€£]?[\dO.,]+%?", t) else t  # OCR reads 0 as O in digit runs
    m = re.fullmatch(r"[-+]?[$€£]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?%?", t)
    if not m:
        return None
    value = float((m.group(1).replace(",", "")) + (m.group(2) or ""))
    return -value if t.startswith("-") else value


def numbers_in(text: str) -> list[float]:
    out = []
    for m in NUMBER.finditer(text):
        v = parse_number(m.group(0))
        if v is not None:
            out.append(v)
    return out


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def norm(text: str) -> str:
    return "".join(words(text))


def similarity(a: str, b: str) -> float:
    a, b = norm(a), norm(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b).ratio()


def _word_match(label_word: str, question_words: list[str]) -> float:
    if label_word in question_words:
        return 1.0
    if len(label_word) < 3 or label_word.isdigit():
        return 0.0  # very short words and numbers must match exactly ("Kof" read for "Kofi" may not)
    # OCR slips a letter inside a word, rarely the first: "Rice" is not a misread "price"
    best = max(
        (
            SequenceMatcher(None, label_word, q).ratio()
            for q in question_words
            if abs(len(q) - len(label_word)) <= 3 and q[:1] == label_word[:1]
        ),
        default=0.0,
    )
    # singular / plural: "buses" names "bus"
    if any(q.rstrip("s").rstrip("e") == label_word.rstrip("s").rstrip("e") for q in question_words):
        best = max(best, 0.95)
    return best


def mention_score(label: str, question: str) -> float:
    """How well the question names the label (0..1): every word of the label must appear in
    the question, exactly or (for words of 3+ letters) with an OCR-sized difference."""
    lw = words(label)
    qw = words(question)
    if not lw or not qw:
        return 0.0
    scores = [_word_match(w, qw) for w in lw]
    return min(scores)


def mentioned(labels: list[str], question: str, threshold: float = 0.8) -> list[int]:
    """Indices of the labels the question names, in the order the question names them; a label
    that is part of a longer mentioned label ("Tea" in "Green Tea") yields to it."""
    found = []
    qn = " " + " ".join(words(question)) + " "
    for i, lab in enumerate(labels):
        if mention_score(lab, question) >= threshold:
            w = words(lab)
            pos = qn.find(" " + w[0] + " ") if w else -1
            if pos < 0:  # fuzzy match: where its closest question word sits
                qw = words(question)
                best = max(range(len(qw)), key=lambda k: SequenceMatcher(None, w[0], qw[k]).ratio()) if w and qw else 0
                pos = len(" ".join(qw[:best]))
            found.append((pos, i))
    found.sort()
    idx = [i for _, i in found]
    longer = [set(words(labels[i])) for i in idx]
    return [
        i for k, i in enumerate(idx) if not any(j != k and set(words(labels[i])) < longer[j] for j in range(len(idx)))
    ]
