"""Lark parse tree -> pydantic AST. Positions are converted to `Span` here and nowhere else.

The parser keeps every token (`keep_all_tokens`) instead of propagating positions through the tree, which
halves parsing time: a rule's span runs from its first token to its last. Punctuation and keywords are then
dropped, so each rule method sees only the meaningful children.
"""

from __future__ import annotations

from lark import Token, Transformer

from .. import ast
from ..source import Source, Span
from . import template

#: tokens that carry a value; every other token (brackets, commas, keywords) only delimits a span
VALUE_TOKENS = frozenset({"NAME", "INT", "FLOAT", "STRING", "COMP_OP", "ADD_OP", "MUL_OP", "POW", "TRAIN", "TENSOR"})


class Spanned(tuple):
    """A tuple of children that remembers the span it was parsed from."""

    span: Span | None = None


def _token_span(source: Source, tok: Token) -> Span:
    return Span(file=source.name, line=tok.line, col=tok.column,
                end_line=tok.end_line, end_col=tok.end_column)


def _start(child) -> tuple[int, int] | None:
    if isinstance(child, Token):
        return child.line, child.column
    span = getattr(child, "span", None)
    return (span.line, span.col) if span is not None else None


def _end(child) -> tuple[int, int] | None:
    if isinstance(child, Token):
        return child.end_line, child.end_column
    span = getattr(child, "span", None)
    return (span.end_line, span.end_col) if span is not None else None


class ToAst(Transformer):
    """Builds AST nodes bottom-up. It never raises: semantic checks belong to elaboration.

    Nodes are made with `model_construct`: the grammar already guarantees their structure, and validating
    every node again would double the time of a parse.
    """

    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    def _call_userfunc(self, tree, new_children=None):
        children = tree.children if new_children is None else new_children
        first = next((p for p in map(_start, children) if p is not None), None)
        last = next((p for p in map(_end, reversed(children)) if p is not None), None)
        span = None if first is None else Span(file=self.source.name, line=first[0], col=first[1],
                                                end_line=last[0], end_col=last[1])
        kept = [c for c in children if not isinstance(c, Token) or c.type in VALUE_TOKENS]
        return getattr(self, tree.data)(span, kept)

    def _s(self, span: Span | None) -> Span:
        return span if span is not None else self.source.span(1, 1)

    def _seq(self, span: Span | None, items) -> Spanned:
        result = Spanned(items)
        result.span = span
        return result

    # --- definitions
    def start(self, meta, children):
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        blocks = tuple(c for c in children if isinstance(c, ast.BlockDef))
        networks = tuple(c for c in children if isinstance(c, ast.NetworkDef))
        return ast.Module.model_construct(file=self.source.name, imports=imports, blocks=blocks, networks=networks)

    def import_stmt(self, meta, children):
        return ast.Import.model_construct(span=self._s(meta), path=children[0][1:-1])

    def _definition(self, cls, meta, children):
        name, params, body = children
        return cls.model_construct(span=self._s(meta), name=str(name), name_span=_token_span(self.source, name),
                   params=tuple(params or ()), body=body)

    def block_def(self, meta, children):
        return self._definition(ast.BlockDef, meta, children)

    def network_def(self, meta, children):
        return self._definition(ast.NetworkDef, meta, children)

    def network_variant(self, meta, children):
        name, base = children
        return ast.NetworkDef.model_construct(span=self._s(meta), name=str(name), name_span=_token_span(self.source, name),
                                              params=(), body=(), base=base)

    def params(self, meta, children):
        return self._seq(meta, children)

    def default(self, meta, children):
        return children[0]

    def checkpointed(self, meta, children):
        return children[0].model_copy(update={"checkpoint": True, "span": self._s(meta)})

    def call_args(self, meta, children):  # spans the parentheses too, so a call's span ends at its `)`
        return self._seq(meta, children[0] if children[0] is not None else [])

    def loop_index(self, meta, children):
        return children[0]

    def param(self, meta, children):
        name, default = children
        return ast.Param.model_construct(span=self._s(meta), name=str(name), default=default)

    def tensor_param(self, meta, children):
        name, default = children
        return ast.Param.model_construct(span=self._s(meta), name=str(name)[1:], default=default, tensor=True)

    # --- statements
    def body(self, meta, children):
        return self._seq(meta, children)

    def labeled(self, meta, children):
        name, item = children
        update = {"label": str(name), "label_span": _token_span(self.source, name)}
        if name.type == "STRING":  # `"denselayer{i + 1}":`, its pieces checked by the parser (syntax/template.py)
            parts = tuple(part if isinstance(part, str) else self.transform(template.parse_piece(part))
                          for part in template.split(name))
            update["label_template"] = ast.Template.model_construct(span=update["label_span"], parts=parts)
        return item.model_copy(update=update)

    def named(self, meta, children):
        item, *targets = children
        return item.model_copy(update={"targets": tuple(targets)})

    def target(self, meta, children):
        return ast.Target.model_construct(span=self._s(meta), name=str(children[0]))

    def use(self, meta, children):
        name = children[0]  # `@name`, one token
        return ast.Use.model_construct(span=self._s(meta), name=str(name)[1:], name_span=_token_span(self.source, name))

    def param_decl(self, meta, children):
        name, shape, *rest = children  # without `init`, Lark's placeholders stand for both the keyword and value
        init = next((c for c in rest if c is not None), None)
        return ast.ParamDecl.model_construct(span=self._s(meta), name=str(name),
                                             name_span=_token_span(self.source, name), shape=shape, init=init)

    def return_stmt(self, meta, children):
        form = "dict" if children and children[0].key is not None else "tuple"
        return ast.Return.model_construct(span=self._s(meta), outputs=tuple(children), form=form)

    def output(self, meta, children):
        train, name = children
        return ast.Output.model_construct(span=self._s(meta), name=str(name)[1:], name_span=_token_span(self.source, name),
                                          key=None, train=train is not None)

    def keyed(self, meta, children):
        key, output = children
        return output.model_copy(update={"key": str(key), "span": self._s(meta)})

    def let_stmt(self, meta, children):
        name, value = children
        return ast.Let.model_construct(span=self._s(meta), name=str(name), value=value)

    def call(self, meta, children):
        name, arglist = children
        args, kwargs = _split_args(arglist or [])
        return ast.Call.model_construct(span=self._s(meta), name=str(name), name_span=_token_span(self.source, name),
                        args=args, kwargs=kwargs)

    def args(self, meta, children):
        return self._seq(meta, children)

    def kwarg(self, meta, children):
        name, value = children
        return ast.KeywordArg.model_construct(span=self._s(meta), name=str(name), value=value)

    def repeat(self, meta, children):
        count, var, body = children
        return ast.Repeat.model_construct(span=self._s(meta), count=count, var=str(var) if var else None, body=body)

    def for_loop(self, meta, children):
        names, iterable, index, body = children
        return ast.For.model_construct(span=self._s(meta), names=names, iterable=iterable, index=str(index) if index else None,
                       body=body)

    def names(self, meta, children):
        return self._seq(meta, [str(c) for c in children])

    def combine(self, meta, children):  # the name is checked against the combinator registry when elaborated
        name, *branches = children
        return ast.Combine.model_construct(span=self._s(meta), op=str(name), name_span=_token_span(self.source, name),
                                           branches=tuple(branches))

    def branch(self, meta, children):
        return ast.Branch.model_construct(span=self._s(meta), body=tuple(children))

    def if_item(self, meta, children):
        cond, then, *rest = children
        rest = [r for r in rest if r is not None]
        orelse = rest[0] if rest else ()
        if isinstance(orelse, ast.If):
            orelse = (orelse,)
        return ast.If.model_construct(span=self._s(meta), cond=cond, then=then, orelse=orelse or ())

    def group(self, meta, children):
        return ast.Group.model_construct(span=self._s(meta), body=tuple(children))

    def __default__(self, data, children, meta):  # pragma: no cover - every rule is handled
        raise AssertionError(f"unhandled grammar rule {data}")

    # --- expressions
    def atom(self, meta, children):
        return children[0]  # `( expr )`: the brackets only group

    def int_lit(self, meta, children):
        return ast.Literal_.model_construct(span=self._s(meta), value=int(children[0]))

    def float_lit(self, meta, children):
        return ast.Literal_.model_construct(span=self._s(meta), value=float(children[0]))

    def str_lit(self, meta, children):
        return ast.Literal_.model_construct(span=self._s(meta), value=str(children[0])[1:-1])

    def true_lit(self, meta, children):
        return ast.Literal_.model_construct(span=self._s(meta), value=True)

    def false_lit(self, meta, children):
        return ast.Literal_.model_construct(span=self._s(meta), value=False)

    def var(self, meta, children):
        return ast.Var.model_construct(span=self._s(meta), name=str(children[0]))

    def in_ref(self, meta, children):
        return ast.InRef.model_construct(span=self._s(meta))

    def tensor_ref(self, meta, children):
        return ast.TensorRef.model_construct(span=self._s(meta), name=str(children[0])[1:])

    def tuple_lit(self, meta, children):
        return ast.Sequence.model_construct(span=self._s(meta), items=tuple(c for c in children if c is not None), brackets="()")

    def list_lit(self, meta, children):
        return ast.Sequence.model_construct(span=self._s(meta), items=tuple(c for c in children if c is not None), brackets="[]")

    def list_comp(self, meta, children):
        item, names, iterable, *clauses = children
        return ast.ListComp.model_construct(span=self._s(meta), item=item, names=names, iterable=iterable,
                                            clauses=tuple(clauses))

    def comp_for(self, meta, children):
        names, iterable = children
        return ast.CompClause.model_construct(span=self._s(meta), kind="for", names=names, value=iterable)

    def comp_if(self, meta, children):
        return ast.CompClause.model_construct(span=self._s(meta), kind="if", names=(), value=children[0])

    def index(self, meta, children):
        return ast.Index.model_construct(span=self._s(meta), obj=children[0], index=children[1])

    def attr(self, meta, children):
        return ast.Attr.model_construct(span=self._s(meta), obj=children[0], name=str(children[1]))

    def fcall(self, meta, children):
        name, arglist = children
        args, kwargs = _split_args(arglist or [])
        return ast.FuncCall.model_construct(span=self._s(meta), func=str(name), args=args, kwargs=kwargs)

    def _binary(self, meta, children):
        left, op, right = children
        return ast.BinOp.model_construct(span=self._s(meta), op=str(op), left=left, right=right)

    binop = compare = pow_op = _binary

    def or_op(self, meta, children):
        return ast.BinOp.model_construct(span=self._s(meta), op="or", left=children[0], right=children[1])

    def and_op(self, meta, children):
        return ast.BinOp.model_construct(span=self._s(meta), op="and", left=children[0], right=children[1])

    def not_op(self, meta, children):
        return ast.Unary.model_construct(span=self._s(meta), op="not", operand=children[0])

    def neg(self, meta, children):
        sign, operand = children
        if sign == "+":
            return operand
        return ast.Unary.model_construct(span=self._s(meta), op="-", operand=operand)

    def ternary(self, meta, children):
        then, cond, orelse = children
        return ast.Ternary.model_construct(span=self._s(meta), cond=cond, then=then, orelse=orelse)


def _split_args(arglist):
    args = tuple(a for a in arglist if not isinstance(a, ast.KeywordArg))
    kwargs = tuple(a for a in arglist if isinstance(a, ast.KeywordArg))
    return args, kwargs
