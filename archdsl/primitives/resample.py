"""Resampling: `upsample` by a factor, `resize` to another tensor's height and width (a segmentation head back
to the input's resolution, torchvision's `F.interpolate(x, size=input_shape)`), and the sub-pixel
rearrangements `pixel_shuffle`/`pixel_unshuffle` (Shi et al. 2016, "Real-Time Single Image and Video
Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network"). None of them has parameters or
buffers: they add nothing to a state_dict.
"""

from __future__ import annotations

from typing import Literal

from .base import Pair, ParamModel, PositiveInt, Primitive, ShapeError, pair, register, require_rank
from ..types import TensorType

#: torch's interpolation modes for 2-D feature maps
Mode = Literal["nearest", "nearest-exact", "bilinear", "bicubic"]
_CORNER_MODES = ("bilinear", "bicubic")  # the modes for which torch accepts `align_corners`


class InterpolateParams(ParamModel):
    mode: Mode = "nearest"
    align_corners: bool = False


class UpsampleParams(ParamModel):
    scale: Pair  # first, so that `upsample(2)` is the factor
    mode: Mode = "nearest"
    align_corners: bool = False


def _check_corners(name: str, p: InterpolateParams | UpsampleParams) -> None:
    if p.align_corners and p.mode not in _CORNER_MODES:
        raise ShapeError("E0207", f"`{name}` with mode=\"{p.mode}\" cannot align corners",
                         help="`align_corners=true` needs mode=\"bilinear\" or \"bicubic\"")


def _corners(p: InterpolateParams | UpsampleParams) -> bool | None:
    """Torch's `align_corners` argument: None for the nearest modes, which refuse any value."""
    return p.align_corners if p.mode in _CORNER_MODES else None


def _mode_label(p: InterpolateParams | UpsampleParams) -> str:
    return p.mode + (", corners" if p.align_corners else "")


@register
class Upsample(Primitive):
    """`upsample(2, mode="bilinear")`: H and W times an integer factor (or a pair), torch's `nn.Upsample`."""

    name = "upsample"
    family = "pool"

    Params = UpsampleParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        _check_corners(self.name, p)
        sh, sw = pair(p.scale)
        return TensorType.of(x.c, x.h * sh, x.w * sw)

    def build(self, p, x, y):
        from torch import nn

        sh, sw = pair(p.scale)
        return nn.Upsample(scale_factor=(float(sh), float(sw)), mode=p.mode, align_corners=_corners(p))

    def label(self, p):
        sh, sw = pair(p.scale)
        return f"upsample ×{sh}" + ("" if sh == sw else f"x{sw}") + f", {_mode_label(p)}"


@register
class Resize(Primitive):
    """`resize(@input, mode="bilinear")`: to the height and width of another tensor, read when the network runs
    (any input size works), as torchvision's segmentation heads call `F.interpolate(x, size=input_shape)`."""

    name = "resize"
    family = "pool"
    Params = InterpolateParams
    tensor_params = ("like",)

    def infer(self, p, x, like: TensorType | None = None):
        require_rank(self.name, x, 3)
        if like is None:  # the call bound no tensor: say how to give one
            raise ShapeError("E0207", "`resize` needs the tensor whose size it takes",
                             help="name that tensor with `-> name` and write `resize(@name)`; `@input` is the input")
        if like.rank != 3:
            raise ShapeError("E0206", f"`resize` takes the height and width of a feature map, got a tensor of shape "
                             f"{like}", help="pass a feature map (CxHxW)")
        _check_corners(self.name, p)
        return TensorType.of(x.c, like.h, like.w)

    def build(self, p, x, y):
        from ..nn.resize import Resize as ResizeModule

        return ResizeModule(p.mode, _corners(p))

    def label(self, p):
        return f"resize, {_mode_label(p)}"


class FactorParams(ParamModel):
    factor: PositiveInt


@register
class PixelShuffle(Primitive):
    """`pixel_shuffle(r)`: C*r*r x H x W -> C x H*r x W*r, torch's `nn.PixelShuffle`."""

    name = "pixel_shuffle"
    family = "reshape"
    Params = FactorParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        r2 = p.factor * p.factor
        if x.c % r2:
            raise ShapeError("E0204", f"`pixel_shuffle({p.factor})` needs channels divisible by {r2}, got {x.c}",
                             help=f"make the channels before it a multiple of {p.factor}*{p.factor}")
        return TensorType.of(x.c // r2, x.h * p.factor, x.w * p.factor)

    def build(self, p, x, y):
        from torch import nn

        return nn.PixelShuffle(p.factor)

    def label(self, p):
        return f"pixel shuffle ×{p.factor}"


@register
class PixelUnshuffle(Primitive):
    """`pixel_unshuffle(r)`: C x H*r x W*r -> C*r*r x H x W, torch's `nn.PixelUnshuffle`."""

    name = "pixel_unshuffle"
    family = "reshape"
    Params = FactorParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        if x.h % p.factor or x.w % p.factor:
            raise ShapeError("E0207", f"`pixel_unshuffle({p.factor})` needs a height and width divisible by "
                             f"{p.factor}, got {x.h}x{x.w}", help="change the input size or the factor")
        return TensorType.of(x.c * p.factor * p.factor, x.h // p.factor, x.w // p.factor)

    def build(self, p, x, y):
        from torch import nn

        return nn.PixelUnshuffle(p.factor)

    def label(self, p):
        return f"pixel unshuffle /{p.factor}"
