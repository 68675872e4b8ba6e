"""The combinator registry: each way of merging tensors (`add`, `concat`, `mul`) is one entry.

An entry is everything archdsl knows about one merge: its shape rule (pure Python), its lowering to torch
calls (torch imported only when it runs), how a diagram draws it, and its line in the documentation. The
grammar reads any `name { branch | branch }`; elaboration looks the name up here. No other module spells a
combinator's name, so adding one is a `Combinator` subclass decorated with `@register`, plus its row in
`docs/language.md`:

    @register
    class Maximum(Combinator):
        name = "maximum"
        doc = "elementwise maximum of inputs of the same shape"
        requirement = "branches must have the same shape"
        symbol = "max"

        def infer(self, inputs):
            return same_shape(self, inputs, code="E0201")

        def lower(self, inputs, call=eager):
            import torch

            return fold(call, torch.maximum, inputs)

A shape rule sees a list of `MergeInput` (type, the producer's name and place), so the same rule serves the
branches of `add { a | b }` and named tensors from anywhere in a graph:

>>> branches = [MergeInput(TensorType.of(16, 8, 8), "branch 1"), MergeInput(TensorType.of(32, 8, 8), "branch 2")]
>>> COMBINATORS["concat"].infer(branches).dims
(48, 8, 8)
>>> COMBINATORS["add"].infer(branches)
Traceback (most recent call last):
archdsl.combinators.MergeError: `add`: branch 2 has shape 32x8x8, branch 1 has 16x8x8
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

from .source import Span
from .types import CHANNELS, SHAPE, SPATIAL, TensorType

#: records one call of a torch function and returns its result: when lowering, the expression of that call in
#: the generated forward's source (lower/codegen.py); run eagerly (`eager`), the function's result
Call = Callable[..., Any]


def eager(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """The `Call` that runs each torch function at once (a lowering used outside generated code)."""
    return function(*args, **kwargs)


@dataclass(frozen=True)
class MergeInput:
    """One input of a merge: its type, and who produced it, for the messages of the shape rule."""

    type: TensorType
    name: str  # "branch 2"; a named tensor once the IR has them
    span: Span | None = None  # where the producer is written


class MergeError(Exception):
    """The inputs break the rule: `culprit` (an index into the inputs) disagrees with `reference` on `aspect`.

    Elaboration turns it into a diagnostic that traces where that aspect of both inputs was decided.
    """

    def __init__(self, code: str, message: str, *, culprit: int, reference: int, aspect: str,
                 help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.help = code, message, help
        self.culprit, self.reference, self.aspect = culprit, reference, aspect


class Combinator:
    """One way of merging tensors. Subclasses set the class attributes and override `infer` and `lower`."""

    name: ClassVar[str]
    #: its row in the documentation: what it computes
    doc: ClassVar[str]
    #: what the inputs must satisfy, shown under the combinator's name when they do not
    requirement: ClassVar[str]
    #: drawn in a diagram: one character (`+`) sits in a circle, a word (`concat`) in a small box
    symbol: ClassVar[str]
    #: diagrams write the shape of every input on its edge (for concat, whose input channels add up)
    label_inputs: ClassVar[bool] = False
    #: how a diagram summarizes a block whose last merge takes the block's own input (`residual`)
    with_identity: ClassVar[str | None] = None

    def infer(self, inputs: Sequence[MergeInput]) -> TensorType:
        """The merged type; raises `MergeError` naming the input that breaks the rule, and how."""
        raise NotImplementedError

    def lower(self, inputs: list, call: Call = eager) -> Any:
        """The merged tensor, computed from the inputs through `call` (torch is imported here, lazily)."""
        raise NotImplementedError


COMBINATORS: dict[str, Combinator] = {}


def register(cls: type[Combinator]) -> type[Combinator]:
    """Class decorator: registers one instance; a duplicate name is a programming error."""
    if cls.name in COMBINATORS:
        raise ValueError(f"combinator `{cls.name}` is registered twice")
    COMBINATORS[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove an entry (tests register throwaway combinators)."""
    del COMBINATORS[name]


def names_in_words(suffix: str = "") -> str:
    """"`add`, `concat` or `mul`" (each name followed by `suffix`), for messages that list the combinators."""
    names = [f"`{name}{suffix}`" for name in COMBINATORS]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def fold(call: Call, function: Callable, inputs: list) -> Any:
    """`function` applied pairwise from the left: a + b + c as (a + b) + c, as a hand-written forward does."""
    result = inputs[0]
    for other in inputs[1:]:
        result = call(function, result, other)
    return result


def disagreement(a: TensorType, b: TensorType, channels: bool, spatial: bool) -> str:
    """The aspect to blame when `a` and `b` differ in channels and/or spatial size as given."""
    if a.rank != b.rank or a.rank != 3 or channels == spatial:
        return SHAPE
    return CHANNELS if channels else SPATIAL


def same_shape(combinator: Combinator, inputs: Sequence[MergeInput], code: str) -> TensorType:
    """The rule of elementwise merges: every input has the shape of the first."""
    first = inputs[0]
    for index, other in enumerate(inputs[1:], start=1):
        a, b = first.type, other.type
        if a.dims != b.dims:
            raise MergeError(code, f"`{combinator.name}`: {other.name} has shape {b}, {first.name} has {a}",
                             culprit=index, reference=0, help=_same_shape_help(a, b),
                             aspect=disagreement(a, b, a.c != b.c, a.spatial != b.spatial))
    return first.type


def _same_shape_help(a: TensorType, b: TensorType) -> str:
    if a.rank == b.rank == 3 and a.c != b.c and a.spatial == b.spatial:
        return f"channels differ ({a.c} vs {b.c}): project the shortcut with a 1x1 conv to {max(a.c, b.c)} channels"
    if a.rank == b.rank == 3 and a.spatial != b.spatial:
        return "spatial sizes differ: give the shortcut the same stride as the main branch"
    return "both branches must produce the same shape"


def _spatial(t: TensorType) -> str:
    return "x".join(map(str, t.spatial)) if t.rank == 3 else f"(flat {t.c})"


def _broadcasts(a: TensorType, b: TensorType) -> bool:
    return a.rank == b.rank and all(x == y or 1 in (x, y) for x, y in zip(a.dims, b.dims))


@register
class Add(Combinator):
    name = "add"
    doc = "sum of inputs of the same shape (a residual connection)"
    requirement = "branches must have the same shape"
    symbol = "+"
    with_identity = "residual"

    def infer(self, inputs: Sequence[MergeInput]) -> TensorType:
        return same_shape(self, inputs, code="E0201")

    def lower(self, inputs: list, call: Call = eager) -> Any:
        return fold(call, operator.add, inputs)


@register
class Concat(Combinator):
    name = "concat"
    doc = "inputs joined on the channel axis; their heights and widths must agree"
    requirement = "branches must have the same height and width"
    symbol = "concat"
    label_inputs = True

    def infer(self, inputs: Sequence[MergeInput]) -> TensorType:
        first = inputs[0]
        for index, other in enumerate(inputs[1:], start=1):
            a, b = first.type, other.type
            if (a.rank, a.spatial) != (b.rank, b.spatial):
                raise MergeError("E0202", f"`concat`: {other.name} has spatial size {_spatial(b)}, {first.name} has "
                                 f"{_spatial(a)}", culprit=index, reference=0,
                                 aspect=disagreement(a, b, channels=False, spatial=True),
                                 help="branches must keep the same height and width; check strides and padding")
        return TensorType.of(sum(i.type.c for i in inputs), *first.type.spatial)

    def lower(self, inputs: list, call: Call = eager) -> Any:
        import torch

        return call(torch.cat, inputs, dim=1)


@register
class Mul(Combinator):
    name = "mul"
    doc = "elementwise product, broadcast (a `Cx1x1` gate scales a feature map, as in squeeze-and-excitation)"
    requirement = "branches must broadcast together"
    symbol = "×"

    def infer(self, inputs: Sequence[MergeInput]) -> TensorType:
        dims = list(inputs[0].type.dims)
        for index, other in enumerate(inputs[1:], start=1):
            merged = TensorType.of(*dims)
            if not _broadcasts(merged, other.type):
                # blame the earlier input that set the dimension in conflict (the first one, with two inputs)
                reference = next(i for i in range(index) if not _broadcasts(inputs[i].type, other.type))
                a, b = inputs[reference].type, other.type
                bad = [x != y and 1 not in (x, y) for x, y in zip(a.dims, b.dims)]
                raise MergeError("E0203", f"`mul`: {other.name} has shape {b}, which does not broadcast with {merged}",
                                 culprit=index, reference=reference, aspect=disagreement(a, b, bad[0], any(bad[1:])),
                                 help="each dimension must be equal or 1 (e.g. Cx1x1 gates from `gap`)")
            dims = [max(x, y) for x, y in zip(dims, other.type.dims)]
        return TensorType.of(*dims)

    def lower(self, inputs: list, call: Call = eager) -> Any:
        return fold(call, operator.mul, inputs)
