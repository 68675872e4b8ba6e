"""Lark parse tree -> pydantic AST. Positions are converted to `Span` here and nowhere else."""

from __future__ import annotations

from lark import Token, Transformer, v_args

from .. import ast
from ..source import Source, Span


def _span(source: Source, meta) -> Span:
    if getattr(meta, "empty", True):
        return source.span(1, 1)
    return Span(file=source.name, line=meta.line, col=meta.column,
                end_line=meta.end_line, end_col=meta.end_column)


def _token_span(source: Source, tok: Token) -> Span:
    return Span(file=source.name, line=tok.line, col=tok.column,
                end_line=tok.end_line, end_col=tok.end_column)


@v_args(meta=True)
class ToAst(Transformer):
    """Builds AST nodes bottom-up. It never raises: semantic checks belong to elaboration."""

    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    def _s(self, meta) -> Span:
        return _span(self.source, meta)

    # --- definitions
    def start(self, meta, children):
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        blocks = tuple(c for c in children if isinstance(c, ast.BlockDef))
        networks = tuple(c for c in children if isinstance(c, ast.NetworkDef))
        return ast.Module(file=self.source.name, imports=imports, blocks=blocks, networks=networks)

    def import_stmt(self, meta, children):
        return ast.Import(span=self._s(meta), path=children[0][1:-1])

    def _definition(self, cls, meta, children):
        name, params, body = children
        return cls(span=self._s(meta), name=str(name), name_span=_token_span(self.source, name),
                   params=tuple(params or ()), body=body)

    def block_def(self, meta, children):
        return self._definition(ast.BlockDef, meta, children)

    def network_def(self, meta, children):
        return self._definition(ast.NetworkDef, meta, children)

    def params(self, meta, children):
        return children

    def param(self, meta, children):
        name, default = children
        return ast.Param(span=self._s(meta), name=str(name), default=default)

    # --- statements
    def body(self, meta, children):
        return tuple(children)

    def labeled(self, meta, children):
        name, item = children
        return item.model_copy(update={"label": str(name), "label_span": _token_span(self.source, name)})

    def let_stmt(self, meta, children):
        name, value = children
        return ast.Let(span=self._s(meta), name=str(name), value=value)

    def call(self, meta, children):
        name, arglist = children
        args, kwargs = _split_args(arglist or [])
        return ast.Call(span=self._s(meta), name=str(name), name_span=_token_span(self.source, name),
                        args=args, kwargs=kwargs)

    def args(self, meta, children):
        return children

    def kwarg(self, meta, children):
        name, value = children
        return ast.KeywordArg(span=self._s(meta), name=str(name), value=value)

    def repeat(self, meta, children):
        count, var, body = children
        return ast.Repeat(span=self._s(meta), count=count, var=str(var) if var else None, body=body)

    def for_loop(self, meta, children):
        names, iterable, index, body = children
        return ast.For(span=self._s(meta), names=names, iterable=iterable, index=str(index) if index else None,
                       body=body)

    def names(self, meta, children):
        return tuple(str(c) for c in children)

    def comb_kind(self, meta, children):
        return str(children[0])

    def combine(self, meta, children):
        return ast.Combine(span=self._s(meta), op=children[0], branches=tuple(children[1:]))

    def branch(self, meta, children):
        span = self._s(meta) if not meta.empty else None
        if span is None:
            span = children[0].span if children else self.source.span(1, 1)
        return ast.Branch(span=span, body=tuple(children))

    def if_item(self, meta, children):
        cond, then, *rest = children
        orelse = rest[0] if rest else ()
        if isinstance(orelse, ast.If):
            orelse = (orelse,)
        return ast.If(span=self._s(meta), cond=cond, then=then, orelse=orelse or ())

    def group(self, meta, children):
        return ast.Group(span=self._s(meta), body=tuple(children))

    def __default__(self, data, children, meta):  # pragma: no cover - every rule is handled
        raise AssertionError(f"unhandled grammar rule {data}")

    # --- expressions
    def int_lit(self, meta, children):
        return ast.Literal_(span=self._s(meta), value=int(children[0]))

    def float_lit(self, meta, children):
        return ast.Literal_(span=self._s(meta), value=float(children[0]))

    def str_lit(self, meta, children):
        return ast.Literal_(span=self._s(meta), value=str(children[0])[1:-1])

    def true_lit(self, meta, children):
        return ast.Literal_(span=self._s(meta), value=True)

    def false_lit(self, meta, children):
        return ast.Literal_(span=self._s(meta), value=False)

    def var(self, meta, children):
        return ast.Var(span=self._s(meta), name=str(children[0]))

    def in_ref(self, meta, children):
        return ast.InRef(span=self._s(meta))

    def tuple_lit(self, meta, children):
        return ast.Sequence(span=self._s(meta), items=tuple(c for c in children if c is not None), brackets="()")

    def list_lit(self, meta, children):
        return ast.Sequence(span=self._s(meta), items=tuple(c for c in children if c is not None), brackets="[]")

    def list_comp(self, meta, children):
        item, names, iterable = children
        return ast.ListComp(span=self._s(meta), item=item, names=names, iterable=iterable)

    def index(self, meta, children):
        return ast.Index(span=self._s(meta), obj=children[0], index=children[1])

    def attr(self, meta, children):
        return ast.Attr(span=self._s(meta), obj=children[0], name=str(children[1]))

    def fcall(self, meta, children):
        name, arglist = children
        args, kwargs = _split_args(arglist or [])
        return ast.FuncCall(span=self._s(meta), func=str(name), args=args, kwargs=kwargs)

    def _binary(self, meta, children):
        left, op, right = children
        return ast.BinOp(span=self._s(meta), op=str(op), left=left, right=right)

    binop = compare = pow_op = _binary

    def or_op(self, meta, children):
        return ast.BinOp(span=self._s(meta), op="or", left=children[0], right=children[1])

    def and_op(self, meta, children):
        return ast.BinOp(span=self._s(meta), op="and", left=children[0], right=children[1])

    def not_op(self, meta, children):
        return ast.Unary(span=self._s(meta), op="not", operand=children[0])

    def neg(self, meta, children):
        return ast.Unary(span=self._s(meta), op="-", operand=children[0])

    def ternary(self, meta, children):
        then, cond, orelse = children
        return ast.Ternary(span=self._s(meta), cond=cond, then=then, orelse=orelse)


def _split_args(arglist):
    args = tuple(a for a in arglist if not isinstance(a, ast.KeywordArg))
    kwargs = tuple(a for a in arglist if isinstance(a, ast.KeywordArg))
    return args, kwargs
