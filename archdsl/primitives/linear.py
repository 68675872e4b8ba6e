"""`linear` (fully connected) and `flatten`.

`linear` takes flat features; with `channels_last=true` it takes a tensor of any rank and applies to its last
dimension at every position, as `nn.Linear` does (ConvNeXt's block MLP after `permute([0, 2, 3, 1])`).
"""

from __future__ import annotations

from .base import ParamModel, PositiveInt, Primitive, register, require_rank
from ..types import TensorType


class LinearParams(ParamModel):
    out: PositiveInt
    bias: bool = True
    channels_last: bool = False


@register
class Linear(Primitive):
    name = "linear"
    family = "linear"
    Params = LinearParams

    def infer(self, p, x):
        if p.channels_last:
            return TensorType.of(*x.dims[:-1], p.out)
        require_rank(self.name, x, 1)  # a feature map here is most often a forgotten `flatten`
        return TensorType.of(p.out)

    def build(self, p, x, y):
        from torch import nn

        return nn.Linear(x.dims[-1], p.out, bias=p.bias)

    def label(self, p):
        return f"linear {p.out}"

    def param_count(self, p, x, y):
        return x.dims[-1] * p.out + (p.out if p.bias else 0)

    def macs(self, p, x, y):
        return x.numel * p.out


@register
class Flatten(Primitive):
    name = "flatten"
    family = "reshape"

    def infer(self, p, x):
        return TensorType.of(x.numel)

    def build(self, p, x, y):
        from torch import nn

        return nn.Flatten(1)
