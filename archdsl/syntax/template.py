"""String labels with interpolations: `"denselayer{i + 1}": dense_layer(32)`.

The grammar reads a string label as one STRING token; this module splits its text into literal parts and
`{expr}` pieces, and parses each piece with the grammar's `expr` rule at its own place in the file, so its
tokens and errors carry the file's line and column. `parser.py` reports the problems of every label before the
tree is turned into AST nodes (`transform.py`), which then parses the pieces again knowing they are valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Tree

from .grammar import lark_parser, lexing


@dataclass(frozen=True)
class Piece:
    """One `{expr}` of a label: its text and where that text starts (1-based line and column)."""

    text: str
    line: int
    col: int


@dataclass(frozen=True)
class BraceProblem:
    """A `{` without its `}`, a `}` without its `{`, or an empty `{}`, at a 1-based line and column."""

    message: str
    line: int
    col: int


def split(token: Token) -> list[str | Piece | BraceProblem]:
    """The literal parts and the `{expr}` pieces of a STRING token, in order (a problem where braces do not pair)."""
    text, line, col = str(token)[1:-1], token.line, token.column + 1  # the text starts after the quote
    parts: list[str | Piece | BraceProblem] = []
    literal, i = "", 0
    while i < len(text):
        char = text[i]
        if char == "{":
            close = text.find("}", i + 1)
            if close < 0:
                return [BraceProblem("`{` in a label has no `}`", line, col + i)]
            inner = text[i + 1:close]
            if "{" in inner:
                return [BraceProblem("`{` inside `{...}` in a label", line, col + i + 1 + inner.index("{"))]
            if not inner.strip():
                return [BraceProblem("`{}` in a label holds no expression", line, col + i)]
            if literal:
                parts.append(literal)
                literal = ""
            parts.append(Piece(inner, line, col + i + 1))
            i = close + 1
            continue
        if char == "}":
            return [BraceProblem("`}` in a label has no `{` before it", line, col + i)]
        literal += char
        i += 1
    if literal or not parts:
        parts.append(literal)
    return parts


def parse_piece(piece: Piece) -> Tree:
    """The parse tree of one `{expr}`, its tokens at their place in the file (raises Lark's UnexpectedInput)."""
    padded = "\n" * (piece.line - 1) + " " * (piece.col - 1) + piece.text
    with lexing():  # the bracket-depth guard of every parse
        return lark_parser().parse(padded, start="expr")
