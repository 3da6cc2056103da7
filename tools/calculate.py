"""`calculate`: safe arithmetic over numbers and value artifacts.

The expression is parsed into a syntax tree and only numbers, artifact ids, + - * / % **,
unary minus, parentheses and round/abs/min/max are evaluated: model text is never `eval`ed.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from mmagent.core.artifacts import ARTIFACT_ID, Artifact, ValueArtifact
from mmagent.core.errors import ToolError
from mmagent.tools.base import ToolContext, ToolOutput, VisionTool

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., Any]] = {"round": round, "abs": abs, "min": min, "max": max}


def _numeric(value: Any, aid: str) -> float:
    if isinstance(value, dict):  # e.g. query max -> {"name": ..., "amount": ...}
        nums = [v for v in value.values() if isinstance(v, (int, float))]
        if len(nums) == 1:
            value = nums[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolError(f"{aid} holds {value!r}, not a number")
    return float(value)


def evaluate(expression: str, variables: dict[str, float]) -> float:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ToolError(f"cannot parse expression '{expression}'") from None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in variables:
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 100:
                raise ToolError("exponent too large")
            try:
                return float(_BINOPS[type(node.op)](left, right))
            except ZeroDivisionError:
                raise ToolError("division by zero") from None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            values = [ev(a) for a in node.args]
            if node.func.id == "round" and len(values) == 2:
                values[1] = int(values[1])  # round(x, 2.0) is a TypeError
            try:
                return float(_FUNCS[node.func.id](*values))
            except TypeError as exc:
                raise ToolError(f"bad call {ast.unparse(node)}: {exc}") from None
        raise ToolError(
            f"'{ast.unparse(node)}' is not allowed in a calculation "
            "(numbers, artifact ids, + - * / % **, round/abs/min/max only)"
        )

    return ev(tree)


class CalculateArgs(BaseModel):
    expression: str = Field(description="arithmetic over numbers and val- ids, e.g. 'val-5 - val-6'")


class CalculateTool(VisionTool):
    name: str = "calculate"
    makes: ClassVar[type[Artifact]] = ValueArtifact
    description: str = "exact arithmetic over numbers and val- artifact ids, e.g. (val-4 + val-5) / 2"
    args_schema: type[BaseModel] = CalculateArgs

    def forward(self, args: CalculateArgs, ctx: ToolContext) -> ToolOutput:
        expr = args.expression.strip()
        if not expr:
            raise ToolError("empty expression")
        variables: dict[str, float] = {}
        inputs = []

        def substitute(m: re.Match[str]) -> str:
            aid = m.group(0)
            art = ctx.store.get(aid, ValueArtifact)
            name = aid.replace("-", "_")
            variables[name] = _numeric(art.value, aid)
            inputs.append(aid)
            return name

        result = evaluate(ARTIFACT_ID.sub(substitute, expr), variables)
        value: float | int = int(result) if result.is_integer() else round(result, 6)
        art = ctx.new(
            ValueArtifact, inputs=tuple(inputs), params={"expression": expr}, value=value, statement=f"{expr} = {value}"
        )
        return ToolOutput(art.summary(), [art])
