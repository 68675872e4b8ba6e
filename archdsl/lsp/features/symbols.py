"""The outline of a document: its blocks and networks, with their labelled items and `let`s inside."""

from __future__ import annotations

from lsprotocol import types

from ... import ast
from ..analysis import walk
from ..convert import Context
from ..names import definition_signature


def document_symbols(context: Context) -> list[types.DocumentSymbol]:
    module = context.analysis.module
    if module is None:
        return []
    here = context.here
    symbols = []
    for definition in sorted((*module.blocks, *module.networks), key=lambda d: d.span.line):
        children = []
        for node in walk(definition):
            if isinstance(node, ast.Item) and node.label is not None and node.label_span is not None:
                children.append(types.DocumentSymbol(
                    name=node.label, kind=types.SymbolKind.Field, range=here.range(node.span),
                    selection_range=here.range(node.label_span), detail=getattr(node, "name", None)))
            elif isinstance(node, ast.Let):
                children.append(types.DocumentSymbol(name=node.name, kind=types.SymbolKind.Variable,
                                                     range=here.range(node.span), selection_range=here.range(node.span)))
        network = isinstance(definition, ast.NetworkDef)
        net = context.analysis.networks.get(definition.name) if network else None
        detail = f"{net.input} -> {net.output}, {net.param_count:,} params" if net is not None else \
            definition_signature(definition, context.analysis).text()
        symbols.append(types.DocumentSymbol(
            name=definition.name, kind=types.SymbolKind.Class if network else types.SymbolKind.Function,
            range=here.range(definition.span), selection_range=here.range(definition.name_span), detail=detail,
            children=children))
    return symbols
