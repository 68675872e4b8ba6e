"""`linear` (fully connected) and `flatten`."""

from __future__ import annotations

from .base import ParamModel, PositiveInt, Primitive, register, require_rank
from ..types import TensorType


class LinearParams(ParamModel):
    out: PositiveInt
    bias: bool = True


@register
class Linear(Primitive):
    name = "linear"
    family = "linear"
    Params = LinearParams

    def infer(self, p, x):
        require_rank(self.name, x, 1)
        return TensorType.of(p.out)

    def build(self, p, x, y):
        from torch import nn

        return nn.Linear(x.c, p.out, bias=p.bias)

    def label(self, p):
        return f"linear {p.out}"

    def param_count(self, p, x, y):
        return x.c * p.out + (p.out if p.bias else 0)

    def macs(self, p, x, y):
        return x.c * p.out


@register
class Flatten(Primitive):
    name = "flatten"
    family = "reshape"

    def infer(self, p, x):
        return TensorType.of(x.numel)

    def build(self, p, x, y):
        from torch import nn

        return nn.Flatten(1)
