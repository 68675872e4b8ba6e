"""Lowering: each IR graph becomes a `torch.fx.GraphModule` with named submodules in spec order.

The forward pass is generated Python code (no interpretation per call), so the result works with
`torch.compile(fullgraph=True)`, `torch.export`, ONNX export, pickling and DDP like a hand-written module.
Activations run in place where that is safe, as in torchvision's hand-written models.
"""

from __future__ import annotations

import operator

import torch
from torch import fx, nn

from ..ir import Graph, MergeNode, Network, OpNode
from ..nn import PRIMITIVE
from ..primitives import REGISTRY

#: ops whose output is a fresh tensor that their backward pass does not need: an activation may overwrite it
_FRESH_OUTPUT_OPS = frozenset({"conv", "bn", "linear", "gn", "ln"})


class _CodeCachedGraph(fx.Graph):
    """An fx graph that reuses the generated source of a structurally identical graph.

    Specs repeat blocks (googlenet's inceptions, mobilenet's layers): generating Python once per structure
    instead of once per module halves build time. The key holds everything the code depends on.
    """

    def python_code(self, root_module: str, **kwargs):
        key = (root_module, tuple(sorted(kwargs.items())), type(self._codegen), tuple(
            (n.op, n.name, n.target, repr(fx.node.map_arg(n.args, lambda a: a.name)),
             repr(fx.node.map_arg(n.kwargs, lambda a: a.name)), repr(n.type)) for n in self.nodes))
        code = _CODE_CACHE.get(key)
        if code is None:
            if len(_CODE_CACHE) >= _CODE_CACHE_SIZE:  # a process that builds many specs (a search loop)
                _CODE_CACHE.clear()
            code = _CODE_CACHE[key] = super().python_code(root_module, **kwargs)
        return code


_CODE_CACHE: dict = {}
_CODE_CACHE_SIZE = 4096


class Block(fx.GraphModule):
    """A lowered block. Its children are compiled when they are built, so building a parent does not
    recompile every module below it again (fx's default, which made deep specs slow to build)."""

    def _recompile_submodules(self):
        return []


def lower(network: Network) -> fx.GraphModule:
    """Build the torch module of an elaborated network (parameters freshly initialised)."""
    return _lower_graph(network.graph, _class_name(network.name))


def _lower_graph(graph: Graph, class_name: str, block_class: type[fx.GraphModule] | None = None) -> fx.GraphModule:
    fx_graph = _CodeCachedGraph()
    values = {0: fx_graph.placeholder("x")}
    types = {0: graph.input}
    children: dict[str, nn.Module] = {}
    in_place = _in_place_safe(graph)
    for node in graph.nodes:
        types[node.id] = node.out
        if isinstance(node, MergeNode):
            values[node.id] = _merge(fx_graph, node.op, [values[i] for i in node.inputs])
            continue
        if isinstance(node, OpNode):
            module = REGISTRY[node.op].build(node.params, types[node.inputs[0]], node.out)
            if node.id in in_place and hasattr(module, "inplace"):
                module.inplace = True
            children[node.name] = module
        else:
            child_class = CheckpointedBlock if node.checkpoint else Block
            children[node.name] = _lower_graph(node.graph, _class_name(node.block or "Sequential"), child_class)
        values[node.id] = fx_graph.call_module(node.name, (values[node.inputs[0]],))
        if isinstance(node, OpNode):  # passes over the fx graph (reparameterization) ask the registry about it
            values[node.id].meta[PRIMITIVE] = node.op
    fx_graph.output(values[graph.output])
    root = nn.Module()
    for name, module in children.items():
        root.add_module(name, module)
    return (block_class or Block)(root, fx_graph, class_name=class_name)


class CheckpointedBlock(Block):
    """`checkpoint block(...)`: while training, the block's activations are recomputed in the backward pass
    instead of stored (torch.utils.checkpoint), trading compute for memory as torchvision's
    `memory_efficient` DenseNet does. In eval mode or without gradients it is an ordinary call."""

    def __call__(self, *args, **kwargs):
        if self.training and torch.is_grad_enabled():
            from torch.utils.checkpoint import checkpoint

            return checkpoint(super().__call__, *args, use_reentrant=False, **kwargs)
        return super().__call__(*args, **kwargs)


def _in_place_safe(graph: Graph) -> set[int]:
    """Activations that may overwrite their input: it is a fresh tensor of this graph, read by nothing else."""
    users: dict[int, int] = {graph.output: 1}
    for node in graph.nodes:
        for i in node.inputs:
            users[i] = users.get(i, 0) + 1
    producers = {n.id: n for n in graph.nodes}
    safe = set()
    for node in graph.nodes:
        if not isinstance(node, OpNode) or REGISTRY[node.op].family != "act":
            continue
        source = producers.get(node.inputs[0])
        # a one-branch add/mul lowers to its branch's own tensor, which may be shared: not fresh
        fresh = ((isinstance(source, MergeNode) and (len(source.inputs) > 1 or source.op == "concat")) or
                 (isinstance(source, OpNode) and source.op in _FRESH_OUTPUT_OPS))
        if fresh and users.get(node.inputs[0]) == 1:
            safe.add(node.id)
    return safe


def _merge(fx_graph: fx.Graph, op: str, inputs: list[fx.Node]) -> fx.Node:
    if op == "concat":
        return fx_graph.call_function(torch.cat, (inputs,), {"dim": 1})
    combine = operator.add if op == "add" else operator.mul
    result = inputs[0]
    for other in inputs[1:]:
        result = fx_graph.call_function(combine, (result, other))
    return result


def _class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Block"
