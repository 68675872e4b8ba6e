"""Block calls elaborated once per sweep: a call equal to one already made reuses that call's graph.

The body of a block call sees nothing of its caller but its bound arguments, its input type and the types of
its tensor arguments (a block's names, variables and scope are its own), so the graph it elaborates to is a
function of those, of the block and of the scope that defines it. IR nodes are frozen, so a graph made for one
variant of a sweep can be part of the next: EfficientNet's `mbconv_layers(...)` and `conv_norm_act(...)` repeat
within a network and across its width x depth x resolution grid, and the small sizes that the minimum-input
search tries soon shrink to the same shapes.

What a reused call does not repeat is still accounted for: the ops, steps, parameters, activation elements
and expression work it added to the elaboration's totals, how deep its items and calls nested, and which calls
it made (a call already on the stack would be a recursion error). When adding them would cross a limit, the call
is elaborated again instead, so that the error is the one a fresh elaboration reports. Only calls that finished
are remembered, and none while `features=` is asked for (it reaches into the builders of calls by label).
tests/test_sweep.py elaborates every spec and golden both ways and finds the same IR or the same diagnostics;
`archdsl.sweep` still takes the diagnostic of a failing variant from a fresh elaboration.

>>> from archdsl import pipeline
>>> c = pipeline.load("specs/efficientnet_b0.arch"); _ = pipeline.choose(c)
>>> memo = CallMemo(c.limits)
>>> nets = [pipeline.elaborate(c, {"depth": d}, elaborator=memo.elaborator(c.sources)) for d in (1.0, 1.2)]
>>> nets[1] == pipeline.elaborate(c, {"depth": 1.2}), memo.hits, memo.misses
(True, 34, 101)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ast
from ..budgets import current_value_budget
from ..ir import Network, Output, OutputKind
from ..source import SourceMap
from .binding import TensorArgument
from .builder import Frame, GraphBuilder, Limits
from .elaborate import Elaborator
from .evaluate import Value
from .resolve import FileScope

#: the running totals of an Elaborator that its limits bound, each with the limit that bounds it; a reused call
#: adds what it added to each (tests/test_sweep.py checks this covers every counter the Elaborator keeps)
TOTALS = (("op_count", "max_ops"), ("steps", "max_steps"), ("param_total", "max_params"),
          ("activation_total", "max_activations"))


@dataclass(frozen=True)
class _Call:
    """What one block call's body made, and what it added to the elaboration while it ran."""

    nodes: tuple  # the body's graph, as its builder held it when the body ended
    output: int
    returned: tuple[OutputKind, tuple[Output, ...]] | None
    inputs: tuple[int, ...]  # its InputNodes, one per tensor parameter, in order
    by_name: dict[str, int]
    selects: dict[tuple[int, int], int]
    totals: tuple[int, ...]  # added to each of TOTALS
    work: int  # expression work (budgets.ValueBudget)
    depth: int | None  # how much deeper than the call its items nested (None: no item)
    call_depth: int | None  # how many calls deeper than it its block calls went (None: it called none)
    frames: frozenset  # every call it made, as the recursion check compares calls
    owner: tuple  # the block and its scope, whose ids are in the key: kept alive so that no other takes them


class CallMemo:
    """The block calls of one sweep: one compilation, one set of limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.calls: dict[tuple, _Call] = {}
        self.sites: dict = {}  # tensors.scan of each body, shared by every elaboration
        self.hits = self.misses = 0

    def elaborator(self, sources: SourceMap | None = None) -> "MemoElaborator":
        """A fresh Elaborator for one network, under the memo's limits, that uses and fills this memo."""
        return MemoElaborator(self.limits, sources, self)


class MemoElaborator(Elaborator):
    """An Elaborator whose block calls go through a CallMemo; it elaborates one network, as any Elaborator."""

    def __init__(self, limits: Limits, sources: SourceMap | None, memo: CallMemo):
        super().__init__(limits, sources)
        self.memo = memo
        self._sites = memo.sites
        self._enabled = True
        self._deepest = 0  # the deepest item and call seen since the innermost call being recorded began
        self._deepest_call = -1
        self._made: list[set] = []  # per call being recorded: the calls made inside it

    def network(self, definition, scope, overrides=None, override_span=None, features=None) -> Network:
        self._enabled = not features  # features= reaches into block calls' builders, which reused calls lack
        return super().network(definition, scope, overrides, override_span, features)

    def _step(self, span) -> None:
        super()._step(span)
        if self.depth > self._deepest:
            self._deepest = self.depth

    def _check_recursion(self, frame: Frame) -> None:
        super()._check_recursion(frame)
        if len(self.frames) > self._deepest_call:
            self._deepest_call = len(self.frames)
        if self._made:
            try:
                self._made[-1].add(_recursion_key(frame))
            except TypeError:  # a value with no hash (given through the API): remember none of the calls around it
                self._made[:] = [_UNKEYABLE] * len(self._made)

    def _block_body(self, block: ast.BlockDef, defining: FileScope, bound: dict[str, Value],
                    tensors: dict[str, TensorArgument], value: int, builder: GraphBuilder) -> tuple[GraphBuilder, int]:
        if not self._enabled:
            return super()._block_body(block, defining, bound, tensors, value, builder)
        incoming = builder.type_of(value)
        tensor_types = tuple(builder.names.type_of(tensors[p.name].name, tensors[p.name].span)
                             for p in block.params if p.tensor)
        key = (id(block), id(defining), _key(bound), incoming, tensor_types)
        try:
            found = self.memo.calls.get(key)
        except TypeError:  # a value that cannot be a key: elaborate the call as usual, every time
            return super()._block_body(block, defining, bound, tensors, value, builder)
        if found is not None and self._fits(found):
            self.memo.hits += 1
            return self._reuse(found, block, tensors, value, builder)
        return self._record(key, block, defining, bound, tensors, value, builder)

    def _fits(self, call: _Call) -> bool:
        """Whether reusing `call` here stays within every limit, as elaborating it again would; if so, count it."""
        limits = self.limits
        totals = [getattr(self, name) + added for (name, _), added in zip(TOTALS, call.totals)]
        if any(total > getattr(limits, limit) for (_, limit), total in zip(TOTALS, totals)):
            return False
        if call.depth is not None and self.depth + call.depth > limits.max_depth:
            return False
        if call.call_depth is not None and len(self.frames) + call.call_depth >= limits.max_call_depth:
            return False
        if not call.frames.isdisjoint(_recursion_key(f) for f in self.frames):  # hashable: they were keys
            return False
        budget = current_value_budget()
        if budget.work + call.work > budget.limits.max_work:
            return False
        for (name, _), total in zip(TOTALS, totals):
            setattr(self, name, total)
        budget.work += call.work
        if call.depth is not None:
            self._deepest = max(self._deepest, self.depth + call.depth)
        if call.call_depth is not None:
            self._deepest_call = max(self._deepest_call, len(self.frames) + call.call_depth)
        if self._made:
            self._made[-1].update(call.frames)
        return True

    def _reuse(self, call: _Call, block: ast.BlockDef, tensors, value: int,
               builder: GraphBuilder) -> tuple[GraphBuilder, int]:
        """A builder holding the remembered graph, fed by this call's tensor arguments."""
        inner = GraphBuilder(builder.type_of(value), nodes=list(call.nodes), parent=builder, parent_value=value,
                             returned=call.returned, by_name=dict(call.by_name), selects=dict(call.selects))
        if call.inputs:
            sources = [builder.names.resolve(tensors[p.name].name, tensors[p.name].span, builder)
                       for p in block.params if p.tensor]
            inner.input_sources = dict(zip(call.inputs, sources))
        return inner, call.output

    def _record(self, key: tuple, block: ast.BlockDef, defining: FileScope, bound, tensors, value: int,
                builder: GraphBuilder) -> tuple[GraphBuilder, int]:
        """Elaborate the body as usual, and remember what it made and added."""
        self.memo.misses += 1
        before = tuple(getattr(self, name) for name, _ in TOTALS)
        budget = current_value_budget()
        work = budget.work
        outer_deepest, outer_call = self._deepest, self._deepest_call
        depth, calls = self.depth, len(self.frames)
        self._deepest, self._deepest_call = depth, -1
        self._made.append(set())
        try:
            inner, output = super()._block_body(block, defining, bound, tensors, value, builder)
            made = self._made[-1] if self._made[-1] is _UNKEYABLE else frozenset(self._made[-1])
        finally:
            self._made.pop()
            deepest, deepest_call = self._deepest, self._deepest_call
            self._deepest, self._deepest_call = max(outer_deepest, deepest), max(outer_call, deepest_call)
        if self._made:
            self._made[-1].update(made)
        inputs = tuple(inner.input_sources)
        if made is not _UNKEYABLE and len(inputs) == len(tensors) and not inner.extra_outputs and not inner.captured:
            self.memo.calls[key] = _Call(
                nodes=tuple(inner.nodes), output=output, returned=inner.returned, inputs=inputs,
                by_name=dict(inner.by_name), selects=dict(inner.selects),
                totals=tuple(getattr(self, name) - b for (name, _), b in zip(TOTALS, before)),
                work=budget.work - work, depth=deepest - depth if deepest > depth else None,
                call_depth=deepest_call - calls if deepest_call >= 0 else None, frames=made, owner=(block, defining))
        return inner, output


class _Unkeyable(set):
    """The calls made inside a call that cannot be remembered; adding to it changes nothing."""

    def add(self, _) -> None:
        pass

    def update(self, *_) -> None:
        pass


_UNKEYABLE = _Unkeyable()


def _recursion_key(frame: Frame) -> tuple:
    """What `_check_recursion` compares (with `==`) of two calls: the block, the argument values, the input."""
    return frame.block, frame.values, frame.incoming


def _key(value: Any) -> Any:
    """A value as a dictionary key that tells apart what `==` does not: 1, 1.0 and true; 0.0 and -0.0."""
    if isinstance(value, dict):
        return tuple((name, _key(v)) for name, v in value.items())
    kind = type(value)
    if kind is tuple:
        return (tuple, tuple(_key(v) for v in value))
    if kind is float:
        return (float, repr(value))
    return (kind, value)


__all__ = ["CallMemo", "MemoElaborator", "TOTALS"]
