"""The reparameterization pass over the IR, torch-free: the deploy network's structure, shapes and counts.

It applies the rules of graph.py in the same order, with the same geometry (geometry.py), so lowering the
result gives the modules, names and parameter shapes that `reparameterize(lower(network))` gives (tested).
`summary --deploy` and `draw --deploy` use it without building anything.

>>> import archdsl
>>> deploy_ir(archdsl.check("specs/repvgg_a0.arch")).param_count
8309384
"""

from __future__ import annotations

from ..ir import Graph, GroupNode, MergeNode, Network, OpNode
from ..primitives import REGISTRY
from ..primitives.base import pair
from ..types import TensorType
from .geometry import Branch, Fused, fuse

FOLDS_INTO = {3: "conv", 1: "linear"}  # a BatchNorm on feature maps follows a conv; on flat features, a linear


def deploy_ir(network: Network) -> Network:
    """The network with BatchNorms folded, inference identities removed and linear branches fused."""
    graph = _rewrite(network.graph)
    return network.model_copy(update={"graph": graph, "param_count": _sum(graph, "param_count"),
                                      "macs": _sum(graph, "macs")})


def _rewrite(graph: Graph) -> Graph:
    nodes = [_rewrite_group(n) if isinstance(n, GroupNode) else n for n in graph.nodes]
    work = _Work(graph.input, nodes, graph.output)
    while any([work.drop_identities(), work.fold_norms(), work.fuse_adds()]):
        pass
    return work.graph()


def _rewrite_group(node: GroupNode) -> GroupNode:
    return _with_graph(node, _rewrite(node.graph))


def _with_graph(node: GroupNode, graph: Graph) -> GroupNode:
    return node.model_copy(update={"graph": graph, "param_count": _sum(graph, "param_count"),
                                   "macs": _sum(graph, "macs")})


def _sum(graph: Graph, attribute: str) -> int:
    return sum(getattr(n, attribute, 0) for n in graph.nodes)


class _Work:
    """One graph being rewritten: an ordered node list, edited in place, renumbered at the end."""

    def __init__(self, input: TensorType, nodes: list, output: int):
        self.input, self.nodes, self.output = input, nodes, output

    def type_of(self, id: int) -> TensorType:
        return self.input if id == 0 else self.node(id).out

    def node(self, id: int):
        return next(n for n in self.nodes if n.id == id)

    def users(self, id: int) -> int:
        return sum(n.inputs.count(id) for n in self.nodes) + (self.output == id)

    def replace_uses(self, old: int, new: int) -> None:
        self.nodes = [n.model_copy(update={"inputs": tuple(new if i == old else i for i in n.inputs)})
                      if old in n.inputs else n for n in self.nodes]
        self.output = new if self.output == old else self.output

    def remove(self, id: int) -> None:
        self.nodes = [n for n in self.nodes if n.id != id]

    def replace(self, node) -> None:
        self.nodes = [node if n.id == node.id else n for n in self.nodes]

    def bypass(self, node) -> None:
        self.replace_uses(node.id, node.inputs[0])
        self.remove(node.id)

    # -- 1. identities

    def drop_identities(self) -> bool:
        changed = False
        for node in list(self.nodes):
            if (isinstance(node, OpNode) and (node.op == "identity" or REGISTRY[node.op].inference_identity)) \
                    or (isinstance(node, GroupNode) and not node.graph.nodes and node.graph.output == 0):
                self.bypass(node)
                changed = True
        return changed

    # -- 2. BatchNorm into the conv or linear before it

    def fold_norms(self) -> bool:
        changed = False
        for node in [n for n in self.nodes if isinstance(n, OpNode) and n.op == "bn"]:
            source = node.inputs[0]
            if source == 0 or self.users(source) > 1:
                continue
            producer = self.node(source)
            folded = _fold_into(producer, FOLDS_INTO[node.out.rank])
            if folded is not None:
                self.replace(folded)
                self.bypass(node)
                changed = True
        return changed

    # -- 3. sums of linear branches

    def fuse_adds(self) -> bool:
        for node in list(self.nodes):
            if isinstance(node, MergeNode) and node.op == "add" and self._fuse_add(node):
                return True  # as graph.py: match the remaining adds again on the new graph
        return False

    def _fuse_add(self, merge: MergeNode) -> bool:
        operands = list(merge.inputs)
        branches = [self._linear_branch(i) for i in operands]
        sources = [b[0] for b in branches if b is not None and b[1].op == "conv"]
        best = None
        for source in dict.fromkeys(sources):
            members = [k for k, (i, b) in enumerate(zip(operands, branches))
                       if i == source or (b is not None and b[0] == source)]
            if best is None or len(members) > len(best[1]):
                best = source, members
        if best is None or len(best[1]) < 2:
            return False
        source, members = best
        channels = self.type_of(source).c
        geometries = [Branch(channels, channels) if operands[k] == source else _branch(branches[k][1], channels)
                      for k in members]
        if any(g is None for g in geometries):
            return False
        plan = fuse(geometries)
        if isinstance(plan, str):
            return False
        self._apply(merge, source, operands, members, plan)
        return True

    def _linear_branch(self, id: int) -> tuple[int, OpNode] | None:
        """(input, op) when operand `id` is one conv or bn of its input, read only by the add."""
        if id == 0 or self.users(id) != 1:
            return None
        node = self.node(id)
        leaf = _single_op(node)
        if leaf is None or leaf.op not in ("conv", "bn") or leaf.out.rank != 3:
            return None
        return node.inputs[0], leaf

    def _apply(self, merge: MergeNode, source: int, operands: list[int], members: list[int], plan: Fused) -> None:
        g = plan.branch
        conv = REGISTRY["conv"]
        params = conv.Params(out=g.out_channels, kernel=_square(g.kernel), stride=_square(g.stride),
                             pad=_square(g.padding), dilation=_square(g.dilation), groups=g.groups, bias=True)
        x, y = self.type_of(source), merge.out
        names = {n.name for n in self.nodes if isinstance(n, (OpNode, GroupNode))}
        name, i = "reparam_conv", 1
        while name in names:
            name, i = f"reparam_conv_{i}", i + 1
        new_id = max(n.id for n in self.nodes) + 1
        fused = OpNode.model_construct(id=new_id, inputs=(source,), out=y, span=merge.span, op="conv",
                                       params=params, name=name, param_count=conv.param_count(params, x, y),
                                       macs=conv.macs(params, x, y), kind="op")
        anchor = next((operands[k] for k in members if operands[k] != source), None)
        position = next(k for k, n in enumerate(self.nodes) if n.id == anchor)
        self.nodes.insert(position, fused)
        kept = [new_id if k == members[0] else i for k, i in enumerate(operands) if k == members[0] or k not in members]
        for k in members:
            if operands[k] != source:
                self.remove(operands[k])
        if len(kept) == 1:
            self.replace_uses(merge.id, new_id)
            self.remove(merge.id)
        else:
            self.replace(merge.model_copy(update={"inputs": tuple(kept)}))

    def graph(self) -> Graph:
        """The rewritten graph, its nodes renumbered 1..n in order (id 0 stays the input)."""
        ids = {0: 0, **{n.id: k + 1 for k, n in enumerate(self.nodes)}}
        nodes = tuple(n.model_copy(update={"id": ids[n.id], "inputs": tuple(ids[i] for i in n.inputs)})
                      for n in self.nodes)
        return Graph.model_construct(input=self.input, nodes=nodes, output=ids[self.output])


def _fold_into(producer, op: str):
    """`producer` (an op, or a group ending with one) with its `op` taking a bias, or None if it cannot."""
    if isinstance(producer, OpNode):
        if producer.op != op:
            return None
        added_bias = 0 if producer.params.bias else producer.params.out
        return producer.model_copy(update={"params": producer.params.model_copy(update={"bias": True}),
                                           "param_count": producer.param_count + added_bias})
    if isinstance(producer, GroupNode):
        inner = producer.graph
        if inner.output == 0:
            return None
        work = _Work(inner.input, list(inner.nodes), inner.output)
        if work.users(inner.output) != 1:
            return None
        folded = _fold_into(work.node(inner.output), op)
        if folded is None:
            return None
        work.replace(folded)
        return _with_graph(producer, Graph.model_construct(input=inner.input, nodes=tuple(work.nodes),
                                                          output=inner.output))
    return None


def _single_op(node):
    """The op when `node` is one op on its input, through groups holding only that op; else None."""
    if isinstance(node, OpNode):
        return node
    if isinstance(node, GroupNode):
        inner = node.graph
        if len(inner.nodes) == 1 and inner.output == inner.nodes[0].id and inner.nodes[0].inputs == (0,):
            return _single_op(inner.nodes[0])
    return None


def _branch(op: OpNode, channels: int) -> Branch | None:
    if op.op == "bn":
        return Branch(channels, channels)
    p = op.params
    kernel, dilation = pair(p.kernel), pair(p.dilation)
    if p.pad == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in totals):
            return None
        padding = tuple(t // 2 for t in totals)
    else:
        padding = pair(p.pad)
    return Branch(channels, p.out, kernel, pair(p.stride), padding, dilation, p.groups)


def _square(value: tuple[int, int]) -> int | tuple[int, int]:
    return value[0] if value[0] == value[1] else value
