"""The IR a module was built from, kept on the root module: reparameterization lowers its deploy form from it.

An attribute, not a submodule or buffer, so it is never in the state_dict. Lowering sets it; the deploy path
reads it (both name it through here: they sit side by side in the layers and do not import each other).
The IR is immutable, so a deep copy of the module shares it, and a pickled module carries it.
"""

from __future__ import annotations

from typing import Any

from torch import nn

ATTRIBUTE = "_archdsl_network"


class NetworkRef:
    __slots__ = ("network",)

    def __init__(self, network: Any):
        self.network = network

    def __deepcopy__(self, memo) -> NetworkRef:
        return self

    def __getstate__(self) -> Any:
        return self.network

    def __setstate__(self, network: Any) -> None:
        self.network = network


def attach_network(module: nn.Module, network: Any) -> None:
    module.__dict__[ATTRIBUTE] = NetworkRef(network)


def network_of(module: nn.Module) -> Any:
    """The `archdsl.ir.Network` that `module` was lowered from, or None for a module archdsl did not build."""
    ref = module.__dict__.get(ATTRIBUTE)
    return ref.network if ref is not None else None
