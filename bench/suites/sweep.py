"""The sweep rows (issue 16): design variants evaluated per second on EfficientNet-B0's width x depth x resolution
grid, `archdsl.sweep` (one parse, a static elaboration per variant) against what a user does without it,
`torchinfo.summary` of each variant's built module (archdsl.load, then a forward pass with hooks).

Both sides run in this process, round after round, alternating; times are per variant. The ratio is the speed-up,
torchinfo / ours (higher is better). Two rows: the static numbers torchinfo also gives (parameters, MACs,
activations, output shape), and the sweep as `archdsl sweep` runs it by default, with the minimum-input search.
"""

from __future__ import annotations

import importlib.util
import statistics
import time

from ..models import spec_path
from ..rows import Row, not_available
from .common import failed

SPEEDUP_TARGET = (">=", 500.0)
SPEC = "efficientnet_b0"


def run(settings) -> list[Row]:
    name = f"sweep {SPEC} vs torchinfo"
    path = spec_path(SPEC)
    if path is None:
        return [not_available("sweep", name, "spec missing")]
    if importlib.util.find_spec("torchinfo") is None:
        return [not_available("sweep", name, "torchinfo not installed")]
    import torch
    import torchinfo

    import archdsl
    from archdsl.sweep import grid

    axes = {"width": settings.sweep_widths, "depth": settings.sweep_depths,
            "input": [(3, s, s) for s in settings.sweep_sizes]}
    variants = grid(axes)
    n = len(variants)
    shape = "x".join(str(len(v)) for v in axes.values())

    def theirs():
        for params in variants:
            model = archdsl.load(path, **params)
            torchinfo.summary(model, input_size=(1, *params["input"]), verbose=0, device=torch.device("cpu"))

    archdsl.check(path)  # the grammar and standard library, once per process, as in the other rows
    torch.manual_seed(0)
    theirs_one = variants[0]  # warm torch and torchinfo with one variant rather than a whole untimed grid
    torchinfo.summary(archdsl.load(path, **theirs_one), input_size=(1, *theirs_one["input"]), verbose=0,
                      device=torch.device("cpu"))
    sides = {"static counts": lambda: archdsl.sweep(path, axes, min_input=False),
             "with minimum input": lambda: archdsl.sweep(path, axes, min_input=True),
             "torchinfo": theirs}
    try:
        for label in ("static counts", "with minimum input"):
            result = sides[label]()
            if not result.valid:
                raise RuntimeError(f"{len(result.invalid)} variants invalid: {result.invalid[0].error.message}")
        times, cpu = _rounds(sides, settings.process_rounds)
    except Exception as exc:
        return [failed("sweep", name, exc, "torchinfo.summary of archdsl.load per variant")]
    rows = []
    for label in ("static counts", "with minimum input"):
        speedups = [t / o for o, t in zip(times[label], times["torchinfo"])]
        cpu_speedups = [t / o for o, t in zip(cpu[label], cpu["torchinfo"])]
        ours_ms = statistics.median(times[label]) / n * 1e3
        theirs_ms = statistics.median(times["torchinfo"]) / n * 1e3
        rows.append(Row(group="sweep", name=f"sweep {SPEC} {shape} grid, {label}", unit="ms/variant", ours=ours_ms,
                        reference=theirs_ms, ratio=statistics.median(speedups), ratio_label="torchinfo/ours",
                        spread=(min(speedups), max(speedups)), target=SPEEDUP_TARGET,
                        reference_used="torchinfo.summary of each variant's module (archdsl.load + forward)",
                        note=f"{n} variants; {1e3 / ours_ms:,.0f} vs {1e3 / theirs_ms:.2f} variants/s; "
                             f"CPU time {statistics.median(cpu_speedups):.1f}x",
                        extra={"seconds": times[label], "torchinfo_seconds": times["torchinfo"], "variants": n,
                               # process CPU time: on a shared machine the wall times wait for the CPU too
                               "cpu_seconds": cpu[label], "torchinfo_cpu_seconds": cpu["torchinfo"],
                               "cpu_ratio": statistics.median(cpu_speedups),
                               "axes": {k: [list(v) if isinstance(v, tuple) else v for v in vs]
                                        for k, vs in axes.items()}}))
    return rows


def _rounds(sides: dict, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each side once per round, the order reversed every other round (as timing.compare does for two sides);
    the torchinfo side is timed once per round for both of our rows. Wall seconds, and the process's CPU
    seconds (torch runs one thread)."""
    times: dict[str, list[float]] = {label: [] for label in sides}
    cpu: dict[str, list[float]] = {label: [] for label in sides}
    for r in range(rounds):
        for label in (list(sides) if r % 2 == 0 else list(reversed(sides))):
            start, start_cpu = time.perf_counter(), time.process_time()
            sides[label]()
            times[label].append(time.perf_counter() - start)
            cpu[label].append(time.process_time() - start_cpu)
    return times, cpu
