"""LayerNorm (Ba et al. 2016) over channels: `ln2d` over the C of a CxHxW map at every position
(torchvision's `LayerNorm2d`, ConvNeXt's stem, downsampling and head), `ln_last` over the last dimension
(`nn.LayerNorm(d)`, ConvNeXt's block after `permute([0, 2, 3, 1])`, or flat features). `ln` (norm.py) is the
other LayerNorm, over all of C, H and W.
"""

from __future__ import annotations

from .base import ParamModel, Primitive, register, require_rank
from .norm import Eps


class ChannelNormParams(ParamModel):
    eps: Eps = 1e-5


@register
class LayerNorm2d(Primitive):
    """`ln2d(eps=1e-6)`: each pixel's C channels normalized, with C weights and C biases."""

    name = "ln2d"
    family = "norm"
    Params = ChannelNormParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        return x

    def build(self, p, x, y):
        from ..nn.layer_norm_2d import LayerNorm2d as LayerNorm2dModule

        return LayerNorm2dModule(x.c, eps=p.eps)

    def param_count(self, p, x, y):
        return 2 * x.c


@register
class LayerNormLast(Primitive):
    """`ln_last(eps=1e-6)`: the last dimension normalized at every position, `nn.LayerNorm(x.shape[-1])`."""

    name = "ln_last"
    family = "norm"
    Params = ChannelNormParams

    def build(self, p, x, y):
        from torch import nn

        return nn.LayerNorm(x.dims[-1], eps=p.eps)

    def param_count(self, p, x, y):
        return 2 * x.dims[-1]
