"""The Python API: `check` (static, torch-free) and `load` (a torch module)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import error
from .ir import Network
from .passes.elaborate import Elaborator, Limits
from .passes.resolve import FileScope, load_file

if TYPE_CHECKING:
    from torch import nn


def choose_network(scope: FileScope, name: str | None):
    networks = scope.module.networks
    if name is not None:
        for definition in networks:
            if definition.name == name:
                return definition
        available = ", ".join(f"`{d.name}`" for d in networks) or "none"
        raise error("E0111", f"`{scope.module.file}` has no network `{name}`", None, help=f"networks in the file: {available}")
    if len(networks) == 1:
        return networks[0]
    if not networks:
        raise error("E0111", f"`{scope.module.file}` defines no network", None,
                    help="add `network name(input=[3, 224, 224]) { ... }`, or check a file that has one")
    names = ", ".join(f"`{d.name}`" for d in networks)
    raise error("E0111", f"`{scope.module.file}` defines several networks ({names}); choose one", networks[1].name_span,
                help="pass `--network NAME` (or `network=` in Python)")


def check(path: str | Path, network: str | None = None, *, limits: Limits | None = None, **params: Any) -> Network:
    """Elaborate a spec statically: every shape inferred, no torch imported.

    Raises `ArchError` with diagnostics when the spec is wrong.

    >>> net = check("specs/resnet18.arch", classes=10)
    >>> net.output.dims, net.param_count
    ((10,), 11181642)
    """
    return elaborate(path, network, params, limits)


def elaborate(path: str | Path, network: str | None = None, params: dict[str, Any] | None = None,
              limits: Limits | None = None) -> Network:
    """`check` with the parameters as a dict (any names, `network` and `limits` included): the CLI's entry."""
    scope = load_file(Path(path))
    definition = choose_network(scope, network)
    values = {k: as_value(v) for k, v in (params or {}).items()}
    return Elaborator(limits or Limits()).network(definition, scope, values)


def as_value(value: Any) -> Any:
    """A Python value as the language sees it: lists become tuples (values are immutable)."""
    if isinstance(value, (list, tuple)):
        return tuple(as_value(v) for v in value)
    return value


def build(network: Network, device: str | None = None) -> "nn.Module":
    """Lower an elaborated network to a torch module."""
    from .lower import lower

    module = lower(network)
    return module.to(device) if device else module


def load(path: str | Path, network: str | None = None, *, weights: str | Path | None = None,
         device: str | None = None, **params: Any) -> "nn.Module":
    """Compile a spec into a `torch.nn.Module`; `params` override the network's parameters.

    >>> model = load("specs/resnet18.arch", classes=10)
    >>> sum(p.numel() for p in model.parameters())
    11181642
    """
    module = build(check(path, network, **params))
    if weights is not None:
        from .weights import load_weights

        load_weights(module, weights)
    return module.to(device) if device else module
