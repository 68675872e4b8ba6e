"""Lowering: each IR graph becomes a `torch.fx.GraphModule` with named submodules in spec order.

The forward pass is generated Python code (no interpretation per call), so the result works with
`torch.compile(fullgraph=True)`, `torch.export`, ONNX export, pickling and DDP like a hand-written module.
Activations run in place where that is safe, as in torchvision's hand-written models.
"""

from __future__ import annotations

import functools

import torch
from torch import fx, nn

from ..combinators import COMBINATORS
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
    readers = _reader_counts(graph)
    fresh: set[int] = set()  # values that are new tensors of this graph, which an activation may overwrite
    call = functools.partial(_record, fx_graph)
    for node in graph.nodes:
        types[node.id] = node.out
        if isinstance(node, MergeNode):
            inputs = [values[i] for i in node.inputs]
            values[node.id] = COMBINATORS[node.op].lower(inputs, call)
            if all(values[node.id] is not x for x in inputs):  # a one-input sum is its input, maybe shared
                fresh.add(node.id)
            continue
        if isinstance(node, OpNode):
            module = REGISTRY[node.op].build(node.params, types[node.inputs[0]], node.out)
            # in place when the input is a fresh tensor read by nothing else, as torchvision's models do it
            if (REGISTRY[node.op].family == "act" and node.inputs[0] in fresh and readers[node.inputs[0]] == 1
                    and hasattr(module, "inplace")):
                module.inplace = True
            if node.op in _FRESH_OUTPUT_OPS:
                fresh.add(node.id)
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


def _record(fx_graph: fx.Graph, function, *args, **kwargs) -> fx.Node:
    """A combinator's lowering calls torch functions through this: each call becomes a node of the graph."""
    return fx_graph.call_function(function, args, kwargs)


def _reader_counts(graph: Graph) -> dict[int, int]:
    """How many nodes (and the graph's output) read each value."""
    readers: dict[int, int] = {graph.output: 1}
    for node in graph.nodes:
        for i in node.inputs:
            readers[i] = readers.get(i, 0) + 1
    return readers


def _class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Block"
