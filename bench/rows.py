"""One benchmark result: a measured pair, its ratio, the target it is held to, and which reference was used."""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field
from typing import Any

_OPERATORS = {"<=": operator.le, ">=": operator.ge}


@dataclass
class Row:
    group: str  # eager, deploy, check, build, scaling, memory, cuda
    name: str  # e.g. "resnet18 eval b8"
    unit: str = ""  # of `ours` and `reference`: ms, s, MiB, lines/s
    ours: float | None = None
    reference: float | None = None
    ratio: float | None = None  # ours / reference unless `ratio_label` says otherwise
    ratio_label: str = "ours/ref"
    spread: tuple[float, float] | None = None  # min and max of the per-round ratios
    target: tuple[str, float] | None = None  # ("<=", 1.05): applied to `target_value` (the ratio by default)
    target_on: str = "ratio"  # "ratio" or "ours"
    reference_used: str = ""  # e.g. "torchvision 0.29.1 resnet18", "bench.reference_models.resnet18"
    status: str = "ok"  # "ok", or why the row could not be measured ("n/a: spec missing")
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return self.status == "ok"

    @property
    def meets_target(self) -> bool | None:
        if not self.measured or self.target is None:
            return None
        value = self.ratio if self.target_on == "ratio" else self.ours
        if value is None:
            return None
        op, bound = self.target
        return _OPERATORS[op](value, bound)

    def target_text(self) -> str:
        if self.target is None:
            return ""
        what = "" if self.target_on == "ratio" else f"{self.unit} "
        return f"{what}{self.target[0]} {self.target[1]:g}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = self.target_text() or None
        data["meets_target"] = self.meets_target
        return data


def not_available(group: str, name: str, why: str, reference_used: str = "") -> Row:
    return Row(group=group, name=name, status=f"n/a: {why}", reference_used=reference_used)


def from_comparison(group: str, name: str, comparison, *, reference_used: str, target: tuple[str, float] | None,
                    unit: str = "ms", scale: float = 1e3, note: str = "", **fields) -> Row:
    """A timing row from `timing.compare`: seconds scaled to `unit`, the median per-round ratio and its spread."""
    return Row(group=group, name=name, unit=unit, ours=comparison.ours * scale,
               reference=comparison.reference * scale, ratio=comparison.ratio,
               spread=(min(comparison.ratios), max(comparison.ratios)), target=target,
               reference_used=reference_used, note=note,
               extra={"ratios": list(comparison.ratios), "calls_per_sample": comparison.calls_per_sample}, **fields)
