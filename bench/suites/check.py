"""Row 3: `archdsl check` (a process, torch-free) against `torchinfo.summary` (a process) on the same models."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from .. import ROOT
from ..models import SPECS, reference, spec_path
from ..rows import Row, from_comparison, not_available
from ..timing import compare, median_time
from .common import child_env

TARGET = ("<=", 0.1)  # at least 10x faster


def run(settings) -> list[Row]:
    rows: list[Row] = []
    candidates = sorted(p.stem for p in (ROOT / "tests" / "reference").glob("*.json"))
    if settings.quick:
        candidates = [n for n in candidates if n in settings.models]
    names = [n for n in candidates if spec_path(n) is not None and reference(n, settings.prefer) is not None]
    name = f"check {len(names)} specs vs torchinfo"
    if importlib.util.find_spec("torchinfo") is None:
        rows.append(not_available("check", name, "torchinfo not installed"))
    elif not names:
        rows.append(not_available("check", name, "no spec with a reference"))
    else:
        specs = [str(spec_path(n)) for n in names]
        ours = [sys.executable, "-m", "archdsl", "check", "-q", *specs]
        theirs = [sys.executable, "-m", "bench.probe_torchinfo", "--prefer", settings.prefer,
                  "--size", "224", *names]
        c = compare(lambda: _run(ours, settings.threads), lambda: _run(theirs, settings.threads), rounds=settings.process_rounds, warmup=1,
                    min_sample_s=0)
        labels = sorted({reference(n, settings.prefer).label.rsplit(" ", 1)[0] for n in names})
        rows.append(from_comparison("check", name, c, reference_used=f"torchinfo.summary on {', '.join(labels)}",
                                    target=TARGET, unit="s", scale=1.0, note="process wall time each side"))
        rows[-1].extra["models"] = names
    everything = sorted(str(p) for p in SPECS.rglob("*.arch"))
    if not settings.quick and everything:
        cmd = [sys.executable, "-m", "archdsl", "check", "-q", *everything]
        seconds = median_time(lambda: _run(cmd, settings.threads, check=False), rounds=settings.process_rounds)
        rows.append(Row(group="check", name=f"check all {len(everything)} specs", unit="s", ours=seconds,
                        note="process wall time; no counterpart", reference_used="-"))
    return rows


def _run(cmd: list[str], threads: int, check: bool = True) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=child_env(threads), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {result.returncode}: {result.stderr.strip()[-300:]}")
