"""`query`: deterministic max / min / sum / count-where / lookup / sort / difference on a table."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.artifacts import TableArtifact, ValueArtifact
from agent.errors import ToolError
from tools.base import ToolContext, ToolOutput, VisionTool

Op = Literal["max", "min", "sum", "mean", "count", "count_where", "lookup", "sort", "difference"]
Cmp = Literal["gt", "ge", "lt", "le", "eq", "contains"]
_CMP = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
    "contains": lambda a, b: str(b).lower() in str(a).lower(),
}
_CMP_WORD = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "=", "contains": "contains"}


class QueryArgs(BaseModel):
    table: str = Field(description="tab- artifact id")
    op: Op
    column: str = "amount"
    where: Cmp | None = Field(default=None, description="comparison for count_where")
    value: float | str | None = Field(default=None, description="right-hand side for where")
    key: str | None = Field(default=None, description="row name or field (e.g. total) for lookup/difference")
    key2: str | None = Field(default=None, description="second row/field for difference")


def _label(row: dict[str, Any]) -> str:
    return str(row.get("name", row.get("key", "")))


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


class QueryTool(VisionTool):
    name: str = "query"
    description: str = ("compute on a table: op=max|min|sum|mean|count|count_where(where,value)|"
                        "lookup(key)|sort|difference(key,key2); key may be a field such as total")
    args_schema: type[BaseModel] = QueryArgs

    def _numbers(self, tab: TableArtifact, column: str) -> list[tuple[str, float]]:
        if column not in tab.columns:
            raise ToolError(f"{tab.id} has no column '{column}'; columns: {list(tab.columns)}")
        out = []
        for row in tab.rows:
            try:
                out.append((_label(row), float(row[column])))
            except (TypeError, ValueError):
                continue
        if not out:
            raise ToolError(f"{tab.id} has no numeric values in column '{column}'")
        return out

    def _lookup(self, tab: TableArtifact, key: str | None, column: str) -> tuple[str, Any]:
        if not key:
            raise ToolError("lookup/difference needs key (a row name or a field such as total)")
        k = key.strip().lower()
        for fname, fval in tab.fields.items():
            if fname.lower() == k:
                return fname, fval
        for row in tab.rows:
            if k in _label(row).lower():
                return _label(row), row.get(column, row.get("value"))
        known = list(tab.fields) + [_label(r) for r in tab.rows]
        raise ToolError(f"'{key}' not found in {tab.id}; known: {known}")

    def forward(self, args: QueryArgs, ctx: ToolContext) -> ToolOutput:
        tab = ctx.store.get(args.table, TableArtifact)
        col = args.column
        value: Any
        if args.op in ("max", "min"):
            pick = max if args.op == "max" else min
            label, v = pick(self._numbers(tab, col), key=lambda lv: lv[1])
            value, statement = {"name": label, col: v}, f"{args.op} {col} in {tab.id}: {label} ({_fmt(v)})"
        elif args.op in ("sum", "mean"):
            nums = [v for _, v in self._numbers(tab, col)]
            v = round(sum(nums) / (len(nums) if args.op == "mean" else 1), 2)
            value, statement = v, f"{args.op} of {col} over {len(nums)} rows of {tab.id} = {_fmt(v)}"
        elif args.op == "count":
            value, statement = len(tab.rows), f"{tab.id} has {len(tab.rows)} rows"
        elif args.op == "count_where":
            if args.where is None or args.value is None:
                raise ToolError("count_where needs where (gt|ge|lt|le|eq|contains) and value")
            rhs = args.value
            if args.where != "contains":
                try:
                    rhs = float(rhs)
                except (TypeError, ValueError):
                    raise ToolError(f"value '{args.value}' is not a number") from None
                rows = [(lbl, v) for lbl, v in self._numbers(tab, col) if _CMP[args.where](v, rhs)]
            else:
                rows = [(_label(r), r.get(col)) for r in tab.rows if _CMP["contains"](r.get(col, _label(r)), rhs)]
            value = len(rows)
            statement = (f"{value} rows of {tab.id} have {col} {_CMP_WORD[args.where]} {_fmt(rhs)}: "
                         f"{[lbl for lbl, _ in rows]}")
        elif args.op == "lookup":
            label, v = self._lookup(tab, args.key, col)
            value, statement = v, f"{label} in {tab.id} = {_fmt(v)}"
        elif args.op == "sort":
            ordered = sorted(self._numbers(tab, col), key=lambda lv: -lv[1])
            value = [lbl for lbl, _ in ordered]
            statement = f"{tab.id} by {col}, highest first: " + ", ".join(f"{l} ({_fmt(v)})" for l, v in ordered)
        else:  # difference
            la, a = self._lookup(tab, args.key, col)
            lb, b = self._lookup(tab, args.key2, col)
            try:
                value = round(float(a) - float(b), 2)
            except (TypeError, ValueError):
                raise ToolError(f"difference needs numbers; got {a!r} and {b!r}") from None
            statement = f"{la} ({_fmt(a)}) minus {lb} ({_fmt(b)}) = {_fmt(value)}"
        art = ctx.new(ValueArtifact, inputs=(tab.id,), params=args.model_dump(exclude_none=True),
                      value=value, statement=statement)
        return ToolOutput(art.summary(), [art])
