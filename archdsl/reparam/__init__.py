"""Inference reparameterization: BatchNorm folding and fusion of parallel linear branches.

Three layers, after `torch.nn.utils.fusion`: math.py (tensor algebra), modules.py (module fusion), and the
graph pass: rules.py, the rules written once over a small graph view, applied by two thin adapters, graph.py
(a lowered model's torch.fx graphs: `reparameterize`) and ir.py (the torch-free IR: `deploy_ir`, for
`summary`/`draw --deploy`); state.py computes the deploy weights along the IR pass, so that lowering the
deploy IR gives the deploy module too. geometry.py is the torch-free rule for when branches are one convolution.
Importing this package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ir import deploy_ir

if TYPE_CHECKING:
    from torch import nn

__all__ = ["deploy_ir", "reparameterize"]


def reparameterize(model: "nn.Module", memory_format=None) -> "nn.Module":
    """A new module equal to `model` in eval mode, BatchNorms folded and parallel linear branches fused.

    Raises `ReparamError` (a `ValueError`) when `model` is in training mode: call `model.eval()` first.
    Weights are stored channels_last unless `memory_format` says otherwise (e.g. `torch.contiguous_format`).
    See `archdsl.reparam.rules` for the rules; `graph.run` also reports what was left and why.
    """
    from .graph import reparameterize as _reparameterize

    return _reparameterize(model) if memory_format is None else _reparameterize(model, memory_format)
