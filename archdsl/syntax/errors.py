"""Parse errors classified into human messages, never raw token names.

Following Lark's `match_examples`, each kind of mistake has sample bad inputs (`error_examples.py`) and a
handler that words its message (`error_kinds.py`, from an `ErrorContext`, `error_context.py`). Each
sample is parsed once, and where the parser stopped becomes a key for its kind: the LALR state, the type of
the unexpected token, and the innermost constructs still open on the parser's stack (`(`, `repeat`, `let`...).
A user's error is looked up by the same keys, from the most specific to the least, and the first unambiguous
match names the kind; the kind's handler words the message from the context (the open bracket, the keyword,
the token found). Errors that match no sample fall back on the open brackets and on what the parser would
have accepted, in words.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..combinators import COMBINATORS
from ..diagnostics import Label
from ..source import Source
from .error_context import CLOSERS, FULL_WIDTH, OPENERS, ErrorContext, SyntaxProblem, describe, opened_what
from .error_examples import EXAMPLES
from .error_kinds import HANDLERS, fallback, stray_closer, unclosed
from .grammar import lark_parser

__all__ = ["SyntaxProblem", "classify", "describe", "example_table", "kind_of"]


def _keys(c: ErrorContext) -> list[tuple]:
    """Lookup keys, most specific first."""
    state = getattr(getattr(c.exc, "interactive_parser", None), "parser_state", None)
    position = getattr(state, "position", None)
    return [("state", position, c.type, c.context), ("accepts", c.accepts, c.type, c.context),
            ("context", c.type, c.context), ("accepts-only", c.accepts, c.type)]


def _context(source: Source, exc: UnexpectedInput) -> ErrorContext:
    state = getattr(getattr(exc, "interactive_parser", None), "parser_state", None)
    return ErrorContext(source, exc, list(getattr(state, "value_stack", None) or ()))


@lru_cache(maxsize=1)
def example_table() -> dict[tuple, frozenset[str]]:
    """Key -> the kinds whose samples produce it (a key with several kinds is ambiguous and never used)."""
    table: dict[tuple, set[str]] = {}
    for kind, samples in EXAMPLES.items():
        for sample in samples:
            try:
                lark_parser().parse(sample, start="start")
            except UnexpectedToken as exc:
                for key in _keys(_context(Source("<example>", sample), exc)):
                    table.setdefault(key, set()).add(kind)
            except UnexpectedInput:
                continue  # lexer-level samples are classified by character, not by state
    return {key: frozenset(kinds) for key, kinds in table.items()}


def kind_of(source: Source, exc: UnexpectedInput) -> str | None:
    """The kind of mistake, from the sample table; None when no sample matches unambiguously."""
    if not isinstance(exc, UnexpectedToken):
        return None
    table = example_table()
    for key in _keys(_context(source, exc)):
        kinds = table.get(key)
        if kinds is not None and len(kinds) == 1:
            return next(iter(kinds))
    return None


def classify(source: Source, exc: UnexpectedInput) -> SyntaxProblem:
    """The human account of a parse error: message, span, label, help and related places."""
    c = _context(source, exc)
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(c)
    if _keyword_as_name(c):
        return SyntaxProblem(f"{c.found} is a keyword and cannot be used as a name", c.at_found(), label="keyword",
                             help=f"choose another name, e.g. `{c.token}_`")
    without_braces = _combinator_without_braces(c)
    if without_braces is not None:
        return without_braces
    swallowed = _definition_inside_body(c)
    if swallowed is not None:
        return swallowed
    kind = kind_of(source, exc)
    if kind is not None:
        return HANDLERS[kind](c)
    if c.type in CLOSERS:
        return stray_closer(c)
    opener = c.opener
    if opener is not None and opener.type == "LBRACE" and c.type != "$END" and c.construct is None:
        return _unexpected_in_body(c)
    if opener is not None and (OPENERS[opener.type] in c.accepts or c.type == "$END"):
        return unclosed(c)
    return fallback(c)


def _unexpected_in_body(c: ErrorContext) -> SyntaxProblem:
    """Something that cannot start an item, where items are expected: a stray token, rarely a missing `}`."""
    if c.type == "COMMA":
        return SyntaxProblem("items are separated by spaces or new lines, not `,`", c.at_found(), label="remove this `,`",
                             help="write `conv(16, 3) bn relu`; commas only separate arguments and list items")
    return SyntaxProblem(f"unexpected {c.found} in a body", c.at_found(), label="not an item",
                         help="a body holds items such as `conv(16, 3)`, `add { ... | ... }` or `repeat 2 { ... }`, "
                              "and `let` bindings")


def _combinator_without_braces(c: ErrorContext) -> SyntaxProblem | None:
    """`mul [relu]`, `add (a | b)`: a combinator's name where an item starts, followed by something but `{`.

    The grammar reads any name before `{` as a combinator, so only the registry knows that `add` needed one.
    """
    markers, at = c.markers, None
    if c.type == "$END":  # the file ended: that is the news, whatever came last
        return None
    if len(markers) >= 2 and markers[-1].type == "LPAR" and markers[-2].type == "LBRACE":
        index = next(i for i, v in enumerate(c.stack) if v is markers[-1])
        name, at = (c.stack[index - 1] if index else None), markers[-1]
    elif markers and markers[-1].type == "LBRACE" and c.stack:
        name = c.stack[-1]
    else:
        return None
    if not isinstance(name, Token) or name.type != "NAME" or str(name) not in COMBINATORS:
        return None
    return SyntaxProblem(f"`{name}` takes its branches in braces", c.span(at.line, at.column) if at else c.at_found(),
                         label="expected `{`", help=f"write `{name} {{ branch | branch }}`")


def _definition_inside_body(c: ErrorContext) -> SyntaxProblem | None:
    """A `}` missing at the end of a definition: the next `network`/`block` line was read as an item of its body.

    Keywords are contextual, so `network n(...)` inside a body is a call of something named `network`; a line
    that starts with it at column 1 is, in practice, always a definition whose predecessor was not closed.
    """
    pending = list(c.stack)
    found: Token | None = None
    while pending:
        value = pending.pop()
        if isinstance(value, Tree):
            pending.extend(value.children)
        elif (isinstance(value, Token) and value.type == "NAME" and value.column == 1
              and str(value) in ("network", "block", "import") and (found is None or value.line < found.line)):
            found = value
    body = next((t for t in c.markers if t.type == "LBRACE"), None)
    if found is None or body is None or (body.line, body.column) > (found.line, found.column):
        return None
    owner = opened_what(c, body).replace("of the body of ", "")
    return SyntaxProblem(f"missing `}}` before this `{found}`", c.span(found.line, 1, len(found)),
                         label=f"`{found}` inside the body of {owner or 'the definition above'}",
                         secondary=(Label(span=c.span(body.line, body.column), message="this `{` is not closed"),),
                         help=f"close the body of {owner or 'the definition above'} with `}}` before this line")


def _keyword_as_name(c: ErrorContext) -> bool:
    """`let in = 3`, `block add(c)`, `conv(16, if=1)`: a keyword where a name is being defined."""
    if c.type in ("NAME", "$END") or not str(c.token).isidentifier() or "NAME" not in c.accepts:
        return False
    prev = c.previous_token
    if prev is not None and prev.type in ("LET", "BLOCK", "NETWORK", "FOR", "AS"):
        return True
    return c.next_type in ("COLON", "EQUAL", "COMMA")




def _bad_character(c: ErrorContext) -> SyntaxProblem:
    char = getattr(c.exc, "char", "") or "?"
    line, col = c.where
    here = c.span(line, col)
    rest = c.source.line(line)[col - 1:]
    if char == '"':
        return SyntaxProblem("unterminated string", c.span(line, col, max(len(rest), 1)), label="this string is not closed",
                             help='close it with `"` on the same line; strings cannot span lines')
    if char == "'":
        return SyntaxProblem("strings use double quotes", here, label="`'`", help="write \"same\" instead of 'same'")
    if char == ";":
        return SyntaxProblem("items are not separated by `;`", here, label="`;`",
                             help="remove the `;`: items are separated by whitespace")
    if char == "&":
        return SyntaxProblem("`&` is not an operator", here, label="`&`", help="write `and`")
    if char == "!":
        return SyntaxProblem("`!` is not an operator", here, label="`!`", help="write `not`, or `!=` to compare")
    if char in FULL_WIDTH:
        return SyntaxProblem(f"full-width `{char}` is not `{FULL_WIDTH[char]}`", here, label=f"write `{FULL_WIDTH[char]}`",
                             help="switch the input method to half-width (ASCII) punctuation")
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    if char.isalpha():
        return SyntaxProblem(f"unexpected character `{shown}`", here, label="not ASCII",
                             help="names use ASCII letters, digits and `_`; other text belongs in `#` comments")
    name = unicodedata.name(char, "") if not char.isascii() else ""
    return SyntaxProblem(f"unexpected character `{shown}`" + (f" ({name.lower()})" if name else ""), here,
                         label="not valid here")
