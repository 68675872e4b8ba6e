"""Printing expressions and bracketed lists (arguments, parameters, `[...]`, `(...)`) from the AST.

Expressions get only the parentheses the grammar needs. A bracketed list is written on one line, or one
element a line with a trailing comma when the author broke the line right after its opening bracket or before
its closing one, put a comment inside it, or when it does not fit. Number and string literals are printed as
the author wrote them (`1e-5` stays `1e-5`).
"""

from __future__ import annotations

from .. import ast
from .layout import INDENT, Layout, MustBreak

# Precedence levels of the grammar, loosest first; a node printed where a tighter level is needed gets
# parentheses. Binary operators are left-associative except `**` (right) and comparisons (not chained).
EXPR, OR, AND, NOT, COMPARE, ARITH, TERM, FACTOR, POWER, POSTFIX = range(10)
_BINARY = {"or": OR, "and": AND, "+": ARITH, "-": ARITH, "*": TERM, "/": TERM, "//": TERM, "%": TERM, "**": POWER}


def level(node) -> int:
    """The precedence level of an expression node."""
    kind = node.kind
    if kind == "ternary":
        return EXPR
    if kind == "binop":
        return COMPARE if node.op not in _BINARY else _BINARY[node.op]
    if kind == "unary":
        return NOT if node.op == "not" else FACTOR
    return POSTFIX


class ExprPrinter(Layout):
    # --- bracketed lists -----------------------------------------------------------------------------------
    def bracketed(self, opening: str, closing: str, items, open_at: int, item, single=False,
                  reserve: int = 0) -> None:
        """`(a, b)` on one line, or exploded one item a line with a trailing comma (see the module doc).

        `reserve`: columns that what follows on the line needs (` {` after a header).
        """
        close_at = self.trivia.closer[open_at]
        first = self.start(items[0]) if items else None
        last = self.end(items[-1]) if items else None
        exploded = self.exploded(open_at, close_at, first, last)
        if self.measuring and exploded:
            raise MustBreak
        if not exploded and not self.measuring:
            exploded = bool(items) and not self.fits(
                lambda: self.bracketed(opening, closing, items, open_at, item, single), reserve)
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
        if level(node) < context:
            if node.kind == "ternary" and not self.measuring and not self.fits(lambda: self.expr(node, context)):
                self.ternary_lines(node)
                return
            self.write("(")
            self.expr(node, EXPR)
            self.write(")")
            return
        getattr(self, f"expr_{node.kind}")(node)

    def expr_literal(self, node: ast.Literal_) -> None:
        if isinstance(node.value, bool):
            self.write("true" if node.value else "false")
        else:
            self.write(str(self.trivia.token_at(self.at(node.span))))  # numbers and strings exactly as written

    def expr_var(self, node: ast.Var) -> None:
        self.write(node.name)

    def expr_in(self, node) -> None:
        self.write("in")

    def expr_tensor(self, node: ast.TensorRef) -> None:
        self.write(f"@{node.name}")

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
        open_at = self.trivia.expect(self.at(node.span) + len(node.func), "(")
        items = sorted([*node.args, *node.kwargs], key=self.start)
        self.bracketed("(", ")", items, open_at, self.argument)

    def expr_binop(self, node: ast.BinOp) -> None:
        here = level(node)
        if node.op == "**":  # right-associative; its right operand may be a unary minus
            left, right = POSTFIX, FACTOR
        elif here == COMPARE:
            left, right = ARITH, ARITH
        else:
            left, right = here, here + 1
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
        closing = self.trivia.skip(self.end(node))
        self.close(indent, closing)
        self.write(")")
        self.done(closing + 1)

    def expr_sequence(self, node: ast.Sequence) -> None:
        opening, closing = node.brackets
        single = opening == "(" and len(node.items) == 1
        self.bracketed(opening, closing, node.items, self.at(node.span), self.expr_item, single=single)

    def expr_item(self, node) -> None:
        self.expr(node, EXPR)
        self.done(self.end(node))

    def expr_listcomp(self, node) -> None:
        self.write("[")
        self.expr(node.item, EXPR)
        self.write(f" for {', '.join(node.names)} in ")
        self.expr(node.iterable, OR)
        for clause in node.clauses:
            self.write(f" for {', '.join(clause.names)} in " if clause.kind == "for" else " if ")
            self.expr(clause.value, OR)
        self.write("]")
