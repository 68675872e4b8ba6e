"""Semantic tokens: what the syntax tree knows and a grammar cannot, on top of the TextMate grammar's colours:
which calls are blocks and which primitives, definitions, parameters and their uses, labels, keyword arguments."""

from __future__ import annotations

from lsprotocol import types

from ... import ast
from ...source import Span
from ..analysis import walk
from ..convert import Context
from ..names import bindings

TOKEN_TYPES = ["function", "class", "parameter", "variable", "property", "namespace"]
TOKEN_MODIFIERS = ["declaration", "defaultLibrary", "readonly"]
LEGEND = types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)


def semantic_tokens(context: Context) -> types.SemanticTokens:
    analysis = context.analysis
    module = analysis.module
    found: list[tuple[int, int, int, str, tuple[str, ...]]] = []  # line, col, length (code points), type, modifiers

    def add(span: Span | None, kind: str, modifiers: tuple[str, ...] = (), length: int | None = None) -> None:
        if span is None or span.file != analysis.name:
            return
        size = length if length is not None else (span.end_col - span.col if span.end_line == span.line else 0)
        if size > 0:
            found.append((span.line, span.col, size, kind, modifiers))

    if module is not None:
        for definition in (*module.blocks, *module.networks):
            network = isinstance(definition, ast.NetworkDef)
            add(definition.name_span, "class" if network else "function", ("declaration",))
            parameters = {b.name for b in bindings(definition) if b.kind == "parameter"}
            for param in definition.params:
                add(param.span, "parameter", ("declaration",), len(param.name))
            for node in walk(definition):
                if isinstance(node, ast.Call):
                    block = analysis.scope.lookup(node.name) if analysis.scope is not None else None
                    add(node.name_span, "function", () if block is not None else ("defaultLibrary",))
                    for kw in node.kwargs:
                        add(kw.span, "property", (), len(kw.name))
                elif isinstance(node, ast.Var):
                    add(node.span, "parameter" if node.name in parameters else "variable", ("readonly",))
                elif isinstance(node, ast.FuncCall):
                    add(node.span, "function", ("defaultLibrary",), len(node.func))
                if isinstance(node, ast.Item) and node.label_span is not None:
                    add(node.label_span, "property", ("declaration",))
    return types.SemanticTokens(data=_encode(context, sorted(set(found))))


def _encode(context: Context, tokens) -> list[int]:
    data: list[int] = []
    previous_line, previous_start = 0, 0
    for line, col, length, kind, modifiers in tokens:
        start = context.here.position(line, col)
        end = context.here.position(line, col + length)
        delta_line = start.line - previous_line
        delta_start = start.character - previous_start if delta_line == 0 else start.character
        bits = sum(1 << TOKEN_MODIFIERS.index(m) for m in modifiers)
        data += [delta_line, delta_start, end.character - start.character, TOKEN_TYPES.index(kind), bits]
        previous_line, previous_start = start.line, start.character
    return data
