"""The rules of rules.py applied to `torch.fx` graphs: `reparameterize` for a module archdsl did not build.

Each `GraphModule` (a traced module; nested ones too) is a graph view; its children are rewritten first. What
an op is comes from the primitive registry where a graph records it (`node.meta[archdsl.nn.PRIMITIVE]`);
otherwise torch's classes stand in. The weights come from modules.py. A module archdsl built has no fx graph:
it is deployed from its IR (deploy.py); tracing it gives one graph, which this pass rewrites just as well.

>>> import archdsl, torch
>>> model = archdsl.load("specs/repvgg_a0.arch").eval()
>>> deploy = reparameterize(torch.fx.symbolic_trace(model).eval())
>>> sum(p.numel() for p in deploy.parameters())
8309384
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass

import torch
from torch import fx, nn

from ..nn import PRIMITIVE
from .modules import BatchNorm, ReparamError, bn_unfoldable, branch_of, fuse_branches, fuse_conv_bn, \
    fuse_linear_bn, require_eval
from .rules import AddPlan, Leaf, Op, Report, Role, input_of, rewrite, role_of

ADDS = (operator.add, torch.add)
#: what a graph that archdsl did not lower calls the identity at inference
FOREIGN_IDENTITIES = (nn.Identity, nn.modules.dropout._DropoutNd)
#: the module class each role needs, so that a module swapped after lowering is not mistaken for another
_CLASSES = {"conv": nn.Conv2d, "norm": BatchNorm, "linear": nn.Linear}


@dataclass
class Reparameterized(Report):
    """The deploy module, what the pass changed, and what it left with the reason (for `--verbose`)."""

    module: nn.Module | None = None


def reparameterize(model: nn.Module, memory_format: torch.memory_format = torch.channels_last) -> nn.Module:
    """A new module computing what `model` computes in eval mode, with BatchNorms folded and branches fused."""
    return run(model, memory_format).module


def run(model: nn.Module, memory_format: torch.memory_format = torch.channels_last) -> Reparameterized:
    """`reparameterize`, also reporting each change and each pattern left unfused with its reason.

    The deploy module's weights are stored in `memory_format`: channels_last by default, the layout that
    oneDNN on CPUs and tensor cores on GPUs run fastest (0.44-0.89x the time of the contiguous layout on this
    project's CPU benchmark). Inputs may stay contiguous; pass `torch.contiguous_format` to keep the layout.
    """
    require_eval(model)
    if not any(isinstance(m, fx.GraphModule) for m in model.modules()):
        raise ReparamError(f"`{type(model).__name__}` holds no torch.fx graph to rewrite: build it with archdsl "
                           "(archdsl.reparameterize) or trace it with torch.fx.symbolic_trace first")
    result = Reparameterized(module=copy.deepcopy(model))
    _walk(result.module, "", result)
    result.module.to(memory_format=memory_format)
    return result


def _walk(module: nn.Module, prefix: str, report: Report) -> None:
    for name, child in list(module.named_children()):
        _walk(child, f"{prefix}{name}.", report)
    if isinstance(module, fx.GraphModule):
        rewrite(FxView(module, prefix), report)
        module.graph.lint()
        module.recompile()


def op_of(module: nn.Module, primitive: str | None) -> Op:
    """What the rules need to know of a leaf module, built from the primitive `primitive` (None: unknown)."""
    kind = type(module).__name__
    if primitive is not None:
        role = role_of(primitive)
        if role in _CLASSES and not isinstance(module, _CLASSES[role]):
            role = "other"
    elif isinstance(module, FOREIGN_IDENTITIES):
        role = "identity"
    else:
        role = next((r for r, cls in _CLASSES.items() if isinstance(module, cls)), "other")
    if role == "conv":
        return Op("conv", kind, module.in_channels, branch=branch_of(module))
    if role == "norm":
        rank = 3 if isinstance(module, nn.BatchNorm2d) else 1
        return Op("norm", kind, module.num_features, rank, branch_of(module), bn_unfoldable(module))
    return Op(role, kind)


class FxView:
    """One `GraphModule` as a graph view (rules.GraphView): fx nodes are the values."""

    def __init__(self, gm: fx.GraphModule, prefix: str):
        self.gm, self.graph, self.prefix = gm, gm.graph, prefix

    # -- reading

    def nodes(self) -> list[fx.Node]:
        return [n for n in self.graph.nodes if n.op not in ("placeholder", "output")]

    def output(self):
        return next(n for n in reversed(self.graph.nodes) if n.op == "output").args[0]

    def is_input(self, value) -> bool:
        return isinstance(value, fx.Node) and value.op == "placeholder"

    def users(self, value) -> list[fx.Node]:
        if not isinstance(value, fx.Node):
            return []
        return [user for user in value.users for _ in range(_uses(user, value))]

    def source(self, node) -> fx.Node | None:
        if not isinstance(node, fx.Node) or node.op != "call_module" or len(node.args) != 1 or node.kwargs \
                or not isinstance(node.args[0], fx.Node):
            return None
        return node.args[0]

    def op(self, node) -> Op | None:
        module = self._module(node)
        if module is None or isinstance(module, fx.GraphModule):
            return None
        return op_of(module, node.meta.get(PRIMITIVE))

    def group(self, node) -> FxView | None:
        module = self._module(node)
        return FxView(module, f"{self.prefix}{node.target}.") if isinstance(module, fx.GraphModule) else None

    def is_add(self, node) -> bool:
        return isinstance(node, fx.Node) and node.op == "call_function" and node.target in ADDS \
            and len(node.args) == 2 and not node.kwargs and all(isinstance(a, fx.Node) for a in node.args)

    def operands(self, add: fx.Node) -> list[fx.Node]:
        return list(add.args)

    def path(self, node: fx.Node) -> str:
        return node.target

    def name(self, node: fx.Node) -> str:
        return f"{self.prefix}{node.target if node.op == 'call_module' else node.name}"

    def describe(self, value: fx.Node) -> str:
        if value.op == "call_module":
            return f"`{self.name(value)}` ({type(self._module(value)).__name__})"
        if value.op == "placeholder":
            return input_of(self.prefix)
        what = getattr(value.target, "__name__", str(value.target))
        return f"`{self.name(value)}` ({what})"

    def kind_name(self, role: Role) -> str:
        return _CLASSES["conv" if role == "conv" else "linear"].__name__

    # -- editing

    def bypass(self, node: fx.Node) -> None:
        node.replace_all_uses_with(node.args[0])
        self._erase(node)

    def fold(self, norm: fx.Node, into: Leaf) -> None:
        producer, bn = self.gm.get_submodule(into.path), self._module(norm)
        fused = fuse_conv_bn(producer, bn) if into.op.role == "conv" else fuse_linear_bn(producer, bn)
        _set_submodule(self.gm, into.path, fused)
        self.bypass(norm)

    def fuse(self, adds: list[fx.Node], operands: list[fx.Node], plan: AddPlan) -> str:
        modules = [None if leaf is None else self.gm.get_submodule(leaf.path) for leaf in plan.leaves]
        fused = fuse_branches(modules, plan.fused)
        anchor = next(operands[i].target.split(".")[0] for i, leaf in zip(plan.members, plan.leaves) if leaf)
        name = _insert_submodule(self.gm, "reparam_conv", fused, before=anchor)
        first = plan.members[0]
        with self.graph.inserting_before(adds[0]):
            conv = self.graph.call_module(name, (plan.source,))
            kept = [conv if i == first else op for i, op in enumerate(operands) if i == first or i not in plan.members]
            total = kept[0]
            for operand in kept[1:]:
                total = self.graph.call_function(operator.add, (total, operand))
        adds[0].replace_all_uses_with(total)
        for add in adds:  # the outermost first: each is then read by nothing
            self.graph.erase_node(add)
        for i, leaf in zip(plan.members, plan.leaves):
            if leaf is not None:
                self._erase(operands[i])
        return name

    # -- helpers

    def _module(self, node) -> nn.Module | None:
        if not isinstance(node, fx.Node) or node.op != "call_module":
            return None
        return self.gm.get_submodule(node.target)

    def _erase(self, node: fx.Node) -> None:
        target = node.target if node.op == "call_module" else None
        self.graph.erase_node(node)
        if target is not None and not any(n.op == "call_module" and n.target == target for n in self.graph.nodes):
            self.gm.delete_submodule(target)


def _uses(user: fx.Node, value: fx.Node) -> int:
    """How many times `user` reads `value` (`x + x` reads it twice)."""
    read: list[fx.Node] = []
    fx.node.map_arg((user.args, user.kwargs), read.append)
    return read.count(value)


def _set_submodule(root: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)


def _insert_submodule(gm: fx.GraphModule, base: str, module: nn.Module, before: str | None) -> str:
    """Add `module` under a fresh name, placed before child `before` so the state_dict keeps spec order."""
    name, i = base, 1
    while name in gm._modules or hasattr(gm, name):
        name, i = f"{base}_{i}", i + 1
    entries = list(gm._modules.items())
    gm._modules.clear()
    for key, value in entries:
        if key == before:
            gm._modules[name] = module
        gm._modules[key] = value
    if name not in gm._modules:
        gm._modules[name] = module
    return name
