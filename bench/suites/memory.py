"""Row 6: peak memory of one DenseNet-121 training step: ours vs the reference, with and without
`memory_efficient=True` (torchvision's checkpointed concatenation). One fresh process per measurement."""

from __future__ import annotations

import json
import subprocess
import sys

from .. import ROOT
from ..models import missing_reference, reference, spec_path
from ..rows import Row, not_available
from .common import child_env

NAME = "densenet121"
EFFICIENT_TARGET = ("<=", 1.0)


def run(settings) -> list[Row]:
    shape = f"b{settings.memory_batch} {settings.memory_size}x{settings.memory_size}"
    plain_name = f"{NAME} train {shape} peak vs reference"
    efficient_name = f"{NAME} train {shape} peak vs memory_efficient"
    if spec_path(NAME) is None:
        return [not_available("memory", plain_name, "spec missing"),
                not_available("memory", efficient_name, "spec missing")]
    ref = reference(NAME, settings.prefer)
    if ref is None:
        why = missing_reference(NAME)
        return [not_available("memory", plain_name, why), not_available("memory", efficient_name, why)]
    peaks = {which: _probe(which, settings)
             for which in ("ours", "ours-efficient", "reference", "reference-efficient")}
    note = f"peak RSS rise in one forward+backward ({peaks['ours']['method']}), fresh process each"
    ours = peaks["ours"]["peak_mib"]
    ours_efficient = peaks["ours-efficient"]["peak_mib"]
    return [
        Row(group="memory", name=plain_name, unit="MiB", ours=ours, reference=peaks["reference"]["peak_mib"],
            ratio=ours / peaks["reference"]["peak_mib"], reference_used=peaks["reference"]["label"], note=note),
        Row(group="memory", name=efficient_name + " (both memory_efficient)", unit="MiB", ours=ours_efficient,
            reference=peaks["reference-efficient"]["peak_mib"],
            ratio=ours_efficient / peaks["reference-efficient"]["peak_mib"], target=EFFICIENT_TARGET,
            reference_used=peaks["reference-efficient"]["label"], note=note),
    ]


def _probe(which: str, settings) -> dict:
    cmd = [sys.executable, "-m", "bench.probe_memory", which, "--batch", str(settings.memory_batch),
           "--size", str(settings.memory_size), "--prefer", settings.prefer, "--threads", str(settings.threads)]
    result = subprocess.run(cmd, cwd=ROOT, env=child_env(settings.threads), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe `{which}` exited {result.returncode}: {result.stderr.strip()[-300:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
