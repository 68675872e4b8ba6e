"""The rules of rules.py applied to the IR, torch-free: the deploy network's structure, shapes and counts.

The same rules as `reparameterize` (graph.py) over the same facts, so lowering the result gives the modules,
names and parameter shapes that `reparameterize(lower(network))` gives (tested on every spec). `summary
--deploy`, `draw --deploy` and `--emit ir --deploy` use it without building anything; told of each edit
(`Follow`), state.py computes the deploy weights from the training form's state_dict along the way.

>>> import archdsl
>>> deploy_ir(archdsl.check("specs/repvgg_a0.arch")).param_count
8309384
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..ir import Graph, GroupNode, MergeNode, Network, OpNode
from ..primitives import REGISTRY
from ..primitives.base import pair
from ..primitives.conv import conv_padding
from ..types import TensorType
from .geometry import ASYMMETRIC_SAME, Branch, Fused
from .rules import AddPlan, Leaf, Op, Report, Role, input_of, rewrite, role_of

SUM = "add"  # the combinator whose operands the rules fuse


@dataclass
class DeployIR(Report):
    """The deploy network, what the pass changed, and what it left with the reason."""

    network: Network | None = None


class Follow(Protocol):
    """Told of each edit as the pass makes it, by module path: state.py computes the deploy weights along."""

    def dropped(self, path: str) -> None: ...  # an op or group that is the identity at inference
    def folded(self, norm: str, norm_op: OpNode, into: str) -> None: ...  # a norm folded into the op `into`
    def fused(self, name: str, members: list[tuple[str, OpNode] | None], plan: Fused) -> None: ...  # None: identity


def deploy_ir(network: Network) -> Network:
    """The network with BatchNorms folded, inference identities removed and linear branches fused."""
    return run(network).network


def run(network: Network, follow: Follow | None = None) -> DeployIR:
    """`deploy_ir`, also reporting each change and each pattern left with its reason (as `graph.run` does);
    `follow` is told of each edit (state.py: the deploy weights)."""
    result = DeployIR()
    graph = _rewrite(network.graph, "", result, follow)
    result.network = network.model_copy(update={"graph": graph, "param_count": _sum(graph, "param_count"),
                                                "macs": _sum(graph, "macs")})
    return result


def _rewrite(graph: Graph, prefix: str, report: Report, follow: Follow | None) -> Graph:
    nodes = tuple(_with_graph(n, _rewrite(n.graph, f"{prefix}{n.name}.", report, follow))
                  if isinstance(n, GroupNode) else n for n in graph.nodes)
    view = IRView(graph.model_copy(update={"nodes": nodes}), prefix, follow)
    rewrite(view, report)
    return view.graph()


def _with_graph(node: GroupNode, graph: Graph) -> GroupNode:
    return node.model_copy(update={"graph": graph, "param_count": _sum(graph, "param_count"),
                                   "macs": _sum(graph, "macs")})


def _sum(graph: Graph, attribute: str) -> int:
    return sum(getattr(n, attribute, 0) for n in graph.nodes)


class Value:
    """One value of a graph being rewritten: the input (`node` None) or a node, reading other values."""

    __slots__ = ("node", "inputs", "type", "fact")

    def __init__(self, node, inputs: list[Value], type: TensorType | None):
        self.node, self.inputs, self.type = node, inputs, type
        self.fact: Op | None = None  # what the rules know of an op node, worked out once


_OUTPUT = Value(None, [], None)  # the graph's output, as a user of the value it returns


class IRView:
    """One IR graph as a graph view (rules.GraphView): an ordered list of values, edited in place."""

    def __init__(self, graph: Graph, prefix: str, follow: Follow | None = None):
        self.prefix, self.follow = prefix, follow
        self.input = Value(None, [], graph.input)
        by_id = {0: self.input}
        self.values: list[Value] = []
        for node in graph.nodes:
            by_id[node.id] = Value(node, [by_id[i] for i in node.inputs], node.out)
            self.values.append(by_id[node.id])
        self.base, self.out = graph, by_id[graph.output]
        self.results = [by_id[o.node] for o in graph.outputs]  # a graph's named outputs, when it has several

    def graph(self) -> Graph:
        """The graph as it now is, its nodes renumbered 1..n in order (id 0 stays the input)."""
        ids = {id(self.input): 0, **{id(v): k + 1 for k, v in enumerate(self.values)}}
        nodes = tuple(_renumbered(v.node, ids[id(v)], tuple(ids[id(i)] for i in v.inputs)) for v in self.values)
        outputs = tuple(o.model_copy(update={"node": ids[id(r)]}) for o, r in zip(self.base.outputs, self.results))
        return self.base.model_copy(update={"nodes": nodes, "output": ids[id(self.out)], "outputs": outputs})

    # -- reading

    def nodes(self) -> list[Value]:
        return list(self.values)

    def output(self) -> Value:
        return self.out

    def is_input(self, value: Value) -> bool:
        return value is self.input

    def users(self, value: Value) -> list[Value]:
        outputs = [r for r in self.results if r is value] if self.results else [value] if self.out is value else []
        return [u for u in self.values for i in u.inputs if i is value] + [_OUTPUT] * len(outputs)

    def source(self, value: Value) -> Value | None:
        return value.inputs[0] if isinstance(value.node, (OpNode, GroupNode)) else None

    def op(self, value: Value) -> Op | None:
        if value.fact is None and isinstance(value.node, OpNode):
            value.fact = op_of(value.node, value.inputs[0].type)
        return value.fact

    def group(self, value: Value) -> IRView | None:
        node = value.node
        return IRView(node.graph, f"{self.prefix}{node.name}.") if isinstance(node, GroupNode) else None

    def is_add(self, value: Value) -> bool:
        return isinstance(value.node, MergeNode) and value.node.op == SUM

    def operands(self, add: Value) -> list[Value]:
        return list(add.inputs)

    def path(self, value: Value) -> str:
        return value.node.name

    def name(self, value: Value) -> str:
        node = value.node
        return f"{self.prefix}{node.op if isinstance(node, MergeNode) else node.name}"

    def describe(self, value: Value) -> str:
        node = value.node
        if node is None:
            return input_of(self.prefix)
        kind = (node.block or "group") if isinstance(node, GroupNode) else getattr(node, "op", node.kind)
        return f"`{self.name(value)}` ({kind})"

    def kind_name(self, role: Role) -> str:
        return role

    # -- editing

    def bypass(self, value: Value) -> None:
        if self.follow is not None:
            self.follow.dropped(f"{self.prefix}{value.node.name}")
        self._unlink(value)

    def fold(self, norm: Value, into: Leaf) -> None:
        producer = norm.inputs[0]
        if self.follow is not None:
            self.follow.folded(f"{self.prefix}{norm.node.name}", norm.node, f"{self.prefix}{into.path}")
        producer.node, producer.fact = _with_bias(producer.node, into.path.split(".")[1:]), None
        self._unlink(norm)

    def fuse(self, adds: list[Value], operands: list[Value], plan: AddPlan) -> str:
        g, conv, root = plan.fused.branch, REGISTRY["conv"], adds[0]
        params = conv.Params(out=g.out_channels, kernel=_square(g.kernel), stride=_square(g.stride),
                             pad=_square(g.padding), dilation=_square(g.dilation), groups=g.groups, bias=True)
        x, y = plan.source.type, root.node.out
        taken = {v.node.name for v in self.values if isinstance(v.node, (OpNode, GroupNode))}
        name, i = "reparam_conv", 1
        while name in taken:
            name, i = f"reparam_conv_{i}", i + 1
        node = OpNode.model_construct(id=0, inputs=(), out=y, span=root.node.span, op="conv", params=params,
                                      name=name, param_count=conv.param_count(params, x, y),
                                      macs=conv.macs(params, x, y), kind="op")
        fused = Value(node, [plan.source], y)
        if self.follow is not None:
            members = [None if leaf is None else (f"{self.prefix}{leaf.path}", _at(operands[i].node, leaf.path))
                       for i, leaf in zip(plan.members, plan.leaves)]
            self.follow.fused(f"{self.prefix}{name}", members, plan.fused)
        anchor = next(operands[i] for i, leaf in zip(plan.members, plan.leaves) if leaf)
        self.values.insert(self.values.index(anchor), fused)
        first = plan.members[0]
        kept = [fused if i == first else op for i, op in enumerate(operands) if i == first or i not in plan.members]
        for i, leaf in zip(plan.members, plan.leaves):
            if leaf is not None:
                self.values.remove(operands[i])
        for add in adds[1:]:
            self.values.remove(add)
        if len(kept) == 1:
            self._replace_uses(root, fused)
            self.values.remove(root)
        else:
            root.inputs = kept
        return name

    def _unlink(self, value: Value) -> None:
        self._replace_uses(value, value.inputs[0])
        self.values.remove(value)

    def _replace_uses(self, old: Value, new: Value) -> None:
        for value in self.values:
            value.inputs = [new if i is old else i for i in value.inputs]
        if self.out is old:
            self.out = new
        self.results = [new if r is old else r for r in self.results]


def op_of(node: OpNode, x: TensorType) -> Op:
    """What the rules need to know of an op reading a tensor of type `x`; the registry says what it is."""
    role = role_of(node.op)
    if role == "conv":
        p = node.params
        padding = conv_padding(p)
        branch = ASYMMETRIC_SAME if isinstance(padding, str) else \
            Branch(x.c, p.out, pair(p.kernel), pair(p.stride), padding, pair(p.dilation), p.groups)
        return Op("conv", node.op, x.c, branch=branch)
    if role == "norm":
        c = node.out.c
        return Op("norm", node.op, c, node.out.rank, Branch(c, c))
    return Op(role, node.op)


def _at(node, path: str) -> OpNode:
    """The op at `path` (its first name is `node`'s own) inside `node`."""
    for name in path.split(".")[1:]:
        node = next(n for n in node.graph.nodes if getattr(n, "name", None) == name)
    return node


def _renumbered(node, id: int, inputs: tuple[int, ...]):
    return node if (node.id, node.inputs) == (id, inputs) else node.model_copy(update={"id": id, "inputs": inputs})


def _with_bias(node, path: list[str]):
    """`node` (an op, or a group holding it at `path`) with that op's bias on: a norm folded into it."""
    if not path:
        added = 0 if node.params.bias else node.params.out
        return node.model_copy(update={"params": node.params.model_copy(update={"bias": True}),
                                       "param_count": node.param_count + added})
    inner = node.graph
    nodes = tuple(_with_bias(n, path[1:]) if getattr(n, "name", None) == path[0] else n for n in inner.nodes)
    return _with_graph(node, inner.model_copy(update={"nodes": nodes}))


def _square(value: tuple[int, int]) -> int | tuple[int, int]:
    return value[0] if value[0] == value[1] else value
