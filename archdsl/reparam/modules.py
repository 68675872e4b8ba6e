"""Module-level fusion: new `nn.Conv2d`/`nn.Linear` modules built from eval-mode modules, inputs untouched.

>>> from torch import nn
>>> conv, bn = nn.Conv2d(3, 8, 3, padding=1, bias=False).eval(), nn.BatchNorm2d(8).eval()
>>> fuse_conv_bn(conv, bn).bias.shape
torch.Size([8])
"""

from __future__ import annotations

import torch
from torch import nn

from ..primitives.conv import same_padding
from . import math
from .geometry import ASYMMETRIC_SAME, Branch, Fused

BatchNorm = (nn.BatchNorm1d, nn.BatchNorm2d)


class ReparamError(ValueError):
    """The model cannot be reparameterized as it is (e.g. it is in training mode)."""


def require_eval(*modules: nn.Module) -> None:
    """Folding uses the running statistics, which is what the model computes in eval mode only."""
    for module in modules:
        if any(m.training for m in module.modules()):
            raise ReparamError(f"`{type(module).__name__}` is in training mode: BatchNorm uses batch statistics "
                               "there and cannot be folded; call model.eval() first")


def bn_unfoldable(bn: nn.Module) -> str | None:
    """Why a BatchNorm is not an affine map at inference, or None when it is."""
    if bn.running_mean is None or bn.running_var is None:
        return "it tracks no running statistics (track_running_stats=False), so it normalizes by the batch"
    return None


def _bn_weights(bn: nn.Module) -> tuple:
    return bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias


@torch.no_grad()
def fuse_conv_bn(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    """`bn(conv(x))` as one convolution with a bias: same kernel, stride, padding, dilation and groups."""
    require_eval(conv, bn)
    w, b = math.fuse_conv_bn_weights(conv.weight, conv.bias, *_bn_weights(bn))
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      conv.dilation, conv.groups, bias=True, padding_mode=conv.padding_mode,
                      device=w.device, dtype=w.dtype)
    return _set(fused, w, b)


@torch.no_grad()
def fuse_linear_bn(linear: nn.Linear, bn: nn.Module) -> nn.Linear:
    """`bn1d(linear(x))` as one linear layer with a bias."""
    require_eval(linear, bn)
    w, b = math.fuse_linear_bn_weights(linear.weight, linear.bias, *_bn_weights(bn))
    fused = nn.Linear(linear.in_features, linear.out_features, bias=True, device=w.device, dtype=w.dtype)
    return _set(fused, w, b)


def branch_of(module: nn.Module | None, channels: int | None = None) -> Branch | str:
    """The geometry of a linear branch: a `Conv2d`, a `BatchNorm2d`, or None for an identity of `channels`."""
    if module is None:
        return Branch(channels, channels)
    if isinstance(module, nn.BatchNorm2d):
        return bn_unfoldable(module) or Branch(module.num_features, module.num_features)
    if not isinstance(module, nn.Conv2d):
        return f"`{type(module).__name__}` is not a convolution, BatchNorm or identity"
    if module.padding_mode != "zeros":
        return f"its padding mode is {module.padding_mode!r}; only zero padding sums with other branches"
    padding = _symmetric_padding(module)
    if isinstance(padding, str):
        return padding
    return Branch(module.in_channels, module.out_channels, module.kernel_size, module.stride, padding,
                  module.dilation, module.groups)


def _symmetric_padding(conv: nn.Conv2d) -> tuple[int, int] | str:
    if not isinstance(conv.padding, str):
        return tuple(conv.padding)
    if conv.padding == "valid":
        return (0, 0)
    return same_padding(conv.kernel_size, conv.dilation) or ASYMMETRIC_SAME


@torch.no_grad()
def fuse_branches(modules: list[nn.Module | None], plan: Fused) -> nn.Conv2d:
    """The sum of parallel branches (Conv2d, BatchNorm2d, or None for identity) as the convolution `plan`."""
    require_eval(*(m for m in modules if m is not None))
    g = plan.branch
    reference = next(m.weight for m in modules if isinstance(m, nn.Conv2d))
    weight, bias = math.sum_kernels([_as_kernel(module) for module in modules], g.kernel, list(plan.offsets))
    fused = nn.Conv2d(g.in_channels, g.out_channels, g.kernel, g.stride, g.padding, g.dilation, g.groups,
                      bias=True, device=reference.device, dtype=reference.dtype)
    return _set(fused, weight, bias)


def _as_kernel(module: nn.Module | None):
    """A branch as math.sum_kernels takes it: a kernel, or the identity (times a BatchNorm's scale)."""
    if module is None:
        return 1.0, None
    if isinstance(module, nn.Conv2d):
        return module.weight, module.bias
    return math.bn_scale_shift(*_bn_weights(module))


def _set(module: nn.Module, weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    module.weight.copy_(weight)
    module.bias.copy_(bias)
    return module.eval()
