"""Paired, interleaved timing: ours and the reference alternate in one process, round after round.

Other processes on the machine slow both sides alike when they run back to back, so each round yields one ratio
(ours / reference) and the reported ratio is the median of those; the order alternates every round so neither
side always runs first (and profits from, or pays for, the other's cache state).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Comparison:
    ours: float  # median seconds per call
    reference: float
    ratio: float  # median of the per-round ratios ours / reference
    ratios: tuple[float, ...]
    calls_per_sample: int


def compare(ours: Callable[[], Any], reference: Callable[[], Any], *, rounds: int, warmup: int = 1,
            min_sample_s: float = 0.05, sync: Callable[[], None] | None = None) -> Comparison:
    """Time `ours()` against `reference()`: `warmup` calls each, then `rounds` interleaved samples of each.

    A sample repeats the call until it lasts at least `min_sample_s` (the same count for both sides), so very
    short calls are not lost in timer resolution. `sync` (e.g. `torch.cuda.synchronize`) ends every sample.
    """
    sync = sync or (lambda: None)
    first = {}
    # without a minimum sample length nothing needs calibrating: `warmup=0` then means no untimed call at all
    # (for rows whose one call takes many seconds, e.g. torchinfo over a whole sweep grid)
    for name, fn in (("ours", ours), ("reference", reference)):
        for _ in range(warmup if min_sample_s <= 0 else max(warmup, 1)):
            first[name] = _sample(fn, 1, sync)
    calls = 1 if min_sample_s <= 0 else max(1, math.ceil(min_sample_s / max(min(first.values()), 1e-9)))
    ours_times: list[float] = []
    reference_times: list[float] = []
    for r in range(rounds):
        if r % 2 == 0:
            ours_times.append(_sample(ours, calls, sync))
            reference_times.append(_sample(reference, calls, sync))
        else:
            reference_times.append(_sample(reference, calls, sync))
            ours_times.append(_sample(ours, calls, sync))
    ratios = tuple(a / b for a, b in zip(ours_times, reference_times))
    return Comparison(ours=statistics.median(ours_times), reference=statistics.median(reference_times),
                      ratio=statistics.median(ratios), ratios=ratios, calls_per_sample=calls)


def _sample(fn: Callable[[], Any], calls: int, sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    return (time.perf_counter() - start) / calls


def median_time(fn: Callable[[], Any], *, rounds: int, warmup: int = 1) -> float:
    """Median wall time of `fn()` alone (for rows with no counterpart, e.g. parser scaling)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
