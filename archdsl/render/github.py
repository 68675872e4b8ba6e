"""GitHub Actions workflow annotations: `::error file=...,line=...,col=...::message`."""

from __future__ import annotations

from ..diagnostics import Diagnostic


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    out = []
    for d in diagnostics:
        props = [f"title={_escape_property(d.code)}"]
        if d.span is not None:
            s = d.span
            props = [f"file={_escape_property(s.file)}", f"line={s.line}", f"col={s.col}",
                     f"endLine={s.end_line}", f"endColumn={s.end_col}"] + props
        body = d.message + "".join(f"\n{n}" for n in d.notes) + (f"\nhelp: {d.help}" if d.help else "")
        out.append(f"::{d.severity.value} {','.join(props)}::{_escape_data(body)}")
    return "\n".join(out) + ("\n" if out else "")
