"""`archdsl check --input 3xHxW`: the smallest input each network accepts, and which sizes fit."""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline
from ..diagnostics import ArchError
from ..passes.input_size import InputSizeReport
from ..report import Report
from .progress import status


def report_input_sizes(paths: list[Path], overrides: dict, dims: tuple, fmt: str) -> int:
    """Search every network of every file; print one result per network. Returns the exit code."""
    report = Report(format=fmt)
    results, skipped = [], []
    for path in paths:
        report.files_checked += 1
        c = pipeline.Compilation(path)
        try:
            pipeline.resolve(c)
            for definition in pipeline.networks(c):
                try:
                    with status(f"searching the input sizes of {definition.name}"):
                        found = pipeline.search_input_sizes(c, definition, pipeline.declared(definition, overrides),
                                                            dims)
                except ValueError as exc:  # e.g. --input 3xHxW for a network of flat features: not this one
                    skipped.append((c.name, definition.name, str(exc)))
                    continue
                results.append((c.name, definition.name, found))
        except ArchError as exc:
            report.files_failed += 1
            report.add(exc.diagnostics)
    if report.output_format.document:  # the results travel in the document, with the diagnostics
        report.results = {"networks": [_json(f, n, r) for f, n, r in results],
                          "skipped": [{"file": f, "network": n, "reason": why} for f, n, why in skipped]}
    else:
        for file, name, found in results:
            click.echo(_text(file, name, found))
        for file, name, why in skipped:
            click.echo(f"{file}: {name}: skipped: {why}")
    report.print(summary_line=bool(report.diagnostics))
    return report.exit_code


def _text(file: str, name: str, r: InputSizeReport) -> str:
    lines = []
    if r.smallest is not None:
        lines.append(f"{file}: {name} accepts {'x'.join(map(str, r.smallest))} at the smallest "
                     f"(default {'x'.join(map(str, r.default))})")
    else:
        lines.append(f"{file}: {name}: each size fits on its own, but not all at their minimum together: "
                     f"{r.smallest_error.message if r.smallest_error else ''}")
    axis_names = {0: "C", 1: "H", 2: "W"}
    for a in r.axes:
        which = ", ".join(axis_names.get(i, str(i)) if len(r.dims) == 3 else "F" for i in a.axes)
        why = f"; at {a.minimum - 1}: {a.smallest_error.message}" if a.smallest_error else ""
        lines.append(f"  {which} >= {a.minimum}: {a.describe_valid()}{why}")
    return "\n".join(lines)


def _json(file: str, name: str, r: InputSizeReport) -> dict:
    return {
        "file": file,
        "network": name,
        "default": list(r.default),
        "smallest": list(r.smallest) if r.smallest is not None else None,
        "axes": [{"symbol": a.symbol, "axes": list(a.axes), "minimum": a.minimum, "scanned_up_to": a.scanned_up_to,
                  "valid": a.valid, "below_minimum": a.smallest_error.model_dump(mode="json") if a.smallest_error
                  else None} for a in r.axes],
    }
