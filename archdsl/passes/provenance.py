"""Where a tensor's shape was decided, for diagnostics: "channels set to 64 here".

When the branches of `add` disagree, the useful place to show is rarely the `add` itself: it is the conv that
set one branch's channels, maybe far away, in the caller or in the network's `input`. The IR nodes carry
their spans, so we walk back from a branch's output through the ops that keep the aspect in question
(`bn`, `relu`...) to the first one that decided it.
"""

from __future__ import annotations

from typing import Sequence

from ..ir import GroupNode, MergeNode, OpNode
from ..source import Span
from ..types import TensorType

#: the aspects of a shape that a merge can disagree on
CHANNELS, SPATIAL, SHAPE = "channels", "spatial size", "shape"


class _FromInput:
    """Marker: the aspect comes unchanged from the graph's input."""


FROM_INPUT = _FromInput()


def aspect_of(a: TensorType, b: TensorType) -> str:
    """Which aspect of two disagreeing shapes to trace."""
    if a.rank == b.rank == 3 and a.c != b.c and a.spatial == b.spatial:
        return CHANNELS
    if a.rank == b.rank == 3 and a.spatial != b.spatial:
        return SPATIAL
    return SHAPE


def describe(aspect: str, t: TensorType) -> str:
    """"channels set to 64", "spatial size becomes 16x16", "shape becomes 10"."""
    if aspect == CHANNELS:
        return f"channels set to {t.c}"
    if aspect == SPATIAL and t.rank == 3:
        return f"spatial size becomes {t.h}x{t.w}"
    return f"shape becomes {t}"


def origin(nodes: Sequence, input_type: TensorType, value: int, aspect: str) -> Span | _FromInput | None:
    """The span of the node that decided `aspect` of `value` in a graph, or FROM_INPUT."""
    while value != 0:
        node = nodes[value - 1]
        before = input_type if node.inputs[0] == 0 else nodes[node.inputs[0] - 1].out
        if isinstance(node, OpNode):
            if _decides(node, before, aspect):
                return node.span
        elif isinstance(node, MergeNode):
            if node.op == "concat" and aspect != SPATIAL:
                return node.span
        elif isinstance(node, GroupNode):
            inner = origin(node.graph.nodes, node.graph.input, node.graph.output, aspect)
            if inner is not FROM_INPUT:
                return inner
        value = node.inputs[0]
    return FROM_INPUT


def _decides(node: OpNode, before: TensorType, aspect: str) -> bool:
    after = node.out
    if before.rank != after.rank:
        return True
    if aspect == CHANNELS:
        return before.c != after.c or "out" in getattr(type(node.params), "model_fields", {})
    if aspect == SPATIAL:
        return before.spatial != after.spatial
    return before.dims != after.dims


def trace(builder, value: int, aspect: str) -> Span | None:
    """Like `origin`, but through the enclosing builders of elaboration up to the network's `input`."""
    while True:
        found = origin(builder.nodes, builder.input, value, aspect)
        if found is not FROM_INPUT:
            return found
        if builder.parent is None:
            return builder.input_span
        builder, value = builder.parent, builder.parent_value
