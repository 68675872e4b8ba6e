"""The registry of primitives; importing this package registers every family."""

# imported for their side effect: each module registers its primitives
from . import act, conv, conv_transpose, detect, layer_norm, linear, misc, norm, permute, pool, resample  # noqa: F401
from .base import REGISTRY, Primitive, ShapeError

__all__ = ["REGISTRY", "Primitive", "ShapeError"]
