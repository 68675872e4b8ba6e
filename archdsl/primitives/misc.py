"""Structural and regularizing ops: identity, dropout, stochastic depth, channel shuffle, channel slice."""

from __future__ import annotations

from .base import NonNegativeInt, ParamModel, PositiveInt, Primitive, Probability, ShapeError, register, \
    require_rank
from ..types import TensorType


@register
class Identity(Primitive):
    name = "identity"
    family = "reshape"

    def build(self, p, x, y):
        from torch import nn

        return nn.Identity()


class DropoutParams(ParamModel):
    p: Probability = 0.5


@register
class Dropout(Primitive):
    name = "dropout"
    family = "regularize"
    Params = DropoutParams
    inference_identity = True

    def build(self, p, x, y):
        from torch import nn

        return nn.Dropout(p.p)

    def label(self, p):
        return f"dropout {p.p:g}"


@register
class DropPath(Primitive):
    """Stochastic depth (Huang et al. 2016): drops the whole residual branch per sample while training."""

    name = "drop_path"
    family = "regularize"
    Params = DropoutParams
    inference_identity = True

    def build(self, p, x, y):
        from ..nn import DropPath as DropPathModule

        return DropPathModule(p.p)

    def label(self, p):
        return f"drop path {p.p:g}"


class ShuffleParams(ParamModel):
    groups: PositiveInt


@register
class ChannelShuffle(Primitive):
    """Channel shuffle of ShuffleNet (Zhang et al. 2017): (g, C/g) -> (C/g, g) channel order."""

    name = "channel_shuffle"
    family = "reshape"
    Params = ShuffleParams

    def infer(self, p, x):
        require_rank(self.name, x, 3)
        if x.c % p.groups:
            raise ShapeError("E0204", f"`channel_shuffle` groups={p.groups} does not divide the {x.c} channels",
                             help=f"pick a number of groups that divides {x.c}")
        return x

    def build(self, p, x, y):
        from ..nn import ChannelShuffle as ChannelShuffleModule

        return ChannelShuffleModule(p.groups)

    def inline(self, p, x, call):  # torchvision's ShuffleNet calls a function here, not a module
        from ..nn.channels import channel_shuffle

        return call(channel_shuffle, x, p.groups)

    def label(self, p):
        return f"shuffle g={p.groups}"


class SliceParams(ParamModel):
    start: NonNegativeInt
    stop: PositiveInt


@register
class ChannelSlice(Primitive):
    """`slice(start, stop)`: channels start..stop-1, as ShuffleNet v2's channel split uses them."""

    name = "slice"
    family = "reshape"
    Params = SliceParams

    def infer(self, p, x):
        if not p.start < p.stop <= x.c:
            raise ShapeError("E0207", f"`slice({p.start}, {p.stop})` is not a non-empty range of the {x.c} channels",
                             help=f"use 0 <= start < stop <= {x.c}")
        return TensorType.of(p.stop - p.start, *x.spatial)

    def build(self, p, x, y):
        from ..nn import ChannelSlice as ChannelSliceModule

        return ChannelSliceModule(p.start, p.stop)

    def inline(self, p, x, call):  # a view, as torchvision's `x.chunk(2, dim=1)`
        import torch

        return call(torch.narrow, x, 1, p.start, p.stop - p.start)

    def label(self, p):
        return f"channels {p.start}:{p.stop}"
