"""Parsing a document that has syntax errors, so that the rest of it can still be analyzed.

The parser reports every syntax error of a file but returns no tree when there is one. While a person types,
some definition is nearly always broken, and the shapes of everything else should stay on screen. So the
broken part is blanked (replaced by spaces, keeping every line and column) and the text parsed again: first
only the lines that hold an error, and where that does not parse, the whole definition around it.

The definitions that were touched are remembered: their shapes are partial, and elaboration errors inside them
(or caused by a block that was blanked away) are consequences of the syntax error, not problems of their own.

>>> from archdsl.source import Source
>>> text = "block a(c) { conv(c, 3 }\\nnetwork n(input=[3, 8, 8]) { conv(4, 3) }"
>>> r = recover(Source("x.arch", text))
>>> [d.code for d in r.syntax], r.touched, r.module is not None
(['E0001'], [(1, 1)], True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import ast
from ..diagnostics import ArchError, Diagnostic
from ..source import Source
from ..syntax.parser import parse

_DEFINITION_START = re.compile(r"(block|network|import)\b")
_DEFINITION_NAME = re.compile(r"(?:block|network)\s+([A-Za-z_][A-Za-z0-9_]*)")
MAX_ROUNDS = 12


@dataclass
class Recovered:
    """The outcome of parsing with recovery."""

    text: str  # the text that parsed (the original one when it had no syntax error)
    module: ast.Module | None  # None when nothing could be recovered
    syntax: list[Diagnostic] = field(default_factory=list)  # the syntax errors of the original text
    touched: list[tuple[int, int]] = field(default_factory=list)  # line ranges (inclusive) that were blanked
    removed: set[str] = field(default_factory=set)  # names of definitions blanked away entirely

    def is_touched(self, line: int) -> bool:
        return any(first <= line <= last for first, last in self.touched)


def recover(source: Source, syntax: list[Diagnostic] | None = None) -> Recovered:
    """Parse `source`; on syntax errors, blank the broken lines (or definitions) until the rest parses.

    `syntax`: the syntax errors of `source` when they are already known (the text is then not parsed again).
    Errors other than syntax errors (E0002: binary or oversized input; a keyword used as a name) are raised
    as they are: blanking cannot help there.
    """
    if syntax is None:
        try:
            return Recovered(source.text, parse(source))
        except ArchError as exc:
            syntax = [d for d in exc.diagnostics if d.code == "E0001" and d.span is not None]
            if not syntax or len(syntax) != len(exc.diagnostics):
                raise
    original = source.lines
    lines = list(original)
    result = Recovered(source.text, None, syntax=syntax)
    pending = [(d.span.line, d.span.col) for d in syntax]
    whole = False  # the first round blanks only the offending lines; later rounds whole definitions
    for _ in range(MAX_ROUNDS):
        for line, col in pending:
            first, last = _definition_around(original, line, col)
            at_start = (line, col) == (_definition_start(original, line), 1)
            if whole or at_start:  # an error at `block`/`network` is a missing `}` in the definition before
                match = _DEFINITION_NAME.match(original[first - 1])
                if match:
                    result.removed.add(match.group(1))
                _blank(lines, first, last)
            else:
                _blank(lines, line, line)
            result.touched.append((first, last))
        text = "\n".join(lines)
        try:
            result.module = parse(Source(source.name, text))
            result.text = text
            return result
        except ArchError as exc:
            again = [(d.span.line, d.span.col) for d in exc.diagnostics if d.code == "E0001" and d.span is not None]
            if not again or len(again) != len(exc.diagnostics):
                return result
            pending, whole = again, True
    return result


def _definition_start(lines: list[str], line: int) -> int:
    return next((n for n in range(min(line, len(lines)), 0, -1) if _DEFINITION_START.match(lines[n - 1])), 1)


def _definition_around(lines: list[str], line: int, col: int = 2) -> tuple[int, int]:
    """The lines (1-based, inclusive) of the top-level definition that holds `line`.

    An error reported at the very start of a definition belongs to the one before it (a missing `}` is only
    noticed at the next `block`), so that one is taken.
    """
    first = _definition_start(lines, line)
    if first == line and col == 1 and first > 1:
        first = _definition_start(lines, line - 1)
    last = next((n - 1 for n in range(first + 1, len(lines) + 1) if _DEFINITION_START.match(lines[n - 1])),
                len(lines))
    return first, max(first, last)


def _blank(lines: list[str], first: int, last: int) -> None:
    for i in range(first - 1, min(last, len(lines))):
        lines[i] = " " * len(lines[i])
