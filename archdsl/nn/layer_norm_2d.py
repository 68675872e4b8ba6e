"""LayerNorm over the channels of an NCHW tensor, at every position (Liu et al. 2022, ConvNeXt's stem,
downsampling layers and head)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class LayerNorm2d(nn.LayerNorm):
    """`nn.LayerNorm(C)` applied to each pixel's channel vector of an (N, C, H, W) tensor; the same computation
    and parameters as `torchvision.models.convnext.LayerNorm2d`, so its weights load by key.

    >>> LayerNorm2d(3, eps=1e-6)(torch.zeros(1, 3, 4, 5)).shape
    torch.Size([1, 3, 4, 5])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
