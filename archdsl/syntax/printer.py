"""Printing definitions and statements from the AST.

Items the author wrote on one line stay on one line (`conv bn relu`) while they fit; an item starts a new line
where the author started one, and always after a construct that spans several lines. A `{ ... }` body (of
`repeat`, `for`, `if`, a group, a combinator) stays on one line when it was on one line and fits; otherwise
every item starts on its own line. Definition bodies always span lines, with one blank line between
definitions.
"""

from __future__ import annotations

from .. import ast
from .layout import INDENT, MustBreak
from .print_expr import EXPR, OR, ExprPrinter


class Printer(ExprPrinter):
    def __init__(self, trivia):
        super().__init__(trivia)
        self.before_group: set[int] = set()  # ids of the calls that keep their `()` (see `group_follows`)

    # --- definitions ---------------------------------------------------------------------------------------
    def module(self, module: ast.Module) -> str:
        top = sorted([*module.imports, *module.blocks, *module.networks], key=self.start)
        previous = None
        for node in top:
            if previous is None:
                blank = "none"
            elif isinstance(node, ast.Import) and isinstance(previous, ast.Import):
                blank = "keep"
            elif getattr(node, "base", None) is not None and getattr(previous, "base", None) is not None:
                blank = "keep"  # variants of a family, one a line
            else:
                blank = "force"
            self.begin(0, self.start(node), blank)
            if isinstance(node, ast.Import):
                self.write(f'import "{node.path}"')
                self.done(self.end(node))
            else:
                self.definition(node)
            previous = node
        return self.finish()

    def definition(self, node: ast.Definition) -> None:
        self.write(f"{node.kind} {node.name}")
        if getattr(node, "base", None) is not None:  # `network resnet101 = resnet(layers=[3, 4, 23, 3])`
            self.write(" = ")
            self.stmt_call(node.base)
            self.done(self.end(node))
            return
        open_at = self.trivia.expect(self.after(node.name_span), "(")
        self.bracketed("(", ")", node.params, open_at, self.param, reserve=2)
        self.write(" ")
        body_at = self.trivia.expect(self.trivia.closer[open_at] + 1, "{")
        self.body(node.body, body_at, always_break=True)

    def param(self, node: ast.Param) -> None:
        self.write(f"@{node.name}" if node.tensor else node.name)
        if node.default is not None:
            self.write("=")
            self.expr(node.default, EXPR)
        self.done(self.end(node))

    def after(self, span) -> int:
        """The offset just past `span`."""
        return self.trivia.offset(span.end_line, span.end_col)

    # --- bodies --------------------------------------------------------------------------------------------
    def body(self, stmts, open_at: int, always_break: bool = False) -> None:
        """`{ ... }` from the `{` at open_at; the current line holds what precedes it."""
        close_at = self.trivia.closer[open_at]
        line_of = self.trivia.line_of
        broken = always_break or line_of(open_at) != line_of(close_at)
        if self.measuring and (broken or self.has_comment(open_at, close_at)):
            raise MustBreak
        if not broken and not self.measuring and stmts:  # a one-line body too long for its line breaks
            broken = not self.fits(lambda: self.body(stmts, open_at))
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
        self.group_follows(stmts)
        line_of = self.trivia.line_of
        previous_end_line = None
        for i, stmt in enumerate(stmts):
            start = self.start(stmt)
            same_line = (previous_end_line is not None and self.cur is not None
                         and line_of(start) == previous_end_line
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
            previous_end_line = None if multi_line else line_of(self.stmt_end(stmt) - 1)

    def inline_statements(self, stmts) -> None:
        self.group_follows(stmts)
        for i, stmt in enumerate(stmts):
            if i:
                self.write(" ")
            self.statement(stmt)

    def group_follows(self, stmts) -> None:
        """Note the argument-less calls that an unlabeled group follows: `relu() { ... }` keeps its `()`, as
        `relu { ... }` is a combinator named `relu`."""
        self.before_group.update(id(call) for call, after in zip(stmts, stmts[1:])
                                 if call.kind == "call" and after.kind == "group" and after.label is None)

    # --- statements ----------------------------------------------------------------------------------------
    def statement(self, stmt) -> None:
        if getattr(stmt, "label", None) is not None:
            self.write(f"{stmt.label}: ")
        getattr(self, f"stmt_{stmt.kind}")(stmt)
        self.done(self.end(stmt))
        targets = getattr(stmt, "targets", ())
        if targets:  # `-> name`, `-> (a, b)`
            names = ", ".join(t.name for t in targets)
            self.write(f" -> {names}" if len(targets) == 1 else f" -> ({names})")
            self.done(self.stmt_end(stmt))

    def stmt_end(self, stmt) -> int:
        """Where a statement ends, its `-> name` or `-> (a, b)` included."""
        targets = getattr(stmt, "targets", ())
        if not targets:
            return self.end(stmt)
        end = self.after(targets[-1].span)
        if len(targets) > 1:
            if self.trivia.next_is(end, ","):
                end = self.trivia.skip(end) + 1
            end = self.trivia.expect(end, ")") + 1
        return end

    def stmt_use(self, stmt: ast.Use) -> None:
        self.write(f"@{stmt.name}")

    def stmt_param(self, stmt: ast.ParamDecl) -> None:
        self.write(f"param {stmt.name} = ")
        self.expr(stmt.shape, OR)
        if stmt.init is not None:
            self.write(" init ")
            self.expr(stmt.init, OR)

    def stmt_return(self, stmt: ast.Return) -> None:
        outputs = [f"{'train ' if o.train else ''}@{o.name}" for o in stmt.outputs]
        if stmt.form == "dict":
            self.write("return {" + ", ".join(f"{o.key}: {text}" for o, text in zip(stmt.outputs, outputs)) + "}")
        else:
            self.write("return " + ", ".join(outputs))

    def stmt_let(self, stmt: ast.Let) -> None:
        self.write(f"let {stmt.name} = ")
        self.expr(stmt.value, OR)

    def stmt_call(self, stmt: ast.Call) -> None:
        if stmt.checkpoint:
            self.write("checkpoint ")
        self.write(stmt.name)
        items = [*stmt.args, *stmt.kwargs]
        if not items:
            if id(stmt) in self.before_group:
                self.write("()")
            return
        open_at = self.trivia.expect(self.after(stmt.name_span), "(")
        self.bracketed("(", ")", sorted(items, key=self.start), open_at, self.argument)

    def stmt_group(self, stmt: ast.Group) -> None:
        self.body(stmt.body, self.trivia.brace_after(self.at(stmt.span)))

    def stmt_repeat(self, stmt: ast.Repeat) -> None:
        self.write("repeat ")
        self.expr(stmt.count, EXPR)
        if stmt.var is not None:
            self.write(f" as {stmt.var}")
        self.write(" ")
        self.body(stmt.body, self.trivia.brace_after(self.at(stmt.span)))  # a header never holds a brace

    def stmt_for(self, stmt: ast.For) -> None:
        self.write(f"for {', '.join(stmt.names)} in ")
        self.expr(stmt.iterable, EXPR)
        if stmt.index is not None:  # `for ... in rows as j`
            self.write(f" as {stmt.index}")
        self.write(" ")
        self.body(stmt.body, self.trivia.brace_after(self.at(stmt.span)))

    def stmt_if(self, stmt: ast.If) -> None:
        line_of = self.trivia.line_of
        broken = line_of(self.start(stmt)) != line_of(self.end(stmt) - 1)
        if not broken and not self.measuring:  # `if a { b } else { c }` too long for its line breaks
            broken = not self.fits(lambda: self.stmt_if(stmt))
        self.write("if ")
        self.expr(stmt.cond, EXPR)
        open_at = self.trivia.brace_after(self.at(stmt.span))
        self.write(" ")
        self.body(stmt.then, open_at, always_break=broken)
        else_at = self.trivia.skip(self.trivia.closer[open_at] + 1)
        if not stmt.orelse or not self.trivia.next_is(else_at, "else"):  # `else {}` has an empty orelse too
            return
        self.write(" else ")
        after_else = self.trivia.skip(else_at + len("else"))
        if not self.trivia.next_is(after_else, "{"):  # `else if`
            (inner,) = stmt.orelse
            self.stmt_if(inner)
            return
        self.body(stmt.orelse, after_else, always_break=broken)

    def stmt_combine(self, stmt: ast.Combine) -> None:
        self.write(stmt.op + " ")
        open_at = self.trivia.expect(self.after(stmt.name_span), "{")
        close_at = self.trivia.closer[open_at]
        bars, after = [], open_at + 1
        for branch in stmt.branches[:-1]:
            bar = self.trivia.expect(self.end(branch.body[-1]) if branch.body else after, "|")
            bars.append(bar)
            after = bar + 1
        line_of = self.trivia.line_of
        # on one line where the author wrote one and it fits
        if line_of(open_at) == line_of(close_at) and (
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
