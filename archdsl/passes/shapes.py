"""Shape rules of the combinators `add`, `concat` and `mul` (pure Python, no torch)."""

from __future__ import annotations

from ..primitives.base import ShapeError
from ..types import TensorType


def _differing(types: list[TensorType], key) -> tuple[int, int] | None:
    for i, t in enumerate(types[1:], start=1):
        if key(t) != key(types[0]):
            return 0, i
    return None


def merge_type(op: str, types: list[TensorType]) -> TensorType:
    if op == "add":
        bad = _differing(types, lambda t: t.dims)
        if bad:
            first, other = bad
            raise ShapeError("E0201", f"`add`: branch {other + 1} has shape {types[other]}, branch {first + 1} has "
                             f"{types[first]}", help=_add_help(types[first], types[other]))
        return types[0]
    if op == "concat":
        bad = _differing(types, lambda t: (t.rank, t.spatial))
        if bad:
            first, other = bad
            raise ShapeError("E0202", f"`concat`: branch {other + 1} has spatial size {_spatial(types[other])}, "
                             f"branch {first + 1} has {_spatial(types[first])}",
                             help="branches must keep the same height and width; check strides and padding")
        return TensorType.of(sum(t.c for t in types), *types[0].spatial)
    if op == "mul":
        return _broadcast(types)
    raise AssertionError(op)


def _broadcast(types: list[TensorType]) -> TensorType:
    dims = list(types[0].dims)
    for i, t in enumerate(types[1:], start=1):
        if t.rank != len(dims) or any(a != b and a != 1 and b != 1 for a, b in zip(dims, t.dims)):
            raise ShapeError("E0203", f"`mul`: branch {i + 1} has shape {t}, which does not broadcast with {types[0]}",
                             help="each dimension must be equal or 1 (e.g. Cx1x1 gates from `gap`)")
        dims = [max(a, b) for a, b in zip(dims, t.dims)]
    return TensorType.of(*dims)


def _spatial(t: TensorType) -> str:
    return "x".join(map(str, t.spatial)) if t.rank == 3 else f"(flat {t.c})"


def _add_help(a: TensorType, b: TensorType) -> str:
    if a.rank == b.rank == 3 and a.c != b.c and a.spatial == b.spatial:
        return f"channels differ ({a.c} vs {b.c}): project the shortcut with a 1x1 conv to {max(a.c, b.c)} channels"
    if a.rank == b.rank == 3 and a.spatial != b.spatial:
        return "spatial sizes differ: give the shortcut the same stride as the main branch"
    return "both branches must produce the same shape"
