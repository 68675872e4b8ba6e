"""The grammar (`grammars/archdsl.lark`), the one Lark parser built from it, and what its lexer records.

The parser (parser.py) and the table of sample syntax errors (errors.py) both parse with it, so it sits
below both of them.

Lark's lexer is the one scanner of `.arch` text: nothing in archdsl reads comments, strings or brackets by
hand. While a parse runs (`lexing()`), lexer callbacks record the comments, which the grammar `%ignore`s but
the formatter keeps (trivia.py), and count the depth of brackets, refused past `MAX_NESTING` before any
later stage recurses over the tree. `tokens()` lexes text without parsing it, for a look ahead.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterator

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters
from lark.utils import TextSlice

MAX_NESTING = 100  # brackets
OPENING = ("LPAR", "LSQB", "LBRACE")
CLOSING = ("RPAR", "RSQB", "RBRACE")


def grammar_text() -> str:
    """The grammar, from the installed package or, in a checkout, from `grammars/`."""
    packaged = resources.files("archdsl").joinpath("grammars/archdsl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammars" / "archdsl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    # keep_all_tokens instead of propagate_positions: spans come from tokens (see transform.py), twice as fast.
    # cache=True stores the LALR tables in the temp folder, saving ~0.2 s at every start of `archdsl check`.
    callbacks = {"COMMENT": _on_comment, **dict.fromkeys(OPENING, _on_open), **dict.fromkeys(CLOSING, _on_close)}
    return Lark(grammar_text(), parser="lalr", keep_all_tokens=True, maybe_placeholders=True,
                start=["start", "expr"], cache=True, lexer_callbacks=callbacks)


class Lexed:
    """What the lexer saw during one parse: the comments, and the depth of brackets."""

    def __init__(self) -> None:
        self.comments: list[Token] = []
        self.depth = 0


class TooDeep(Exception):
    """Raised from the lexer at the bracket that opens one level more than `MAX_NESTING`."""

    def __init__(self, token: Token):
        super().__init__(f"brackets nested more than {MAX_NESTING} deep at {token.line}:{token.column}")
        self.token = token


#: the parse under way in this thread or task; the callbacks do nothing outside `lexing()`
_LEXED: ContextVar[Lexed | None] = ContextVar("archdsl_lexed", default=None)


@contextmanager
def lexing() -> Iterator[Lexed]:
    """Record what the lexer sees during the parse run inside the `with` block."""
    lexed = Lexed()
    reset = _LEXED.set(lexed)
    try:
        yield lexed
    finally:
        _LEXED.reset(reset)


def _on_comment(token: Token) -> Token:
    lexed = _LEXED.get()
    if lexed is not None:
        lexed.comments.append(token)
    return token


def _on_open(token: Token) -> Token:
    lexed = _LEXED.get()
    if lexed is not None:
        lexed.depth += 1
        if lexed.depth > MAX_NESTING:
            raise TooDeep(token)  # Lark lets it through: it only catches its own errors
    return token


def _on_close(token: Token) -> Token:
    lexed = _LEXED.get()
    if lexed is not None:
        lexed.depth = max(lexed.depth - 1, 0)
    return token


def tokens(text: str, start: int = 0) -> Iterator[Token]:
    """The tokens of `text` from offset `start`, comments included, whitespace left out, as the grammar's
    lexer reads them without a parser; they stop at the first character that no token can start with."""
    try:
        for token in lark_parser().lex(TextSlice(text, start, None), dont_ignore=True):
            if token.type != "WS":
                yield token
    except UnexpectedCharacters:
        return
