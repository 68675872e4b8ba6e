"""Deploy with proof: reparameterize, run both forms on one input, and report how far apart they are."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .graph import Reparameterized, run

#: the largest relative difference a float32 deploy graph may show; anything above it is a bug of the pass
FLOAT32_TOLERANCE = 1e-4


@dataclass
class DeployCheck:
    """The deploy graph and its equivalence check against the training form in eval mode.

    `max_rel` is the maximum absolute difference over the largest absolute reference output, a scale that
    stays meaningful where single outputs are close to zero.
    """

    result: Reparameterized
    params_before: int
    params_after: int
    max_abs: float
    max_rel: float

    @property
    def ok(self) -> bool:
        return self.max_rel <= FLOAT32_TOLERANCE

    def summary(self) -> str:
        r = self.result
        return (f"deploy: {self.params_after:,} parameters (training form {self.params_before:,}); "
                f"{len(r.folded)} BatchNorm folded, {len(r.fused)} add(s) fused, {len(r.removed)} inference "
                f"identities removed, {len(r.kept)} pattern(s) kept; max abs diff {self.max_abs:.3g}, "
                f"max rel diff {self.max_rel:.3g}")

    def details(self) -> list[str]:
        r = self.result
        return [f"  {line}" for line in (*r.removed, *r.folded, *r.fused, *r.kept)]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def difference(reference: torch.Tensor, candidate: torch.Tensor) -> tuple[float, float]:
    """(max absolute difference, that difference relative to the largest absolute reference value)."""
    diff = (reference - candidate).abs().max().item()
    scale = reference.abs().max().item()
    return diff, diff / scale if scale > 0 else diff


@torch.no_grad()
def randomize_batchnorm(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Give every BatchNorm random statistics and affine parameters, as trained ones would have.

    A fresh BatchNorm (mean 0, variance 1, weight 1, bias 0) is nearly the identity, so folding it proves
    little; random values make an equivalence check exercise the whole algebra.
    """
    def uniform(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(torch.rand(t.shape, generator=generator, dtype=t.dtype) * (high - low) + low)

    def normal(t: torch.Tensor, std: float) -> None:
        t.copy_(torch.randn(t.shape, generator=generator, dtype=t.dtype) * std)

    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
            normal(module.running_mean, 0.1)
            uniform(module.running_var, 0.5, 2.0)
            if module.weight is not None:
                uniform(module.weight, 0.5, 1.5)
                normal(module.bias, 0.1)
    return model


@torch.no_grad()
def deploy_and_check(model: nn.Module, x: torch.Tensor) -> DeployCheck:
    """Reparameterize `model` (in eval mode) and compare both forms on input `x`."""
    result = run(model)
    reference, candidate = model(x), result.module(x)
    max_abs, max_rel = difference(reference, candidate)
    return DeployCheck(result, parameter_count(model), parameter_count(result.module), max_abs, max_rel)
