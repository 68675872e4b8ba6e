"""The Python API: `check` (static, torch-free), `build` and `load` (torch modules), `reparameterize`.

Each is a short walk through the pipeline (pipeline.py), the same one the CLI's commands take.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from . import pipeline
from .ir import Network
from .passes.elaborate import Limits

if TYPE_CHECKING:
    from torch import nn


def check(path: str | Path, network: str | None = None, *, limits: Limits | None = None,
          features: Sequence[str] | None = None, **params: Any) -> Network:
    """Elaborate a spec statically: every shape inferred, no torch imported.

    With `features` (labels such as `"layer2"`, dotted paths such as `"features.3"`, or named tensors such as
    `"@c5"`), the network's outputs are those feature maps, a list, described by `feature_info`.
    Raises `ArchError` with diagnostics (and the sources they point into) when the spec is wrong.

    Examples:
        >>> net = check("specs/resnet18.arch", classes=10)
        >>> net.output.dims, net.param_count
        ((10,), 11181642)
        >>> [(f.channels, f.reduction) for f in check("specs/resnet18.arch", features=["layer2", "layer4"]).feature_info]
        [(128, 8), (512, 32)]
    """
    return pipeline.compile_network(path, network, params, limits, features=features).network


def build(network: Network, device: str | None = None) -> "nn.Module":
    """Lower an elaborated network to a torch module."""
    module = pipeline.lower(network)
    return module.to(device) if device else module


def load(path: str | Path, network: str | None = None, *, weights: str | Path | None = None,
         partial: bool = False, freeze: Sequence[str] = (),
         device: str | None = None, features: Sequence[str] | None = None, **params: Any) -> "nn.Module":
    """Compile a spec into a `torch.nn.Module`; `params` override the network's parameters.

    `weights` (a state_dict file, mapping or module) is loaded strictly: every entry must fit, by name or else
    by order. With `partial=True` only the entries that match by name and shape are loaded (a 1000-class
    checkpoint into a 10-class spec) and the others keep their initialization; `freeze` (label patterns such as
    `"features.*"` or `"layer[1-3]"`) stops training the parameters it names. What a partial load or freezing
    did, tensor by tensor, is the module's `transfer_report` (archdsl/transfer.py).

    With `features` (as `check` takes them), forward returns those feature maps, a list, and the module's
    `feature_info` describes them (as timm's `features_only`); the layers after the last one are not run.

    Examples:
        >>> model = load("specs/resnet18.arch", classes=10)
        >>> sum(p.numel() for p in model.parameters())
        11181642
        >>> [(f.name, f.channels, f.reduction) for f in load("specs/resnet18.arch", features=["layer2"]).feature_info]
        [('layer2', 128, 8)]
    """
    module = build(check(path, network, features=features, **params))
    if weights is not None or freeze:
        from .transfer import transfer

        if partial and weights is None:
            raise ValueError("partial=True needs weights=")
        report = transfer(module, weights, partial=partial, freeze_patterns=freeze)
        if report is not None:
            module.transfer_report = report
    return module.to(device) if device else module


def reparameterize(model: "nn.Module", memory_format=None) -> "nn.Module":
    """A new module equal to `model` in eval mode, BatchNorms folded and parallel linear branches fused.

    Raises `ReparamError` (a `ValueError`) when `model` is in training mode: call `model.eval()` first.
    Weights are stored channels_last unless `memory_format` says otherwise (e.g. `torch.contiguous_format`).
    """
    return pipeline.reparameterize(model, memory_format)
