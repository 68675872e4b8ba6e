"""Budgets: how much work and memory archdsl lets one input cost, so that a hostile or mistaken input fails in
seconds with a clear error instead of exhausting the machine.

Defaults are sized to the machine archdsl runs on (its memory, as the cgroup or the kernel reports it) and can
be raised per run: with the command's options where there is one, else with the environment variables named
below (`ARCHDSL_DOT_TIMEOUT=120 archdsl draw ...`). README, "Limits and import policy", lists them all.

>>> budgets = Budgets()
>>> budgets.dot_seconds > 0 and budgets.dot_memory > 0
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: where the memory of a machine is unknown (no sysconf, no cgroup): a small laptop's
FALLBACK_MEMORY = 8 * 2**30


def machine_memory() -> int:
    """Bytes of memory this process may use: physical memory, or the container's (cgroup) limit if lower."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 2**60:  # "max" or a huge number: no limit
            sizes.append(int(text))
    sizes = [s for s in sizes if s > 0]
    return min(sizes) if sizes else FALLBACK_MEMORY


def env_number(name: str, default: float) -> float:
    """A positive number from the environment, or `default` when unset or not a positive number."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Budgets:
    """Limits for the external tools and files archdsl handles; each field says what it bounds."""

    #: seconds graphviz's `dot` may run before the diagram fails (ARCHDSL_DOT_TIMEOUT)
    dot_seconds: float = field(default_factory=lambda: env_number("ARCHDSL_DOT_TIMEOUT", 30.0))
    #: bytes of address space `dot` may map: half the machine (ARCHDSL_DOT_MEMORY)
    dot_memory: int = field(default_factory=lambda: int(env_number("ARCHDSL_DOT_MEMORY", machine_memory() // 2)))
    #: a weights file may hold at most this many times the bytes of the model's own state_dict, plus
    #: `weights_extra_bytes` (float64 copies, optimizer state, metadata); anything larger cannot be the model's
    #: and is refused before torch inflates it (ARCHDSL_WEIGHTS_RATIO)
    weights_ratio: float = field(default_factory=lambda: env_number("ARCHDSL_WEIGHTS_RATIO", 8.0))
    weights_extra_bytes: int = 64 * 2**20


__all__ = ["Budgets", "FALLBACK_MEMORY", "env_number", "machine_memory"]
