"""The deploy path of a module archdsl built: lower the deploy IR, with weights computed from the trained ones.

    model (eval) --network_of--> IR --ir.run(follow=FollowState(model.state_dict()))--> deploy IR + deploy state
    deploy IR --build (lowering on the meta device: nothing allocated or initialised)--> structure
    structure + deploy state --load_state_dict(assign=True)--> deploy module

No torch graph is rewritten and nothing is copied twice: the IR pass (rules.py through ir.py) decides, state.py
computes each folded or fused weight with math.py as the pass edits the network, and the lowering of the deploy
IR is the one that `summary --deploy`, `draw --deploy` and `--emit ir --deploy` show. The lowering is passed in
(`build`): reparam and lower sit side by side in the layers, and pipeline.py joins them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import Tensor, nn

from . import ir
from .graph import Reparameterized
from .modules import ReparamError, require_eval
from .state import FollowState

#: builds a network's module structure (the pipeline passes `lower(network, device="meta")`)
Build = Callable[[Any], nn.Module]


def run(model: nn.Module, network: Any, build: Build, memory_format: torch.memory_format = torch.channels_last,
        state: Mapping[str, Tensor] | None = None) -> Reparameterized:
    """`model` (built from `network`, in eval mode) in its deploy form, and what the pass changed and kept.

    `state` replaces the model's own weights (a check with random BatchNorm statistics); the model is not
    changed. 4-D weights are stored in `memory_format`; every tensor is new (nothing is shared with `model`).
    """
    require_eval(model)
    original = model.state_dict() if state is None else dict(state)
    follow = FollowState(original, memory_format)  # computed weights are written in the deploy layout at once
    try:
        planned = ir.run(network, follow)
    except (KeyError, RuntimeError) as exc:
        raise ReparamError(f"the model's weights do not fit the spec it was built from ({exc}); a model changed "
                           "after it was built can be reparameterized as torch.fx.symbolic_trace(model)") from None
    module = build(planned.network)
    _require_same_leaves(model, module)
    load(module, follow.state, original, memory_format)
    return Reparameterized(folded=planned.folded, fused=planned.fused, removed=planned.removed, kept=planned.kept,
                           module=module.eval())


def reload(deployed: nn.Module, model: nn.Module, network: Any,
           memory_format: torch.memory_format = torch.channels_last) -> None:
    """Give `deployed` (a deploy module of `network`, from `run`) the deploy weights of `model`'s own: a second
    model of the same network deploys without lowering anything again (`build --deploy` checks with random
    BatchNorm statistics first, then deploys the model's)."""
    require_eval(model)
    original = model.state_dict()
    follow = FollowState(original, memory_format)
    ir.run(network, follow)
    load(deployed, follow.state, original, memory_format)


@torch.no_grad()
def load(module: nn.Module, state: Mapping[str, Tensor], original: Mapping[str, Tensor],
         memory_format: torch.memory_format | None) -> None:
    """Give `module` (built on the meta device) the tensors of `state`: new ones as they are, the model's own
    copied; 4-D ones in `memory_format`."""
    tensors = {}
    for key, value in state.items():
        shared = original.get(key) is value
        if value.dim() == 4 and memory_format is not None:
            value = value.to(memory_format=memory_format, copy=shared)  # as `module.to(memory_format=...)`
        elif shared:
            value = value.clone()
        tensors[key] = value
    module.load_state_dict(tensors, strict=True, assign=True)
    for name, tensor in (*module.named_parameters(), *module.named_buffers()):
        if tensor.is_meta:  # a buffer outside the state_dict (persistent=False): nothing says what it holds
            raise ReparamError(f"`{name}` is not in the state_dict, so the deploy module cannot be given its value")


def _require_same_leaves(model: nn.Module, deploy: nn.Module) -> None:
    """A layer swapped after the build (a ReLU for a GELU) is not in the IR: refuse rather than drop it.

    Generated blocks (their classes made where the root's was) are compared through their children."""
    generated = type(deploy).__module__
    found = dict(model.named_modules())
    for path, module in deploy.named_modules():
        if type(module).__module__ == generated:
            continue
        theirs = found.get(path)
        if theirs is not None and type(theirs) is not type(module):
            raise ReparamError(f"`{path}` is a {type(theirs).__name__} where the spec built a {type(module).__name__}: "
                               "the model was changed after it was built; reparameterize "
                               "torch.fx.symbolic_trace(model) instead")
