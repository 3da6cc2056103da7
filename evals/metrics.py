"""Metrics with the official definitions: VQA accuracy (answer normalisation, min(#humans/3, 1)
averaged over the 10 choose-9 annotator subsets), ANLS (threshold 0.5), exact match, numeric
match, IoU."""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

from mmagent.tools.structure.geometry import iou
from mmagent.tools.structure.text import LOOSE_NUMBER

# From the official VQA evaluation script (vqaEval.py).
_CONTRACTIONS = {
    "aint": "ain't",
    "arent": "aren't",
    "cant": "can't",
    "couldve": "could've",
    "couldnt": "couldn't",
    "couldn'tve": "couldn't've",
    "couldnt've": "couldn't've",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "dont": "don't",
    "hadnt": "hadn't",
    "hasnt": "hasn't",
    "havent": "haven't",
    "hed": "he'd",
    "hes": "he's",
    "howd": "how'd",
    "howll": "how'll",
    "hows": "how's",
    "Id've": "I'd've",
    "I'dve": "I'd've",
    "Im": "I'm",
    "Ive": "I've",
    "isnt": "isn't",
    "itd": "it'd",
    "itll": "it'll",
    "let's": "let's",
    "maam": "ma'am",
    "mightnt": "mightn't",
    "mightve": "might've",
    "mustnt": "mustn't",
    "mustve": "must've",
    "neednt": "needn't",
    "notve": "not've",
    "oclock": "o'clock",
    "oughtnt": "oughtn't",
    "shant": "shan't",
    "shed": "she'd",
    "shes": "she's",
    "shouldve": "should've",
    "shouldnt": "shouldn't",
    "somebodyd": "somebody'd",
    "somebodyll": "somebody'll",
    "somebodys": "somebody's",
    "someoned": "someone'd",
    "someonell": "someone'll",
    "someones": "someone's",
    "somethingd": "something'd",
    "somethingll": "something'll",
    "thats": "that's",
    "thered": "there'd",
    "therere": "there're",
    "theres": "there's",
    "theyd": "they'd",
    "theyll": "they'll",
    "theyre": "they're",
    "theyve": "they've",
    "twas": "'twas",
    "wasnt": "wasn't",
    "wed've": "we'd've",
    "weve": "we've",
    "werent": "weren't",
    "whatll": "what'll",
    "whatre": "what're",
    "whats": "what's",
    "whatve": "what've",
    "whens": "when's",
    "whered": "where'd",
    "wheres": "where's",
    "whereve": "where've",
    "whod": "who'd",
    "wholl": "who'll",
    "whos": "who's",
    "whove": "who've",
    "whyll": "why'll",
    "whyre": "why're",
    "whys": "why's",
    "wont": "won't",
    "wouldve": "would've",
    "wouldnt": "wouldn't",
    "yall": "y'all",
    "youd": "you'd",
    "youll": "you'll",
    "youre": "you're",
    "youve": "you've",
}
_NUMBERS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = {"a", "an", "the"}
_PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_COMMA_STRIP = re.compile(r"(\d)(,)(\d)")


def vqa_normalize(answer: str) -> str:
    """The official processPunctuation + processDigitArticle."""
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    out = text
    for p in _PUNCT:
        if (p + " " in text or " " + p in text) or re.search(_COMMA_STRIP, text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = _PERIOD_STRIP.sub("", out, re.UNICODE)
    words = []
    for w in out.lower().split():
        w = _NUMBERS.get(w, w)
        if w not in _ARTICLES:
            words.append(_CONTRACTIONS.get(w, w))
    return " ".join(words)


def vqa_accuracy(prediction: str, gold_answers: list[str]) -> float:
    """min(#matching humans / 3, 1), averaged over the 10 leave-one-out subsets of annotators."""
    pred = vqa_normalize(prediction)
    golds = [vqa_normalize(g) for g in gold_answers]
    if len(golds) < 2:
        return float(bool(golds) and pred == golds[0])
    accs = []
    for subset in combinations(range(len(golds)), len(golds) - 1):
        matches = sum(1 for i in subset if golds[i] == pred)
        accs.append(min(1.0, matches / 3.0))
    return sum(accs) / len(accs)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def anls(prediction: str, gold_answers: list[str], threshold: float = 0.5) -> float:
    """Average Normalized Levenshtein Similarity (DocVQA): best over golds, 0 below the threshold."""
    pred = " ".join(prediction.lower().split())
    best = 0.0
    for g in gold_answers:
        g = " ".join(g.lower().split())
        nl = levenshtein(pred, g) / max(len(pred), len(g), 1)
        best = max(best, 1 - nl if nl < threshold else 0.0)
    return best


def numbers_in(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in LOOSE_NUMBER.findall(str(text))]


def numeric_match(prediction: str, gold: float, rel_tol: float = 1e-6) -> float:
    """1 if any number in the prediction equals the gold (within a relative tolerance)."""
    return float(any(abs(n - float(gold)) <= rel_tol * max(1.0, abs(float(gold))) for n in numbers_in(prediction)))


_QUOTE_OR_BAR = re.compile(r"(?<![A-Za-z0-9])'|'(?![A-Za-z0-9])|[|\u2018\u2019\u201c\u201d]")


def contains_answer(prediction: str, gold: str) -> float:
    """Exact match for short answers inside a sentence: the normalised gold as whole words.
    Quotes around words and OCR's " | " separators are not part of a word (the official
    normalisation keeps them, so "'OPEN" would not count as naming OPEN)."""
    p = f" {vqa_normalize(_QUOTE_OR_BAR.sub(' ', str(prediction)))} "
    g = f" {vqa_normalize(_QUOTE_OR_BAR.sub(' ', str(gold)))} "
    return float(g.strip() != "" and g in p)


def evidence_hit(cited: list[list[float]], targets: list[list[float]], threshold: float = 0.5) -> bool:
    """Whether a cited evidence box (input-image pixels) overlaps a gold target box with IoU at
    least `threshold` (V*-style evidence scoring).

    >>> evidence_hit([[0, 0, 10, 10]], [[1, 1, 10, 10]]), evidence_hit([], [[0, 0, 1, 1]])
    (True, False)
    """
    return any(iou(c, t) >= threshold for c in cited for t in targets)


def box_in(prediction: Any) -> list[float] | None:
    """A box answer: a list of 4 numbers, or the first 4 numbers written in the text."""
    if isinstance(prediction, (list, tuple)) and len(prediction) == 4:
        return [float(v) for v in prediction]
    nums = numbers_in(str(prediction))
    return nums[:4] if len(nums) >= 4 else None


_CHOICE_REF = re.compile(r"\b(?:answer|choice|option)\s*\(?([1-9])\)?|^\s*\(?([1-9])\)?\s*[.):]?\s*$", re.I)


def chosen(prediction: str, choices: list[str]) -> list[int]:
    """Indices of the choices a prediction names: by their text, else by number ("Answer 2",
    "(3)") when the choices are not themselves numbers."""
    named = [i for i, c in enumerate(choices) if contains_answer(prediction, c)]
    if named or any(numbers_in(c) for c in choices):
        return named
    m = _CHOICE_REF.search(prediction.strip())
    k = int(m.group(1) or m.group(2)) - 1 if m else -1
    return [k] if 0 <= k < len(choices) else []


def score(
    metric: str, prediction: Any, gold: Any, choices: list[str] | None = None, distractors: list[str] | None = None
) -> float:
    if not str(prediction).strip():
        return 0.0
    if metric == "iou":  # Acc@IoU>=0.5 (RefCOCO)
        box = box_in(prediction)
        return float(box is not None and iou(box, [float(v) for v in gold]) >= 0.5)
    prediction = str(prediction)
    if any(contains_answer(prediction, d) for d in distractors or [] if str(d) != str(gold)):
        return 0.0
    if metric == "vqa":
        return vqa_accuracy(prediction, list(gold))
    if metric == "anls":
        return anls(prediction, gold if isinstance(gold, list) else [gold])
    if metric == "numeric":
        return numeric_match(prediction, gold)
    if metric == "choice":  # the prediction must name the gold choice and no other choice
        choices = list(choices or [])
        named = chosen(prediction, choices)
        if gold in choices:
            # a choice contained in the gold's text (e.g. "cat" in "black cat") is not a second answer
            named = [i for i in named if choices[i] == gold or choices[i] not in gold]
            return float(named == [choices.index(gold)])
        return contains_answer(prediction, gold)
    return contains_answer(prediction, gold)
