"""`conv`: 2-D convolution (LeCun et al. 1989); `groups` covers grouped (ResNeXt) and depthwise (MobileNet) forms."""

from __future__ import annotations

from typing import Literal

from .base import NonNegativePair, Pair, ParamModel, PositiveInt, Primitive, ShapeError, pair, register, \
    require_rank, sliding_window
from ..types import TensorType


class ConvParams(ParamModel):
    out: PositiveInt
    kernel: Pair
    stride: Pair = 1
    pad: NonNegativePair | Literal["same"] = 0
    dilation: Pair = 1
    groups: PositiveInt = 1
    bias: bool = True


def same_padding(kernel: Pair, dilation: Pair = 1) -> tuple[int, int] | None:
    """The padding on each side that pad="same" (stride 1) amounts to, or None when the two sides differ.

    A window reaching `dilation * (kernel - 1)` past a position gets half of that on each side; when that is
    odd, torch pads one more on the right, which no symmetric padding expresses. Lowering (explicit padding
    for ONNX) and reparameterization (the geometry of a branch) both ask here.

    >>> same_padding(3), same_padding((1, 5), 2), same_padding(2)
    ((1, 1), (0, 4), None)
    """
    totals = [d * (k - 1) for k, d in zip(pair(kernel), pair(dilation))]
    return None if any(t % 2 for t in totals) else (totals[0] // 2, totals[1] // 2)


def conv_padding(p: ConvParams) -> tuple[int, int] | str:
    """Torch's padding argument. A "same" that pads both sides equally becomes that number: torch computes the
    same, and ONNX then gets explicit pads (onnxruntime refuses auto_pad SAME with dilation)."""
    if p.pad != "same":
        return pair(p.pad)
    return same_padding(p.kernel, p.dilation) or "same"


def require_groups_divide(name: str, groups: int, in_channels: int, out_channels: int) -> None:
    """E0204 unless `groups` divides both channel counts (a grouped convolution, plain or transposed)."""
    for what, channels in (("input", in_channels), ("output", out_channels)):
        if channels % groups:
            raise ShapeError("E0204", f"`{name}` groups={groups} does not divide its {what} channels ({channels})",
                             help=f"use a `groups` value that divides both {in_channels} and {out_channels}")


def window_label(name: str, p: ParamModel, stride_mark: str) -> str:
    """A diagram's label of a convolution, plain or transposed (`p` has out, kernel, stride, groups and dilation):
    `conv 3x3, 64, /2, g=4, d=2`, the stride written after `stride_mark` (`/` down, `×` up); stride, groups and
    dilation appear only where they are not 1."""
    kh, kw = pair(p.kernel)
    text = f"{name} {kh}x{kw}, {p.out}"
    sh, sw = pair(p.stride)
    if (sh, sw) != (1, 1):
        text += f", {stride_mark}{sh}" if sh == sw else f", {stride_mark}{sh}x{sw}"
    if p.groups > 1:
        text += f", g={p.groups}"
    if pair(p.dilation) != (1, 1):
        text += f", d={pair(p.dilation)[0]}"
    return text


@register
class Conv(Primitive):
    name = "conv"
    family = "conv"
    Params = ConvParams

    def infer(self, p: ConvParams, x: TensorType) -> TensorType:
        require_rank(self.name, x, 3)
        require_groups_divide(self.name, p.groups, x.c, p.out)
        if p.pad == "same":
            if pair(p.stride) != (1, 1):
                raise ShapeError("E0207", "`conv` with pad=\"same\" needs stride 1", help="give the padding as a number")
            return TensorType.of(p.out, x.h, x.w)
        h, w = sliding_window(self.name, x, pair(p.kernel), pair(p.stride), pair(p.pad), pair(p.dilation))
        return TensorType.of(p.out, h, w)

    def build(self, p: ConvParams, x: TensorType, y: TensorType):
        from torch import nn

        return nn.Conv2d(x.c, p.out, pair(p.kernel), stride=pair(p.stride), padding=conv_padding(p),
                         dilation=pair(p.dilation), groups=p.groups, bias=p.bias)

    def label(self, p: ConvParams) -> str:
        return window_label(self.name, p, stride_mark="/")

    def param_count(self, p: ConvParams, x: TensorType, y: TensorType) -> int:
        kh, kw = pair(p.kernel)
        return p.out * (x.c // p.groups) * kh * kw + (p.out if p.bias else 0)

    def macs(self, p: ConvParams, x: TensorType, y: TensorType) -> int:
        kh, kw = pair(p.kernel)
        return y.numel * (x.c // p.groups) * kh * kw
