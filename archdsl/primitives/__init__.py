"""The registry of primitives; importing this package registers every family."""

from . import act, conv, conv_transpose, linear, misc, norm, pool, resample  # noqa: F401  (registration side effects)
from .base import REGISTRY, Primitive, ShapeError

__all__ = ["REGISTRY", "Primitive", "ShapeError"]
