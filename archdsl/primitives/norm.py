"""Normalization: `bn` (Ioffe & Szegedy 2015), `ln` over (C, H, W) as in the seed notes, `gn` (Wu & He 2018), `lrn`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ParamModel, PositiveInt, Primitive, ShapeError, register, require_rank

Eps = Annotated[float, Field(gt=0.0)]


class BatchNormParams(ParamModel):
    eps: Eps = 1e-5
    momentum: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1


@register
class BatchNorm(Primitive):
    """Per-channel normalization; `BatchNorm2d` on feature maps, `BatchNorm1d` on flat features."""

    name = "bn"
    family = "norm"
    Params = BatchNormParams

    def build(self, p, x, y):
        from torch import nn

        cls = nn.BatchNorm2d if x.rank == 3 else nn.BatchNorm1d
        return cls(x.c, eps=p.eps, momentum=p.momentum)

    def param_count(self, p, x, y):
        return 2 * x.c


class LayerNormParams(ParamModel):
    eps: Eps = 1e-5


@register
class LayerNorm(Primitive):
    """Normalizes each sample over all of its dimensions (C, H, W), with elementwise affine parameters."""

    name = "ln"
    family = "norm"
    Params = LayerNormParams

    def build(self, p, x, y):
        from torch import nn

        return nn.LayerNorm(list(x.dims), eps=p.eps)

    def param_count(self, p, x, y):
        return 2 * x.numel


class GroupNormParams(ParamModel):
    groups: PositiveInt
    eps: Eps = 1e-5


@register
class GroupNorm(Primitive):
    name = "gn"
    family = "norm"
    Params = GroupNormParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        if x.c % p.groups:
            raise ShapeError("E0204", f"`gn` groups={p.groups} does not divide the {x.c} input channels",
                             help=f"pick a number of groups that divides {x.c}")
        return x

    def build(self, p, x, y):
        from torch import nn

        return nn.GroupNorm(p.groups, x.c, eps=p.eps)

    def param_count(self, p, x, y):
        return 2 * x.c


class LrnParams(ParamModel):
    size: PositiveInt
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0


@register
class LocalResponseNorm(Primitive):
    """Local response normalization across channels, as in AlexNet (Krizhevsky et al. 2012)."""

    name = "lrn"
    family = "norm"
    Params = LrnParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        return x

    def build(self, p, x, y):
        from torch import nn

        return nn.LocalResponseNorm(p.size, alpha=p.alpha, beta=p.beta, k=p.k)

    def label(self, p):
        return f"lrn {p.size}"
