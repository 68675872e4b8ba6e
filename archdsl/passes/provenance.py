"""Where a tensor's shape was decided, for diagnostics: "channels set to 64 here".

When the branches of `add` disagree, the useful place to show is rarely the `add` itself: it is the conv that
set one branch's channels, maybe far away, in the caller or in the network's `input`. The IR nodes carry
their spans, so we walk back from a branch's output through the ops that keep the aspect in question
(`bn`, `relu`...) to the first one that decided it. A block call or a merge that changed it is shown as
itself, not as some op inside (a `concat` decides its channels, an `add` keeps those of its first input).
Which aspect to trace is the shape rule's finding (`MergeError.aspect`, or the code of a primitive's error).
"""

from __future__ import annotations

from typing import Sequence

from ..ir import InputNode, OpNode, ParamNode, SelectNode
from ..source import Span
from ..types import CHANNELS, SHAPE, SPATIAL, TensorType

__all__ = ["CHANNELS", "FROM_INPUT", "SHAPE", "SPATIAL", "describe", "origin", "trace"]


class _FromInput:
    """Marker: the aspect comes unchanged from the graph's input."""


FROM_INPUT = _FromInput()


class _FromExtraInput(int):
    """Marker: the aspect comes unchanged from an extra input of the graph (this InputNode id)."""


def describe(aspect: str, t: TensorType) -> str:
    """"channels set to 64", "spatial size set to 16x16", "shape set to 10"."""
    if aspect == CHANNELS:
        return f"channels set to {t.c}"
    if aspect == SPATIAL and t.rank == 3:
        return f"spatial size set to {t.h}x{t.w}"
    return f"shape set to {t}"


def origin(nodes: Sequence, input_type: TensorType, value: int, aspect: str) -> Span | _FromInput | None:
    """The span of the node that decided `aspect` of `value` in a graph, or FROM_INPUT."""
    while value != 0:
        node = nodes[value - 1]
        if isinstance(node, InputNode):
            return _FromExtraInput(value)
        if isinstance(node, (ParamNode, SelectNode)):  # a learnable tensor's declaration; a name given to an output
            return node.span
        before = input_type if node.inputs[0] == 0 else nodes[node.inputs[0] - 1].out
        if isinstance(node, OpNode):
            if _decides(node, before, aspect):
                return node.span
        elif _changes(before, node.out, aspect):  # a merge, or a call whose inside is the callee's business
            return node.span
        value = node.inputs[0]
    return FROM_INPUT


def _decides(node: OpNode, before: TensorType, aspect: str) -> bool:
    """An op decides channels when it changes them or states them (`conv(64)` on 64 channels)."""
    if aspect == CHANNELS and "out" in getattr(type(node.params), "model_fields", {}):
        return True
    return _changes(before, node.out, aspect)


def _changes(before: TensorType, after: TensorType, aspect: str) -> bool:
    if before.rank != after.rank:
        return True
    if aspect == CHANNELS:
        return before.c != after.c
    if aspect == SPATIAL:
        return before.spatial != after.spatial
    return before.dims != after.dims


def trace(builder, value: int, aspect: str) -> Span | None:
    """Like `origin`, but through the enclosing builders of elaboration up to the network's `input`."""
    while True:
        found = origin(builder.nodes, builder.input, value, aspect)
        if isinstance(found, _FromExtraInput):  # a tensor argument or a captured name: where the caller made it
            source = builder.input_sources.get(int(found))
            if source is None or builder.parent is None:  # a network's own extra input
                return builder.nodes[int(found) - 1].span
            builder, value = builder.parent, source
            continue
        if found is not FROM_INPUT:
            return found
        if builder.parent is None:
            return builder.input_span
        builder, value = builder.parent, builder.parent_value
