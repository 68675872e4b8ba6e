"""How shapes, parameter counts and MACs read in hints and hovers."""

from __future__ import annotations

from ..analysis import Instance

MAX_SHAPES = 3


def count(n: int) -> str:
    """11689512 -> '11.7M', 74048 -> '74.0k', 576 -> '576'."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.3g}{unit}" if n < 100 * size else f"{n / size:.0f}{unit}"
    return str(n)


def distinct(values) -> list:
    seen: list = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def outputs(instances: list[Instance]) -> str:
    """`64x56x56`, or the distinct shapes of a block's item over its calls: `64x56x56 | 128x28x28 | +2`."""
    shapes = distinct(str(i.out) for i in instances)
    shown = " | ".join(shapes[:MAX_SHAPES])
    return shown + (f" | +{len(shapes) - MAX_SHAPES}" if len(shapes) > MAX_SHAPES else "")


def params(instances: list[Instance]) -> str:
    counts = distinct(i.params for i in instances)
    if len(counts) == 1:
        return f"{count(counts[0])} params"
    return f"{count(min(counts))}-{count(max(counts))} params"
