"""`permute`: reorder a tensor's dimensions, as `torchvision.ops.misc.Permute` (ConvNeXt, Liu et al. 2022, runs
its block's MLP channels-last between `permute([0, 2, 3, 1])` and `permute([0, 3, 1, 2])`).

The dimensions are written as torch writes them, the batch dimension 0 included and kept first. The shape rule
moves the sample's dimensions and nothing else: after `permute([0, 2, 3, 1])` a CxHxW map is typed HxWxC, and
only what acts on the last dimension (`ln_last`, `linear(..., channels_last=true)`) reads it as channels.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import NonNegativeInt, ParamModel, Primitive, ShapeError, register
from ..types import TensorType


class PermuteParams(ParamModel):
    dims: Annotated[tuple[NonNegativeInt, ...], Field(min_length=2)]


@register
class Permute(Primitive):
    name = "permute"
    family = "reshape"
    Params = PermuteParams

    def infer(self, p, x):
        rank = x.rank + 1  # with the batch dimension
        if sorted(p.dims) != list(range(rank)) or p.dims[0] != 0:
            shown = ", ".join(str(d) for d in p.dims)
            raise ShapeError("E0207", f"`permute([{shown}])` is not an order of the {rank} dimensions of a tensor of "
                             f"shape N x {x}", help=f"give each of 0..{rank - 1} once, 0 (the batch) first")
        return TensorType.of(*(x.dims[d - 1] for d in p.dims[1:]))

    def build(self, p, x, y):
        from ..nn.permute import Permute as PermuteModule

        return PermuteModule(list(p.dims))

    def label(self, p):
        return "permute " + ",".join(str(d) for d in p.dims)
