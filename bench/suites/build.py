"""Row 4: build time, `archdsl.load(spec)` (parse, check, lower, initialise) / the reference constructor, for the
bench models and (full run) every other spec with a torchvision/timm counterpart."""

from __future__ import annotations

from ..models import SPEC_ARGS, missing_reference, reference, reference_specs, spec_path
from ..rows import Row, from_comparison, not_available
from ..timing import compare
from .common import failed, forget_parsed

TARGET = ("<=", 1.1)


def run(settings) -> list[Row]:
    import torch

    import archdsl

    rows: list[Row] = []
    names = list(settings.models)
    if settings.build_every_spec:
        names += [n for n in reference_specs() if n not in names]
    for name in names:
        row_name = f"{name} build"
        spec = spec_path(name)
        ref = reference(name, settings.prefer)
        if spec is None:
            rows.append(not_available("build", row_name, "spec missing"))
            continue
        if ref is None:
            rows.append(not_available("build", row_name, missing_reference(name)))
            continue
        torch.manual_seed(0)
        try:
            # warm-up builds the grammar and the standard library once (cached for the process); that one-off
            # cost is in the `check` row's process time, not here
            args = SPEC_ARGS.get(name, {})  # the spec call that makes what the reference constructor makes

            def ours():  # a first load in its process: the spec is parsed, not taken from parse's memory
                forget_parsed()
                return archdsl.load(spec, **args)

            c = compare(ours, ref.make, rounds=settings.build_rounds, warmup=settings.warmup, min_sample_s=0)
        except Exception as exc:
            rows.append(failed("build", row_name, exc, ref.label))
            continue
        rows.append(from_comparison("build", row_name, c, reference_used=ref.label, target=TARGET))
    return rows
