"""Named tensors: `-> name` makes one, `@name` uses it, anywhere later in the same block or network body.

Each body being elaborated (a network's, or one call of a block) has one `Names`: what each name means so
far, and every place the body's text names a tensor (found once per body by `scan`, so that a name used
too early is told apart from a name that does not exist). A name made in one graph and used in another
of the same body is carried across the submodules between them (`bring`): out of a finished group as an
extra output of its graph (`GraphBuilder.export`), into the group being built as an extra input (`capture`).

`scan` also checks, once per body, that `return` is its last statement (or the last of an `if` that is).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .. import ast
from ..diagnostics import ArchError, Label, error
from ..ir import InputNode
from ..source import Span
from ..types import TensorType
from .builder import GraphBuilder


@dataclass(frozen=True)
class Binding:
    """What a name means now: a value of some graph of the body, and where the text makes it."""

    builder: GraphBuilder
    value: int
    span: Span


@dataclass(frozen=True)
class Sites:
    """Every place a body's text makes each tensor name (`-> name`, `param name`, tensor parameters)."""

    made: dict[str, tuple[Span, ...]]


@dataclass
class Names:
    """The tensor names of one body while it is elaborated."""

    sites: Sites
    bindings: dict[str, Binding] = field(default_factory=dict)

    def bind(self, name: str, builder: GraphBuilder, value: int, span: Span) -> None:
        """Name `value`. A name is made at one place of a body; a loop that runs that place again rebinds it."""
        before = self.bindings.get(name)
        if before is not None and before.span != span:
            raise error("E0120", f"tensor `{name}` is named twice in this body", span, label="named again here",
                        secondary=(Label(span=before.span, message=f"`{name}` first named here"),),
                        help="give the second tensor another name; a name means one tensor of its body "
                             "(only a loop that runs the same `-> name` again rebinds it)")
        self.bindings[name] = Binding(builder, value, span)

    def lookup(self, name: str, span: Span) -> Binding:
        """The binding of `name` used at `span`, or the diagnostic for a name not (yet) made."""
        found = self.bindings.get(name)
        if found is not None:
            return found
        raise self._not_made(name, span)

    def type_of(self, name: str, span: Span) -> TensorType:
        """A named tensor's shape, for expressions (`@s1.c`): reading it carries nothing across graphs."""
        binding = self.lookup(name, span)
        return binding.builder.type_of(binding.value)

    def resolve(self, name: str, span: Span, builder: GraphBuilder) -> int:
        """The value of tensor `name` in `builder`'s graph, carried there from where it was made."""
        binding = self.lookup(name, span)
        return bring(binding.builder, binding.value, builder, name, binding.span)

    def _not_made(self, name: str, span: Span) -> ArchError:
        sites = self.sites.made.get(name, ())
        if not sites:
            known = sorted(self.bindings)
            close = difflib.get_close_matches(name, known, n=1)
            help_text = (f"did you mean `@{close[0]}`?" if close else
                         "name a tensor with `-> name` after the item that makes it" + (
                             f"; tensors named so far: {', '.join(f'`@{n}`' for n in known)}" if known else ""))
            return error("E0121", f"unknown tensor `@{name}`", span, label="not named in this body", help=help_text)
        later = [s for s in sites if (s.file, s.line, s.col) > (span.file, span.line, span.col)]
        if len(later) == len(sites):
            return error("E0122", f"tensor `@{name}` is used before it is made", span, label="used here",
                         secondary=(Label(span=later[0], message=f"`{name}` is made here, later"),),
                         help="a tensor exists from the item that names it on; move the use after it")
        return error("E0122", f"tensor `@{name}` is not made on the way here", span, label="used here",
                     secondary=tuple(Label(span=s, message=f"`{name}` is made here, in a part that did not run")
                                     for s in sites[:2]),
                     help="its `if` was not taken, or its loop ran no turn: make it on every path to this use")


def bring(source: GraphBuilder, value: int, target: GraphBuilder, name: str, span: Span | None) -> int:
    """`value` of `source`'s graph as a value of `target`'s: out of finished groups up to the graph that holds
    both, then into the groups being built down to `target`."""
    if source is target:
        return value
    down = []  # target and its enclosing graphs: the ones being built
    builder = target
    while builder is not None:
        down.append(builder)
        builder = builder.parent
    common = source
    while not any(common is b for b in down):  # out of finished groups
        value = common.export(value, name, span)
        common = common.parent
    for builder in reversed(down[:next(i for i, b in enumerate(down) if b is common)]):
        value = capture(builder, value, name, span)
    return value


def capture(builder: GraphBuilder, parent_value: int, name: str, span: Span | None) -> int:
    """A value of the parent graph, given to the group being built as an extra input."""
    found = builder.captured.get(parent_value)
    if found is None:
        found = add_input(builder, name, builder.parent.type_of(parent_value), parent_value, span)
        builder.captured[parent_value] = found
    return found


def add_input(builder: GraphBuilder, name: str, type: TensorType, source: int, span: Span | None) -> int:
    """An extra input of `builder`'s graph, fed by value `source` of the parent graph."""
    node = InputNode.model_construct(id=builder.next_id(), inputs=(), out=type, span=span, name=name, kind="input")
    builder.nodes.append(node)
    builder.input_sources[node.id] = source
    return node.id


# --- what a body's text says, found once per body


def scan(params: tuple[ast.Param, ...], body: tuple, network: bool) -> Sites:
    """Where the body makes each tensor name; raises E0124 for a `return` that is not last, or `train` in a
    block."""
    made: dict[str, list[Span]] = {}
    for param in params:
        if param.tensor:
            made.setdefault(param.name, []).append(param.span)
    _scan(body, True, network, made)
    return Sites({name: tuple(spans) for name, spans in made.items()})


def _scan(stmts, tail: bool, network: bool, made: dict[str, list[Span]]) -> None:
    last = len(stmts) - 1
    for i, stmt in enumerate(stmts):
        for target in getattr(stmt, "targets", ()):
            made.setdefault(target.name, []).append(target.span)
        if isinstance(stmt, ast.ParamDecl):
            made.setdefault(stmt.name, []).append(stmt.name_span)
        elif isinstance(stmt, ast.Return):
            if not (tail and i == last):
                raise misplaced_return(stmt.span)
            trained = next((o for o in stmt.outputs if o.train), None)
            if trained is not None and not network:
                raise error("E0124", "`train` outputs belong to a network's `return`", trained.span,
                            label="in a block", help="return the tensor from the block, and mark it `train` in "
                                                     "the network's `return`")
        elif isinstance(stmt, ast.If):
            at_end = tail and i == last and stmt.label is None  # a labelled `if` is a submodule: no return
            _scan(stmt.then, at_end, network, made)
            _scan(stmt.orelse, at_end, network, made)
        elif isinstance(stmt, (ast.Repeat, ast.For, ast.Group)):
            _scan(stmt.body, False, network, made)
        elif isinstance(stmt, ast.Combine):
            for branch in stmt.branches:
                _scan(branch.body, False, network, made)


def misplaced_return(span: Span) -> ArchError:
    return error("E0124", "`return` must be the last statement of a block or network body", span,
                 label="not last", help="move it to the end of the body; inside an `if`, the `if` must be last too, "
                                        "and branches, groups and loops cannot return")
