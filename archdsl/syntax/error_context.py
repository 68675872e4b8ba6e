"""What is known about one parse error: the parser's stack, the open brackets, the enclosing construct.

`errors.classify` builds an `ErrorContext` from Lark's exception; the handlers in `error_kinds.py` word their
messages from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken

from ..diagnostics import Label
from ..source import Source, Span
from .grammar import tokens

WORDS = {
    "RPAR": "`)`", "LPAR": "`(`", "RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "LSQB": "`[`",
    "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "VBAR": "`|`", "DOT": "`.`", "MINUS": "`-`",
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string", "$END": "end of file",
    "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*`, `/`, `//` or `%`", "POW": "`**`",
    "TENSOR": "a named tensor `@name`", "ARROW": "`->`", "TRAIN": "`train`", "RETURN": "`return`",
    "PARAM": "`param`", "INIT": "`init`",
}
OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
CLOSERS = {v: k for k, v in OPENERS.items()}
TEXT = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}"}
#: tokens that say which construct the parser is inside (a combinator's name is a NAME: it says nothing here)
MARKERS = {"LPAR", "LSQB", "LBRACE", "REPEAT", "FOR", "IN", "IF", "ELSE", "LET", "EQUAL", "IMPORT", "BLOCK",
           "NETWORK", "COLON"}
CONSTRUCTS = {"REPEAT", "FOR", "IF", "ELSE", "LET", "IMPORT", "BLOCK", "NETWORK"}
EXPRESSION_START = {"INT", "FLOAT", "STRING", "NAME", "LPAR", "LSQB", "MINUS", "NOT", "TRUE", "FALSE", "IN"}
#: full-width punctuation that Chinese and Japanese input methods produce in place of ASCII
FULL_WIDTH = {"，": ",", "（": "(", "）": ")", "：": ":", "；": ";", "【": "[", "】": "]", "｛": "{", "｝": "}",
              "“": '"', "”": '"', "＝": "=", "｜": "|", "＋": "+", "－": "-", "＊": "*", "．": "."}
PYTHON_WORDS = {"def", "class", "model", "net", "module", "layer", "function", "fn", "func"}


@dataclass(frozen=True)
class SyntaxProblem:
    """What `classify` found: the message, where to point, and what may help."""

    message: str
    span: Span
    label: str | None = None
    help: str | None = None
    secondary: tuple[Label, ...] = ()


@dataclass
class ErrorContext:
    """Everything known about one parse error, computed once."""

    source: Source
    exc: UnexpectedInput
    stack: list = field(default_factory=list)

    @cached_property
    def token(self) -> Token | None:
        return self.exc.token if isinstance(self.exc, UnexpectedToken) else None

    @property
    def type(self) -> str:
        if self.token is not None:
            return self.token.type
        return "$CHAR"

    @cached_property
    def accepts(self) -> frozenset[str]:
        parser = getattr(self.exc, "interactive_parser", None)
        try:
            found = parser.accepts() if parser is not None else None
        except Exception:  # accepts() replays the parser; a failure there only costs precision
            found = None
        return frozenset(found or getattr(self.exc, "expected", None) or getattr(self.exc, "allowed", None) or ())

    @cached_property
    def where(self) -> tuple[int, int]:
        """Line and column of the unexpected token (or character, or the end of the file)."""
        if self.type == "$END" or not getattr(self.exc, "line", 0) or self.exc.line < 1:
            return self.end_of_text
        return self.exc.line, self.exc.column

    @cached_property
    def end_of_text(self) -> tuple[int, int]:
        line = len(self.source.lines)
        while line > 1 and not self.source.line(line).strip():
            line -= 1
        return max(line, 1), len(self.source.line(line)) + 1

    @cached_property
    def width(self) -> int:
        if self.token is not None and self.type != "$END":
            text = str(self.token)
            return max(len(text.splitlines()[0]) if text else 1, 1)
        return 1

    @cached_property
    def found(self) -> str:
        """The unexpected thing, in words: "`relu`", "end of file"."""
        if self.type == "$END":
            return "end of file"
        text = str(self.token) if self.token is not None else getattr(self.exc, "char", "?")
        text = text if len(text) <= 24 else text[:20] + "..."
        return f"`{text}`"

    @cached_property
    def markers(self) -> list[Token]:
        """Context tokens on the parser's stack, outermost first; closed bracket pairs are dropped."""
        out: list[Token] = []
        for value in self.stack:
            if not isinstance(value, Token):
                continue
            if value.type in CLOSERS:
                for i in range(len(out) - 1, -1, -1):
                    if out[i].type == CLOSERS[value.type]:
                        del out[i:]
                        break
            elif value.type in MARKERS:
                out.append(value)
        return out

    @property
    def context(self) -> tuple[str, ...]:
        return tuple(t.type for t in self.markers[-2:])

    @property
    def opener(self) -> Token | None:
        return next((t for t in reversed(self.markers) if t.type in OPENERS), None)

    @property
    def construct(self) -> Token | None:
        """The innermost keyword construct (`repeat`, `if`, `let`...) inside the innermost open bracket."""
        for t in reversed(self.markers):
            if t.type in OPENERS:
                return None
            if t.type in CONSTRUCTS:
                return t
        return None

    @cached_property
    def previous_end(self) -> tuple[int, int]:
        """Where the last complete token before the error ends: the place to insert a missing `)` or `,`."""
        for value in reversed(self.stack):
            end = _end_of(value)
            if end is not None:
                return end
        return 1, 1

    @property
    def previous_token(self) -> Token | None:
        for value in reversed(self.stack):
            if isinstance(value, Token):
                return value
            if isinstance(value, Tree):
                tokens = list(value.scan_values(lambda v: isinstance(v, Token)))
                return tokens[-1] if tokens else None
        return None

    def span(self, line: int, col: int, width: int = 1) -> Span:
        return self.source.span(line, col, line, col + width)

    def at_found(self) -> Span:
        line, col = self.where
        return self.span(line, col, self.width)

    def after_previous(self) -> Span:
        line, col = self.previous_end
        return self.span(line, col)

    def rest_of_line(self) -> str:
        line, col = self.where
        return self.source.line(line)[col - 1 + self.width:]

    @cached_property
    def next_type(self) -> str | None:
        """The type of the token after the unexpected one on its line (`EQUAL` for `=`, `COMP_OP` for `==`)."""
        following = next(tokens(self.rest_of_line()), None)
        return following.type if following is not None else None


def _end_of(value) -> tuple[int, int] | None:
    if isinstance(value, Token) and value.end_line is not None:
        return value.end_line, value.end_column
    if isinstance(value, Tree):
        meta = value.meta
        if not getattr(meta, "empty", True):
            return meta.end_line, meta.end_column
        for child in reversed(value.children):
            end = _end_of(child)
            if end is not None:
                return end
    return None


def opened_what(c: ErrorContext, opener: Token) -> str:
    """Words for what a bracket opened: "of the arguments of `conv`", "of the body of `resnet`"."""
    index = next((i for i, v in enumerate(c.stack) if v is opener), None)
    before = c.stack[index - 1] if index else None
    if opener.type == "LPAR" and isinstance(before, Token) and before.type == "NAME":
        keyword = c.stack[index - 2] if index >= 2 else None
        if isinstance(keyword, Token) and keyword.type in ("BLOCK", "NETWORK"):
            return f"of the parameters of `{before}`"
        return f"of the arguments of `{before}`"
    if opener.type == "LBRACE" and isinstance(before, Token) and before.type == "RPAR" and index >= 4:
        name = c.stack[index - 4] if isinstance(c.stack[index - 4], Token) else None
        if name is not None and name.type == "NAME":
            return f"of the body of `{name}`"
    return {"LPAR": "", "LSQB": "of the list", "LBRACE": "of the body"}[opener.type]


def describe(terminals) -> str:
    """Terminal names in words: {"RPAR", "COMMA"} -> "`)` or `,`"."""
    names = sorted({WORDS.get(t, f"`{t.lower()}`") for t in terminals if not t.startswith("__")})
    if not names:
        return "something else"
    if len(names) > 6 or set(terminals) >= EXPRESSION_START - {"IN"}:
        if "RBRACE" in terminals and ("NAME" in terminals):
            return "an item or `}`"
        return "an expression" if "NAME" in terminals else "something else"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
