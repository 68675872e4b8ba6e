"""The deploy weights computed along the IR pass: the training form's state_dict in, the deploy form's out.

`ir.run(network, follow)` tells a `FollowState` of each edit as it makes it; the tensor algebra is math.py's.
Lowering the deploy IR and loading this state gives the deploy module without rewriting any torch graph:

>>> import archdsl, torch
>>> from archdsl.reparam import ir
>>> net = archdsl.check("specs/repvgg_a0.arch", depths=(1, 2), widths=(8, 16), stem=8, input=(3, 32, 32))
>>> follow = FollowState(archdsl.build(net).eval().state_dict())
>>> deploy = archdsl.build(ir.run(net, follow).network)
>>> deploy.load_state_dict(follow.state)
<All keys matched successfully>
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor

from ..ir import OpNode
from . import math
from .geometry import Fused
from .rules import role_of


class FollowState:
    """A state_dict edited as the IR pass edits the network (it is an `ir.Follow`); `state` is the deploy form's."""

    def __init__(self, state: Mapping[str, Tensor], memory_format: torch.memory_format | None = None):
        self.state = dict(state)
        self.memory_format = memory_format  # of the 4-D weights it computes (None: contiguous)
        self.computed: set[int] = set()  # ids of the tensors it made: a fusion may add into them in place

    def dropped(self, path: str) -> None:
        for key in [k for k in self.state if k.startswith(f"{path}.")]:
            self.computed.discard(id(self.state.pop(key)))

    @torch.no_grad()
    def folded(self, norm: str, norm_op: OpNode, into: str) -> None:
        weight, bias = self.state[f"{into}.weight"], self.state.get(f"{into}.bias")
        fused = math.fuse_conv_bn_weights(weight, bias, *self._norm(norm, norm_op),
                                          memory_format=self.memory_format)
        self.state[f"{into}.weight"], self.state[f"{into}.bias"] = fused
        self.computed.add(id(fused[0]))
        self.dropped(norm)

    @torch.no_grad()
    def fused(self, name: str, members: list[tuple[str, OpNode] | None], plan: Fused) -> None:
        g = plan.branch
        first = members[0] and self.state.get(f"{members[0][0]}.weight")
        # the first branch's kernel, made by this pass at the fused size, is the sum's accumulator (RepVGG's 3x3)
        into = first is not None and id(first) in self.computed and tuple(first.shape[-2:]) == g.kernel
        parts = []
        for member in members:
            if member is None:  # the identity: 1 on the diagonal
                parts.append((1.0, None))
                continue
            path, op = member
            if role_of(op.op) == "conv":
                parts.append((self.state[f"{path}.weight"], self.state.get(f"{path}.bias")))
            else:  # a BatchNorm alone: its scale on the diagonal
                parts.append(math.bn_scale_shift(*self._norm(path, op)))
            self.dropped(path)
        self.state[f"{name}.weight"], self.state[f"{name}.bias"] = math.sum_kernels(
            parts, g.kernel, list(plan.offsets), self.memory_format, into_first=into)
        self.computed.add(id(self.state[f"{name}.weight"]))

    def _norm(self, path: str, op: OpNode) -> tuple:
        s = self.state
        return (s[f"{path}.running_mean"], s[f"{path}.running_var"], op.params.eps, s.get(f"{path}.weight"),
                s.get(f"{path}.bias"))

