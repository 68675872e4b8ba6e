"""Inference reparameterization: BatchNorm folding and fusion of parallel linear branches.

Three layers, after `torch.nn.utils.fusion`: math.py (tensor algebra), modules.py (module fusion), and the
graph pass: rules.py, the rules written once over a small graph view, applied by two thin adapters: ir.py (the
torch-free IR: `deploy_ir`, what `summary`/`draw --deploy` show) and graph.py (torch.fx graphs, for a module
that archdsl did not build). A module archdsl built is deployed by deploy.py: the IR pass with state.py
computing the deploy weights along it, then the deploy IR lowered (`build`) and given those weights, so
`build --deploy`, `archdsl.reparameterize` and the IR commands cannot disagree. geometry.py is the torch-free
rule for when branches are one convolution; verify.py checks a deploy form against the training form.
Importing this package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ir import deploy_ir

if TYPE_CHECKING:
    from torch import nn

__all__ = ["deploy_ir", "reparameterize", "run"]


def reparameterize(model: "nn.Module", memory_format=None, *, build=None) -> "nn.Module":
    """A new module equal to `model` in eval mode, BatchNorms folded and parallel linear branches fused.

    Raises `ReparamError` (a `ValueError`) when `model` is in training mode: call `model.eval()` first.
    Weights are stored channels_last unless `memory_format` says otherwise (e.g. `torch.contiguous_format`).
    A module archdsl built is lowered again from its deploy IR by `build` (deploy.py; `archdsl.reparameterize`
    passes the lowering); any other module must be a torch.fx graph, rewritten in place (graph.py). See
    `archdsl.reparam.rules` for the rules; `deploy.run` and `graph.run` also report what was left and why.
    """
    return run(model, memory_format, build=build).module


def run(model: "nn.Module", memory_format=None, *, build=None, state=None):
    """`reparameterize`, with the report (`Reparameterized`: folded, fused, removed, kept with the reason)."""
    import torch

    from ..nn import network_of

    memory_format = torch.channels_last if memory_format is None else memory_format
    network = network_of(model)
    if network is not None and build is not None:
        from .deploy import run as deploy

        return deploy(model, network, build, memory_format, state)
    if network is not None:  # lowering lives beside this package, not under it: the caller passes it
        from .modules import ReparamError

        raise ReparamError(f"`{type(model).__name__}` was built by archdsl: reparameterize it with "
                           "`archdsl.reparameterize(model)`, which lowers its deploy IR")
    from .graph import run as rewrite_fx

    if state is not None:  # the fx pass rewrites a copy of the module: give the copy those weights
        import copy

        model = copy.deepcopy(model)
        model.load_state_dict(state)
    return rewrite_fx(model, memory_format)
