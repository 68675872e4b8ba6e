"""Hover: what a call runs (signature, documentation) with its input and output shapes, parameters and MACs
at that point of each network; for a name, its value; for a definition, what it amounts to."""

from __future__ import annotations

from lsprotocol import types

from ... import ast
from ...passes.evaluate import repr_value
from ..analysis import Analysis, Instance, contains, path_at, walk
from ..convert import Context
from ..names import Signature, binding_at, callee, definition_signature
from .shapes import count, distinct

MAX_ROWS = 8


def hover(context: Context, line: int, col: int) -> types.Hover | None:
    analysis = context.analysis
    path = path_at(analysis.module, line, col)
    if not path:
        return None
    text = _describe(analysis, path, line, col)
    if text is None:
        return None
    node = path[-1]
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=context.here.range(getattr(node, "name_span", None) or node.span))


def _describe(analysis: Analysis, path: list, line: int, col: int) -> str | None:
    node = path[-1]
    definition = path[0] if isinstance(path[0], ast.Definition) else None
    if isinstance(node, ast.Import):
        return f"import `{node.path}`"
    if isinstance(node, ast.Definition) and contains(node.name_span, line, col):
        return _definition(analysis, node)
    if isinstance(node, ast.Call) and contains(node.name_span, line, col):
        signature = callee(analysis, node.name)
        parts = [_signature(signature)] if signature else [f"`{node.name}`: unknown primitive or block"]
        return "\n\n".join(parts + [_shapes(analysis.records.get(node.span, []))])
    if isinstance(node, ast.Var) and definition is not None:
        return _variable(analysis, path, definition, node.name, line, col)
    if isinstance(node, ast.InRef) or (isinstance(node, ast.Attr) and isinstance(node.obj, ast.InRef)):
        item = _innermost_item(analysis, path)
        shapes = distinct(str(i.incoming) for i in analysis.records.get(item.span, [])) if item else []
        return f"`in`: the incoming shape, {' | '.join(shapes) or 'unknown here'}"
    if isinstance(node, ast.Param) and definition is not None:
        return _variable(analysis, path, definition, node.name, line, col)
    item = _innermost_item(analysis, path)
    if item is not None:
        what = type(item).__name__.lower()
        return f"`{what}`\n\n{_shapes(analysis.records[item.span])}"
    return None


def _innermost_item(analysis: Analysis, path: list):
    return next((n for n in reversed(path) if isinstance(n, ast.Item) and n.span in analysis.records), None)


def _signature(signature: Signature) -> str:
    where = f"\n\ndefined at `{signature.span}`" if signature.span is not None else ""
    doc = f"\n\n{signature.doc}" if signature.doc else ""
    return f"```archdsl\n{signature.text()}\n```{doc}{where}"


def _shapes(instances: list[Instance]) -> str:
    """A table of the distinct runs of an item: network, input, output, parameters, MACs."""
    if not instances:
        return "*not run: no network of this file reaches it*"
    rows = distinct((i.network, str(i.incoming), str(i.out), i.params, i.macs) for i in instances)
    table = ["| network | in | out | params | MACs |", "|---|---|---|---|---|"]
    table += [f"| {n} | {a} | {b} | {p:,} | {count(m)} |" for n, a, b, p, m in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        table.append(f"| ... {len(rows) - MAX_ROWS} more | | | | |")
    runs = f"\n\nrun {len(instances)} times" if len(instances) > 1 else ""
    return "\n".join(table) + runs


def _definition(analysis: Analysis, definition: ast.Definition) -> str:
    text = _signature(definition_signature(definition, analysis))
    if isinstance(definition, ast.NetworkDef):
        net = analysis.networks.get(definition.name)
        if net is not None:
            text += (f"\n\n{net.input} -> {net.output}, {net.param_count:,} parameters, "
                     f"{net.macs / 1e9:.3f} GMACs")
        elif definition.name in analysis.networks:
            text += "\n\n*does not check: see the diagnostics*"
        return text
    calls = [i for _, item in analysis.items() if isinstance(item, ast.Call) and item.name == definition.name
             for i in analysis.records.get(item.span, [])]
    if calls:
        text += "\n\n" + _shapes(calls)
    return text


def _variable(analysis: Analysis, path: list, definition: ast.Definition, name: str, line: int, col: int) -> str:
    binding = binding_at(definition, name, line, col)
    kind = binding.kind if binding is not None else "name"
    values = _values(analysis, path, definition, name, line, col)
    if not values:
        return f"{kind} `{name}`" + ("" if binding else ": not defined here")
    shown = ", ".join(f"`{v}`" for v in values[:MAX_ROWS]) + (f" (+{len(values) - MAX_ROWS} more)"
                                                              if len(values) > MAX_ROWS else "")
    return f"{kind} `{name}` = {shown}"


def _values(analysis: Analysis, path: list, definition: ast.Definition, name: str, line: int, col: int) -> list[str]:
    """The values a name takes at a place: from the items around it, else from the items after it."""
    around = [n for n in reversed(path) if isinstance(n, ast.Item)]
    after = [n for n in walk(definition) if isinstance(n, ast.Item) and (n.span.line, n.span.col) >= (line, col)]
    rest = [n for n in walk(definition) if isinstance(n, ast.Item)]
    for item in (*around, *after, *rest):
        instances = analysis.records.get(item.span, [])
        values = distinct(repr_value(i.variables[name]) for i in instances if name in i.variables)
        if values:
            return values
    return []
