"""Parse errors classified into human messages, never raw token names.

Following Lark's `match_examples`, each kind of mistake has sample bad inputs (`error_examples.py`). Each
sample is parsed once, and where the parser stopped becomes a key for its kind: the LALR state, the type of
the unexpected token, and the innermost constructs still open on the parser's stack (`(`, `repeat`, `let`...).
A user's error is looked up by the same keys, from the most specific to the least, and the first unambiguous
match names the kind; the kind's handler words the message from the context (the open bracket, the keyword,
the token found). Errors that match no sample fall back on the open brackets and on what the parser would
have accepted, in words.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..diagnostics import Label
from ..source import Source, Span
from .error_examples import EXAMPLES

_WORDS = {
    "RPAR": "`)`", "LPAR": "`(`", "RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "LSQB": "`[`",
    "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "VBAR": "`|`", "DOT": "`.`", "MINUS": "`-`",
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string", "$END": "end of file",
    "COMP_OP": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*`, `/`, `//` or `%`", "POW": "`**`",
}
_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_TEXT = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}"}
#: tokens that say which construct the parser is inside; `add`/`concat`/`mul` come wrapped in a `comb_kind` tree
_MARKERS = {"LPAR", "LSQB", "LBRACE", "REPEAT", "FOR", "IN", "IF", "ELSE", "LET", "EQUAL", "IMPORT", "BLOCK",
            "NETWORK", "COLON", "ADD", "CONCAT", "MUL"}
_CONSTRUCTS = {"REPEAT", "FOR", "IF", "ELSE", "LET", "IMPORT", "BLOCK", "NETWORK", "ADD", "CONCAT", "MUL"}
_EXPRESSION_START = {"INT", "FLOAT", "STRING", "NAME", "LPAR", "LSQB", "MINUS", "NOT", "TRUE", "FALSE", "IN"}
#: full-width punctuation that Chinese and Japanese input methods produce in place of ASCII
_FULL_WIDTH = {"，": ",", "（": "(", "）": ")", "：": ":", "；": ";", "【": "[", "】": "]", "｛": "{", "｝": "}",
               "“": '"', "”": '"', "＝": "=", "｜": "|", "＋": "+", "－": "-", "＊": "*", "．": "."}
_PYTHON_WORDS = {"def", "class", "model", "net", "module", "layer", "function", "fn", "func"}


@dataclass(frozen=True)
class SyntaxProblem:
    """What `classify` found: the message, where to point, and what may help."""

    message: str
    span: Span
    label: str | None = None
    help: str | None = None
    secondary: tuple[Label, ...] = ()


@dataclass
class _Context:
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
            if isinstance(value, Tree) and value.data == "comb_kind" and value.children:
                value = value.children[0]
            if not isinstance(value, Token):
                continue
            if value.type in _CLOSERS:
                for i in range(len(out) - 1, -1, -1):
                    if out[i].type == _CLOSERS[value.type]:
                        del out[i:]
                        break
            elif value.type in _MARKERS:
                out.append(value)
        return out

    @property
    def context(self) -> tuple[str, ...]:
        return tuple(t.type for t in self.markers[-2:])

    @property
    def opener(self) -> Token | None:
        return next((t for t in reversed(self.markers) if t.type in _OPENERS), None)

    @property
    def construct(self) -> Token | None:
        """The innermost keyword construct (`repeat`, `if`, `let`...) inside the innermost open bracket."""
        for t in reversed(self.markers):
            if t.type in _OPENERS:
                return None
            if t.type in _CONSTRUCTS:
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


def _code(text: str) -> str:
    return f"`{text}`"


# --- the handlers: one per kind of mistake in error_examples.EXAMPLES

def _unclosed(c: _Context) -> SyntaxProblem:
    opener = c.opener
    if c.type in _CLOSERS and opener is not None and c.type != _OPENERS[opener.type]:
        return _wrong_closer(c, opener)
    prev = c.previous_token
    if (c.type == "NAME" and prev is not None and prev.type == "INT" and str(c.token).startswith("x")
            and (prev.end_line, prev.end_column) == c.where):
        return SyntaxProblem(f"`{prev}{c.token}` is not a number", c.span(prev.line, prev.column, len(prev) + c.width),
                             label="not a number", help=f"write a square kernel as `{prev}`, or a pair as "
                             f"`({prev}, {str(c.token)[1:] or prev})`")
    if opener is not None and "COMMA" in c.accepts and _looks_like_next_argument(c):
        what = "list items" if opener.type == "LSQB" else "arguments"
        return SyntaxProblem(f"missing `,` before {c.found}", c.after_previous(), label="expected `,` here",
                             help=f"separate {what} with `,`")
    if opener is None:
        return _fallback(c)
    return _missing_closer(c, opener)


def _looks_like_next_argument(c: _Context) -> bool:
    """`conv(16 3)` lacks a `,`; `conv(16, 3 relu` lacks a `)`: an argument follows on the same line."""
    if c.where[0] != c.previous_end[0]:
        return False
    if c.type in ("INT", "FLOAT", "STRING", "LSQB", "MINUS"):
        return True
    return c.type == "NAME" and c.rest_of_line().lstrip().startswith("=") and not c.rest_of_line().lstrip().startswith("==")


def _missing_closer(c: _Context, opener: Token) -> SyntaxProblem:
    closer = _TEXT[_OPENERS[opener.type]]
    what = _opened_what(c, opener)
    unclosed = Label(span=c.span(opener.line, opener.column), message=f"this `{opener}` is not closed")
    if c.type == "$END":
        return SyntaxProblem(f"file ended before the `{opener}` {what} was closed".replace("  ", " "), c.after_previous(),
                             label=f"expected `{closer}` here", secondary=(unclosed,),
                             help=f"add the missing `{closer}`; check that every bracket is closed")
    return SyntaxProblem(f"missing `{closer}` before {c.found}", c.after_previous(), label=f"expected `{closer}` here",
                         secondary=(unclosed,), help=f"close the `{opener}` {what} with `{closer}`".replace("  ", " "))


def _opened_what(c: _Context, opener: Token) -> str:
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


def _mismatched(c: _Context, opener: Token) -> SyntaxProblem:
    closer = _TEXT[_OPENERS[opener.type]]
    return SyntaxProblem(f"{c.found} does not close the `{opener}` opened at {opener.line}:{opener.column}",
                         c.at_found(), label=f"expected `{closer}`",
                         secondary=(Label(span=c.span(opener.line, opener.column), message=f"`{opener}` opened here"),),
                         help=f"write `{closer}` here, or check the brackets in between")


def _wrong_closer(c: _Context, opener: Token) -> SyntaxProblem:
    """A closer that is not the innermost one's: a missing closer if it closes an outer bracket, else a typo."""
    if any(t.type == _CLOSERS[c.type] for t in c.markers):
        return _missing_closer(c, opener)
    if opener.type == "LBRACE":
        return _unmatched(c)
    return _mismatched(c, opener)


def _stray_closer(c: _Context) -> SyntaxProblem:
    opener = c.opener
    if opener is not None and c.type in _CLOSERS and c.type != _OPENERS[opener.type]:
        return _wrong_closer(c, opener)
    if opener is not None and c.type not in _CLOSERS:
        return _missing_closer(c, opener)
    return _unmatched(c)


def _unmatched(c: _Context) -> SyntaxProblem:
    return SyntaxProblem(f"unmatched {c.found}", c.at_found(), label="nothing to close here",
                         help="remove it, or look for a missing opening bracket before it")


def _compare_with_eq(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("`=` is not a comparison", c.at_found(), label="use `==` here",
                         help="compare with `==`; a single `=` only gives keyword arguments and `let` values")


def _chained_comparison(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("comparisons cannot be chained", c.at_found(), label="second comparison",
                         help="join them with `and`, e.g. `1 < s and s < 3`")


def _missing_body(c: _Context) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "this"
    if keyword is not None and keyword.type == "IF" and c.type == "ELSE":
        return SyntaxProblem("a conditional value needs parentheses here", c.at_found(),
                             label="`else` of a conditional value",
                             help="write `let x = (a if c else b)`; without parentheses, `if` starts an `if` item")
    if keyword is not None and keyword.type in ("BLOCK", "NETWORK"):
        message = f"the body of a `{kind}` goes in braces"
        help_text = f"write `{kind} name(...) {{ items }}`"
    else:
        message = f"`{kind}` needs a body in braces"
        help_text = {"REPEAT": "write `repeat 3 { items }`", "FOR": "write `for c in [16, 32] { items }`",
                     "IF": "write `if condition { items } else { items }`",
                     "ELSE": "write `else { items }`"}.get(keyword.type if keyword else "", "write `{ items }`")
    if c.type == "COLON":
        help_text += "; a `:` does not start a body"
    return SyntaxProblem(message, c.after_previous(), label="expected `{` here", help=help_text)


def _ternary_needs_else(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("a conditional value needs `else`", c.after_previous(), label="expected `else` here",
                         help="write `a if condition else b`")


def _toplevel(c: _Context) -> SyntaxProblem:
    word = str(c.token) if c.token is not None else ""
    close = difflib.get_close_matches(word, ["network", "block", "import"], n=1, cutoff=0.7)
    if close:
        help_text = f"did you mean `{close[0]}`?"
    elif word in _PYTHON_WORDS:
        help_text = "define networks with `network name(input=[3, 224, 224]) { ... }` and blocks with `block name(...) { ... }`"
    else:
        help_text = "items go inside the body of a `network name(...) { ... }` or a `block name(...) { ... }`"
    return SyntaxProblem(f"expected `network`, `block` or `import`, found {c.found}", c.at_found(),
                         label="not a definition", help=help_text)


def _needs_params(c: _Context) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "definition"
    return SyntaxProblem(f"a `{kind}` needs a parameter list, even an empty one", c.after_previous(),
                         label="expected `(` here", help=f"write `{kind} name() {{ ... }}`")


def _needs_name(c: _Context) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "definition"
    return SyntaxProblem(f"a `{kind}` needs a name", c.at_found(), label="expected a name",
                         help="names start with a letter or `_`, then letters, digits and `_`")


def _let_syntax(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("`let` binds a name to a value", c.at_found(), label=f"unexpected {c.found}",
                         help="write `let name = value`")


def _assignment_without_let(c: _Context) -> SyntaxProblem:
    name = c.previous_token
    before = c.stack[-2] if len(c.stack) >= 2 else None
    last = list(before.scan_values(lambda v: isinstance(v, Token)))[-1:] if isinstance(before, Tree) else [before]
    if last and isinstance(last[0], Token) and last[0].type == "NAME" and str(last[0]) == "let":
        return SyntaxProblem("a `let` cannot be labeled", c.at_found(), label="unexpected `=`",
                             help="labels name items such as `conv(...)`; write the `let` without a label")
    return SyntaxProblem("a value is bound with `let`", c.at_found(), label="unexpected `=`",
                         help=f"write `let {name or 'name'} = ...`")


def _label_without_item(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("a label must be followed by the item it names", c.at_found(), label=f"found {c.found}",
                         help="write `name: item`, e.g. `conv1: conv(64, 3)`")


def _double_label(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("an item takes one label", c.at_found(), label="second label",
                         help="remove one of the labels, or label a group: `stem: { head: relu }`")


def _param_annotation(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("parameters have no type annotations", c.at_found(), label="unexpected `:`",
                         help="write `block b(c)`, or give a default: `block b(c=64)`")


def _empty_argument(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("empty argument", c.at_found(), label="extra `,`", help="remove the extra `,`")


def _missing_value(c: _Context) -> SyntaxProblem:
    prev = c.previous_token
    after = f" after `{prev}`" if prev is not None and prev.type in ("EQUAL", "ADD_OP", "MUL_OP", "POW", "COMP_OP",
                                                                     "MINUS", "COMMA", "AND", "OR", "NOT") else ""
    return SyntaxProblem(f"expected a value{after}, found {c.found}", c.at_found(), label="expected a value",
                         help=None)


def _repeat_count(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("`repeat` needs a count", c.at_found(), label="expected a count",
                         help="write `repeat 3 { items }` or `repeat n as i { items }`")


def _import_path(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("`import` takes a quoted path", c.at_found(), label="expected a string",
                         help='write `import "resnet.arch"` (relative to this file)')


def _combinator_braces(c: _Context) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "add"
    return SyntaxProblem(f"`{kind}` takes its branches in braces", c.at_found(), label="expected `{`",
                         help=f"write `{kind} {{ branch | branch }}`")


def _bar_outside_combinator(c: _Context) -> SyntaxProblem:
    in_condition = c.construct is not None and c.construct.type in ("IF", "LET", "EQUAL")
    help_text = ("in a condition, write `or`" if in_condition else
                 "put the branches in `add { ... | ... }`, `concat { ... | ... }` or `mul { ... | ... }`")
    return SyntaxProblem("`|` separates the branches of `add`, `concat` or `mul`", c.at_found(),
                         label="not inside a combinator", help=help_text)


def _for_needs_in(c: _Context) -> SyntaxProblem:
    return SyntaxProblem("`for` needs `in`", c.after_previous(), label="expected `in` here",
                         help="write `for c in [16, 32] { items }`")


HANDLERS: dict[str, Callable[[_Context], SyntaxProblem]] = {
    "unclosed": _unclosed, "compare_with_eq": _compare_with_eq, "chained_comparison": _chained_comparison,
    "missing_body": _missing_body, "ternary_needs_else": _ternary_needs_else, "toplevel": _toplevel,
    "needs_params": _needs_params, "needs_name": _needs_name, "let_syntax": _let_syntax,
    "assignment_without_let": _assignment_without_let, "label_without_item": _label_without_item,
    "double_label": _double_label, "param_annotation": _param_annotation, "empty_argument": _empty_argument, "missing_value": _missing_value,
    "repeat_count": _repeat_count, "import_path": _import_path, "combinator_braces": _combinator_braces,
    "bar_outside_combinator": _bar_outside_combinator, "for_needs_in": _for_needs_in, "stray_closer": _stray_closer,
}


# --- the table

def _keys(c: _Context) -> list[tuple]:
    """Lookup keys, most specific first."""
    state = getattr(getattr(c.exc, "interactive_parser", None), "parser_state", None)
    position = getattr(state, "position", None)
    return [("state", position, c.type, c.context), ("accepts", c.accepts, c.type, c.context),
            ("context", c.type, c.context), ("accepts-only", c.accepts, c.type)]


def _context(source: Source, exc: UnexpectedInput) -> _Context:
    state = getattr(getattr(exc, "interactive_parser", None), "parser_state", None)
    return _Context(source, exc, list(getattr(state, "value_stack", None) or ()))


@lru_cache(maxsize=1)
def example_table() -> dict[tuple, frozenset[str]]:
    """Key -> the kinds whose samples produce it (a key with several kinds is ambiguous and never used)."""
    from .parser import lark_parser

    table: dict[tuple, set[str]] = {}
    for kind, samples in EXAMPLES.items():
        for sample in samples:
            try:
                lark_parser().parse(sample, start="start")
            except UnexpectedToken as exc:
                for key in _keys(_context(Source("<example>", sample, register=False), exc)):
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
    swallowed = _definition_inside_body(c)
    if swallowed is not None:
        return swallowed
    kind = kind_of(source, exc)
    if kind is not None:
        return HANDLERS[kind](c)
    if c.type in _CLOSERS:
        return _stray_closer(c)
    opener = c.opener
    if opener is not None and opener.type == "LBRACE" and c.type != "$END" and c.construct is None:
        return _unexpected_in_body(c)
    if opener is not None and (_OPENERS[opener.type] in c.accepts or c.type == "$END"):
        return _unclosed(c)
    return _fallback(c)


def _unexpected_in_body(c: _Context) -> SyntaxProblem:
    """Something that cannot start an item, where items are expected: a stray token, rarely a missing `}`."""
    if c.type == "COMMA":
        return SyntaxProblem("items are separated by spaces or new lines, not `,`", c.at_found(), label="remove this `,`",
                             help="write `conv(16, 3) bn relu`; commas only separate arguments and list items")
    return SyntaxProblem(f"unexpected {c.found} in a body", c.at_found(), label="not an item",
                         help="a body holds items such as `conv(16, 3)`, `add { ... | ... }` or `repeat 2 { ... }`, "
                              "and `let` bindings")


def _definition_inside_body(c: _Context) -> SyntaxProblem | None:
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
    owner = _opened_what(c, body).replace("of the body of ", "")
    return SyntaxProblem(f"missing `}}` before this `{found}`", c.span(found.line, 1, len(found)),
                         label=f"`{found}` inside the body of {owner or 'the definition above'}",
                         secondary=(Label(span=c.span(body.line, body.column), message="this `{` is not closed"),),
                         help=f"close the body of {owner or 'the definition above'} with `}}` before this line")


def _keyword_as_name(c: _Context) -> bool:
    """`let in = 3`, `block add(c)`, `conv(16, if=1)`: a keyword where a name is being defined."""
    if c.type in ("NAME", "$END") or not str(c.token).isidentifier() or "NAME" not in c.accepts:
        return False
    prev = c.previous_token
    if prev is not None and prev.type in ("LET", "BLOCK", "NETWORK", "FOR", "AS"):
        return True
    after = c.rest_of_line().lstrip()
    return after.startswith((":", "=", ",")) and not after.startswith("==")


def _fallback(c: _Context) -> SyntaxProblem:
    if c.type == "$END":
        keyword = c.construct
        inside = f" inside `{keyword}`" if keyword is not None else ""
        return SyntaxProblem(f"file ended in the middle of a definition{inside}", c.after_previous(),
                             label=f"expected {describe(c.accepts)}", help="the file may be truncated")
    if not c.accepts:
        return SyntaxProblem(f"unexpected {c.found}", c.at_found(), label="not valid here")
    return SyntaxProblem(f"expected {describe(c.accepts)}, found {c.found}", c.at_found(),
                         label=f"unexpected {c.found}")


def _bad_character(c: _Context) -> SyntaxProblem:
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
    if char in _FULL_WIDTH:
        return SyntaxProblem(f"full-width `{char}` is not `{_FULL_WIDTH[char]}`", here, label=f"write `{_FULL_WIDTH[char]}`",
                             help="switch the input method to half-width (ASCII) punctuation")
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    if char.isalpha():
        return SyntaxProblem(f"unexpected character `{shown}`", here, label="not ASCII",
                             help="names use ASCII letters, digits and `_`; other text belongs in `#` comments")
    name = unicodedata.name(char, "") if not char.isascii() else ""
    return SyntaxProblem(f"unexpected character `{shown}`" + (f" ({name.lower()})" if name else ""), here,
                         label="not valid here", help=None if c.accepts else None)


def describe(terminals) -> str:
    """Terminal names in words: {"RPAR", "COMMA"} -> "`)` or `,`"."""
    names = sorted({_WORDS.get(t, f"`{t.lower()}`") for t in terminals if not t.startswith("__")})
    if not names:
        return "something else"
    if len(names) > 6 or set(terminals) >= _EXPRESSION_START - {"IN"}:
        if "RBRACE" in terminals and ("NAME" in terminals):
            return "an item or `}`"
        return "an expression" if "NAME" in terminals else "something else"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
