"""Deploy with proof: reparameterize, run both forms on one input, and report how far apart they are."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .graph import Reparameterized

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
    for _, module in _batchnorms(model):
        _randomize(module.running_mean, module.running_var, module.weight, module.bias, generator)
    return model


@torch.no_grad()
def randomized_batchnorm_state(model: nn.Module, generator: torch.Generator | None = None) -> dict:
    """`model.state_dict()` with new random BatchNorm entries (as `randomize_batchnorm` draws them); the model
    keeps its own, and no other tensor is copied."""
    state = model.state_dict()
    for prefix, _ in _batchnorms(model):
        keys = [f"{prefix}{name}" for name in ("running_mean", "running_var", "weight", "bias")]
        tensors = [state[k].clone() if k in state else None for k in keys]
        _randomize(*tensors, generator)
        state.update({k: t for k, t in zip(keys, tensors) if t is not None})
    return state


def _batchnorms(model: nn.Module):
    for prefix, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
            yield (f"{prefix}." if prefix else ""), module


def _randomize(mean, var, weight, bias, generator) -> None:
    def uniform(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(torch.rand(t.shape, generator=generator, dtype=t.dtype) * (high - low) + low)

    def normal(t: torch.Tensor, std: float) -> None:
        t.copy_(torch.randn(t.shape, generator=generator, dtype=t.dtype) * std)

    normal(mean, 0.1)
    uniform(var, 0.5, 2.0)
    if weight is not None:
        uniform(weight, 0.5, 1.5)
        normal(bias, 0.1)


@torch.no_grad()
def deploy_and_check(model: nn.Module, x, *, build=None, state=None, reference=None) -> DeployCheck:
    """Reparameterize `model` (in eval mode) and compare both forms on input `x` (a tensor, or a tuple of the
    network's inputs); every output is compared.

    With `state` (e.g. `randomized_batchnorm_state(model)`), both forms compute with those weights instead of
    the model's own; the model is neither copied nor changed. `reference` is the training form's output on `x`
    where the caller has it already (`build --deploy` ran that forward pass). `build` lowers a deploy IR (see
    `reparameterize`).
    """
    from . import run

    inputs = x if isinstance(x, tuple) else (x,)
    result = run(model, build=build, state=state)
    if reference is None:
        reference = model(*inputs) if state is None else torch.func.functional_call(model, dict(state), inputs)
    pairs = list(zip(flat_outputs(reference), flat_outputs(result.module(*inputs))))
    max_abs = max(difference(a, b)[0] for a, b in pairs)
    scale = max(a.abs().max().item() for a, _ in pairs)
    max_rel = max_abs / scale if scale > 0 else max_abs
    return DeployCheck(result, parameter_count(model), parameter_count(result.module), max_abs, max_rel)


def flat_outputs(result) -> list[torch.Tensor]:
    """A forward's result as a list of tensors (a tuple's, a dict's values, a list's)."""
    if isinstance(result, torch.Tensor):
        return [result]
    return list(result.values()) if isinstance(result, dict) else list(result)
