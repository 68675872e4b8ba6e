"""Formatting through `archdsl fmt`: the same layout, and the same refusal to change what the text means."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ... import pipeline
from ...diagnostics import ArchError
from ...source import Source
from ..convert import Context


def formatting(context: Context) -> list[types.TextEdit] | None:
    """One edit replacing the whole document, none when it is already formatted, None when it cannot be
    formatted (a syntax error: the diagnostics say where)."""
    analysis = context.analysis
    c = pipeline.Compilation(Path(analysis.name))  # the checks `archdsl fmt` runs before it writes
    try:
        formatted = pipeline.format_checked(c, c.sources.add(Source(analysis.name, analysis.text)))
    except (ArchError, pipeline.UnsafeFormat):
        return None
    if formatted == analysis.text:
        return []
    lines = analysis.lines
    end = context.here.position(len(lines), len(lines[-1]) + 1)
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=formatted)]
