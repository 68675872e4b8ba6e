"""Inlay hints: the output shape after each item (`-> 64x56x56`), and the parameters of each block call.

Items written on one line that keep the shape (`conv(64, 3) bn relu`) get one hint, after the last of them:
every change of shape is shown, and a line of items does not drown in repeated shapes. An item inside a
block shows each shape it takes over the block's calls.
"""

from __future__ import annotations

from lsprotocol import types

from ... import ast
from ..convert import Context
from .shapes import outputs, params


def inlay_hints(context: Context, first_line: int, last_line: int) -> list[types.InlayHint]:
    """The hints for the items that end between two lines (1-based, inclusive)."""
    analysis = context.analysis
    candidates = []
    for item in analysis.items_ending(first_line, last_line):
        instances = analysis.records.get(item.span)
        if not instances:
            continue
        label = f"-> {outputs(instances)}"
        if _is_block_call(item, analysis):
            label += f" · {params(instances)}"
        candidates.append((item.span.end_line, item.span.end_col, label))
    candidates.sort()
    hints = []
    for i, (line, col, label) in enumerate(candidates):
        following = candidates[i + 1] if i + 1 < len(candidates) else None
        if following is not None and following[0] == line and _shape_of(following[2]) == _shape_of(label) \
                and "params" not in label:
            continue  # the next item on this line shows the same shape
        if i > 0 and candidates[i - 1][:2] == (line, col):
            continue  # a labelled loop and its body end at the same place
        hints.append(types.InlayHint(position=context.here.position(line, col), label=label,
                                     kind=types.InlayHintKind.Type, padding_left=True))
    return hints


def _shape_of(label: str) -> str:
    return label.split(" · ")[0]


def _is_block_call(item: ast.Item, analysis) -> bool:
    return isinstance(item, ast.Call) and analysis.scope is not None and analysis.scope.lookup(item.name) is not None
