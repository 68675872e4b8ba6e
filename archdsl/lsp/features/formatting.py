"""Formatting through `archdsl fmt`: the same layout, and the same refusal to change what the text means."""

from __future__ import annotations

from lsprotocol import types

from ...diagnostics import ArchError
from ...source import Source
from ..convert import Context


def formatting(context: Context) -> list[types.TextEdit] | None:
    """One edit replacing the whole document, none when it is already formatted, None when it cannot be
    formatted (a syntax error: the diagnostics say where)."""
    from ...cli.fmt import _UnsafeFormat, _format_checked  # the checks `archdsl fmt` runs before it writes

    analysis = context.analysis
    try:
        formatted = _format_checked(Source(analysis.name, analysis.text))
    except (ArchError, _UnsafeFormat):
        return None
    if formatted == analysis.text:
        return []
    lines = analysis.lines
    end = context.here.position(len(lines), len(lines[-1]) + 1)
    return [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=formatted)]
