"""Per-layer summary of an elaborated network, read statically off the IR: no forward pass, no torch.

Each row is one node of the IR: a primitive op (named by its state_dict path), a merge (`add`, `concat`,
`mul`: no parameters, but it produces a tensor), or a group (a block call or a labelled item, with the totals
of everything inside it). MACs are counted as torchvision's published GFLOPS count them: convolutions and
linear layers only, one multiply-accumulate per weight use.

Activation memory is the memory of every tensor that one sample's forward pass produces: the output of each
op and each merge, counted once, 4 bytes per element (float32). It is an upper bound on what inference keeps
alive at once, and what training keeps for the backward pass when no op runs in place.

A network with several outputs (`return @a, train @b`, or `features=`) has one `OutputRow` each: its shape,
whether it exists only in training, and the MACs and activations of everything it needs (the outputs share
what they have in common, so these do not add up). A learnable tensor (`param`) is a row of kind "param".

>>> from archdsl import check
>>> s = summarize(check("specs/resnet18.arch"))
>>> s.macs, s.params
(1814073344, 11689512)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .ir import Graph, GroupNode, MergeNode, Network, OpNode, ParamNode
from .primitives import REGISTRY

BYTES_PER_ELEMENT = 4  # float32


@dataclass(frozen=True)
class Row:
    name: str  # dotted module path, the state_dict prefix; a merge has its enclosing module's path
    kind: str  # "op", "merge", "group" or "param" (a learnable tensor)
    op: str  # the primitive, the merge op, or the block's name ("" for a labelled `{ ... }` group)
    label: str  # the op with its key parameters, e.g. "conv 3x3, 64, /2"
    depth: int  # 0 for items of the network itself
    output: tuple[int, ...]  # one sample's output shape (C, H, W) or (F,)
    params: int
    macs: int


@dataclass(frozen=True)
class OutputRow:
    """One output of a network with several: what computing it alone costs."""

    name: str  # a tuple's field, a dict's key, or the feature asked for
    output: tuple[int, ...]
    train_only: bool
    macs: int  # of every node it needs, shared nodes included
    activation_elements: int  # likewise


@dataclass(frozen=True)
class Summary:
    network: str
    file: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    rows: tuple[Row, ...]
    params: int
    macs: int
    activation_elements: int  # elements of every op and merge output, each tensor counted once
    args: dict = field(default_factory=dict)
    outputs: tuple[OutputRow, ...] = ()  # a network with several outputs: one row each
    output_kind: str = "tensor"  # "tuple", "dict" or "list" (features) when it has several
    features: tuple = ()  # `features=`: each feature map's `ir.Feature` (channels, reduction)

    @property
    def activation_bytes(self) -> int:
        return self.activation_elements * BYTES_PER_ELEMENT

    @property
    def input_bytes(self) -> int:
        return _numel(self.input) * BYTES_PER_ELEMENT

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_ELEMENT

    def to_json(self) -> dict:
        """A plain-JSON view of the summary, for `archdsl summary --format json`."""
        return {
            "network": self.network,
            "file": self.file,
            "arguments": self.args,
            "input": list(self.input),
            "output": list(self.output),
            "totals": {
                "params": self.params,
                "macs": self.macs,
                "activation_elements": self.activation_elements,
                "activation_bytes": self.activation_bytes,
                "input_bytes": self.input_bytes,
                "param_bytes": self.param_bytes,
            },
            "counting": {
                "macs": "conv and linear multiply-accumulates, as torchvision's GFLOPS",
                "activation_bytes": "every op and merge output of one sample, float32, each counted once",
            },
            "layers": [dict(asdict(row), output=list(row.output)) for row in self.rows],
            **({"outputs": {"kind": self.output_kind,
                            "rows": [dict(asdict(row), output=list(row.output)) for row in self.outputs]}}
               if self.outputs else {}),
            **({"features": [f.model_dump(mode="json") for f in self.features]} if self.features else {}),
        }


def summarize(network: Network, max_depth: int | None = None) -> Summary:
    """The rows of `network`, depth-first in execution order; groups deeper than `max_depth` are not opened."""
    rows: list[Row] = []
    _walk(network.graph, "", 0, max_depth, rows)
    graph = network.graph
    outputs = tuple(OutputRow(o.name, graph.type_of(o.node).dims, o.train_only,
                              *_cost(graph, graph.needed((o.node,)))) for o in graph.outputs)
    return Summary(network=network.name, file=network.file, input=network.input.dims, output=network.output.dims,
                   rows=tuple(rows), params=network.param_count, macs=network.macs,
                   activation_elements=_activations(network.graph), args=_jsonable(network.params),
                   outputs=outputs, output_kind=graph.output_kind, features=network.feature_info)


def _cost(graph: Graph, nodes) -> tuple[int, int]:
    """MACs and activation elements of some nodes of a graph (a group counts whole)."""
    chosen = [graph.nodes[i - 1] for i in nodes]
    macs = sum(getattr(n, "macs", 0) for n in chosen)
    elements = sum(_activations(n.graph) if isinstance(n, GroupNode) else
                   n.out.numel if isinstance(n, (OpNode, MergeNode)) else 0 for n in chosen)
    return macs, elements


def _walk(graph: Graph, prefix: str, depth: int, max_depth: int | None, rows: list[Row]) -> None:
    for node in graph.nodes:
        if isinstance(node, MergeNode):
            rows.append(Row(prefix.rstrip("."), "merge", node.op, node.op, depth, node.out.dims, 0, 0))
        elif isinstance(node, OpNode):
            rows.append(Row(prefix + node.name, "op", node.op, REGISTRY[node.op].label(node.params), depth,
                            node.out.dims, node.param_count, node.macs))
        elif isinstance(node, ParamNode):
            rows.append(Row(prefix + node.name, "param", "param", f"param {node.out}", depth, node.out.dims,
                            node.param_count, 0))
        elif isinstance(node, GroupNode):
            rows.append(Row(prefix + node.name, "group", node.block, _group_label(node), depth, node.out.dims,
                            node.param_count, node.macs))
            if max_depth is None or depth < max_depth:
                _walk(node.graph, f"{prefix}{node.name}.", depth + 1, max_depth, rows)


def _group_label(node: GroupNode) -> str:
    if not node.block:
        return "{ ... }"
    args = ", ".join(f"{k}={_short(v)}" for k, v in node.args.items())
    return f"{node.block}({args})"


def _short(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _activations(graph: Graph) -> int:
    total = 0
    for node in graph.nodes:
        if isinstance(node, GroupNode):
            total += _activations(node.graph)  # its output is the output of a node inside it
        elif isinstance(node, (OpNode, MergeNode)):  # extra inputs and selects are tensors made elsewhere
            total += node.out.numel
    return total


def _numel(dims: tuple[int, ...]) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _jsonable(value):
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
