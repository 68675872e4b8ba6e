"""The canonical layout of `.arch` source: the AST printed back, with the comments and the line structure kept.

The AST drops comments, so they are read again from the source: every `#` outside a string starts one. Each
node carries its span, so a comment is emitted where it falls between nodes: one that stood on a line of its
own is printed on a line of its own before the next node (at that node's indentation), one that followed code
goes back to the end of the line printed before it. Nothing else about a comment changes.

What the layout decides, and what it keeps from the author:
- indentation is 4 spaces a level; spaces go after commas and around binary operators and `=`-less
  keywords, never inside brackets; `name=value` in arguments and parameters; no parentheses on an
  argument-less call; only the parentheses the grammar needs; one blank line between definitions,
  at most one anywhere, none just inside braces.
- items the author wrote on one line stay on one line (`conv bn relu`); an item starts a new line where the
  author started one, and always after a construct that spans several lines.
- a `{ ... }` body (of `repeat`, `for`, `if`, a group, a combinator) stays on one line when it was on one
  line; otherwise every item starts on its own line. Definition bodies always span lines.
- a bracketed list (arguments, parameters, `[...]`, `(...)`) is laid out one element a line, with a
  trailing comma, when the author broke the line right after its opening bracket or before its closing
  one, or put a comment inside it; otherwise it is written on one line.
- number and string literals are printed exactly as written (`1e-5` stays `1e-5`).

The output parses to the same AST as the input (spans aside), and formatting it again changes nothing.

>>> print(format_source(Source("x.arch", "block b(c){conv( c,3 ,pad=1) # a comment\\n relu}")), end="")
block b(c) {
    conv(c, 3, pad=1)  # a comment
    relu
}
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from .. import ast
from ..source import Source, Span
from .parser import parse

INDENT = 4
WIDTH = 120  # longer lines are broken at their outermost bracket, where there is one


class _MustBreak(Exception):
    """Raised while measuring a one-line rendering of something that cannot be on one line."""


@dataclass(frozen=True)
class Comment:
    offset: int  # of the `#`
    text: str  # from `#` to the end of the line, trailing whitespace removed
    own_line: bool  # only whitespace before it on its line


def format_source(source: Source) -> str:
    """The canonical text of `source` (raises ArchError when it does not parse)."""
    module = parse(source)
    return _Printer(source.text).module(module)


def find_comments(text: str) -> list[Comment]:
    """Every comment of `text`, in order. Strings cannot span lines or escape quotes, so a scan suffices."""
    comments: list[Comment] = []
    line_start, in_string, i = 0, False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line_start, in_string = i + 1, False
        elif ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            comments.append(Comment(i, text[i:end].rstrip(), not text[line_start:i].strip()))
            i = end
            continue
        i += 1
    return comments


def match_brackets(text: str, comments: list[Comment]) -> tuple[dict[int, int], dict[int, int]]:
    """Offsets of matching brackets outside strings and comments: (opening -> closing, closing -> opening)."""
    closer: dict[int, int] = {}
    opener: dict[int, int] = {}
    stack: list[int] = []
    in_comment = {c.offset: len(c.text) for c in comments}
    in_string, i = False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            in_string = False
        elif ch == '"':
            in_string = not in_string
        elif not in_string:
            if i in in_comment:
                i += in_comment[i]
                continue
            if ch in "([{":
                stack.append(i)
            elif ch in ")]}" and stack:
                closer[stack[-1]] = i
                opener[i] = stack.pop()
        i += 1
    return closer, opener


def strip_spans(value):
    """An AST dump without positions, for comparing two parses of the same program."""
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k not in ("span", "name_span", "label_span", "file")}
    if isinstance(value, (list, tuple)):
        return [strip_spans(v) for v in value]
    return value


def same_ast(a: ast.Module, b: ast.Module) -> bool:
    return strip_spans(a.model_dump()) == strip_spans(b.model_dump())


# Precedence levels of the grammar, loosest first; a node printed where a tighter level is needed gets
# parentheses. Binary operators are left-associative except `**` (right) and comparisons (not chained).
EXPR, OR, AND, NOT, COMPARE, ARITH, TERM, FACTOR, POWER, POSTFIX = range(10)
_BINARY = {"or": OR, "and": AND, "+": ARITH, "-": ARITH, "*": TERM, "/": TERM, "//": TERM, "%": TERM, "**": POWER}


class _Printer:
    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.comments = find_comments(text)
        self.comment_offsets = [c.offset for c in self.comments]
        self.closer, self.opener = match_brackets(text, self.comments)
        self.braces = sorted(at for at in self.closer if text[at] == "{")
        self.commented: set[int] = set()  # indices of output lines that end in a comment
        self.next_comment = 0
        self.out: list[str] = []
        self.cur: str | None = None  # the output line being written
        self.cur_indent = 0
        self.consumed = 0  # source offset up to which everything has been printed
        self.measuring = False  # rendering on one line only, to measure it (see `measure`)

    # --- positions -------------------------------------------------------------------------------------------
    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col - 1

    def start(self, node) -> int:
        label_span = getattr(node, "label_span", None)
        span = label_span if label_span is not None else node.span
        return self.offset(span.line, span.col)

    def end(self, node) -> int:
        """Where `node` ends: its span's end, extended over closing brackets whose opening one is inside it
        (so a span that stops at the last argument still covers the call's `)`)."""
        start = self.offset(node.span.line, node.span.col)
        end = self.offset(node.span.end_line, node.span.end_col)
        while True:
            after = self.skip(end)
            if self.opener.get(after, -1) < start:
                return end
            end = after + 1

    def skip(self, offset: int) -> int:
        """The offset of the next character that is neither whitespace nor inside a comment."""
        text = self.text
        while offset < len(text):
            ch = text[offset]
            if ch == "#":
                newline = text.find("\n", offset)
                offset = len(text) if newline < 0 else newline
            elif ch.isspace():
                offset += 1
            else:
                return offset
        return offset

    def token(self, offset: int, char: str) -> int:
        """The offset of `char`, the next token after `offset`."""
        found = self.skip(offset)
        if self.text[found:found + 1] != char:  # pragma: no cover - the parser accepted this text
            raise AssertionError(f"expected {char!r} at offset {found}, found {self.text[found:found + 10]!r}")
        return found

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset)

    def has_comment(self, lo: int, hi: int) -> bool:
        """Whether a comment not printed yet lies between the offsets."""
        index = max(bisect_right(self.comment_offsets, lo), self.next_comment)
        return index < len(self.comments) and self.comments[index].offset < hi

    def exploded(self, open_at: int, close_at: int, first: int | None, last: int | None) -> bool:
        """Whether a bracketed list was broken after its opening or before its closing bracket."""
        if first is None:
            return self.has_comment(open_at, close_at)
        return (self.line_of(open_at) != self.line_of(first) or self.line_of(last) != self.line_of(close_at)
                or self.has_comment(open_at, close_at))

    # --- output lines and comments -------------------------------------------------------------------------
    def begin(self, indent: int, offset: int, blank: str = "keep", prefix: str = "") -> None:
        """Start an output line for what the source has at `offset`, after the comments that precede it.

        blank: "keep" one blank line where the source had some, "none" (just inside a brace), "force" one.
        prefix: written into the indentation (`| ` of a combinator branch); comments are not shifted by it.
        """
        if self.measuring:
            raise _MustBreak
        if self.cur is not None:
            self.end_line()
        want_blank = blank == "force"
        while self.next_comment < len(self.comments) and self.comments[self.next_comment].offset < offset:
            comment = self.comments[self.next_comment]
            self.next_comment += 1
            # a comment that followed code goes back to that line, unless the line has a comment already
            if comment.own_line or not self.out or len(self.out) - 1 in self.commented:
                if blank != "none" and self._blank_between(self.consumed, comment.offset):
                    want_blank = True
                if want_blank and self.out and self.out[-1]:
                    self.out.append("")
                want_blank = False
                self.out.append(" " * indent + comment.text)
                self.commented.add(len(self.out) - 1)
                blank = "keep"
            else:
                self.out[-1] = self.out[-1] + "  " + comment.text
                self.commented.add(len(self.out) - 1)
            self.consumed = comment.offset + len(comment.text)
        if blank == "keep" and self._blank_between(self.consumed, offset):
            want_blank = True
        if want_blank and self.out and self.out[-1]:
            self.out.append("")
        self.cur, self.cur_indent = " " * (indent - len(prefix)) + prefix, indent
        self.consumed = max(self.consumed, offset)

    def close(self, indent: int, offset: int) -> None:
        """Start the line of a closing bracket; comments just before it stay at the indentation inside."""
        if self.cur is not None:
            self.end_line()
        lines = len(self.out)
        self.begin(indent + INDENT, offset, "none")
        self.cur = None
        if len(self.out) > lines and not self.out[-1]:
            self.out.pop()  # no blank line just before the bracket
        self.begin(indent, offset, "none")

    def _blank_between(self, lo: int, hi: int) -> bool:
        first, last = self.line_of(lo), self.line_of(hi)
        return any(not self.text[self.line_starts[n]:self._line_end(n)].strip() for n in range(first, last - 1))

    def _line_end(self, index: int) -> int:
        return self.line_starts[index + 1] - 1 if index + 1 < len(self.line_starts) else len(self.text)

    def write(self, text: str) -> None:
        self.cur += text

    def end_line(self) -> None:
        self.out.append(self.cur.rstrip())
        self.cur = None

    def done(self, offset: int) -> None:
        self.consumed = max(self.consumed, offset)

    def measure(self, render) -> str | None:
        """What `render()` writes when everything stays on one line, or None when something must break."""
        saved = (self.cur, self.cur_indent, len(self.out), self.next_comment, self.consumed, self.measuring)
        self.cur, self.measuring = "", True
        try:
            render()
            return self.cur
        except _MustBreak:
            return None
        finally:
            self.cur, self.cur_indent, lines, self.next_comment, self.consumed, self.measuring = saved
            del self.out[lines:]

    def fits(self, render, reserve: int = 0) -> bool:
        """Whether `render()` fits on one line after what the current line holds, keeping `reserve` columns."""
        text = self.measure(render)
        return text is not None and len(self.cur) + len(text) + reserve <= WIDTH

    # --- definitions ---------------------------------------------------------------------------------------
    def module(self, module: ast.Module) -> str:
        top = sorted([*module.imports, *module.blocks, *module.networks], key=lambda n: self.start(n))
        previous = None
        for node in top:
            if previous is None:
                blank = "none"
            elif isinstance(node, ast.Import) and isinstance(previous, ast.Import):
                blank = "keep"
            else:
                blank = "force"
            self.begin(0, self.start(node), blank)
            if isinstance(node, ast.Import):
                self.write(f'import "{node.path}"')
                self.done(self.end(node))
            else:
                self.definition(node)
            previous = node
        self.begin(0, len(self.text))  # the comments after the last definition
        self.cur = None
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    def definition(self, node: ast.Definition) -> None:
        self.write(f"{node.kind} {node.name}")
        name_end = self.offset(node.name_span.end_line, node.name_span.end_col)
        open_at = self.token(name_end, "(")
        close_at = self.closer[open_at]
        self.bracketed("(", ")", node.params, open_at, close_at, self.param, reserve=2)
        self.write(" ")
        body_at = self.token(close_at + 1, "{")
        self.body(node.body, body_at, self.closer[body_at], always_break=True)

    def param(self, node: ast.Param) -> None:
        self.write(node.name)
        if node.default is not None:
            self.write("=")
            self.expr(node.default, EXPR)
        self.done(self.end(node))

    # --- statements ----------------------------------------------------------------------------------------
    def body(self, stmts, open_at: int, close_at: int, always_break: bool = False) -> None:
        """`{ ... }` from the `{` at open_at to the `}` at close_at; the current line holds what precedes it."""
        broken = always_break or self.line_of(open_at) != self.line_of(close_at)
        if self.measuring and (broken or self.has_comment(open_at, close_at)):
            raise _MustBreak
        if not broken and not self.measuring and stmts:  # a one-line body too long for its line breaks
            broken = not self.fits(lambda: self.body(stmts, open_at, close_at))
        if not stmts and not self.has_comment(open_at, close_at):
            self.write("{}")
            self.done(close_at + 1)
            return
        if not broken:
            self.write("{ ")
            self.inline_statements(stmts)
            self.write(" }")
            self.done(close_at + 1)
            return
        self.write("{")
        self.done(open_at + 1)
        indent = self.cur_indent
        self.statements(stmts, indent + INDENT)
        self.close(indent, close_at)
        self.write("}")
        self.done(close_at + 1)

    def statements(self, stmts, indent: int, first_prefix: str | None = None) -> None:
        """Statements at `indent`, each on a new line unless the author put it on the previous one's line."""
        previous_end_line = None
        for i, stmt in enumerate(stmts):
            start = self.start(stmt)
            same_line = (previous_end_line is not None and self.cur is not None
                         and self.line_of(start) == previous_end_line
                         and (self.fits(lambda: self.statement(stmt), reserve=1)
                              or self.measure(lambda: self.statement(stmt)) is None))
            if same_line:
                self.write(" ")
            elif i == 0 and first_prefix is not None:
                self.begin(indent, start, "none", prefix=first_prefix)
            else:
                self.begin(indent, start, "none" if i == 0 else "keep")
            lines_before = len(self.out)
            self.statement(stmt)
            multi_line = len(self.out) != lines_before
            previous_end_line = None if multi_line else self.line_of(self.end(stmt) - 1)

    def inline_statements(self, stmts) -> None:
        for i, stmt in enumerate(stmts):
            if i:
                self.write(" ")
            self.statement(stmt)

    def statement(self, stmt) -> None:
        if stmt.kind != "let" and stmt.label is not None:
            self.write(f"{stmt.label}: ")
        getattr(self, f"stmt_{stmt.kind}")(stmt)
        self.done(self.end(stmt))

    def stmt_let(self, stmt: ast.Let) -> None:
        self.write(f"let {stmt.name} = ")
        self.expr(stmt.value, OR)

    def stmt_call(self, stmt: ast.Call) -> None:
        if stmt.checkpoint:
            self.write("checkpoint ")
        self.write(stmt.name)
        items = [*stmt.args, *stmt.kwargs]
        if not items:
            return
        name_end = self.offset(stmt.name_span.end_line, stmt.name_span.end_col)
        open_at = self.token(name_end, "(")
        self.bracketed("(", ")", sorted(items, key=self.start), open_at, self.closer[open_at], self.argument)

    def stmt_group(self, stmt: ast.Group) -> None:
        self.braced(stmt.body, self.offset(stmt.span.line, stmt.span.col))

    def stmt_repeat(self, stmt: ast.Repeat) -> None:
        self.write("repeat ")
        self.expr(stmt.count, EXPR)
        if stmt.var is not None:
            self.write(f" as {stmt.var}")
        self.write(" ")
        self.braced(stmt.body, self.offset(stmt.span.line, stmt.span.col))

    def stmt_for(self, stmt: ast.For) -> None:
        self.write(f"for {', '.join(stmt.names)} in ")
        self.expr(stmt.iterable, EXPR)
        index = getattr(stmt, "index", None)  # `for ... in rows as j`
        if index is not None:
            self.write(f" as {index}")
        self.write(" ")
        self.braced(stmt.body, self.offset(stmt.span.line, stmt.span.col))

    def braced(self, stmts, after: int) -> None:
        """The body opened by the first `{` after `after` (expressions in a header never hold a brace)."""
        open_at = self.brace_after(after)
        self.body(stmts, open_at, self.closer[open_at])

    def brace_after(self, offset: int) -> int:
        return self.braces[bisect_right(self.braces, offset - 1)]

    def stmt_if(self, stmt: ast.If) -> None:
        broken = self.line_of(self.start(stmt)) != self.line_of(self.end(stmt) - 1)
        if not broken and not self.measuring:  # `if a { b } else { c }` too long for its line breaks
            broken = not self.fits(lambda: self.stmt_if(stmt))
        self.write("if ")
        self.expr(stmt.cond, EXPR)
        open_at = self.brace_after(self.offset(stmt.span.line, stmt.span.col))
        close_at = self.closer[open_at]
        self.write(" ")
        self.body(stmt.then, open_at, close_at, always_break=broken)
        if not stmt.orelse:
            return
        else_at = self.skip(close_at + 1)
        if self.text.startswith("else", else_at):  # `else {}` has an empty orelse too: then nothing follows
            self.write(" else ")
            after_else = self.skip(else_at + 4)
            chained = self.text[after_else] != "{"
            if chained:
                (inner,) = stmt.orelse
                self.stmt_if(inner)
                return
            self.body(stmt.orelse, after_else, self.closer[after_else], always_break=broken)

    def stmt_combine(self, stmt: ast.Combine) -> None:
        self.write(stmt.op + " ")
        at = self.offset(stmt.span.line, stmt.span.col)
        open_at = self.token(at + len(stmt.op) if self.text.startswith(stmt.op, at) else at, "{")
        close_at = self.closer[open_at]
        bars, after = [], open_at + 1
        for branch in stmt.branches[:-1]:
            bar = self.token(self.end(branch.body[-1]) if branch.body else after, "|")
            bars.append(bar)
            after = bar + 1
        # one line where the author wrote one and it fits
        if self.line_of(open_at) == self.line_of(close_at) and (
                self.measuring or self.fits(lambda: self.combine_inline(stmt.branches))):
            self.combine_inline(stmt.branches)
            self.done(close_at + 1)
            return
        self.write("{")
        self.done(open_at + 1)
        indent = self.cur_indent
        for i, branch in enumerate(stmt.branches):
            if i == 0:
                self.statements(branch.body, indent + INDENT)
            elif branch.body:
                self.statements(branch.body, indent + INDENT, first_prefix="| ")
            else:
                self.begin(indent + INDENT, bars[i - 1], "none", prefix="| ")  # an empty branch: `|` alone
            if i < len(bars):
                self.done(bars[i] + 1)
        self.close(indent, close_at)
        self.write("}")
        self.done(close_at + 1)

    def combine_inline(self, branches) -> None:
        self.write("{")
        for i, branch in enumerate(branches):
            if i:
                self.write(" |")
            if branch.body:
                self.write(" ")
                self.inline_statements(branch.body)
        self.write(" }")

    # --- bracketed lists -----------------------------------------------------------------------------------
    def bracketed(self, opening: str, closing: str, items, open_at: int, close_at: int, item, single=False,
                  reserve: int = 0) -> None:
        """`(a, b)` on one line, or exploded one item a line with a trailing comma (see the module doc).

        `reserve`: columns that what follows on the line needs (` {` after a header).
        """
        first = self.start(items[0]) if items else None
        last = self.end(items[-1]) if items else None
        exploded = self.exploded(open_at, close_at, first, last)
        if self.measuring and exploded:
            raise _MustBreak
        if not exploded and not self.measuring:
            exploded = bool(items) and not self.fits(
                lambda: self.bracketed(opening, closing, items, open_at, close_at, item, single), reserve)
        self.write(opening)
        if not exploded:
            for i, node in enumerate(items):
                if i:
                    self.write(", ")
                item(node)
            if single:
                self.write(",")
            self.write(closing)
            self.done(close_at + 1)
            return
        indent = self.cur_indent
        for node in items:
            self.begin(indent + INDENT, self.start(node), "none")
            item(node)
            self.write(",")
        self.close(indent, close_at)
        self.write(closing)
        self.done(close_at + 1)

    def argument(self, node) -> None:
        if isinstance(node, ast.KeywordArg):
            self.write(f"{node.name}=")
            self.expr(node.value, EXPR)
        else:
            self.expr(node, EXPR)
        self.done(self.end(node))

    # --- expressions ---------------------------------------------------------------------------------------
    def expr(self, node, context: int) -> None:
        """Print `node` where the grammar expects an expression of precedence `context` or tighter."""
        level = self.level(node)
        if level < context:
            if node.kind == "ternary" and not self.measuring and not self.fits(lambda: self.expr(node, context)):
                self.ternary_lines(node)
                return
            self.write("(")
            self.expr(node, EXPR)
            self.write(")")
            return
        getattr(self, f"expr_{node.kind}")(node)

    @staticmethod
    def level(node) -> int:
        kind = node.kind
        if kind == "ternary":
            return EXPR
        if kind == "binop":
            return COMPARE if node.op not in _BINARY else _BINARY[node.op]
        if kind == "unary":
            return NOT if node.op == "not" else FACTOR
        return POSTFIX

    def source_of(self, span: Span) -> str:
        return self.text[self.offset(span.line, span.col):self.offset(span.end_line, span.end_col)]

    def expr_literal(self, node: ast.Literal_) -> None:
        if isinstance(node.value, bool):
            self.write("true" if node.value else "false")
        else:
            self.write(self.source_of(node.span))  # numbers and strings exactly as written

    def expr_var(self, node: ast.Var) -> None:
        self.write(node.name)

    def expr_in(self, node) -> None:
        self.write("in")

    def expr_attr(self, node: ast.Attr) -> None:
        self.expr(node.obj, POSTFIX)
        self.write(f".{node.name}")

    def expr_index(self, node: ast.Index) -> None:
        self.expr(node.obj, POSTFIX)
        self.write("[")
        self.expr(node.index, EXPR)
        self.write("]")

    def expr_fcall(self, node: ast.FuncCall) -> None:
        self.write(node.func)
        open_at = self.token(self.offset(node.span.line, node.span.col) + len(node.func), "(")
        items = sorted([*node.args, *node.kwargs], key=self.start)
        self.bracketed("(", ")", items, open_at, self.closer[open_at], self.argument)

    def expr_binop(self, node: ast.BinOp) -> None:
        level = self.level(node)
        if node.op == "**":  # right-associative; its right operand may be a unary minus
            left, right = POSTFIX, FACTOR
        elif level == COMPARE:
            left, right = ARITH, ARITH
        else:
            left, right = level, level + 1
        self.expr(node.left, left)
        self.write(f" {node.op} ")
        self.expr(node.right, right)

    def expr_unary(self, node: ast.Unary) -> None:
        if node.op == "not":
            self.write("not ")
            self.expr(node.operand, NOT)
        else:
            self.write("-")
            self.expr(node.operand, FACTOR)

    def expr_ternary(self, node: ast.Ternary) -> None:
        self.expr(node.then, OR)
        self.write(" if ")
        self.expr(node.cond, OR)
        self.write(" else ")
        self.expr(node.orelse, EXPR)

    def ternary_lines(self, node: ast.Ternary) -> None:
        """A parenthesized chain `a if x else b if y else c` too long for its line: one alternative a line."""
        indent = self.cur_indent
        self.write("(")
        self.begin(indent + INDENT, self.start(node), "none")
        while True:
            self.expr(node.then, OR)
            self.write(" if ")
            self.expr(node.cond, OR)
            self.begin(indent + INDENT, self.start(node.orelse), "none")
            self.write("else ")
            if node.orelse.kind != "ternary":
                self.expr(node.orelse, EXPR)
                break
            node = node.orelse
        self.done(self.end(node))
        self.close(indent, self.skip(self.end(node)))
        self.write(")")
        self.done(self.skip(self.end(node)) + 1)

    def expr_sequence(self, node: ast.Sequence) -> None:
        opening, closing = node.brackets
        single = opening == "(" and len(node.items) == 1
        open_at = self.offset(node.span.line, node.span.col)
        self.bracketed(opening, closing, node.items, open_at, self.closer[open_at],
                       lambda item: self.expr_item(item), single=single)

    def expr_item(self, node) -> None:
        self.expr(node, EXPR)
        self.done(self.end(node))

    def expr_listcomp(self, node) -> None:
        self.write("[")
        self.expr(node.item, EXPR)
        self.write(f" for {', '.join(node.names)} in ")
        self.expr(node.iterable, OR)
        self.write("]")
