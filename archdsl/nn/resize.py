"""Resizing to another tensor's height and width, read when the network runs (`resize(@input)`)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Resize(nn.Module):
    """`F.interpolate(x, size=like.shape[-2:])`, as torchvision's segmentation models return to the input's size.

    No parameters or buffers: a state_dict is the same with or without it.
    """

    def __init__(self, mode: str = "nearest", align_corners: bool | None = None):
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[-2:], mode=self.mode, align_corners=self.align_corners)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}" + (f", align_corners={self.align_corners}" if self.align_corners is not None else "")
