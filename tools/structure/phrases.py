"""OCR segments grouped into phrases: words set close together on one line.

OCR lines join everything at one height ("North  South  East" under a bar chart, or two
signs side by side), while the structure parsers need the separate pieces: a phrase ends
where the gap to the next segment is wider than about one character height."""

from __future__ import annotations

from dataclasses import dataclass

from mmagent.core.artifacts import OcrLine
from mmagent.tools.structure.geometry import Box, union

GAP = 0.9  # a gap wider than this many text heights starts a new phrase


@dataclass(frozen=True)
class Phrase:
    text: str
    box: Box
    score: float
    line: int  # index of the OCR line it belongs to

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def phrases_of(
    lines: tuple[OcrLine, ...] | list[OcrLine], gap: float = GAP, image_height: float | None = None
) -> list[Phrase]:
    """Phrases in reading order, without what OCR reads into pictures: symbol-only reads ("■"
    off a drawn diamond), and a few characters in a box far too big for them ("8" across a
    photo of a cup: wider than 2.5 heights a character, or taller than a fifth of the image)."""
    return [p for p in _split(lines, gap) if any(ch.isalnum() for ch in p.text) and not _oversized(p, image_height)]


def _oversized(p: Phrase, image_height: float | None) -> bool:
    w, h = p.box[2] - p.box[0], p.box[3] - p.box[1]
    return w > 2.5 * h * max(1, len(p.text)) or (image_height is not None and h > 0.2 * image_height)


def _split(lines: tuple[OcrLine, ...] | list[OcrLine], gap: float) -> list[Phrase]:
    out: list[Phrase] = []
    for li, line in enumerate(lines):
        words = sorted(line.words, key=lambda w: w.box[0]) if line.words else []
        if not words:
            out.append(Phrase(line.text, line.box, line.score, li))
            continue
        group = [words[0]]
        for w in words[1:]:
            h = max(min(w.box[3] - w.box[1], group[-1].box[3] - group[-1].box[1]), 1.0)
            if w.box[0] - group[-1].box[2] > gap * h:
                out.append(_phrase(group, li))
                group = []
            group.append(w)
        out.append(_phrase(group, li))
    return out


def _phrase(words: list, line: int) -> Phrase:
    return Phrase(" ".join(w.text for w in words), union([w.box for w in words]), min(w.score for w in words), line)
