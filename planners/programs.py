"""Candidate programs: every computation over the perceived structure that a question could be
asking for, each with a gloss the planner LLM reads and picks from.

The structure (tables the `layout` tool built from OCR and pixels) says what can be computed;
the question says which rows, values and numbers are involved (found deterministically:
OCR-tolerant name matching, colour / shape / object / position words, numbers). What is left
to the model is the choice a small model is good at: which operation, which column. So it
never spells a row, an operation or a position; it picks one gloss from an enum.

>>> "the price of Honey" in [p.gloss for p in candidate_programs("What does the Honey cost?", [[items]])]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmagent.core.artifacts import TableArtifact
from mmagent.tools.structure.colour import colour_word
from mmagent.tools.structure.geometry import position_word
from mmagent.tools.structure.text import mentioned, numbers_in, words

NOUNS = {
    "items": "item",
    "line_items": "item",
    "table": "row",
    "bars": "bar",
    "panels": "panel",
    "shapes": "shape",
    "text": "text",
    "objects": "object",
    "key_values": "row",
    "attributes": "region",
}
ORDINAL_WORDS = ["first", "second", "third", "fourth", "fifth", "sixth"]
DOCUMENT_KINDS = ("items", "table", "bars", "line_items", "key_values")
IMAGE_WORDS = {"image", "picture", "photo", "background", "it"}  # what names a picture as a whole
MAX_CANDIDATES = 10  # small models pick well among a handful, poorly among dozens

INTENTS = ("value", "most_or_least", "difference", "count_above", "count_below", "count", "yes_no", "sum")
OTHER = "other"  # an intent no program serves: the question goes to the free task graph


@dataclass(frozen=True)
class Program:
    gloss: str  # what the planner reads and picks
    args: dict[str, Any] = field(hash=False)  # the tool's arguments
    tool: str = "query"  # query computes on tables; relate finds text on a detected object

    @property
    def intent(self) -> str:
        """The kind of question it answers (one of INTENTS): the planner's first, coarse choice."""
        a = self.args
        op = str(a.get("op", ""))
        if op in ("max", "min", "compare"):
            return "most_or_least"  # which way is the gloss's word, chosen in the second step
        if op == "count_where":
            return "count_above" if a.get("where") in ("gt", "ge") else "count_below"
        if self.tool == "relate":
            return "value"
        return {"lookup": "value", "side": "value", "exists": "yes_no", "mean": "sum"}.get(op, op)


def _vocab_mentions(tab: TableArtifact, column: str, question: str) -> list[str]:
    """Values of a closed-vocabulary column the question names (colour, shape, object, position)."""
    from mmagent.tools.detect import COCO_NAMES, normalize_class

    qw = words(question)
    vocab = set(tab.vocab.get(column, ()))
    found: list[str] = []
    if column in ("position", "panel"):
        p = position_word(question)
        return [p] if p else []
    for k, w in enumerate(qw):
        for cand in (f"{w} {qw[k + 1]}" if k + 1 < len(qw) else None, w):
            if cand is None:
                continue
            value = colour_word(cand) or (cand if cand in vocab else None)
            if value is None and (column in ("object", "objects") or vocab & COCO_NAMES):
                n = normalize_class(cand)
                value = n if n in vocab else None
            if value is None and cand.rstrip("s") in vocab:  # "circles" names circle
                value = cand.rstrip("s")
            if value is not None and value in vocab and value not in found:
                found.append(value)
                break
    return found


def _cell_mentions(tab: TableArtifact, column: str, question: str) -> list[str]:
    """Printed cell values of a text column the question names ("the number 42", "Paris")."""
    cells = [str(r.get(column, "")) for r in tab.rows if str(r.get(column, "")).strip()]
    unique = list(dict.fromkeys(cells))
    return [unique[i] for i in mentioned(unique, question)]


# Words a question uses for a column it asks for, right after its question word ("What colour
# is ...", "Which shape ...", "What number is under ...", "Where is ...").
ASKED = {
    "colour": ("colour", "color"),
    "shape": ("shape",),
    "text": ("number", "text", "word", "label"),
    "position": ("position", "side", "corner", "panel"),
    "panel": ("panel", "side", "position", "corner"),
    "objects": ("object", "animal", "thing"),
}


def asked_column(question: str, columns: tuple[str, ...]) -> str | None:
    """The column a "what X / which X / where" question asks for, when the structure has it."""
    ws = words(question)
    for k, w in enumerate(ws[:-1]):
        if w in ("what", "which"):
            nxt = ws[k + 1]
            return next((c for c in columns if nxt in ASKED.get(c, ()) or nxt.rstrip("s") == c.lower()), None)
        if w == "where":
            return next((c for c in ("position", "panel") if c in columns), None)
    return None


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _describe(tab: TableArtifact, filters: dict[str, str]) -> str:
    parts = []
    for col, v in filters.items():
        if col in ("position", "panel"):
            parts.append(f"at the {v}")
        elif col == "objects":
            parts.append(f"showing {_a(v)}")
        elif col == tab.label_column:
            parts.append(f"that is {_a(v)}")
        else:
            parts.append(f"with {col} {v}")
    return " and ".join(parts)


def table_programs(
    tab: TableArtifact, question: str, where: str = "", seen_only: bool = False, lookups: bool = True
) -> list[Program]:
    """Candidates over one table; `where` qualifies glosses when there are several images;
    `seen_only`: filter only on values some row has (not on the whole vocabulary); `lookups`:
    offer reading a filtered row's other columns (off for objects when panels say more)."""
    if tab.kind == "image":  # a picture's own colour answers "what colour is the picture", nothing else
        return (
            [Program(f"the colour of the image{where}", {"table": tab.id, "op": "lookup", "answer": "colour"})]
            if asked_column(question, tab.columns) == "colour" and set(words(question)) & IMAGE_WORDS
            else []
        )
    noun = NOUNS.get(tab.kind, "row")
    label = tab.label_column
    numeric = tab.numeric_columns()
    text_cols = [c for c in tab.columns if c not in numeric and c != label]
    out: list[Program] = []

    def add(gloss: str, **args: Any) -> None:
        out.append(Program(gloss + where, {"table": tab.id, **args}))

    for f in tab.fields:
        add(f"the {f}", op="lookup", key=f)
    if tab.kind == "text" and len(tab.rows) - len(tab.flagged) == 1:  # one thing written: what it says
        add("the text in the image", op="lookup", answer="text")
    # rows the question names (by their label), unless the label is a closed vocabulary or
    # free text (the text view is asked about by position, not by what it says)
    rows = (
        []
        if label in tab.vocab or tab.kind == "text"
        else mentioned([str(r.get(label, "")) for r in tab.rows], question)
    )
    names = list(dict.fromkeys(str(tab.rows[i].get(label)) for i in rows))
    for name in names[:3]:
        for c in (c for c in tab.columns if c != label):
            add(f"the {c} of {name}", op="lookup", key=name, answer=c)
    if len(names) >= 2:
        for n in numeric:
            add(
                f"the difference between the {n} of {names[0]} and of {names[1]}",
                op="difference",
                key=names[0],
                key2=names[1],
                column=n,
            )
    if tab.kind != "text":
        for n in numeric:
            for op, word in (("max", "highest"), ("min", "lowest")):
                add(
                    f"the {label} in the row with the {word} {n}"
                    if tab.kind == "table"
                    else f"the {noun} with the {word} {n}",
                    op=op,
                    column=n,
                    answer=label,
                )
                add(f"the {word} {n}", op=op, column=n, answer=n)
                for a in text_cols:
                    add(f"the {a} in the {noun} with the {word} {n}", op=op, column=n, answer=a)
        for x in numbers_in(question):
            for n in numeric:
                add(f"the number of {noun}s with {n} more than {x:g}", op="count_where", column=n, where="gt", value=x)
                add(f"the number of {noun}s with {n} less than {x:g}", op="count_where", column=n, where="lt", value=x)
        if tab.kind in ("items", "line_items", "table", "bars") or any(w.startswith(noun) for w in words(question)):
            add(f"the number of {noun}s", op="count")
        if "total" not in tab.fields:  # a printed total is the sum the document means
            for n in numeric:
                add(f"the sum of all {n}s", op="sum", column=n)
    # values the question names in categorical columns -> filters
    mentions: dict[str, list[str]] = {}
    for col in tab.columns:
        if col in numeric:
            continue
        vals = (
            _vocab_mentions(tab, col, question)
            if col in tab.vocab
            else (_cell_mentions(tab, col, question) if col != label else [])
        )
        if seen_only:
            vals = [v for v in vals if any(str(r.get(col)) == v for r in tab.rows)]
        if vals:
            mentions[col] = vals
    single = [{c: v} for c, vs in mentions.items() for v in vs[:2]]
    combos = single + ([{c: vs[0] for c, vs in mentions.items()}] if len(mentions) > 1 else [])
    asked = asked_column(question, tab.columns)
    for flt in combos:
        desc = _describe(tab, flt)
        seen = any(
            all(str(r.get(c)) == v or c in ("position", "panel", "objects") for c, v in flt.items()) for r in tab.rows
        )
        for a in (
            c
            for c in tab.columns
            if c not in flt and lookups and (seen or tab.kind != "objects") and asked in (None, c)
        ):  # "What colour is the shape ..." reads the colour column
            if a == label and label in ("panel", "position"):
                add(f"the position of the {noun} {desc}", op="lookup", filters=flt, answer=a)
            elif a == label:
                add(
                    f"the text {desc}" if tab.kind == "text" else f"the kind of {noun} {desc}",
                    op="lookup",
                    filters=flt,
                    answer=a,
                )
            elif a == "text" and tab.kind in ("panels", "shapes"):  # the label printed under (or on) it
                add(f"the text under the {noun} {desc}", op="lookup", filters=flt, answer=a)
            else:
                add(f"the {a} of the {noun} {desc}", op="lookup", filters=flt, answer=a)
        if tab.kind != "text":
            add(f"the number of {noun}s {desc}", op="count", filters=flt)
            add(f"whether there is {_a(noun)} {desc}", op="exists", filters=flt)
    return out


def side_programs(tab: TableArtifact, question: str, where: str = "") -> list[Program]:
    """ "Is the cup left or right of the cat?": which side of one detected object another is,
    the objects in the order the question names them."""
    ws = words(question)
    axis = "left-right" if {"left", "right"} & set(ws) else "above-below" if {"above", "below"} & set(ws) else ""
    present = {str(r.get("object")) for r in tab.rows}
    named = [v for v in _vocab_mentions(tab, "object", question) if v in present]
    if not axis or len(named) < 2:
        return []
    text = question.lower()
    a, b = sorted(named[:2], key=lambda v: text.find(v) if v in text else len(text))
    way = "left or right" if axis == "left-right" else "above or below"
    return [
        Program(
            f"whether the {a} is {way} of the {b}{where}",
            {"table": tab.id, "op": "side", "key": a, "key2": b, "answer": axis},
        )
    ]


def text_on_objects(tab: TableArtifact, question: str, where: str = "") -> list[Program]:
    """ "What is written on the bus?": the text inside a detected object's box (relate)."""
    det = next((i for i in tab.provenance.inputs if i.startswith("det-")), None)
    if det is None or not tab.source:
        return []
    present = {str(r.get("object")) for r in tab.rows}
    return [
        Program(
            f"the text written on the {v}{where}",
            {"relation": "inside", "subject": det, "class_name": v, "target": tab.source},
            tool="relate",
        )
        for v in _vocab_mentions(tab, "object", question)
        if v in present
    ]


IMAGE_NOUNS = {"items": "receipt", "line_items": "receipt", "table": "table", "bars": "chart"}


def image_noun(tabs: list[TableArtifact]) -> str:
    """What an image is, by its main structure: a receipt, a table, a chart, else an image."""
    return next((IMAGE_NOUNS[t.kind] for t in tabs if t.kind in IMAGE_NOUNS), "image")


def compare_programs(tables: list[list[TableArtifact]]) -> list[Program]:
    """Which image's table has the larger / smaller field (two receipts' totals)."""
    per_image = [{f: t for t in tabs for f in t.fields} for tabs in tables]
    common = set.intersection(*(set(p) for p in per_image)) if len(per_image) >= 2 else set()
    nouns = {image_noun(tabs) for tabs in tables}
    noun = nouns.pop() if len(nouns) == 1 else "image"
    out = []
    for f in sorted(common, key=lambda f: f != "total"):
        ids = [p[f].id for p in per_image]
        for which, word in (("max", "larger"), ("min", "smaller")):
            out.append(
                Program(
                    f"which {noun} has the {word} {f} ({', '.join(ORDINAL_WORDS[: len(ids)])})",
                    {"table": ids[0], "op": "compare", "tables": ids, "key": f, "which": which},
                )
            )
    return out


_STOP = frozenset("a an the is are was what which who how of to in on and or does do this that there it its".split())


def _overlap(gloss: str, question: str) -> int:
    q = {w.rstrip("s") for w in words(question) if w not in _STOP}
    return len(q & {w.rstrip("s") for w in words(gloss) if w not in _STOP})


def candidate_programs(question: str, tables_by_image: list[list[TableArtifact]]) -> list[Program]:
    """The candidates for a question over the tables of each image: the MAX_CANDIDATES sharing
    the most words with the question (ties keep their order), without duplicates, listed with
    the closest last (a small model leans to the options nearest its reply)."""
    several = len(tables_by_image) > 1
    found: list[Program] = []
    for k, tabs in enumerate(tables_by_image):
        where = f" on the {ORDINAL_WORDS[k]} {image_noun(tabs)}" if several and k < len(ORDINAL_WORDS) else ""
        document = any(t.kind in DOCUMENT_KINDS for t in tabs)
        panels = any(t.kind == "panels" for t in tabs)
        for tab in tabs:
            # on a receipt, table or chart, "person" names a row unless the detector saw one
            found += table_programs(
                tab,
                question,
                where,
                seen_only=document and tab.kind == "objects",
                lookups=not (panels and tab.kind == "objects"),
            )
            if tab.kind == "objects" and not panels:  # in a collage, a panel's label is under it
                found += text_on_objects(tab, question, where)
                sides = side_programs(tab, question, where)
                if sides:  # one object's side of another is asked, not either one's place in the image
                    found = [
                        p for p in found if not (p.args.get("table") == tab.id and p.args.get("answer") == "position")
                    ]
                found += sides
    if several:
        found += compare_programs(tables_by_image)
    unique = list({p.gloss: p for p in found}.values())
    ranked = sorted(range(len(unique)), key=lambda i: (-_overlap(unique[i].gloss, question), i))
    return [unique[i] for i in ranked[:MAX_CANDIDATES]][::-1]


def sentence(program: Program, short: str) -> str:
    """The answer as a sentence built from the gloss and the computed value (no LLM: the value
    stated is exactly the value computed)."""
    g = program.gloss
    if program.args.get("op") == "exists":
        yes = short == "yes"
        rest = g.removeprefix("whether there is ").removeprefix("a ").removeprefix("an ")
        return f"Yes, there is {_a(rest)}." if yes else f"No, there is no {rest}."
    if program.args.get("op") == "compare":
        noun, what = g.split(" (")[0].removeprefix("which ").split(" ", 1)
        return f"The {short} {noun} {what}."
    return f"{g[0].upper()}{g[1:]} is {short}."
