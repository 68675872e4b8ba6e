"""Expression evaluation: a small, pure interpreter over the AST. No Python `eval`, ever."""

from __future__ import annotations

import difflib
import math
import operator
from typing import Any, Callable

from .. import ast
from ..budgets import BudgetExceeded, current_value_budget
from ..diagnostics import ArchError, Diagnostic, error
from ..types import TensorType
from ..values import repr_value  # noqa: F401  (elaboration and the LSP import it from here too)

MAX_INT = 2**62

Value = Any  # int | float | bool | str | tuple | TensorType


def type_name(v: Value) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, TensorType):
        return "shape"
    return {int: "int", float: "float", str: "string", tuple: "tuple"}.get(type(v), type(v).__name__)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round `v` to a multiple of `divisor`, never below 90% of `v` (MobileNet v2/v3, EfficientNet)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _range(*args: int) -> tuple[int, ...]:
    r = range(*args)
    if len(r) > 100_000:
        raise ValueError(f"range of {len(r):,} numbers is too long")
    return tuple(r)


def _round(x: float, ndigits: int | None = None):
    return round(x) if ndigits is None else round(x, ndigits)


MAX_EXPONENT = 64  # of an integer power: 2**64 already exceeds MAX_INT; floats have their own range


def power(base, exponent):
    """`base ** exponent` and `pow(base, exponent)`: an integer exponent past MAX_EXPONENT is refused before the
    power is computed (it would take the time and memory of a huge integer)."""
    if isinstance(exponent, int) and not isinstance(exponent, bool) and abs(exponent) > MAX_EXPONENT:
        raise OverflowError(f"exponent {exponent} is too large")
    return base ** exponent


def _log(x, base=None):
    return math.log(x) if base is None else math.log(x, base)


BUILTINS: dict[str, Callable[..., Value]] = {
    "make_divisible": make_divisible,
    "ceil": lambda x: int(math.ceil(x)),
    "floor": lambda x: int(math.floor(x)),
    "round": _round,
    "int": int,
    "float": float,
    "min": min,
    "max": max,
    "abs": abs,
    "len": len,
    "sum": lambda xs: sum(xs),
    "range": _range,
    # RegNet's widths (w0, wa, wm) and compound scaling need these
    "log": _log,
    "log2": math.log2,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "pow": power,
}

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": power, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}

SHAPE_ATTRIBUTES = ("c", "h", "w", "rank", "dims")
_PYTHON_CONSTANTS = {"True": "true", "False": "false", "None": "false"}  # what a Python hand writes first
COMPREHENSION_LIMIT = 1_000_000


#: the shape of a named tensor (`@s1`), given its name and where it is used; raises ArchError if unknown
TensorLookup = Callable[[str, Any], TensorType]


class Evaluator:
    """Evaluates expressions against variables, the incoming shape `in` and the named tensors' shapes (`@s1`)."""

    def __init__(self, variables: dict[str, Value], incoming: TensorType | None, tensors: TensorLookup | None = None):
        self.variables = variables
        self.incoming = incoming
        self.tensors = tensors
        self._budget = [COMPREHENSION_LIMIT]  # shared with the evaluators of nested comprehensions

    def __call__(self, e: ast.Expr) -> Value:
        # every value an expression makes passes here: numbers are checked once, in `_checked`, whether an
        # operator or a function (int(), round(), sum(), pow() ...) made them
        value = getattr(self, "_" + e.kind)(e)
        if e.kind != "literal":  # a literal's size is `_literal`'s business (1e400 reaches the primitive as written)
            value = _checked(value, e.span)
        if type(value) is tuple:  # issue 14: list sizes, nesting and the work of all expressions are budgeted
            try:
                current_value_budget().admit(value)
            except BudgetExceeded as exc:
                raise error("E0115", exc.message, e.span, label="too large", help=exc.help) from None
        return value

    def _literal(self, e: ast.Literal_) -> Value:
        if isinstance(e.value, int) and not isinstance(e.value, bool) and abs(e.value) > MAX_INT:
            raise error("E0115", f"number has {len(str(e.value))} digits; integers are limited to 2**62",
                        e.span, label="too large")
        return e.value

    def _var(self, e: ast.Var) -> Value:
        if e.name in self.variables:
            return self.variables[e.name]
        close = difflib.get_close_matches(e.name, list(self.variables) + list(BUILTINS), n=1)
        if e.name in _PYTHON_CONSTANTS:
            close = [_PYTHON_CONSTANTS[e.name]]
        raise error("E0102", f"unknown variable `{e.name}`", e.span, label="not defined here",
                    help=f"did you mean `{close[0]}`?" if close else _known(self.variables))

    def _in(self, e: ast.InRef) -> Value:
        if self.incoming is None:
            raise error("E0108", "`in` has no meaning here: there is no incoming tensor", e.span)
        return self.incoming

    def _tensor(self, e: ast.TensorRef) -> Value:
        if self.tensors is None:
            raise error("E0108", f"`@{e.name}` has no meaning here: named tensors exist only inside a body", e.span)
        return self.tensors(e.name, e.span)

    def _attr(self, e: ast.Attr) -> Value:
        obj = self(e.obj)
        if not isinstance(obj, TensorType):
            raise error("E0108", f"a {type_name(obj)} has no attribute `{e.name}`", e.span)
        if e.name not in SHAPE_ATTRIBUTES:
            raise error("E0108", f"shapes have no attribute `{e.name}`", e.span,
                        help="use one of " + ", ".join(f"`in.{a}`" for a in SHAPE_ATTRIBUTES))
        if e.name in ("h", "w") and obj.rank != 3:
            named = isinstance(e.obj, ast.TensorRef)
            shown, what = (f"@{e.obj.name}", "the tensor") if named else ("in", "the incoming tensor")
            raise error("E0206", f"`{shown}.{e.name}` needs a feature map, {what} is {obj}", e.span)
        return getattr(obj, e.name)

    def _index(self, e: ast.Index) -> Value:
        obj, index = self(e.obj), self(e.index)
        if isinstance(obj, TensorType):
            obj = obj.dims
        if not isinstance(obj, tuple):
            raise error("E0108", f"a {type_name(obj)} cannot be indexed", e.obj.span, label=f"this is a {type_name(obj)}")
        if not isinstance(index, int) or isinstance(index, bool):
            raise error("E0108", f"an index must be an int, got {type_name(index)}", e.index.span)
        if not -len(obj) <= index < len(obj):
            raise error("E0108", f"index {index} is out of range for a sequence of length {len(obj)}", e.index.span)
        return obj[index]

    def _sequence(self, e: ast.Sequence) -> Value:
        return tuple(self(item) for item in e.items)

    def _listcomp(self, e: ast.ListComp) -> Value:
        first = ast.CompClause.model_construct(span=e.iterable.span, kind="for", names=e.names, value=e.iterable)
        values: list[Value] = []
        self._comprehend(e, (first, *e.clauses), self.variables, values)
        return tuple(values)

    def _comprehend(self, e: ast.ListComp, clauses, variables: dict[str, Value], values: list[Value]) -> None:
        """Run the clauses from the first with `variables` bound so far; the last clause evaluates the item."""
        inner = Evaluator(variables, self.incoming, self.tensors)
        inner._budget = self._budget  # nested comprehensions share one expression's budget
        if not clauses:
            values.append(inner(e.item))
            return
        clause, rest = clauses[0], clauses[1:]
        if clause.kind == "if":
            if inner._truth(inner(clause.value), clause.value):
                self._comprehend(e, rest, variables, values)
            return
        items = inner(clause.value)
        if isinstance(items, int) and not isinstance(items, bool):
            items = _range(items)
        if not isinstance(items, tuple):
            raise error("E0108", f"a list comprehension needs a list or an int, got {type_name(items)}",
                        clause.value.span)
        for item in items:
            self._budget[0] -= 1
            if self._budget[0] < 0:  # nested comprehensions multiply; keep one expression's work bounded
                raise error("E0115", f"list comprehensions here evaluate more than {COMPREHENSION_LIMIT:,} items",
                            e.span)
            if len(clause.names) == 1:
                bound = {clause.names[0]: item}
            elif not isinstance(item, tuple) or len(item) != len(clause.names):
                raise error("E0108", f"cannot unpack {repr_value(item)} into {len(clause.names)} names "
                            f"({', '.join(clause.names)})", clause.value.span)
            else:
                bound = dict(zip(clause.names, item))
            self._comprehend(e, rest, {**variables, **bound}, values)

    def _template(self, e: ast.Template) -> str:
        """A string label's text with each `{expr}` replaced by its value (an int or a string)."""
        text = []
        for part in e.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            value = self(part)
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                raise error("E0108", f"a label's `{{...}}` must be an int or a string, got {type_name(value)} "
                            f"`{repr_value(value)}`", part.span, help="convert it, e.g. `{int(x)}`")
            text.append(str(value))
        return "".join(text)

    def _unary(self, e: ast.Unary) -> Value:
        v = self(e.operand)
        if e.op == "not":
            return not self._truth(v, e.operand)
        if not _is_number(v):
            raise error("E0108", f"cannot negate a {type_name(v)}", e.span)
        return -v

    def _ternary(self, e: ast.Ternary) -> Value:
        return self(e.then) if self._truth(self(e.cond), e.cond) else self(e.orelse)

    def _binop(self, e: ast.BinOp) -> Value:
        if e.op in ("and", "or"):
            left = self._truth(self(e.left), e.left)
            if (e.op == "and") != left:
                return left
            return self._truth(self(e.right), e.right)
        left, right = self(e.left), self(e.right)
        if e.op in ("==", "!="):
            return _BINARY[e.op](left, right)
        numeric = _is_number(left) and _is_number(right)
        sequences = isinstance(left, tuple) and isinstance(right, tuple) and e.op in ("+", "<", "<=", ">", ">=")
        repeat = e.op == "*" and isinstance(left, tuple) and isinstance(right, int) and not isinstance(right, bool)
        if not (numeric or sequences or repeat):
            raise error("E0108", f"`{e.op}` is not defined for {type_name(left)} and {type_name(right)}", e.span)
        if repeat and right * len(left) > 100_000:
            raise error("E0115", "sequence would be too long", e.span)
        try:
            result = _BINARY[e.op](left, right)
        except ZeroDivisionError:
            if e.op == "**":
                raise error("E0116", "0 cannot be raised to a negative power", e.span,
                            label="a negative power of 0") from None
            raise error("E0116", "division by zero", e.span, label="the right side is 0") from None
        except (OverflowError, ValueError) as exc:
            raise error("E0116", f"arithmetic error: {exc}", e.span) from None
        return result

    def _fcall(self, e: ast.FuncCall) -> Value:
        fn = BUILTINS.get(e.func)
        if fn is None:
            close = difflib.get_close_matches(e.func, list(BUILTINS), n=1)
            raise error("E0101", f"unknown function `{e.func}`", e.span,
                        help=f"did you mean `{close[0]}`?" if close else
                        "functions: " + ", ".join(f"`{n}`" for n in BUILTINS))
        args = [self(a) for a in e.args]
        kwargs = {k.name: self(k.value) for k in e.kwargs}
        try:
            result = fn(*args, **kwargs)
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            shown = ", ".join([repr_value(a) for a in args] + [f"{k}={repr_value(v)}" for k, v in kwargs.items()])
            arithmetic = isinstance(exc, (OverflowError, ZeroDivisionError))
            reason = {"math domain error": "the argument is outside the function's domain",
                      "math range error": "the result is too large"}.get(str(exc), exc)
            raise error("E0116" if arithmetic else "E0108", f"`{e.func}({shown})` failed: {reason}", e.span) from None
        if isinstance(result, list):
            result = tuple(result)
        return result

    def _truth(self, v: Value, e: ast.Expr) -> bool:
        if not isinstance(v, bool):
            raise error("E0108", f"a condition must be a bool, got {type_name(v)} `{repr_value(v)}`", e.span,
                        help="compare explicitly, e.g. `x != 0`")
        return v


def _checked(result: Value, span) -> Value:
    """The one check of the size of a computed number (operators and functions alike): `Evaluator.__call__`."""
    if isinstance(result, int) and not isinstance(result, bool) and abs(result) > MAX_INT:
        raise error("E0116", "integer result is larger than 2**62", span)
    if isinstance(result, complex):
        raise error("E0116", "result is not a real number", span)
    if isinstance(result, float) and not math.isfinite(result):
        raise error("E0116", f"result is not a finite number ({result})", span)
    return result


def _is_number(v: Value) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _known(variables: dict[str, Value]) -> str | None:
    return ("variables here: " + ", ".join(f"`{n}`" for n in sorted(variables))) if variables else None


__all__ = ["ArchError", "BUILTINS", "Diagnostic", "Evaluator", "make_divisible", "repr_value", "type_name"]
