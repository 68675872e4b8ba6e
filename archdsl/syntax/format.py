"""The canonical layout of `.arch` source: the AST printed back, with the author's comments and line structure.

The parser records what the AST leaves out (`trivia.py`: the comments, and the position of every token); the
printers walk the AST (`printer.py` for definitions and statements, `print_expr.py` for expressions and
bracketed lists) and ask the trivia only where the author broke lines and where each comment stood
(`layout.py` places the comments and blank lines).

What the layout decides, and what it keeps from the author:
- indentation is 4 spaces a level; spaces go after commas and around binary operators and `=`-less
  keywords, never inside brackets; `name=value` in arguments and parameters; no parentheses on an
  argument-less call; only the parentheses the grammar needs; one blank line between definitions,
  at most one anywhere, none just inside braces.
- items the author wrote on one line stay on one line (`conv bn relu`); an item starts a new line where the
  author started one, and always after a construct that spans several lines.
- a `{ ... }` body (of `repeat`, `for`, `if`, a group, a combinator) stays on one line when it was on one
  line and fits; otherwise every item starts on its own line. Definition bodies always span lines.
- a bracketed list (arguments, parameters, `[...]`, `(...)`) is laid out one element a line, with a
  trailing comma, when the author broke the line right after its opening bracket or before its closing
  one, or put a comment inside it, or when it does not fit in 120 columns; otherwise it is on one line.
- number and string literals are printed exactly as written (`1e-5` stays `1e-5`).
- a comment that stood on a line of its own stays on a line of its own, before the next node and at its
  indentation; one that followed code stays at the end of that code's line. Its text never changes.

The output parses to the same AST as the input (spans aside), and formatting it again changes nothing.

>>> print(format_source(Source("x.arch", "block b(c){conv( c,3 ,pad=1) # a comment\\n relu}")), end="")
block b(c) {
    conv(c, 3, pad=1)  # a comment
    relu
}
"""

from __future__ import annotations

from .. import ast
from ..source import Source
from .parser import parse_with_trivia
from .printer import Printer

__all__ = ["format_source", "same_ast", "strip_spans"]

#: fields that say where a node was written, not what it is
_POSITIONS = frozenset({"span", "name_span", "label_span", "file"})


def format_source(source: Source) -> str:
    """The canonical text of `source` (raises ArchError when it does not parse)."""
    module, trivia = parse_with_trivia(source)
    return Printer(trivia).module(module)


def strip_spans(value):
    """An AST dump without positions, for comparing two parses of the same program."""
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k not in _POSITIONS}
    if isinstance(value, (list, tuple)):
        return [strip_spans(v) for v in value]
    return value


def same_ast(a: ast.Module, b: ast.Module) -> bool:
    return strip_spans(a.model_dump()) == strip_spans(b.model_dump())
