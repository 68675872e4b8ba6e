"""The text of diagram nodes: op labels from the primitive registry, block titles, counts and shapes.

Rich labels are graphviz HTML-like labels; every piece of user text goes through `escape`.
"""

from __future__ import annotations


from ..combinators import COMBINATORS
from ..ir import Graph, GroupNode, MergeNode, OpNode, ParamNode
from ..primitives import REGISTRY
from ..values import repr_value
from .style import CHAIN_BORDER, FAMILY_COLOURS, MUTED_TEXT, UNKNOWN_FAMILY

MAX_LINE = 34


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def op_label(node: OpNode) -> str:
    """`conv 3x3, 64, /2`: the primitive's own label; an op the registry does not know shows its name."""
    primitive = REGISTRY.get(node.op)
    return primitive.label(node.params) if primitive is not None else node.op


def op_family(node: OpNode) -> tuple[str, bool]:
    primitive = REGISTRY.get(node.op)
    if primitive is None:
        return "", False
    return primitive.family, primitive.inference_identity


def tensor_params(node: OpNode) -> tuple[str, ...]:
    """The names of an op's tensor parameters (`resize(@like)`), which its inputs after the first fill."""
    primitive = REGISTRY.get(node.op)
    return primitive.tensor_params if primitive is not None else ()


def chain_label(chain: list[OpNode], dashed: bool = False) -> str:
    """`conv 3x3, 64 | bn | relu`: one cell per op, each in its family's colour (the frame dashed for a chain
    that only training mode runs)."""
    cells = []
    for node in chain:
        family, faded = op_family(node)
        fill, _ = FAMILY_COLOURS.get(family, UNKNOWN_FAMILY)
        text = escape(op_label(node))
        if faded:
            text = f'<FONT COLOR="{MUTED_TEXT}">{text}</FONT>'
        cells.append(f'<TD BGCOLOR="{fill}">{text}</TD>')
    frame = "rounded,dashed" if dashed else "rounded"
    return (f'<<TABLE BORDER="1" COLOR="{CHAIN_BORDER}" STYLE="{frame}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="4"><TR>{"".join(cells)}</TR></TABLE>>')


def param_label(node: ParamNode) -> str:
    """A learnable tensor, small: `layer_scale 96x1x1`."""
    return f'<<FONT POINT-SIZE="8"><B>{escape(node.name)}</B>  {node.out}</FONT>>'


def count(n: int) -> str:
    """11689512 -> `11.7M`, 147968 -> `148K`, 640 -> `640`: three significant digits."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            value = n / scale
            text = f"{value:.3g}" if value < 1000 else f"{value:.0f}"
            return text + suffix
    return str(n)


def params_text(n: int) -> str:
    return f"{count(n)} params" if n else "no params"


def constant_arguments(graph: Graph, calls: dict[str, list[dict]] | None = None) -> dict[str, set[str]]:
    """For each block called more than once in `graph` (at any depth), the arguments every call passes with
    the same value (`eps=1e-05`): they say nothing about one call, so diagrams leave them out."""
    top = calls is None
    calls = {} if calls is None else calls
    for node in graph.nodes:
        if isinstance(node, GroupNode):
            if node.block:
                calls.setdefault(node.block, []).append(node.args)
            constant_arguments(node.graph, calls)
    if not top:
        return {}
    return {block: {k for k in args[0] if all(k in a and a[k] == args[0][k] for a in args)}
            for block, args in calls.items() if len(args) > 1}


def argument_lines(groups: list[GroupNode], hidden: set[str], width: int = MAX_LINE) -> list[str]:
    """`c=64, stride=1`, broken between arguments into lines of about `width` characters; an argument that
    varies along a folded run shows its first and last values (`drop=0.075…0.0875`)."""
    pieces = []
    for key, value in groups[0].args.items():
        if key in hidden:
            continue
        last = groups[-1].args.get(key, value)
        text = repr_value(value) if last == value else f"{repr_value(value)}…{repr_value(last)}"
        pieces.append(f"{key}={text}")
    lines: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}, {piece}" if current else piece
        if current and len(candidate) > width:
            lines.append(current + ",")
            current = piece
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def small(text: str, colour: str = MUTED_TEXT, size: int = 8) -> str:
    return f'<FONT POINT-SIZE="{size}" COLOR="{colour}">{escape(text)}</FONT>'


def html(*lines: str) -> str:
    """Joins already escaped/marked-up lines into one HTML-like label, one table row per line (rows keep
    lines of different font sizes from overlapping, which `<BR/>` does not)."""
    if len(lines) == 1:
        return f"<{lines[0]}>"
    rows = "".join(f"<TR><TD>{line}</TD></TR>" for line in lines)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>>'


def op_chain(group: GroupNode, longest: int = 4) -> str | None:
    """`conv 3x3, 64 · bn · relu` when a block's body is a short chain of primitives."""
    nodes = group.graph.nodes
    if not nodes or len(nodes) > longest or not all(isinstance(n, OpNode) for n in nodes):
        return None
    if any(n.inputs != (previous,) for n, previous in zip(nodes, (0, *(m.id for m in nodes)))):
        return None
    return " · ".join(op_label(n) for n in nodes)


def block_summary(group: GroupNode) -> str | None:
    """What a collapsed block holds, in a few words: `6 × dense_layer` when its body is calls of one block
    (with merges between them), `residual` for an identity shortcut, `concat of 4 branches` otherwise."""
    nodes = group.graph.nodes
    blocks = [n.block or None for n in nodes if isinstance(n, GroupNode)]
    if not any(isinstance(n, OpNode) for n in nodes) and len(blocks) >= 2 and None not in blocks \
            and len(set(blocks)) == 1:
        return f"{len(blocks)} × {blocks[0]}"
    merges = [n for n in nodes if isinstance(n, MergeNode)]
    if not merges:
        return None
    last = merges[-1]
    with_identity = COMBINATORS[last.op].with_identity
    if with_identity and 0 in last.inputs:
        return with_identity
    return f"{last.op} of {len(last.inputs)} branches"


def block_title(path: str, block: str, repeat: int = 1) -> str:
    title = f"<B>{escape(path)}</B>"
    if block:
        title += f"  {escape(block)}"
    if repeat > 1:
        title += f"  <B>×{repeat}</B>"
    return title


def block_label(path: str, groups: list[GroupNode], hidden_args: set[str]) -> str:
    """A collapsed block call (or a folded run of equal calls): title, arguments, contents, parameters."""
    first = groups[0]
    lines = [block_title(path, first.block, len(groups))]
    chain = op_chain(first)
    if chain is not None:  # for a small wrapper block its ops say more than its arguments
        lines.append(small(chain))
    else:
        lines += [small(line) for line in argument_lines(groups, hidden_args)]
    details = [params_text(sum(g.param_count for g in groups))]
    summary = block_summary(first)
    if summary:
        details.insert(0, summary)
    lines.append(small(" · ".join(details), colour="#303030"))
    return html(*lines)
