"""The tensor algebra of reparameterization: pure functions of weights, no modules, no graphs.

After `torch.nn.utils.fusion` and RepVGG (Ding et al. 2021, section 3.3):

- BatchNorm after a convolution or linear layer is a per-output-channel affine map, so it folds into the
  layer: `W' = gamma / sqrt(var + eps) * W`, `b' = beta + (b - mean) * gamma / sqrt(var + eps)`.
- A small kernel is a larger kernel with zeros around it; an identity is a 1x1 kernel that is 1 on the
  channel diagonal (per group); convolution is linear, so summed branches are one kernel, the sum of kernels.

>>> import torch
>>> w = torch.ones(2, 1, 1, 1)
>>> pad_kernel(w, (3, 3))[0, 0]
tensor([[0., 0., 0.],
        [0., 1., 0.],
        [0., 0., 0.]])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def bn_scale_shift(mean: Tensor, var: Tensor, eps: float, gamma: Tensor | None = None,
                   beta: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """BatchNorm in eval mode as `y = scale * x + shift`, per channel (`gamma`/`beta` None: affine=False)."""
    scale = torch.rsqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta
    return scale, shift


def fuse_conv_bn_weights(w: Tensor, b: Tensor | None, mean: Tensor, var: Tensor, eps: float,
                         gamma: Tensor | None = None, beta: Tensor | None = None,
                         memory_format: torch.memory_format | None = None) -> tuple[Tensor, Tensor]:
    """Weight and bias of `bn(conv(x))` as one convolution; any kernel, stride, padding, dilation or groups.

    The output channel is dimension 0 of a conv weight whatever the groups, so the scale applies there. A 4-D
    weight is written in `memory_format` where given (no second pass to change its layout).
    """
    scale, shift = bn_scale_shift(mean, var, eps, gamma, beta)
    factor = scale.reshape(-1, *([1] * (w.dim() - 1)))
    if memory_format is None or w.dim() != 4:
        fused_w = w * factor
    else:
        fused_w = torch.mul(w, factor, out=torch.empty(w.shape, dtype=w.dtype, device=w.device,
                                                         memory_format=memory_format))
    fused_b = shift if b is None else b * scale + shift
    return fused_w, fused_b


def fuse_linear_bn_weights(w: Tensor, b: Tensor | None, mean: Tensor, var: Tensor, eps: float,
                           gamma: Tensor | None = None, beta: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Weight and bias of `bn1d(linear(x))` as one linear layer (weight `[out, in]`)."""
    return fuse_conv_bn_weights(w, b, mean, var, eps, gamma, beta)


def pad_kernel(w: Tensor, size: tuple[int, int], offset: tuple[int, int] | None = None) -> Tensor:
    """Place a `kh x kw` kernel inside a `size` kernel of zeros, at `offset` (top, left) or at the centre.

    An odd kernel padded at the centre computes the same convolution when the padding grows by the same
    amount; `offset` places asymmetric kernels (a 1x3 inside a 3x3 at (1, 0)).
    """
    kh, kw = w.shape[-2:]
    height, width = size
    top, left = offset if offset is not None else ((height - kh) // 2, (width - kw) // 2)
    if not (0 <= top <= height - kh and 0 <= left <= width - kw):
        raise ValueError(f"a {kh}x{kw} kernel does not fit in {height}x{width} at offset ({top}, {left})")
    return F.pad(w, (left, width - kw - left, top, height - kh - top))


def identity_kernel(channels: int, groups: int = 1, size: tuple[int, int] = (1, 1), *,
                    dtype: torch.dtype | None = None, device: torch.device | None = None) -> Tensor:
    """The kernel of a convolution that returns its input: 1 at the centre on each group's channel diagonal.

    With `groups == channels` (depthwise) it is `[C, 1, kh, kw]`; with groups=1 it is `[C, C, kh, kw]`.
    """
    if channels % groups:
        raise ValueError(f"groups={groups} does not divide {channels} channels")
    per_group = channels // groups
    w = torch.zeros(channels, per_group, *size, dtype=dtype, device=device)
    rows = torch.arange(channels, device=device)
    w[rows, rows % per_group, size[0] // 2, size[1] // 2] = 1
    return w


def bn_as_conv(mean: Tensor, var: Tensor, eps: float, gamma: Tensor | None, beta: Tensor | None,
               groups: int = 1) -> tuple[Tensor, Tensor]:
    """A BatchNorm alone (RepVGG's identity branch) as the weight and bias of a 1x1 convolution."""
    kernel = identity_kernel(mean.numel(), groups, dtype=mean.dtype, device=mean.device)
    return fuse_conv_bn_weights(kernel, None, mean, var, eps, gamma, beta)


def sum_kernels(parts: list[tuple[Tensor | float, Tensor | None]], size: tuple[int, int],
                offsets: list[tuple[int, int]], memory_format: torch.memory_format | None = None,
                into_first: bool = False) -> tuple[Tensor, Tensor]:
    """Parallel convolutions of one input as one: each (weight, bias) placed at its offset in a `size` kernel.

    Convolution is linear in its kernel, so the sum of the branches' outputs is the output of the summed kernels.
    A weight is a kernel `[out, in/groups, kh, kw]`, or a per-channel scale `[out]` or a number: that multiple of
    the identity (an identity branch, a BatchNorm alone), added on each group's diagonal instead of being built
    as a kernel of zeros first. Each part is added in place, in order, into one kernel in `memory_format`;
    with `into_first`, into the first part's kernel itself (the caller made it, at the full size: no new tensor).
    """
    like = next(w for w, _ in parts if isinstance(w, Tensor) and w.dim() == 4)
    bias = torch.zeros(like.shape[0], dtype=like.dtype, device=like.device)
    if into_first:
        weight, start = parts[0][0], 1
        if parts[0][1] is not None:
            bias += parts[0][1]
    else:
        weight, start = torch.empty((*like.shape[:2], *size), dtype=like.dtype, device=like.device,
                                    memory_format=memory_format or torch.contiguous_format).zero_(), 0
    rows = columns = None
    for (w, b), (top, left) in zip(parts[start:], offsets[start:]):
        if isinstance(w, Tensor) and w.dim() == 4:
            kh, kw = w.shape[-2:]
            if not (0 <= top <= size[0] - kh and 0 <= left <= size[1] - kw):
                raise ValueError(f"a {kh}x{kw} kernel does not fit in {size[0]}x{size[1]} at offset ({top}, {left})")
            weight[:, :, top:top + kh, left:left + kw] += w
        else:
            if rows is None:  # output channel c reads input channel c, which is c % (in/groups) of its group
                rows = torch.arange(weight.shape[0], device=weight.device)
                columns = rows % weight.shape[1]
            weight[rows, columns, top, left] += w
        if b is not None:
            bias += b
    return weight, bias
