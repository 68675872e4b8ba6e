"""Diagrams of elaborated networks: DOT source from the IR (`to_dot`), rendered by graphviz's `dot` (`render`)."""

from __future__ import annotations

from ..ir import Network
from .dot import to_dot
from .render import FORMATS, GraphvizFailed, GraphvizMissing, output_format, render


def svg_or_none(network: Network, depth: int = 0) -> str | None:
    """The SVG of a network, or None when graphviz is not installed (for Jupyter's `_repr_svg_`)."""
    try:
        return render(to_dot(network, depth), "svg").decode()
    except GraphvizMissing:
        return None


Network.svg_renderer = svg_or_none  # Jupyter's inline diagram of a network (`Network._repr_svg_`)

__all__ = ["FORMATS", "GraphvizFailed", "GraphvizMissing", "output_format", "render", "svg_or_none", "to_dot"]
