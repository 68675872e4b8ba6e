"""Inference reparameterization: BatchNorm folding and fusion of parallel linear branches.

Three layers, after `torch.nn.utils.fusion`: math.py (tensor algebra), modules.py (module fusion),
graph.py (the pass over a lowered model's torch.fx graphs). geometry.py holds the torch-free rule for when
branches are one convolution, shared with ir.py, the same pass over the IR (for `summary`/`draw --deploy`).
Importing this package does not import torch.
"""

from .ir import deploy_ir

__all__ = ["deploy_ir", "reparameterize"]


def reparameterize(model):
    """See `archdsl.reparam.graph.reparameterize` (imported lazily: it needs torch)."""
    from .graph import reparameterize as _reparameterize

    return _reparameterize(model)
