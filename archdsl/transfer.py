"""Transfer learning: load what fits of a checkpoint, and freeze parameters by label pattern.

The seed notes' recipes (note 003) are: start from pretrained weights and train every layer; train only the
last layers; freeze the loaded layers and train new ones. A 1000-class checkpoint does not fit a 10-class
spec, so loading is strict by default (weights.py) and partial on request: `load_partial` gives every entry of
the model that the file has *by name and shape* the file's values and leaves the others at their
initialization, and says exactly which. `freeze` turns off `requires_grad` for the parameters whose names (or a
module above them) match a pattern, and says how many.

>>> import torch, archdsl
>>> model = archdsl.load("specs/resnet18.arch", classes=10, input=[3, 32, 32])
>>> pretrained = archdsl.load("specs/resnet18.arch", input=[3, 32, 32]).state_dict()   # 1000 classes
>>> report = load_partial(model, pretrained)
>>> report.left, [m.key for m in report.mismatched]
(['fc.weight', 'fc.bias'], ['fc.weight', 'fc.bias'])
>>> freeze(model, ["conv1", "bn1", "layer*"]).parameters
11176512
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import torch
from torch import nn

from .weights import WeightsError, _check_values, file_budget, read_state_dict

Source = str | Path | Mapping[str, torch.Tensor] | nn.Module


@dataclass(frozen=True)
class Mismatch:
    """An entry both have under one name, with different shapes: left at its initialization."""

    key: str
    model_shape: tuple[int, ...]
    file_shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.key} (the model's {list(self.model_shape)}, the file's {list(self.file_shape)})"


@dataclass
class TransferReport:
    """What a partial load did, entry by entry (state_dict keys, in the model's order), and what was frozen."""

    source: str
    loaded: list[str] = field(default_factory=list)  # given the file's values
    left: list[str] = field(default_factory=list)  # left at their initialization: absent from the file, or mismatched
    mismatched: list[Mismatch] = field(default_factory=list)  # of `left`: the file has them with another shape
    unused: list[str] = field(default_factory=list)  # entries of the file the model has no place for
    loaded_numel: int = 0
    total_numel: int = 0
    frozen: "FreezeReport | None" = None

    def lines(self, verbose: bool = False) -> list[str]:
        shapes = {m.key: m for m in self.mismatched}
        out = [f"loaded {len(self.loaded)} of {len(self.loaded) + len(self.left)} tensors from {self.source} "
               f"({self.loaded_numel:,} of {self.total_numel:,} values)"]
        if verbose:
            out += [f"  loaded: {key}" for key in self.loaded]
        out += [f"  left at initialization: {shapes.get(key, key)}" + ("" if key in shapes else " (not in the file)")
                for key in self.left]
        out += [f"  not used from the file: {key}" for key in self.unused]
        if self.frozen is not None:
            out += self.frozen.lines()
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass
class FreezeReport:
    """The parameters `freeze` turned off, by name, and how many values they hold."""

    patterns: tuple[str, ...]
    names: list[str] = field(default_factory=list)
    parameters: int = 0  # values in the frozen parameters
    trainable: int = 0  # values still trained

    def lines(self, verbose: bool = False) -> list[str]:
        return [f"froze {self.parameters:,} parameters in {len(self.names)} tensors "
                f"({', '.join(self.patterns)}); {self.trainable:,} still train"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def load_partial(model: nn.Module, source: Source) -> TransferReport:
    """Give each entry of `model` that `source` has under the same name and shape the file's values; leave the
    others at their initialization. Raises WeightsError when nothing matches by name (partial loading never
    matches by order) or when a value cannot be the model's (integers for floats, NaN, infinities)."""
    where = str(source) if isinstance(source, (str, Path)) else "the state_dict"
    try:
        state = read_state_dict(source, max_bytes=file_budget(model))
        ours = model.state_dict()
        report = TransferReport(where, total_numel=sum(t.numel() for t in ours.values()))
        matched = {}
        for key, mine in ours.items():
            theirs = state.get(key)
            if theirs is not None and theirs.shape == mine.shape:
                matched[key] = theirs
                report.loaded.append(key)
                report.loaded_numel += mine.numel()
            else:
                report.left.append(key)
                if theirs is not None:
                    report.mismatched.append(Mismatch(key, tuple(mine.shape), tuple(theirs.shape)))
        report.unused = [key for key in state if key not in ours]
        if not matched:
            raise WeightsError(f"no entry matches the model by name (partial loading matches names, never order): "
                               f"the file's first is `{next(iter(state))}`, the model's `{next(iter(ours))}`")
        _check_values(ours, matched)
    except WeightsError as exc:
        raise WeightsError(f"{where}: {exc}") from None
    model.load_state_dict(matched, strict=False)
    return report


class FreezeError(ValueError):
    """A freeze pattern names no parameter of the model (a typo would otherwise freeze nothing, silently)."""


def freeze(model: nn.Module, patterns: Iterable[str]) -> FreezeReport:
    """Stop training the parameters whose names match a pattern (`fnmatch`: `features.*`, `layer[1-3]`), or that
    sit under a module a pattern names (`conv1` freezes `conv1.weight` and `conv1.bias`). BatchNorm statistics
    are buffers: they still update in training mode (call `.eval()` on those modules to fix them too)."""
    patterns = tuple(patterns)
    report = FreezeReport(patterns)
    named = list(model.named_parameters())
    for pattern in patterns:
        if not any(_matches(name, pattern) for name, _ in named):
            tops = sorted({name.split(".")[0] for name, _ in named})
            raise FreezeError(f"freeze pattern `{pattern}` matches no parameter of the model; its top-level modules: "
                              + ", ".join(tops[:20]) + (" ..." if len(tops) > 20 else ""))
    for name, param in named:
        if any(_matches(name, pattern) for pattern in patterns):
            param.requires_grad_(False)
            report.names.append(name)
            report.parameters += param.numel()
        elif param.requires_grad:
            report.trainable += param.numel()
    return report


def _matches(name: str, pattern: str) -> bool:
    """The parameter `name` matches `pattern`, or one of the modules above it does."""
    parts = name.split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[:i]), pattern) for i in range(1, len(parts) + 1))


def transfer(model: nn.Module, weights: Source | None, *, partial: bool = False,
             freeze_patterns: Iterable[str] = ()) -> TransferReport | FreezeReport | None:
    """What `archdsl.load(weights=..., partial=..., freeze=...)` does after building: a strict load
    (weights.load_weights) or a partial one, then freezing; the report of a partial load (with what was frozen),
    or of freezing alone, or None."""
    from .weights import load_weights

    report = None
    if weights is not None:
        if partial:
            report = load_partial(model, weights)
        else:
            load_weights(model, weights)
    patterns = tuple(freeze_patterns)
    if patterns:
        frozen = freeze(model, patterns)
        if report is None:
            return frozen
        report.frozen = frozen
    return report
