"""`query`: deterministic computation on a table artifact (receipt items, a printed table, chart
bars, collage panels, shapes, positioned text, detected objects, LLM-extracted rows).

Rows are picked by `key` (a row's name, OCR-tolerant, or a document field such as total) or by
`filters` (column -> value: colour=red, objects=cat, position=top); the op computes on them:
lookup, max / min (the row with the highest / lowest value of `column`, reported by its `answer`
column), count, count_where, exists, sum, mean, sort, difference, and compare (which of several
tables, one per image, has the larger / smaller field). Every value records the exact rows and
fields it came from (`ValueArtifact.evidence`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, TableArtifact, ValueArtifact, format_value
from mmagent.core.errors import ToolError
from mmagent.tools.base import TableRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.structure.geometry import pick_position, position_matches, sides
from mmagent.tools.structure.text import mention_score, norm

Op = Literal[
    "lookup", "max", "min", "sum", "mean", "count", "count_where", "exists", "sort", "difference", "compare", "side"
]
Cmp = Literal["gt", "ge", "lt", "le", "eq", "contains"]
_CMP = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "contains": lambda a, b: str(b).lower() in str(a).lower(),
}
_CMP_WORD = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=", "contains": "contains"}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth"]
POSITION_COLUMNS = ("position", "panel")  # columns holding position names: filters on them pick by geometry


class QueryArgs(BaseModel):
    table: TableRef = Field(description="tab- artifact id")
    op: Op
    column: str | None = Field(default=None, description="numeric column to compute on (default: the first one)")
    answer: str | None = Field(default=None, description="column reported for the picked row (default: its name)")
    where: Cmp | None = Field(default=None, description="comparison for count_where")
    value: float | str | None = Field(default=None, description="right-hand side for where")
    key: str | None = Field(default=None, description="row name or field (e.g. total) for lookup/difference")
    key2: str | None = Field(default=None, description="second row/field for difference")
    filters: dict[str, str] | None = Field(default=None, description="column -> value the rows must have")
    tables: list[str] | None = Field(default=None, description="compare: one table per image, in order")
    which: Literal["max", "min"] = Field(default="max", description="compare: the larger or the smaller")


def _fmt(v: Any) -> str:
    return format_value(v)


def _ref(tab: TableArtifact, i: int) -> str:
    return f"{tab.id}#{i}"


def cell_matches(tab: TableArtifact, column: str, cell: Any, wanted: str) -> bool:
    """Does a cell satisfy a filter value? Positions by grid cell ("top" matches top-left),
    object lists by membership, numbers by value, text by OCR-tolerant equality."""
    if cell is None:
        return False
    if column in POSITION_COLUMNS:
        return position_matches(str(cell), wanted.lower())
    if column == "objects":
        from mmagent.tools.detect import normalize_class

        return normalize_class(wanted) in [c.strip() for c in str(cell).split(",")]
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        try:
            return abs(float(cell) - float(wanted)) < 1e-9
        except ValueError:
            return False
    if column in tab.vocab:
        from mmagent.tools.detect import normalize_class

        return norm(str(cell)) in (norm(wanted), norm(normalize_class(wanted)))
    return norm(str(cell)) == norm(wanted) or mention_score(str(cell), wanted) >= 0.8 and len(norm(wanted)) >= 4


class QueryTool(VisionTool):
    name: str = "query"
    makes: ClassVar[type[Artifact]] = ValueArtifact
    description: str = (
        "compute on a table: op=lookup(key or filters)|max|min(column, answer)|count(filters)|"
        "count_where(where,value)|exists(filters)|sum|mean|sort|difference(key,key2)|"
        "compare(tables, which)|side(key, key2: is row key left/right of row key2; answer=above-below for "
        "up/down); key may be a field such as total"
    )
    args_schema: type[BaseModel] = QueryArgs

    # -- picking rows ---------------------------------------------------------------------
    def _numeric(self, tab: TableArtifact, column: str | None) -> str:
        numeric = tab.numeric_columns()
        if column is None:
            if not numeric:
                raise ToolError(f"{tab.id} has no numeric column; columns: {list(tab.columns)}")
            return numeric[0]
        if column not in tab.columns:
            raise ToolError(f"{tab.id} has no column '{column}'; columns: {list(tab.columns)}")
        return column

    def _filtered(self, tab: TableArtifact, filters: dict[str, str] | None) -> list[int]:
        """Rows with the filters' values; rows from instruction-like text only when no other fits."""
        clean = [i for i in range(len(tab.rows)) if i not in tab.flagged]
        found = self._filter_rows(tab, clean, filters) if clean else []
        return found or self._filter_rows(tab, list(range(len(tab.rows))), filters)

    def _filter_rows(self, tab: TableArtifact, rows: list[int], filters: dict[str, str] | None) -> list[int]:
        for column, wanted in (filters or {}).items():
            if column not in tab.columns:
                raise ToolError(f"{tab.id} has no column '{column}'; columns: {list(tab.columns)}")
            matching = [i for i in rows if cell_matches(tab, column, tab.rows[i].get(column), str(wanted))]
            boxes = [b for i in rows if (b := tab.row_box(i)) is not None]
            if column in POSITION_COLUMNS and len(matching) != 1 and tab.image_size and len(boxes) == len(rows):
                # "the sign at the top": the one furthest that way, by geometry
                k = pick_position(boxes, str(wanted).lower(), *tab.image_size)
                matching = [rows[k]] if k is not None else []
            rows = matching
        return rows

    def _find(self, tab: TableArtifact, key: str | None) -> tuple[str, int | None]:
        """(name, row index) of a key: a field (row None) or the row whose name it is."""
        if not key:
            raise ToolError("this op needs key (a row name or a field such as total)")
        k = key.strip().lower()
        for fname in tab.fields:
            if fname.lower() == k:
                return fname, None
        label = tab.label_column
        scored = [(mention_score(str(r.get(label, "")), key), i) for i, r in enumerate(tab.rows)]
        scored += [(0.9, i) for i, r in enumerate(tab.rows) if k and k in str(r.get(label, "")).lower()]
        best = max(scored, default=(0.0, -1))
        if best[0] < 0.8:
            known = list(tab.fields) + [str(r.get(label, "")) for r in tab.rows]
            raise ToolError(f"'{key}' not found in {tab.id}; known: {known}")
        return str(tab.rows[best[1]].get(label)), best[1]

    def _cell(self, tab: TableArtifact, key: str | None, column: str | None) -> tuple[str, Any, str]:
        name, i = self._find(tab, key)
        if i is None:
            return name, tab.fields[name], f"{tab.id}:{name}"
        col = column or self._numeric(tab, None)
        return name, tab.rows[i].get(col), _ref(tab, i)

    # -- ops ------------------------------------------------------------------------------
    def forward(self, args: QueryArgs, ctx: ToolContext) -> ToolOutput:
        if args.op == "compare":
            return self._compare(args, ctx)
        tab = ctx.store.get(args.table, TableArtifact)
        value, statement, used = self._compute(tab, args)
        art = ctx.new(
            ValueArtifact,
            inputs=(tab.id,),
            params=args.model_dump(exclude_none=True),
            value=value,
            statement=statement,
            evidence=tuple(used),
        )
        return ToolOutput(art.summary(), [art])

    def _compute(self, tab: TableArtifact, a: QueryArgs) -> tuple[Any, str, list[str]]:
        label = tab.label_column
        where = f" with {a.filters}" if a.filters else ""
        if a.op == "lookup":
            if a.key:
                name, v, ref = self._cell(tab, a.key, a.answer or a.column)
                return v, f"{a.answer or a.column or 'value'} of {name} in {tab.id} = {_fmt(v)}", [ref]
            rows = self._filtered(tab, a.filters)
            col = a.answer or a.column or label
            if not rows:
                return None, f"no row of {tab.id}{where}", []
            values = [tab.rows[i].get(col) for i in rows]
            v = values[0] if len(values) == 1 else values
            return v, f"{col} of the row{where} in {tab.id}: {_fmt(v)}", [_ref(tab, i) for i in rows]
        if a.op in ("count", "exists"):
            rows = self._filtered(tab, a.filters)
            if a.op == "count":
                return len(rows), f"{len(rows)} rows of {tab.id}{where}", [_ref(tab, i) for i in rows]
            return ("yes" if rows else "no"), f"rows of {tab.id}{where}: {len(rows)}", [_ref(tab, i) for i in rows]
        if a.op == "side":
            return self._side(tab, a)
        col = self._numeric(tab, a.column)
        rows = [i for i in self._filtered(tab, a.filters) if isinstance(tab.rows[i].get(col), (int, float))]
        if not rows and a.op != "difference":
            raise ToolError(f"{tab.id} has no numeric values in column '{col}'{where}")
        if a.op in ("max", "min"):
            pick = max if a.op == "max" else min
            i = pick(rows, key=lambda r: tab.rows[r][col])
            ans = a.answer or label
            v = tab.rows[i].get(ans)
            return (
                v,
                (
                    f"{a.op} {col} in {tab.id}: {tab.rows[i].get(label)} ({_fmt(tab.rows[i][col])})"
                    + (f"; its {ans} is {_fmt(v)}" if ans != label else "")
                ),
                [_ref(tab, i)],
            )
        if a.op in ("sum", "mean"):
            nums = [tab.rows[i][col] for i in rows]
            v = round(sum(nums) / (len(nums) if a.op == "mean" else 1), 2)
            return v, f"{a.op} of {col} over {len(nums)} rows of {tab.id} = {_fmt(v)}", [_ref(tab, i) for i in rows]
        if a.op == "count_where":
            if a.where is None or a.value is None:
                raise ToolError("count_where needs where (gt|ge|lt|le|eq|contains) and value")
            rhs: Any = a.value
            if a.where != "contains":
                try:
                    rhs = float(rhs)
                except (TypeError, ValueError):
                    raise ToolError(f"value '{a.value}' is not a number") from None
            hit = [i for i in rows if _CMP[a.where](tab.rows[i][col], rhs)]
            return (
                len(hit),
                (
                    f"{len(hit)} rows of {tab.id} have {col} {_CMP_WORD[a.where]} {_fmt(rhs)}: "
                    f"{[tab.rows[i].get(label) for i in hit]}"
                ),
                [_ref(tab, i) for i in hit],
            )
        if a.op == "sort":
            ordered = sorted(rows, key=lambda r: -tab.rows[r][col])
            v = [tab.rows[i].get(label) for i in ordered]
            return (
                v,
                f"{tab.id} by {col}, highest first: "
                + ", ".join(f"{tab.rows[i].get(label)} ({_fmt(tab.rows[i][col])})" for i in ordered),
                [_ref(tab, i) for i in ordered],
            )
        # difference: how far apart two rows' (or fields') values are
        la, x, ra = self._cell(tab, a.key, col)
        lb, y, rb = self._cell(tab, a.key2, col)
        try:
            v = round(abs(float(x) - float(y)), 2)
        except (TypeError, ValueError):
            raise ToolError(f"difference needs numbers; got {x!r} and {y!r}") from None
        return v, f"{la} ({_fmt(x)}) and {lb} ({_fmt(y)}) differ by {_fmt(v)}", [ra, rb]

    def _side(self, tab: TableArtifact, a: QueryArgs) -> tuple[Any, str, list[str]]:
        """Which side of row key2 row key is on, by the centres of their boxes: left/right, or
        above/below with answer="above-below"."""
        (la, ia), (lb, ib) = self._find(tab, a.key), self._find(tab, a.key2)
        if ia is None or ib is None or ia == ib:
            raise ToolError(f"side needs two rows of {tab.id} (key and key2), not fields")
        ba, bb = tab.row_box(ia), tab.row_box(ib)
        if ba is None or bb is None:
            raise ToolError(f"side needs the rows' boxes; {tab.id} has none for {la} or {lb}")
        horizontal, vertical = sides(ba, bb)
        v = vertical if a.answer == "above-below" else horizontal
        return v, f"the {la} ({_ref(tab, ia)}) is {v} of the {lb} ({_ref(tab, ib)})", [_ref(tab, ia), _ref(tab, ib)]

    def _compare(self, a: QueryArgs, ctx: ToolContext) -> ToolOutput:
        ids = a.tables or [a.table]
        if len(ids) < 2:
            raise ToolError("compare needs tables: two or more table ids, one per image, in order")
        if len(ids) > len(ORDINALS):
            raise ToolError(f"compare takes at most {len(ORDINALS)} tables")
        tabs = [ctx.store.get(t, TableArtifact) for t in ids]
        values, used = [], []
        for tab in tabs:
            name, v, ref = self._cell(tab, a.key, a.column)
            if not isinstance(v, (int, float)):
                raise ToolError(f"{tab.id}: {name} is not a number ({v!r})")
            values.append(float(v))
            used.append(ref)
        best = (max if a.which == "max" else min)(range(len(values)), key=lambda k: values[k])
        word = "larger" if a.which == "max" else "smaller"
        statement = (
            f"{a.key} by image: "
            + ", ".join(f"{ORDINALS[k]} {_fmt(v)}" for k, v in enumerate(values))
            + f"; the {word} is the {ORDINALS[best]}"
        )
        art = ctx.new(
            ValueArtifact,
            inputs=tuple(ids),
            params=a.model_dump(exclude_none=True),
            value=ORDINALS[best],
            statement=statement,
            evidence=tuple(used),
        )
        return ToolOutput(art.summary(), [art])
