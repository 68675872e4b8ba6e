"""The printed table, the machine description and the JSON file."""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from .rows import Row

HEADERS = ("group", "row", "ours", "reference", "ratio", "range", "target", "", "reference used / status")


def machine(settings) -> dict:
    import torch

    info = {"cpu": _cpu_model(), "cores": _cores(), "threads": settings.threads, "torch": torch.__version__,
            "python": platform.python_version(), "device": settings.device, "load_average": _load_average()}
    for package in ("torchvision", "timm", "torchinfo", "ultralytics"):
        try:
            info[package] = __import__(package).__version__
        except ImportError:
            info[package] = None
    if settings.device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages when the machine is described (at the start and at the end of a run):
    on shared cores, a load well above the core count means the wide ranges are other people's work."""
    import os

    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "lines/s":
        return f"{value:,.0f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def cells(row: Row) -> tuple[str, ...]:
    if not row.measured:
        return (row.group, row.name, "", "", "", "", row.target_text(), "", row.status)
    ratio = "-" if row.ratio is None else f"{row.ratio:.3f} {row.ratio_label}"
    spread = "" if row.spread is None else f"{row.spread[0]:.2f}-{row.spread[1]:.2f}"
    verdict = {True: "ok", False: "MISS", None: ""}[row.meets_target]
    used = row.reference_used + (f"; {row.note}" if row.note else "")
    return (row.group, row.name, _number(row.ours, row.unit), _number(row.reference, row.unit), ratio, spread,
            row.target_text(), verdict, used)


def table(rows: Iterable[Row]) -> str:
    """The plain-text table printed at the end of a run (bench/markdown.py renders the JSON for the README)."""
    body = [cells(r) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(HEADERS)]
    widths[-1] = 0  # the last column is free text
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*HEADERS).rstrip(), fmt.format(*("-" * w for w in widths[:-1]), "-" * 24).rstrip()]
    lines += [fmt.format(*r).rstrip() for r in body]
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], settings, seconds: float) -> None:
    from dataclasses import asdict

    data = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if settings.quick else "full",
        "seconds": round(seconds, 1),
        "machine": machine(settings),
        "settings": asdict(settings),
        "rows": [r.to_json() for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)
