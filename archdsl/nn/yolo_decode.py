"""Ultralytics' YOLOv8 inference decoding (Jocher et al., `ultralytics/nn/modules/head.py`, `Detect._inference`):
the per-scale head maps become one (B, 4 + classes, anchors) tensor of boxes in pixels (center x, center y,
width, height) and class probabilities.

Box sides are predicted as distributions over `reg_max` bins (Distribution Focal Loss, Li et al. 2020,
"Generalized Focal Loss"); their expectation is a fixed 1x1 convolution with weights 0, 1, ..., reg_max - 1,
Ultralytics' `DFL`, kept here as the child `conv` (a parameter that does not train), so a state_dict holds
`dfl.conv.weight` where theirs does.
"""

from __future__ import annotations

import torch
from torch import nn


class YoloDecode(nn.Module):
    """`forward(p3, p4, p5)`: maps of 4 * reg_max + classes channels, one per stride -> decoded detections.

    >>> decode = YoloDecode(classes=2, reg_max=4, strides=(8, 16, 32))
    >>> maps = [torch.zeros(1, 18, s, s) for s in (8, 4, 2)]
    >>> decode(*maps).shape
    torch.Size([1, 6, 84])
    """

    def __init__(self, classes: int, reg_max: int = 16, strides: tuple[int, ...] = (8, 16, 32)):
        super().__init__()
        self.classes, self.reg_max, self.strides = classes, reg_max, tuple(strides)
        if reg_max > 1:
            self.conv = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
            self.conv.weight.data[:] = torch.arange(reg_max, dtype=torch.float).view(1, reg_max, 1, 1)

    def forward(self, *maps: torch.Tensor) -> torch.Tensor:
        b = maps[0].shape[0]
        flat = torch.cat([m.view(b, m.shape[1], -1) for m in maps], 2)
        box, scores = flat.split((4 * self.reg_max, self.classes), 1)
        a = box.shape[2]
        if self.reg_max > 1:  # the expected bin of each side's distribution
            box = self.conv(box.view(b, 4, self.reg_max, a).transpose(2, 1).softmax(1)).view(b, 4, a)
        anchors, strides = self._anchors(maps)
        lt, rb = box.chunk(2, 1)
        x1y1, x2y2 = anchors - lt, anchors + rb
        boxes = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        return torch.cat((boxes, scores.sigmoid()), 1)

    def _anchors(self, maps) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell centres in grid units (2, anchors) and each anchor's stride (1, anchors), as `make_anchors`."""
        points, strides = [], []
        for m, stride in zip(maps, self.strides):
            h, w = m.shape[2:]
            sx = torch.arange(w, device=m.device, dtype=m.dtype) + 0.5
            sy = torch.arange(h, device=m.device, dtype=m.dtype) + 0.5
            sy, sx = torch.meshgrid(sy, sx, indexing="ij")
            points.append(torch.stack((sx, sy), 0).view(2, -1))
            strides.append(torch.full((1, h * w), float(stride), device=m.device, dtype=m.dtype))
        return torch.cat(points, 1), torch.cat(strides, 1)

    def extra_repr(self) -> str:
        return f"classes={self.classes}, reg_max={self.reg_max}, strides={self.strides}"
