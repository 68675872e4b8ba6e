"""Completion: primitives, blocks in scope, keyword parameters (with their defaults) inside a call's
parentheses, the names in scope (parameters, `let`s, loop variables), labels, `in.` attributes, keywords, the
expression functions, and `.arch` files in an `import`."""

from __future__ import annotations

import re

from lsprotocol import types

from ... import ast
from ...primitives import REGISTRY
from ..analysis import Analysis, path_at, walk
from ..convert import Context
from ..names import FUNCTIONS, Signature, bindings, callee, definition_signature, primitive_signature
from ...highlight import COMBINATORS, STATEMENTS

_IDENT_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")
_IN_ATTRIBUTES = {"c": "channels", "h": "height", "w": "width", "rank": "3 for a feature map, 1 for flat features"}


def completions(context: Context, line: int, col: int) -> types.CompletionList:
    analysis = context.analysis
    lines = analysis.lines
    before = lines[line - 1][:col - 1] if 0 < line <= len(lines) else ""
    if re.search(r'import\s+"[^"]*$', before):
        return _list(_imports(analysis))
    if re.search(r"\bin\.[A-Za-z_]*$", before):
        return _list([types.CompletionItem(label=k, kind=types.CompletionItemKind.Property, detail=v)
                      for k, v in _IN_ATTRIBUTES.items()])
    items: list[types.CompletionItem] = []
    call = _open_call(lines, line, col)
    definition = _definition_at(analysis, line, col)
    if call is not None:
        name, written = call
        signature = callee(analysis, name)
        if signature is not None:
            items += _keywords(signature, written)
    else:
        items += _callables(analysis)
        items += [types.CompletionItem(label=k, kind=types.CompletionItemKind.Keyword)
                  for k in (*STATEMENTS, *COMBINATORS) if k not in ("as", "else", "import")]
        if definition is not None:
            labels = {n.label for n in walk(definition) if isinstance(n, ast.Item) and n.label}
            items += [types.CompletionItem(label=f"{label}: ", kind=types.CompletionItemKind.Field,
                                           detail="label used in this definition", sort_text=f"9{label}")
                      for label in sorted(labels)]
    if definition is not None:
        items += [types.CompletionItem(label=b.name, kind=types.CompletionItemKind.Variable, detail=b.kind)
                  for b in _unique(bindings(definition))]
    items += [types.CompletionItem(label=f, kind=types.CompletionItemKind.Function, detail="function",
                                   sort_text=f"8{f}") for f in FUNCTIONS]
    return _list(items)


def _list(items: list[types.CompletionItem]) -> types.CompletionList:
    return types.CompletionList(is_incomplete=False, items=items)


def _callables(analysis: Analysis) -> list[types.CompletionItem]:
    items = []
    for primitive in REGISTRY.values():
        signature = primitive_signature(primitive)
        items.append(types.CompletionItem(label=primitive.name, kind=types.CompletionItemKind.Function,
                                          detail=signature.text(), documentation=signature.doc or None,
                                          label_details=types.CompletionItemLabelDetails(description="primitive")))
    seen: set[str] = set()
    scope = analysis.scope
    blocks = []
    while scope is not None:
        blocks += [(name, b) for name, (b, _) in scope.blocks.items()]
        scope = scope.parent
    if analysis.scope is None and analysis.module is not None:
        blocks += [(b.name, b) for b in analysis.module.blocks]
    for name, block in blocks:
        if name in seen:
            continue
        seen.add(name)
        signature = definition_signature(block, analysis)
        origin = "stdlib" if block.span.file.startswith("<stdlib>") else block.span.file
        items.append(types.CompletionItem(label=name, kind=types.CompletionItemKind.Class, detail=signature.text(),
                                          documentation=signature.doc or None,
                                          label_details=types.CompletionItemLabelDetails(description=origin)))
    return items


def _keywords(signature: Signature, written: set[str]) -> list[types.CompletionItem]:
    return [types.CompletionItem(label=f"{name}=", kind=types.CompletionItemKind.Property,
                                 detail=f"default {default}" if default is not None else "required",
                                 insert_text=f"{name}=", sort_text=f"0{i:02d}")
            for i, (name, default) in enumerate(signature.params) if name not in written]


def _open_call(lines: list[str], line: int, col: int) -> tuple[str, set[str]] | None:
    """The name of the call whose parentheses hold the cursor, and the keywords already written in them."""
    depth = 0
    n, text = line, lines[line - 1][:col - 1] if 0 < line <= len(lines) else ""
    inside = ""
    while n >= 1 and line - n < 50:
        for i in range(len(text) - 1, -1, -1):
            ch = text[i]
            if ch in ")]":
                depth += 1
            elif ch in "([":
                if depth == 0:
                    if ch == "[":
                        return None
                    match = _IDENT_BEFORE.search(text[:i])
                    if match is None:
                        return None
                    return match.group(1), set(re.findall(r"([A-Za-z_]\w*)\s*=(?!=)", inside))
                depth -= 1
            elif ch in "{}":
                return None
            inside = ch + inside
        n -= 1
        text = lines[n - 1] if n >= 1 else ""
        inside = "\n" + inside
    return None


def _definition_at(analysis: Analysis, line: int, col: int) -> ast.Definition | None:
    path = path_at(analysis.module, line, col)
    if path and isinstance(path[0], ast.Definition):
        return path[0]
    module = analysis.module
    if module is None:
        return None
    before = [d for d in (*module.blocks, *module.networks) if d.span.line <= line]
    return max(before, key=lambda d: d.span.line) if before else None


def _imports(analysis: Analysis) -> list[types.CompletionItem]:
    folder = analysis.path.parent
    try:
        files = sorted(p for p in folder.rglob("*.arch") if p.resolve() != analysis.path.resolve())[:200]
    except OSError:
        return []
    return [types.CompletionItem(label=str(p.relative_to(folder)), kind=types.CompletionItemKind.File)
            for p in files]


def _unique(found):
    seen, result = set(), []
    for b in found:
        if b.name not in seen:
            seen.add(b.name)
            result.append(b)
    return result
