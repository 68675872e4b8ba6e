"""Go to definition (blocks of this file, imported files and the standard library; imports; parameters,
`let`s and loop variables; the Python source of a primitive) and find references."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ... import ast
from ...source import Span
from ..analysis import Analysis, contains, path_at, walk
from ..convert import Context
from ..names import Binding, binding_at, primitive_location

_TOP = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


def definition(context: Context, line: int, col: int) -> list[types.Location]:
    analysis = context.analysis
    path = path_at(analysis.module, line, col)
    if not path:
        return []
    node, owner = path[-1], path[0]
    if isinstance(node, ast.Import):
        target = (analysis.path.parent / node.path).resolve()
        return [types.Location(uri=target.as_uri(), range=_TOP)] if target.is_file() else []
    if isinstance(node, ast.Definition) and contains(node.name_span, line, col):
        return _locations(context, [node.name_span])
    if isinstance(node, ast.Call) and contains(node.name_span, line, col):
        block = _block(analysis, node.name)
        if block is not None:
            return _locations(context, [block.name_span])
        found = primitive_location(node.name)
        if found is not None:
            position = types.Position(line=found[1] - 1, character=0)
            return [types.Location(uri=Path(found[0]).resolve().as_uri(),
                                   range=types.Range(start=position, end=position))]
        return []
    if isinstance(node, (ast.Var, ast.Param)) and isinstance(owner, ast.Definition):
        binding = binding_at(owner, node.name, line, col)
        return _locations(context, [binding.span]) if binding is not None else []
    return []


def references(context: Context, others: list[Context], line: int, col: int,
               include_declaration: bool) -> list[types.Location]:
    """Every use of the block or variable at a position: in this document and, for a block, in the other
    documents open in the editor that see the same definition."""
    analysis = context.analysis
    path = path_at(analysis.module, line, col)
    if not path:
        return []
    node, owner = path[-1], path[0]
    name = None
    if isinstance(node, ast.Call) and contains(node.name_span, line, col):
        name = node.name
    elif isinstance(node, ast.BlockDef) and contains(node.name_span, line, col):
        name = node.name
    if name is not None:
        block = _block(analysis, name)
        if block is None:  # a primitive: its uses in this document
            return _locations(context, _calls(analysis, name))
        spans = [block.name_span] if include_declaration else []
        locations = _locations(context, spans)
        for other in [context, *[o for o in others if o.analysis.uri != analysis.uri]]:
            if _block(other.analysis, name) == block:
                locations += _locations(other, _calls(other.analysis, name))
        return locations
    if isinstance(node, (ast.Var, ast.Param)) and isinstance(owner, ast.Definition):
        binding = binding_at(owner, node.name, line, col)
        if binding is None:
            return []
        uses = [v.span for v in walk(owner) if isinstance(v, ast.Var) and v.name == node.name
                and binding_at(owner, v.name, v.span.line, v.span.col) == binding]
        return _locations(context, ([binding.span] if include_declaration else []) + uses)
    return []


def _block(analysis: Analysis, name: str) -> ast.BlockDef | None:
    found = analysis.scope.lookup(name) if analysis.scope is not None else None
    if found is not None:
        return found[0]
    module = analysis.module
    return next((b for b in module.blocks if b.name == name), None) if module is not None else None


def _calls(analysis: Analysis, name: str) -> list[Span]:
    module = analysis.module
    if module is None:
        return []
    return [n.name_span for d in (*module.blocks, *module.networks) for n in walk(d)
            if isinstance(n, ast.Call) and n.name == name]


def _locations(context: Context, spans: list[Span]) -> list[types.Location]:
    return [loc for loc in (context.location(s) for s in spans) if loc is not None]


__all__ = ["Binding", "definition", "references"]
