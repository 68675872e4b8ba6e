"""The registry of primitives; importing this package registers every family."""

from . import act, conv, linear, misc, norm, pool  # noqa: F401  (registration side effects)
from .base import REGISTRY, Primitive, ShapeError

__all__ = ["REGISTRY", "Primitive", "ShapeError"]
