"""Pooling: windowed max/average pooling and adaptive (output-size) pooling, incl. global average pooling."""

from __future__ import annotations

from .base import NonNegativePair, Pair, ParamModel, Primitive, ShapeError, pair, register, require_rank, \
    sliding_window
from ..types import TensorType


class PoolParams(ParamModel):
    kernel: Pair
    stride: Pair | None = None  # None: equal to the kernel, as in torch
    pad: NonNegativePair = 0
    ceil: bool = False


class AvgPoolParams(PoolParams):
    count_include_pad: bool = True


class _WindowPool(Primitive):
    family = "pool"
    torch_class: str

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        kernel, padding = pair(p.kernel), pair(p.pad)
        if any(pd > k // 2 for pd, k in zip(padding, kernel)):
            raise ShapeError("E0207", f"`{self.name}` padding {p.pad} is more than half the kernel {p.kernel}",
                             help="torch requires pad <= kernel // 2")
        h, w = sliding_window(self.name, x, kernel, pair(p.stride or p.kernel), padding, ceil_mode=p.ceil)
        return TensorType.of(x.c, h, w)

    def _args(self, p):
        return dict(kernel_size=pair(p.kernel), stride=pair(p.stride or p.kernel), padding=pair(p.pad),
                    ceil_mode=p.ceil)

    def label(self, p):
        kh, kw = pair(p.kernel)
        stride = pair(p.stride or p.kernel)[0]
        return f"{self.name} {kh}x{kw}" + (f", /{stride}" if stride != 1 else "") + (", ceil" if p.ceil else "")


@register
class MaxPool(_WindowPool):
    name = "maxpool"
    Params = PoolParams

    def build(self, p, x, y):
        from torch import nn

        return nn.MaxPool2d(**self._args(p))


@register
class AvgPool(_WindowPool):
    name = "avgpool"
    Params = AvgPoolParams

    def build(self, p, x, y):
        from torch import nn

        return nn.AvgPool2d(**self._args(p), count_include_pad=p.count_include_pad)


class AdaptiveParams(ParamModel):
    size: Pair = 1


class _AdaptivePool(Primitive):
    family = "pool"
    Params = AdaptiveParams
    torch_class: str

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        h, w = pair(p.size)
        return TensorType.of(x.c, h, w)

    def build(self, p, x, y):
        from torch import nn

        return getattr(nn, self.torch_class)(pair(p.size))

    def label(self, p):
        h, w = pair(p.size)
        return f"{self.name} → {h}x{w}"


@register
class AdaptiveAvgPool(_AdaptivePool):
    name = "adaptive_avgpool"
    torch_class = "AdaptiveAvgPool2d"


@register
class AdaptiveMaxPool(_AdaptivePool):
    name = "adaptive_maxpool"
    torch_class = "AdaptiveMaxPool2d"


@register
class GlobalAvgPool(_AdaptivePool):
    """`gap`: average over H and W, keeping a 1x1 feature map (torch's `AdaptiveAvgPool2d(1)`)."""

    name = "gap"
    torch_class = "AdaptiveAvgPool2d"

    class Params(ParamModel):
        pass

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        return TensorType.of(x.c, 1, 1)

    def build(self, p, x, y):
        from torch import nn

        return nn.AdaptiveAvgPool2d(1)

    def label(self, p):
        return "global avgpool"
