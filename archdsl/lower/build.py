"""Lowering: each IR graph becomes a plain `nn.Module` with named submodules in spec order and a generated forward.

The forward is Python source written from the graph (codegen.py) and compiled once per structure (classes.py),
so a call costs what a hand-written module's costs, and the result works with `torch.compile(fullgraph=True)`,
`torch.export`, ONNX export, pickling, deepcopy and DDP. Activations run in place where that is safe, as in
torchvision's hand-written models. The root module keeps the IR it was lowered from (`archdsl.nn.network_of`), which
reparameterization lowers in its deploy form.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext

import torch
from torch import nn

from ..ir import Graph, GroupNode, Network, OpNode, ParamNode
from ..primitives import REGISTRY
from ..nn import attach_network
from .classes import Block, generated_class
from .codegen import generate


def lower(network: Network, device: torch.device | str | None = None) -> Block:
    """Build the torch module of an elaborated network, its parameters freshly initialised.

    `device="meta"` builds the structure without allocating or initialising anything (reparameterization then
    assigns the weights it computes).
    """
    with torch.device(device) if device is not None else nullcontext():
        root = _lower_graph(network.graph, _class_name(network.name), False)
    attach_network(root, network)
    if network.feature_info:  # `features=`: what each returned map is, as timm's `features_only` models say
        root.__dict__["feature_info"] = network.feature_info
    return root


def _lower_graph(graph: Graph, class_name: str, checkpointed: bool) -> Block:
    code = generate(graph)
    block = generated_class(class_name, code, checkpointed)()
    children = block._modules  # set directly: a label may be any name (`forward`, `code`), the forward reads here
    for node in graph.nodes:
        if isinstance(node, OpNode):
            if node.name in code.inlined:  # written into the forward itself: no child module
                continue
            module = REGISTRY[node.op].build(node.params, graph.type_of(node.inputs[0]), node.out)
            if node.name in code.inplace and hasattr(module, "inplace"):
                module.inplace = True
        elif isinstance(node, GroupNode):
            module = _lower_graph(node.graph, _class_name(node.block or "Sequential"), node.checkpoint)
        elif isinstance(node, ParamNode):
            block._parameters[node.name] = nn.Parameter(torch.full(node.out.dims, float(node.init)))
            continue
        else:
            continue
        children[node.name] = module
    return block


@functools.lru_cache(maxsize=1024)
def _class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Block"
