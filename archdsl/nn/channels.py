"""Channel reordering and selection of ShuffleNet v1/v2 (Zhang et al. 2017, Ma et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn


class ChannelShuffle(nn.Module):
    """(g, C/g) -> (C/g, g) channel order, so that the next grouped convolution mixes the groups."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous()
        return x.view(n, c, h, w)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class ChannelSlice(nn.Module):
    """Channels `start..stop-1`: one half of ShuffleNet v2's channel split."""

    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.stop]

    def extra_repr(self) -> str:
        return f"{self.start}:{self.stop}"
