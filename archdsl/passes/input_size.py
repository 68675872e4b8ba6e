"""Which input sizes a network accepts, found with the static checker alone (no torch).

`--input 3xHxW` names the spatial sizes as symbols; each distinct symbol is searched on its own (axes with
the same symbol move together, `?` is always a fresh symbol) while every other axis stays at the network's
default. The search assumes what holds for almost every CNN, that a size which fits keeps fitting when it
grows: a bisection between 1 and a size known to fit finds the boundary. Because some networks break that
assumption (e.g. `add` of branches that round odd sizes differently), a scan then checks every smaller size,
so the minimum reported is the true minimum, and a second scan lists which sizes above it fit too.

>>> parse_dims("3xHxW")
(3, 'H', 'W')
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .. import ast
from ..diagnostics import ArchError, Diagnostic
from ..source import SourceMap
from .binding import bind_parameters
from .elaborate import Elaborator
from .resolve import FileScope

#: how far above the minimum the scan of valid sizes goes, when the default size is not larger
SCAN_ABOVE_MINIMUM = 64
#: the largest size tried when neither the default input nor anything below it fits
MAX_SEARCHED_SIZE = 4096
#: the most sizes above the minimum that the scan of valid sizes elaborates: a large default (4096 px, or an
#: absurd one) no longer means thousands of elaborations (issue 14); the report says how far it looked
MAX_SCANNED = 256

Dim = int | str


def parse_dims(text: str) -> tuple[Dim, ...]:
    """`3x224x224` -> (3, 224, 224); `3xHxW` -> (3, "H", "W"); each `?` becomes a symbol of its own."""
    parts = [p.strip() for p in re.split(r"[x×,]", text.strip())]
    if len(parts) not in (1, 3) or not all(parts):
        raise ValueError(f"expected CxHxW (e.g. 3x224x224 or 3xHxW) or F, got {text!r}")
    dims: list[Dim] = []
    fresh = itertools.count(1)
    for part in parts:
        if part.isdigit() and (len(part.lstrip("0")) > 19 or int(part) > 2**62):  # the language's integer range
            raise ValueError(f"{part[:30]}{'...' if len(part) > 30 else ''} in the input size is larger than 2**62")
        if part.isdigit() and int(part) > 0:
            dims.append(int(part))
        elif part == "?":
            dims.append(f"?{next(fresh)}")
        elif part.isidentifier():
            dims.append(part)
        else:
            raise ValueError(f"{part!r} in {text!r} is neither a positive size nor a symbol (H, W, ?)")
    return tuple(dims)


def is_symbolic(dims: tuple[Dim, ...]) -> bool:
    return any(isinstance(d, str) for d in dims)


@dataclass
class AxisReport:
    """The sizes one symbol (one or several axes moving together) can take."""

    symbol: str
    axes: tuple[int, ...]  # positions in the input dims (1 = H, 2 = W)
    minimum: int | None  # None: nothing up to MAX_SEARCHED_SIZE fits (then search() raises)
    scanned_up_to: int = 0
    valid: list[int] = field(default_factory=list)  # every fitting size in [minimum, scanned_up_to]
    smallest_error: Diagnostic | None = None  # why minimum - 1 does not fit

    def describe_valid(self) -> str:
        sizes, top = self.valid, self.scanned_up_to
        if len(sizes) == top - self.minimum + 1:
            return f"every size from {self.minimum} to {top} fits"
        steps = {b - a for a, b in zip(sizes, sizes[1:])}
        if len(steps) == 1:
            return f"sizes {self.minimum}, {sizes[1]}, ... (every {steps.pop()}) up to {top} fit, others do not"
        shown = ", ".join(map(str, sizes[:12])) + (", ..." if len(sizes) > 12 else "")
        return f"{len(sizes)} of the sizes {self.minimum}..{top} fit: {shown}"


@dataclass
class InputSizeReport:
    dims: tuple[Dim, ...]
    default: tuple[int, ...]
    axes: list[AxisReport]
    smallest: tuple[int, ...] | None  # every symbol at its minimum, when that combination fits (it nearly always does)
    smallest_error: Diagnostic | None = None  # why the combination of minima fails, when it does


def search(definition: ast.NetworkDef, scope: FileScope, overrides: dict, dims: tuple[Dim, ...],
           sources: SourceMap | None = None) -> InputSizeReport:
    """Find the smallest size of each symbolic axis of `dims`; raises ArchError if the spec fails otherwise.

    `sources` is the loader's map, which elaboration reads to place some carets."""
    default = _default_input(definition, scope, overrides)
    if len(dims) != len(default):
        raise ValueError(f"--input has {len(dims)} dims but network `{definition.name}` takes "
                         f"{'x'.join(map(str, default))}")
    base = tuple(d if isinstance(d, int) else default[i] for i, d in enumerate(dims))

    def fits(shape: tuple[int, ...]) -> Diagnostic | None:
        try:
            Elaborator(sources=sources).network(definition, scope, {**overrides, "input": shape})
        except ArchError as exc:
            return exc.diagnostics[0]
        return None

    symbols: dict[str, list[int]] = {}
    for i, d in enumerate(dims):
        if isinstance(d, str):
            symbols.setdefault(d, []).append(i)
    reports = [_search_axis(symbol, tuple(axes), base, fits) for symbol, axes in symbols.items()]
    unfit = next((r for r in reports if r.minimum is None), None)
    if unfit is not None:  # wrong at every size tried: report the error at the default size, as `check` would
        raise ArchError(fits(base) or unfit.smallest_error)
    smallest = list(base)
    for r in reports:
        for axis in r.axes:
            smallest[axis] = r.minimum
    combined = fits(tuple(smallest))
    return InputSizeReport(dims, default, reports, tuple(smallest) if combined is None else None, combined)


def _search_axis(symbol: str, axes: tuple[int, ...], base: tuple[int, ...], fits) -> AxisReport:
    def at(size: int) -> tuple[int, ...]:
        return tuple(size if i in axes else d for i, d in enumerate(base))

    hi = base[axes[0]]
    while fits(at(hi)) is not None:  # the default does not fit along this axis: look upward for one that does
        if hi >= MAX_SEARCHED_SIZE:
            return AxisReport(symbol, axes, None, smallest_error=fits(at(hi)))
        hi = min(hi * 2, MAX_SEARCHED_SIZE)
    lo = 0  # sizes <= lo are assumed not to fit (size 0 never does)
    while hi - lo > 1:  # bisection: valid where the fit is monotone
        mid = (lo + hi) // 2
        if fits(at(mid)) is None:
            hi = mid
        else:
            lo = mid
    minimum = next(s for s in range(1, hi + 1) if s == hi or fits(at(s)) is None)  # verification scan below
    top = min(max(base[axes[0]], minimum + SCAN_ABOVE_MINIMUM), minimum + MAX_SCANNED)
    valid = [s for s in range(minimum, top + 1) if s == minimum or fits(at(s)) is None]
    why = fits(at(minimum - 1)) if minimum > 1 else None
    return AxisReport(symbol, axes, minimum, top, valid, why)


def _default_input(definition: ast.NetworkDef, scope: FileScope, overrides: dict) -> tuple[int, ...]:
    """The `input` the network declares (after --set), evaluated without elaborating the body."""
    names = [p.name for p in definition.params]
    value = None
    if "input" in names:  # the parameters after `input` are not needed, and not evaluated
        value = bind_parameters(definition.params[:names.index("input") + 1], overrides, None).get("input")
    if not isinstance(value, tuple) or not all(isinstance(d, int) and d > 0 for d in value):
        raise ValueError(f"network `{definition.name}` declares no [C, H, W] or [F] `input` parameter")
    return value
