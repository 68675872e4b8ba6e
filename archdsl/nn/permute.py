"""A reordering of a tensor's dimensions as a module, for channels-last sections (ConvNeXt's block)."""

from __future__ import annotations

import torch
from torch import nn


class Permute(nn.Module):
    """`x.permute(*dims)`, batch dimension included, as `torchvision.ops.misc.Permute`.

    >>> Permute([0, 2, 3, 1])(torch.zeros(1, 3, 4, 5)).shape
    torch.Size([1, 4, 5, 3])
    """

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"
