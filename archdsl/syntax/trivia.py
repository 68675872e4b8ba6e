"""What the syntax tree leaves out and the formatter keeps: the comments, and where the author put each token.

Both come from one parse (`parser.parse_with_trivia`): the comments from Lark's lexer callback on the `%ignore`d
COMMENT terminal, the other tokens from the parse tree (the parser keeps every token). Nothing here reads the
text again: line breaks, blank lines and matching brackets are all told by token positions. Offsets are
0-based character positions in the text, as Lark counts them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from lark import Token

OPENING = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}


@dataclass(frozen=True)
class Comment:
    offset: int  # of the `#`
    text: str  # from `#` to the end of the line, trailing whitespace removed
    own_line: bool  # only whitespace before it on its line


class Trivia:
    """The tokens of one file, comments apart, with the questions the layout asks of them."""

    def __init__(self, text: str, tokens: list[Token], comments: list[Token]):
        self.end = len(text)
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.tokens = tokens  # in order, comments excluded
        self.starts = [t.start_pos for t in tokens]
        self.comments = [_comment(c, self._token_before(c.start_pos)) for c in comments]
        self.closer, self.opener = _match(tokens)
        self.braces = [t.start_pos for t in tokens if t.type == "LBRACE"]
        self._used_lines = sorted({t.line for t in tokens} | {c.line for c in comments})

    # --- positions -------------------------------------------------------------------------------------------
    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col - 1

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset)

    def blank_line_between(self, lo: int, hi: int) -> bool:
        """Whether a line strictly between the lines of the two offsets holds no token and no comment."""
        first, last = self.line_of(lo), self.line_of(hi)
        used = bisect_left(self._used_lines, last) - bisect_right(self._used_lines, first)
        return last - first - 1 > used

    # --- tokens ----------------------------------------------------------------------------------------------
    def token_at(self, offset: int) -> Token:
        """The token that starts at `offset`."""
        index = bisect_left(self.starts, offset)
        if index == len(self.starts) or self.starts[index] != offset:  # pragma: no cover - offsets come from spans
            raise AssertionError(f"no token starts at offset {offset}")
        return self.tokens[index]

    def skip(self, offset: int) -> int:
        """Where the next token starts at or after `offset` (whitespace and comments skipped); the end if none."""
        index = bisect_left(self.starts, offset)
        return self.starts[index] if index < len(self.starts) else self.end

    def expect(self, offset: int, value: str) -> int:
        """The offset of `value`, the next token at or after `offset`."""
        found = self.skip(offset)
        if found == self.end or self.token_at(found) != value:  # pragma: no cover - the parser accepted this text
            raise AssertionError(f"expected {value!r} at offset {found}")
        return found

    def next_is(self, offset: int, value: str) -> bool:
        found = self.skip(offset)
        return found < self.end and self.token_at(found) == value

    def brace_after(self, offset: int) -> int:
        """The first `{` at or after `offset`."""
        return self.braces[bisect_left(self.braces, offset)]

    def _token_before(self, offset: int) -> Token | None:
        index = bisect_left(self.starts, offset)
        return self.tokens[index - 1] if index else None


def _comment(token: Token, before: Token | None) -> Comment:
    # a comment never follows another on its line, so only a code token can stand before it
    return Comment(token.start_pos, str(token).rstrip(), before is None or before.end_line < token.line)


def _match(tokens: list[Token]) -> tuple[dict[int, int], dict[int, int]]:
    """Offsets of matching brackets: (opening -> closing, closing -> opening)."""
    closer: dict[int, int] = {}
    opener: dict[int, int] = {}
    stack: list[int] = []
    for token in tokens:
        if token.type in OPENING:
            stack.append(token.start_pos)
        elif token.type in OPENING.values():
            closer[stack[-1]] = token.start_pos
            opener[token.start_pos] = stack.pop()
    return closer, opener
