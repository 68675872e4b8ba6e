"""The abstract syntax tree: frozen pydantic nodes, each with the span it was parsed from."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import ConfigDict, Field

from .frozen import Frozen
from .source import Span


class Node(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span


# --- expressions -----------------------------------------------------------------------------

class Literal_(Node):
    kind: Literal["literal"] = "literal"
    value: int | float | bool | str


class Var(Node):
    kind: Literal["var"] = "var"
    name: str


class InRef(Node):
    """`in`: the shape of the tensor flowing into the item being evaluated."""

    kind: Literal["in"] = "in"


class Attr(Node):
    kind: Literal["attr"] = "attr"
    obj: Expr
    name: str


class Index(Node):
    kind: Literal["index"] = "index"
    obj: Expr
    index: Expr


class FuncCall(Node):
    kind: Literal["fcall"] = "fcall"
    func: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KeywordArg, ...] = ()


class BinOp(Node):
    kind: Literal["binop"] = "binop"
    op: str
    left: Expr
    right: Expr


class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: Expr


class Ternary(Node):
    kind: Literal["ternary"] = "ternary"
    cond: Expr
    then: Expr
    orelse: Expr


class Sequence(Node):
    """A tuple `(a, b)` or list `[a, b]`; both evaluate to immutable tuples."""

    kind: Literal["sequence"] = "sequence"
    items: tuple[Expr, ...]
    brackets: Literal["()", "[]"]


class TensorRef(Node):
    """`@name` in an expression: the shape of a named tensor (`@s1.c`); as a whole argument, the tensor itself."""

    kind: Literal["tensor"] = "tensor"
    name: str


class CompClause(Node):
    """A clause of a list comprehension after its first `for`: `for a, b in items` or `if cond`."""

    kind: Literal["for", "if"]
    names: tuple[str, ...] = ()  # `for`: the names bound
    value: Expr  # `for`: the items (a list, or an int n for 0..n-1); `if`: the condition


class ListComp(Node):
    """`[expr for a, b in items]`: one value per item (a list, or an int n for 0..n-1), as a tuple; further
    `for` clauses nest (the last varies fastest) and `if` clauses filter, as in Python."""

    kind: Literal["listcomp"] = "listcomp"
    item: Expr
    names: tuple[str, ...]
    iterable: Expr
    clauses: tuple[CompClause, ...] = ()


Expr = Annotated[
    Union[Literal_, Var, InRef, TensorRef, Attr, Index, FuncCall, BinOp, Unary, Ternary, Sequence, ListComp],
    Field(discriminator="kind"),
]


class KeywordArg(Node):
    name: str
    value: Expr


class Template(Node):
    """A string label with `{expr}` interpolations (`"denselayer{i + 1}"`): the text parts and the expressions in
    order, evaluated to a string when elaborated (syntax/template.py splits it)."""

    kind: Literal["template"] = "template"
    parts: tuple[Union[str, Expr], ...]


# --- statements --------------------------------------------------------------------------------

class Target(Node):
    """A name given by `-> name` (or one of `-> (a, b)`) to a tensor an item makes."""

    name: str


class Item(Node):
    label: str | None = None  # as written: a name, or a string with its quotes (`"block1-0"`)
    label_span: Span | None = None
    #: a string label (`"denselayer{i + 1}": ...`), evaluated to the submodule's name when elaborated
    label_template: Template | None = None
    #: `-> name`: the item's tensor is named; `-> (a, b)`: its outputs are (a block that returns several)
    targets: tuple[Target, ...] = ()


class Call(Item):
    """`conv(64, 3, pad=1)` or `relu`: a primitive or a block."""

    kind: Literal["call"] = "call"
    name: str
    name_span: Span
    args: tuple[Expr, ...] = ()
    kwargs: tuple[KeywordArg, ...] = ()
    #: `checkpoint block(...)`: recompute the block in the backward pass instead of storing its activations
    checkpoint: bool = False


class Repeat(Item):
    kind: Literal["repeat"] = "repeat"
    count: Expr
    var: str | None = None
    body: tuple[Stmt, ...]


class For(Item):
    kind: Literal["for"] = "for"
    names: tuple[str, ...]
    iterable: Expr
    index: str | None = None  # `for ... in rows as j`: j counts the rows from 0
    body: tuple[Stmt, ...]


class Branch(Node):
    body: tuple[Stmt, ...]


class Combine(Item):
    """`concat { a | b }`, `add { ... }`: branches from one input, merged by a combinator of the registry."""

    kind: Literal["combine"] = "combine"
    op: str  # the combinator's name (archdsl/combinators.py), checked when elaborated
    name_span: Span
    branches: tuple[Branch, ...]


class If(Item):
    kind: Literal["if"] = "if"
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()


class Group(Item):
    """`{ ... }`: a nested sequence that becomes its own submodule."""

    kind: Literal["group"] = "group"
    body: tuple[Stmt, ...]


class Use(Item):
    """`@name` as an item: the named tensor becomes the current one (at the start of a sequence, its input)."""

    kind: Literal["use"] = "use"
    name: str
    name_span: Span


class Let(Node):
    kind: Literal["let"] = "let"
    name: str
    value: Expr


class ParamDecl(Node):
    """`param layer_scale = (dim, 1, 1) init 1e-6`: a learnable tensor of the enclosing module."""

    kind: Literal["param"] = "param"
    name: str
    name_span: Span
    shape: Expr
    init: Expr | None = None


class Output(Node):
    """One output in `return`: `@name`, `train @name`, or `key: @name` in a dict."""

    name: str  # the tensor returned
    name_span: Span
    key: str | None = None  # the dict key (None in a tuple: the field is the tensor's name)
    train: bool = False  # exists only in training mode


class Return(Node):
    """`return @a, @b` (a tuple; one output: the tensor itself) or `return {out: @x, aux: @y}` (a dict)."""

    kind: Literal["return"] = "return"
    outputs: tuple[Output, ...]
    form: Literal["tuple", "dict"]


Stmt = Annotated[Union[Call, Repeat, For, Combine, If, Group, Use, Let, ParamDecl, Return],
                 Field(discriminator="kind")]


# --- definitions -------------------------------------------------------------------------------

class Param(Node):
    name: str
    default: Expr | None = None
    tensor: bool = False  # `@skip`: takes a tensor argument (in a network: an extra input, `default` its shape)


class Definition(Node):
    name: str
    name_span: Span
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]


class BlockDef(Definition):
    kind: Literal["block"] = "block"


class NetworkDef(Definition):
    kind: Literal["network"] = "network"
    #: a variant, `network resnet101 = resnet(layers=[3, 4, 23, 3])`: the network it specializes and the new
    #: defaults (params and body stay empty here; passes/resolve.py makes the variant a whole network)
    base: Call | None = None


class Import(Node):
    path: str


class Module(Frozen):
    """One parsed `.arch` file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    imports: tuple[Import, ...] = ()
    blocks: tuple[BlockDef, ...] = ()
    networks: tuple[NetworkDef, ...] = ()


for _model in (Attr, Index, FuncCall, BinOp, Unary, Ternary, Sequence, CompClause, ListComp, KeywordArg, Template, Item, Call, Repeat, For,
               Branch, Combine, If, Group, Use, Let, ParamDecl, Return, Param, Definition, BlockDef, NetworkDef):
    _model.model_rebuild()
