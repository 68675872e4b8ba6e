"""`convt`: 2-D transposed convolution (the "up-convolution" of U-Net, Ronneberger et al. 2015; Zeiler et al. 2010).

Torch's output size: `(H - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_pad + 1`, where `output_pad`
picks among the input sizes that a strided convolution maps to the same output (it must be smaller than the
stride or the dilation).

>>> from archdsl.types import TensorType
>>> ConvTranspose().infer(ConvTransposeParams(out=64, kernel=2, stride=2), TensorType.of(128, 28, 28)).dims
(64, 56, 56)
"""

from __future__ import annotations

from .base import NonNegativePair, Pair, ParamModel, PositiveInt, Primitive, ShapeError, pair, register, \
    require_rank
from .conv import require_groups_divide, window_label
from ..types import TensorType


class ConvTransposeParams(ParamModel):
    out: PositiveInt
    kernel: Pair
    stride: Pair = 1
    pad: NonNegativePair = 0
    output_pad: NonNegativePair = 0
    groups: PositiveInt = 1
    bias: bool = True
    dilation: Pair = 1


@register
class ConvTranspose(Primitive):
    name = "convt"
    family = "conv"
    Params = ConvTransposeParams

    def infer(self, p: ConvTransposeParams, x: TensorType) -> TensorType:
        require_rank(self.name, x, 3)
        require_groups_divide(self.name, p.groups, x.c, p.out)
        size = []
        for n, k, s, pd, op, d in zip(x.spatial, pair(p.kernel), pair(p.stride), pair(p.pad), pair(p.output_pad),
                                      pair(p.dilation)):
            if op >= max(s, d):
                raise ShapeError("E0207", f"`convt` output_pad={op} must be smaller than the stride ({s}) or the "
                                 f"dilation ({d})", help="output_pad only picks among the sizes a stride rounds away")
            m = (n - 1) * s - 2 * pd + d * (k - 1) + op + 1
            if m < 1:
                raise ShapeError("E0205", f"`convt` padding {pd} leaves no output of input size {x.h}x{x.w}",
                                 help="use less padding or a larger kernel or stride")
            size.append(m)
        return TensorType.of(p.out, *size)

    def build(self, p: ConvTransposeParams, x: TensorType, y: TensorType):
        from torch import nn

        return nn.ConvTranspose2d(x.c, p.out, pair(p.kernel), stride=pair(p.stride), padding=pair(p.pad),
                                  output_padding=pair(p.output_pad), groups=p.groups, bias=p.bias,
                                  dilation=pair(p.dilation))

    def label(self, p: ConvTransposeParams) -> str:
        return window_label(self.name, p, stride_mark="×")

    def param_count(self, p: ConvTransposeParams, x: TensorType, y: TensorType) -> int:
        kh, kw = pair(p.kernel)
        return x.c * (p.out // p.groups) * kh * kw + (p.out if p.bias else 0)

    def macs(self, p: ConvTransposeParams, x: TensorType, y: TensorType) -> int:
        """Each input value meets out/groups x kh x kw weights (as fvcore counts a transposed convolution)."""
        kh, kw = pair(p.kernel)
        return x.numel * (p.out // p.groups) * kh * kw
