"""The reparameterization pass over the `torch.fx` graphs of a lowered model.

Each `GraphModule` (a block call, a named group) is rewritten after its children, until nothing changes:

1. ops that are the identity at inference (identity, dropout, drop path, an emptied group) are removed;
2. a BatchNorm right after a convolution (BatchNorm1d after a linear layer) folds into it, also when the
   convolution ends a child group, provided that nothing else reads the convolution's output;
3. an `add` whose operands include two or more linear branches of one input (a convolution, a BatchNorm,
   the input itself, or a group that is just one of those) with compatible geometry (geometry.py) becomes
   one convolution named `reparam_conv` (timm's name); other operands stay summed with it.

What cannot be folded exactly stays as it is, with the reason in `Reparameterized.kept`.

>>> import archdsl
>>> model = archdsl.load("specs/repvgg_a0.arch").eval()
>>> deploy = reparameterize(model)
>>> sum(p.numel() for p in deploy.parameters())
8309384
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from ..lower.modules import DropPath
from .geometry import Fused, fuse
from .modules import BatchNorm, ReparamError, branch_of, bn_unfoldable, fuse_branches, fuse_conv_bn, \
    fuse_linear_bn, require_eval

INFERENCE_IDENTITIES = (nn.Identity, nn.modules.dropout._DropoutNd, DropPath)
ADDS = (operator.add, torch.add)


@dataclass
class Reparameterized:
    """The deploy module, what the pass changed, and what it left with the reason (for `--verbose`)."""

    module: nn.Module
    folded: list[str] = field(default_factory=list)  # BatchNorms folded into the op before them
    fused: list[str] = field(default_factory=list)  # adds of linear branches now one convolution
    removed: list[str] = field(default_factory=list)  # ops that are the identity at inference
    kept: list[str] = field(default_factory=list)  # BatchNorms and adds left as they are, with the reason


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
                           "or trace it with torch.fx.symbolic_trace first")
    result = Reparameterized(copy.deepcopy(model))
    _walk(result.module, "", result)
    result.module.to(memory_format=memory_format)
    return result


def _walk(module: nn.Module, prefix: str, result: Reparameterized) -> None:
    for name, child in list(module.named_children()):
        _walk(child, f"{prefix}{name}.", result)
    if isinstance(module, fx.GraphModule):
        _GraphPass(module, prefix, result).run()


@dataclass
class _AddPlan:
    source: fx.Node
    members: list[int]  # indices of the fused operands
    modules: list[nn.Module | None]  # None for the identity operand
    fused: Fused


class _GraphPass:
    def __init__(self, gm: fx.GraphModule, prefix: str, result: Reparameterized):
        self.gm, self.graph, self.prefix, self.result = gm, gm.graph, prefix, result

    def run(self) -> None:
        while any([self._drop_identities(), self._fold_norms(), self._fuse_adds()]):
            pass
        for node in self._norm_nodes():
            self.result.kept.append(f"`{self._name(node)}`: kept, {self._match_norm(node)}")
        for root, operands in self._add_chains():
            self.result.kept.append(f"`{self._name(root)}`: kept, {self._match_add(operands)}")
        self.graph.lint()
        self.gm.recompile()

    # -- 1. identities

    def _drop_identities(self) -> bool:
        changed = False
        for node in list(self.graph.nodes):
            module = self._module(node)
            if module is None or len(node.args) != 1 or node.kwargs \
                    or not (isinstance(module, INFERENCE_IDENTITIES) or _is_empty_graph(module)):
                continue
            node.replace_all_uses_with(node.args[0])
            self._erase(node)
            self.result.removed.append(f"`{self._name(node)}`: removed, the identity at inference")
            changed = True
        return changed

    # -- 2. BatchNorm into the convolution or linear layer before it

    def _norm_nodes(self) -> list[fx.Node]:
        return [n for n in self.graph.nodes if isinstance(self._module(n), BatchNorm)]

    def _fold_norms(self) -> bool:
        changed = False
        for node in self._norm_nodes():
            match = self._match_norm(node)
            if not isinstance(match, tuple):
                continue
            path, producer = match
            bn = self._module(node)
            fused = fuse_conv_bn(producer, bn) if isinstance(producer, nn.Conv2d) else fuse_linear_bn(producer, bn)
            _set_submodule(self.gm, path, fused)
            node.replace_all_uses_with(node.args[0])
            self._erase(node)
            self.result.folded.append(f"`{self._name(node)}`: folded into `{self.prefix}{path}`")
            changed = True
        return changed

    def _match_norm(self, node: fx.Node) -> tuple[str, nn.Module] | str:
        """The producer to fold the BatchNorm `node` into (its path and module), or why there is none."""
        bn = self._module(node)
        if reason := bn_unfoldable(bn):
            return reason
        source = node.args[0] if len(node.args) == 1 and not node.kwargs else None
        if not isinstance(source, fx.Node):
            return "its input is not a single value of this graph"
        if source.op == "placeholder":
            return f"it normalizes the input of `{self.prefix.rstrip('.') or 'the model'}` (a pre-activation norm)"
        if len(source.users) > 1:
            return f"{self._describe(source)} has {len(source.users)} users, so folding would change the others"
        path = _producer(self.gm, source)
        wanted = nn.Conv2d if isinstance(bn, nn.BatchNorm2d) else nn.Linear
        producer = self.gm.get_submodule(path) if path else None
        if not isinstance(producer, wanted):
            return (f"it follows {self._describe(source)}, not a {wanted.__name__}: only a norm right after a "
                    "linear op folds (a nonlinearity, pooling or merge in between is not linear)")
        return path, producer

    # -- 3. sums of linear branches into one convolution

    def _add_chains(self) -> list[tuple[fx.Node, list[fx.Node]]]:
        """Each maximal chain of binary adds, as its last add and its operands in order."""
        chains = []
        for node in self.graph.nodes:
            if _is_add(node) and not (len(node.users) == 1 and _is_add(next(iter(node.users)))):
                chains.append((node, _operands(node)))
        return chains

    def _fuse_adds(self) -> bool:
        for root, operands in self._add_chains():
            plan = self._match_add(operands)
            if isinstance(plan, _AddPlan):
                self._apply_add(root, operands, plan)
                return True  # other chains may read this one: match them again on the new graph
        return False

    def _match_add(self, operands: list[fx.Node]) -> _AddPlan | str:
        branches = [self._linear_branch(op) for op in operands]
        best = None
        for source in dict.fromkeys(b[0] for b in branches if b is not None and isinstance(b[1], nn.Conv2d)):
            members = [i for i, (op, b) in enumerate(zip(operands, branches))
                       if op is source or (b is not None and b[0] is source)]
            if best is None or len(members) > len(best[1]):
                best = source, members
        if best is None or len(best[1]) < 2:
            parts = [f"{self._describe(op)} is a {type(b[1]).__name__} of {self._describe(b[0])}" if b
                     else f"{self._describe(op)} is not one conv or BatchNorm read only by the add"
                     if op.op == "call_module" else f"{self._describe(op)} enters as it is"
                     for op, b in zip(operands, branches)]
            return f"no convolution and another operand are linear ops of one value: {'; '.join(parts)}"
        source, members = best
        modules = [None if operands[i] is source else branches[i][1] for i in members]
        channels = next(m.in_channels for m in modules if isinstance(m, nn.Conv2d))
        geometries = [branch_of(m, channels) for m in modules]
        reason = next((g for g in geometries if isinstance(g, str)), None) or fuse(geometries)
        if isinstance(reason, str):
            return f"its linear branches cannot be one convolution: {reason}"
        return _AddPlan(source, members, modules, reason)

    def _linear_branch(self, node: fx.Node) -> tuple[fx.Node, nn.Module] | None:
        """(input, module) when `node` is one Conv2d or BatchNorm2d of its input, read only by the add."""
        if node.op != "call_module" or len(node.users) != 1 or len(node.args) != 1 or node.kwargs:
            return None
        path = _single_op(self.gm, node)
        module = self.gm.get_submodule(path) if path else None
        if not isinstance(module, (nn.Conv2d, nn.BatchNorm2d)) or not isinstance(node.args[0], fx.Node):
            return None
        return node.args[0], module

    def _apply_add(self, root: fx.Node, operands: list[fx.Node], plan: _AddPlan) -> None:
        fused = fuse_branches(plan.modules, plan.fused)
        first = operands[plan.members[0]]
        anchor = first.target.split(".")[0] if first.op == "call_module" else None
        name = _insert_submodule(self.gm, "reparam_conv", fused, before=anchor)
        with self.graph.inserting_before(root):
            conv = self.graph.call_module(name, (plan.source,))
            kept = [conv if i == plan.members[0] else op for i, op in enumerate(operands)
                    if i == plan.members[0] or i not in plan.members]
            total = kept[0]
            for operand in kept[1:]:
                total = self.graph.call_function(operator.add, (total, operand))
        adds = _chain(root)
        root.replace_all_uses_with(total)
        for node in adds:
            self.graph.erase_node(node)
        fused_names = []
        for i in plan.members:
            if operands[i] is not plan.source:
                fused_names.append(f"`{self._name(operands[i])}`")
                self._erase(operands[i])
            else:
                fused_names.append("the identity")
        others = f", {len(kept) - 1} other operand(s) still added to it" if len(kept) > 1 else ""
        self.result.fused.append(f"`{self.prefix}{name}`: fused {', '.join(fused_names)}{others}")

    # -- helpers

    def _module(self, node: fx.Node) -> nn.Module | None:
        return self.gm.get_submodule(node.target) if node.op == "call_module" else None

    def _erase(self, node: fx.Node) -> None:
        target = node.target if node.op == "call_module" else None
        self.graph.erase_node(node)
        if target is not None and not any(n.op == "call_module" and n.target == target for n in self.graph.nodes):
            self.gm.delete_submodule(target)

    def _name(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return f"{self.prefix}{node.target}"
        return f"{self.prefix}{node.name}"

    def _describe(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return f"`{self._name(node)}` ({type(self._module(node)).__name__})"
        if node.op == "placeholder":
            return f"the input of `{self.prefix.rstrip('.') or 'the model'}`"
        what = getattr(node.target, "__name__", str(node.target))
        return f"`{self._name(node)}` ({what})"


def _is_add(node: fx.Node) -> bool:
    return node.op == "call_function" and node.target in ADDS and len(node.args) == 2 and not node.kwargs \
        and all(isinstance(a, fx.Node) for a in node.args)


def _operands(add: fx.Node) -> list[fx.Node]:
    """The operands of a chain of adds, in order; an inner add read only by this chain is expanded."""
    out = []
    for arg in add.args:
        out.extend(_operands(arg) if _is_add(arg) and len(arg.users) == 1 else [arg])
    return out


def _chain(add: fx.Node) -> list[fx.Node]:
    """The add nodes of a chain, outermost first (the order in which they can be erased)."""
    out = [add]
    for arg in add.args:
        if _is_add(arg) and len(arg.users) == 1:
            out.extend(_chain(arg))
    return out


def _single_op(gm: fx.GraphModule, node: fx.Node) -> str | None:
    """The path of the leaf module when `node` is one module call on its input, through one-op groups."""
    module = gm.get_submodule(node.target)
    if not isinstance(module, fx.GraphModule):
        return node.target
    body = [n for n in module.graph.nodes if n.op not in ("placeholder", "output")]
    output = next(n for n in module.graph.nodes if n.op == "output")
    if len(body) != 1 or body[0].op != "call_module" or output.args[0] is not body[0] \
            or len(body[0].args) != 1 or getattr(body[0].args[0], "op", None) != "placeholder":
        return None
    inner = _single_op(module, body[0])
    return f"{node.target}.{inner}" if inner else None


def _producer(gm: fx.GraphModule, node: fx.Node) -> str | None:
    """The path of the leaf module whose output `node` is, looking into a group that ends with it."""
    if node.op != "call_module":
        return None
    module = gm.get_submodule(node.target)
    if not isinstance(module, fx.GraphModule):
        return node.target
    last = next(n for n in module.graph.nodes if n.op == "output").args[0]
    if not isinstance(last, fx.Node) or len(last.users) != 1:
        return None
    inner = _producer(module, last)
    return f"{node.target}.{inner}" if inner else None


def _is_empty_graph(module: nn.Module) -> bool:
    if not isinstance(module, fx.GraphModule):
        return False
    nodes = list(module.graph.nodes)
    return len(nodes) == 2 and nodes[1].op == "output" and nodes[1].args[0] is nodes[0]


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
