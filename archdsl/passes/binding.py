"""Binding values to parameters: a network's (from `--set` or the API), a block call's and a primitive call's.

One function binds declared parameters (`bind_parameters`), one binds the arguments of a call to names
(`bind_arguments`), so networks, blocks and the `--input` search cannot disagree on what a default means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from pydantic import ValidationError

from .. import ast
from ..diagnostics import ArchError, Label
from ..source import Span
from ..types import TensorType
from .evaluate import Evaluator, TensorLookup, Value, repr_value, type_name
from .resolve import suggest

#: makes the diagnostic of an error found while binding: (code, message, span, **Diagnostic fields)
ErrorFactory = Callable[..., ArchError]


@dataclass(frozen=True)
class TensorArgument:
    """`@s1` given to a tensor parameter (`block up(c, @skip)`): resolved to a value by elaboration."""

    name: str
    span: Span


def bind_parameters(params: Sequence[ast.Param], given: Mapping[str, Value], incoming: TensorType | None,
                    missing: Callable[[ast.Param], Exception] | None = None) -> dict[str, Value]:
    """Each parameter in order takes its given value, else its default, evaluated over the parameters bound
    before it (`block b(c, mid=c // 4)`). One with neither raises `missing(param)`, or stays unbound."""
    bound: dict[str, Value] = {}
    for param in params:
        if param.name in given:
            bound[param.name] = given[param.name]
        elif param.default is not None:
            bound[param.name] = Evaluator(bound, incoming)(param.default)
        elif missing is not None:
            raise missing(param)
    return bound


def bind_arguments(call: ast.Call, names: list[str], variables: dict[str, Value], incoming: TensorType,
                   error: ErrorFactory, tensors: TensorLookup | None = None,
                   tensor_params: Mapping[str, ast.Param] | None = None) -> tuple[dict[str, Value], dict[str, Span]]:
    """Positional and keyword arguments of a call -> {name: value} and {name: span}, checked against `names`.

    A tensor parameter (in `tensor_params`) takes `@name`, bound as a `TensorArgument`; any other parameter
    takes a value, and `@name` there is refused (its shape is `@name.c`...: an expression, not a tensor)."""
    if call.kwargs and any((a.span.line, a.span.col) > (call.kwargs[0].span.line, call.kwargs[0].span.col)
                           for a in call.args):
        raise error("E0103", "positional argument after a keyword argument", call.span,
                    help="put positional arguments first")
    if len(call.args) > len(names):
        extra = call.args[len(names)]
        raise error("E0103", f"`{call.name}` takes at most {len(names)} positional argument"
                    f"{'s' if len(names) != 1 else ''}, got {len(call.args)}", extra.span,
                    label="unexpected argument", help=signature(call.name, names))
    evaluate = Evaluator(variables, incoming, tensors)
    tensor_params = tensor_params or {}

    def argument(name: str, expr: ast.Expr) -> Value:
        if name in tensor_params:
            if not isinstance(expr, ast.TensorRef):
                raise error("E0123", f"`{name}` of `{call.name}` takes a tensor, not a value", expr.span,
                            label="a value", secondary=(Label(span=tensor_params[name].span,
                                                              message="a tensor parameter"),),
                            help=f"pass a named tensor, e.g. `{name}=@skip` (name it with `-> skip` where it is made)")
            return TensorArgument(expr.name, expr.span)
        if isinstance(expr, ast.TensorRef):
            raise error("E0123", f"`{name}` of `{call.name}` takes a value, not the tensor `@{expr.name}`", expr.span,
                        label="a tensor", help=f"a value may read the tensor's shape: `@{expr.name}.c`, "
                        f"`@{expr.name}.h`; a block takes tensors through parameters declared as `@name`")
        return evaluate(expr)

    values = {name: argument(name, arg) for name, arg in zip(names, call.args)}
    spans = {name: arg.span for name, arg in zip(names, call.args)}
    for kw in call.kwargs:
        if kw.name not in names:
            raise error("E0104", f"`{call.name}` has no parameter `{kw.name}`", kw.span,
                        help=suggest(kw.name, names) or signature(call.name, names))
        if kw.name in values:
            raise error("E0106", f"argument `{kw.name}` of `{call.name}` is given twice", kw.span,
                        secondary=(Label(span=spans[kw.name], message="first given here"),))
        values[kw.name] = argument(kw.name, kw.value)
        spans[kw.name] = kw.span
    return values, spans


def invalid_argument(call: ast.Call, params_model, exc: ValidationError, values: dict[str, Value],
                     spans: dict[str, Span], error: ErrorFactory) -> ArchError:
    """A primitive's parameter model refused the bound values: say which argument, what it must be."""
    problem = exc.errors()[0]
    field_name = str(problem["loc"][0]) if problem["loc"] else ""
    fields = list(params_model.model_fields)
    if problem["type"] == "missing":
        return error("E0105", f"`{call.name}` is missing argument `{field_name}`", call.span,
                     help=signature(call.name, fields))
    given = values.get(field_name)
    span = spans.get(field_name, call.span)
    expected = _expected(params_model.model_fields[field_name].annotation, problem)
    help_text = None
    if isinstance(given, float) and "int" in expected:
        help_text = "wrap the value in `int(...)`, `round(...)` or `make_divisible(...)`"
    shown = repr(given) if isinstance(given, float) else repr_value(given)  # 48.0, not 48: it is a float
    return error("E0107", f"`{call.name}` argument `{field_name}` {expected}, got {type_name(given)} `{shown}`", span,
                 help=help_text)


def _expected(annotation, problem: dict) -> str:
    kind = problem["type"]
    if kind in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        return problem["msg"].lower().replace("input should be", "must be")
    text = str(annotation).replace("typing.", "").replace("Annotated[", "").replace("NoneType", "none")
    if "Literal" in text:
        return "must be one of " + text.split("Literal[")[1].split("]")[0]
    if "tuple" in text and "int" in text:
        return "must be a positive int or a pair of them"
    if text.startswith("<class '"):
        text = text[8:-2]
    if "int" in text:
        return "must be an int"
    if "bool" in text:
        return "must be `true` or `false`"
    if "float" in text:
        return "must be a number"
    return "has an invalid value"


def signature(name: str, params: list[str]) -> str:
    return f"signature: `{name}({', '.join(params)})`"
