"""Design sweeps: every combination of some network parameters, evaluated statically from one parse.

The file is parsed and its imports resolved once; each combination is then only elaborated (no torch), which
gives its parameters, MACs, activation memory, output shape and the smallest input it accepts. A combination
that is not a valid network (channels that stop dividing into groups, a size that falls below 1) becomes a row
with its diagnostic instead of stopping the sweep.

>>> s = sweep("specs/efficientnet_b0.arch", {"width": [0.5, 1.0], "depth": [1.0]}, min_input=False)
>>> [(r.values["width"], r.params) for r in s.rows]
[(0.5, 1712522), (1.0, 5288548)]
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import pipeline
from .diagnostics import ArchError, Diagnostic
from .gcpause import paused_gc
from .passes.elaborate import Limits
from .passes.evaluate import repr_value
from .passes.memo import CallMemo
from .passes.resolve import display_name, suggest
from .summary import BYTES_PER_ELEMENT, summarize

#: what each number counts, written into the JSON output and the README
COUNTING = {
    "params": "trainable parameters and BatchNorm affine weights, as torch's parameters() counts them",
    "macs": "conv and linear multiply-accumulates for one sample, as torchvision's GFLOPS count them",
    "activation_bytes": "the output tensor of every primitive op and every merge (add, concat, mul) for one sample, "
                        "each counted once, 4 bytes per element (float32); the input is not counted, and neither "
                        "is in-place reuse or views (relu(inplace), flatten): it is what a training forward pass "
                        "keeps for backward when nothing runs in place, not a measured peak",
    "min_input": "the smallest input of the same layout the variant accepts: C fixed, H and W moving together "
                 "(F for flat inputs), searched up to the variant's own input size by doubling from 1 then "
                 "bisecting, which assumes a size that fits keeps fitting as it grows",
}


@dataclass(frozen=True)
class SweepRow:
    """One combination: its swept values and what the static checker found, or the diagnostic that stopped it."""

    values: dict[str, Any]  # parameter -> value, for the swept parameters
    params: int | None = None
    macs: int | None = None
    activation_bytes: int | None = None
    input: tuple[int, ...] | None = None
    output: tuple[int, ...] | None = None
    min_input: tuple[int, ...] | None = None  # None when not searched or the row is invalid
    error: Diagnostic | None = None

    @property
    def valid(self) -> bool:
        return self.error is None

    def label(self) -> str:
        """The row's values in one short line, for the plot: `width=0.5, depth=1.2, input=3x224x224`."""
        return ", ".join(f"{k}={short_value(v)}" for k, v in self.values.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "valid": self.valid,
            "params": self.params,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
            "input": _jsonable(self.input),
            "output": _jsonable(self.output),
            "min_input": _jsonable(self.min_input),
            "error": None if self.error is None else {"code": self.error.code, "message": self.error.message},
        }


@dataclass(frozen=True)
class Sweep:
    """The rows of a sweep, in grid order (the last parameter varies fastest)."""

    network: str
    file: str
    axes: dict[str, tuple[Any, ...]]  # swept parameter -> its values, in the order given
    rows: tuple[SweepRow, ...]
    seconds: float = 0.0  # elaboration time of the whole grid, parse excluded
    counting: dict[str, str] = field(default_factory=lambda: dict(COUNTING))

    @property
    def valid(self) -> bool:
        """True when every combination is a valid network."""
        return all(r.valid for r in self.rows)

    @property
    def invalid(self) -> list[SweepRow]:
        return [r for r in self.rows if not r.valid]

    def to_json(self) -> dict[str, Any]:
        return {"network": self.network, "file": self.file,
                "axes": {k: [_jsonable(v) for v in vs] for k, vs in self.axes.items()},
                "counting": self.counting, "rows": [r.to_json() for r in self.rows]}

    def to_csv(self) -> str:
        """One line per row: the swept values (language syntax), then the results; empty cells where invalid."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*self.axes, "valid", "params", "macs", "activation_bytes", "input_shape", "output_shape", "min_input",
                         "error_code", "error"])
        for r in self.rows:
            writer.writerow([*(short_value(r.values[k]) for k in self.axes), str(r.valid).lower(),
                             _cell(r.params), _cell(r.macs), _cell(r.activation_bytes), _dims(r.input),
                             _dims(r.output), _dims(r.min_input), r.error.code if r.error else "",
                             r.error.message if r.error else ""])
        return out.getvalue()

    def write(self, path: str | Path) -> None:
        """Write the rows as CSV or JSON, chosen by the file's suffix (`.csv`, `.json`)."""
        path = Path(path)
        text = self.to_csv() if output_format(path) == "csv" else json.dumps(self.to_json(), indent=2) + "\n"
        path.write_text(text)

    def plot(self, path: str | Path, *, title: str | None = None) -> None:
        """Draw MACs against parameters, one labelled point per valid row, into an image file (PNG, SVG, PDF).

        Needs matplotlib (`pip install archdsl[plot]`); raises `MissingPlotting` without it.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise MissingPlotting("--plot needs matplotlib: pip install 'archdsl[plot]'") from None
        valid = [r for r in self.rows if r.valid]
        fig = Figure(figsize=(7.5, 5.0), dpi=120, layout="constrained")
        ax = fig.add_subplot()
        first = next(iter(self.axes), None)
        groups: dict[Any, list[SweepRow]] = {}
        for r in valid:  # one colour per value of the first swept parameter
            groups.setdefault(short_value(r.values[first]) if first else "", []).append(r)
        for key, rows in groups.items():
            ax.scatter([r.params / 1e6 for r in rows], [r.macs / 1e9 for r in rows], s=22,
                       label=f"{first}={key}" if first else None, zorder=2)
        for r in valid:
            rest = {k: v for k, v in r.values.items() if k != first and len(self.axes[k]) > 1}
            text = ", ".join(f"{k}={short_value(v)}" for k, v in rest.items())
            if text:
                ax.annotate(text, (r.params / 1e6, r.macs / 1e9), textcoords="offset points", xytext=(4, 3),
                            fontsize=6, alpha=0.8)
        ax.set_xlabel("parameters (millions)")
        ax.set_ylabel("MACs per sample (billions)")
        ax.grid(True, alpha=0.3, zorder=0)
        if groups and first:
            ax.legend(fontsize=8, loc="upper left")
        skipped = len(self.rows) - len(valid)
        ax.set_title(title or f"{self.network}: {len(valid)} variants" + (f" ({skipped} invalid, not shown)"
                                                                          if skipped else ""), fontsize=10)
        fig.savefig(path)


def output_format(path: str | Path) -> str:
    """"csv" or "json", as `Sweep.write` chooses for `path` by its suffix; ValueError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValueError(f"cannot tell the format of {path}: name it .csv or .json")
    return suffix[1:]


class MissingPlotting(ImportError):
    """matplotlib is not installed (it is the optional extra `archdsl[plot]`)."""


def grid(axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the last axis varying fastest.

    >>> grid({"width": [0.5, 1.0], "depth": [1, 2]})
    [{'width': 0.5, 'depth': 1}, {'width': 0.5, 'depth': 2}, {'width': 1.0, 'depth': 1}, {'width': 1.0, 'depth': 2}]
    """
    names = list(axes)
    return [dict(zip(names, combination)) for combination in itertools.product(*(axes[n] for n in names))]


def sweep(path: str | Path, axes: Mapping[str, Iterable[Any]], network: str | None = None, *,
          fixed: Mapping[str, Any] | None = None, min_input: bool = True, limits: Limits | None = None) -> Sweep:
    """Evaluate every combination of `axes` (parameter -> candidate values) statically, from one parse.

    `fixed` holds parameters set to one value for every row (not columns of the result). Each value of an axis
    is one candidate, so `input` takes a list of shapes: `{"input": [[3, 192, 192], [3, 224, 224]]}`.
    Raises `ArchError` when the file itself is wrong, `ValueError` when a parameter is not one of the network's
    (with "did you mean") or an axis has no values; a combination that fails is a row with its `error`.
    """
    compilation = pipeline.load(path, limits=limits)
    definition = pipeline.choose(compilation, network)
    values = {name: tuple(pipeline.as_value(v) for v in candidates) for name, candidates in axes.items()}
    fixed = {k: pipeline.as_value(v) for k, v in (fixed or {}).items()}
    check_names(definition, [*values, *fixed])
    empty = [name for name, candidates in values.items() if not candidates]
    if empty:
        raise ValueError(f"no values given for `{empty[0]}`")
    evaluate = _Evaluator(compilation, min_input)
    started = time.perf_counter()
    with paused_gc():  # as for one elaboration (see gcpause.py): nothing in between is worth collecting
        rows = tuple(evaluate(combination, fixed) for combination in grid(values))
    return Sweep(network=definition.name, file=display_name(Path(path)), axes=values, rows=rows,
                 seconds=time.perf_counter() - started)


def check_names(definition, names: Iterable[str]) -> None:
    """Refuse a parameter the network does not declare, once, before anything is evaluated."""
    declared = [p.name for p in definition.params]
    for name in names:
        if name not in declared:
            hint = suggest(name, declared) or f"parameters: {', '.join(f'`{n}`' for n in declared) or 'none'}"
            raise ValueError(f"network `{definition.name}` has no parameter `{name}`; {hint}")


class _Evaluator:
    """Elaborates one combination into a row; remembers minimum input sizes, which do not depend on `input`,
    and every block call (passes/memo.py), which repeat within a network and across the grid."""

    def __init__(self, compilation: pipeline.Compilation, min_input: bool):
        self.compilation, self.min_input = compilation, min_input
        self._minimum: dict[str, tuple[int, ...] | None] = {}
        self.memo = CallMemo(compilation.limits)

    def elaborate(self, params: dict[str, Any]):
        c = self.compilation
        return pipeline.elaborate(c, params, elaborator=self.memo.elaborator(c.sources))

    def __call__(self, combination: dict[str, Any], fixed: dict[str, Any]) -> SweepRow:
        params = {**fixed, **combination}
        try:
            net = self.elaborate(params)
        except ArchError:
            try:  # the diagnostic as `archdsl check` gives it: a fresh elaboration, without the memo
                net = pipeline.elaborate(self.compilation, params)
            except ArchError as exc:
                return SweepRow(values=combination, error=exc.diagnostics[0])
        activations = summarize(net, max_depth=0).activation_elements * BYTES_PER_ELEMENT
        minimum = self.minimum_input(params, net.input.dims) if self.min_input else None
        return SweepRow(values=combination, params=net.param_count, macs=net.macs, activation_bytes=activations,
                        input=net.input.dims, output=net.output.dims, min_input=minimum)

    def minimum_input(self, params: dict[str, Any], size: tuple[int, ...]) -> tuple[int, ...]:
        """The smallest size (H = W, or F) that elaborates, below `size`, which does; cached per other values."""
        key = (repr(sorted((k, v) for k, v in params.items() if k != "input")), len(size), size[0])
        if key in self._minimum:
            return self._minimum[key]

        def at(n: int) -> tuple[int, ...]:
            return (size[0], n, n) if len(size) == 3 else (n,)

        def fits(n: int) -> bool:
            try:
                self.elaborate({**params, "input": at(n)})
            except ArchError:
                return False
            return True

        top = max(size[1:]) if len(size) == 3 else size[0]
        if at(top) != size and not fits(top):  # a non-square input whose enclosing square does not fit
            self._minimum[key] = None
            return None
        # gallop up from 1, then bisect: a size that does not fit usually fails in the first layers, so the
        # small sizes are cheap to rule out, and a network that takes any size is settled in one elaboration
        lo, hi = 0, 1  # lo does not fit (size 0 never does); hi is the candidate
        while hi < top and not fits(hi):
            lo, hi = hi, min(2 * hi, top)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fits(mid):
                hi = mid
            else:
                lo = mid
        self._minimum[key] = at(hi)
        return at(hi)


def parse_values(text: str, what: str = "--set") -> tuple[Any, ...]:
    """`0.5,0.75,1.0` -> (0.5, 0.75, 1.0); `[3,192,192],[3,224,224]` -> two shapes. Each item is an expression
    of the language (commas inside brackets belong to the item). Raises ValueError on a malformed value."""
    from .passes.evaluate import Evaluator
    from .source import Source
    from .syntax.parser import parse_expression

    try:
        value = Evaluator({}, None)(parse_expression(Source(what, f"[{text}]")))
    except ArchError as exc:
        raise ValueError(f"{text!r}: {exc.diagnostics[0].message}") from None
    if not value:
        raise ValueError(f"no values in {text!r}")
    return value


def short_value(value: Any) -> str:
    """A value as a plot label or table cell: shapes as 3x224x224, the rest in the language's syntax."""
    if isinstance(value, tuple) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "x".join(map(str, value))
    return repr(value) if isinstance(value, float) else repr_value(value)


def _dims(dims: tuple[int, ...] | None) -> str:
    return "" if dims is None else "x".join(map(str, dims))


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
