"""Human-readable diagnostics: the offending line, carets under the span, notes and help."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..source import SOURCES, Span

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "caret": "\033[1;31m", "note": "\033[1;36m",
            "help": "\033[1;32m", "bold": "\033[1m", "reset": "\033[0m"}


def render_text(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    return "\n".join(_render_one(d, colour) for d in diagnostics)


def _render_one(d: Diagnostic, colour: bool) -> str:
    c = _COLOURS if colour else {k: "" for k in _COLOURS}
    lines = [f"{c[d.severity.value]}{d.severity.value}[{d.code}]{c['reset']}{c['bold']}: {d.message}{c['reset']}"]
    if d.span is not None:
        lines += _snippet(d.span, d.label, c)
    for label in d.secondary:
        lines += _snippet(label.span, label.message, c, marker="-")
    for note in d.notes:
        lines.append(f"  {c['note']}= note{c['reset']}: {note}")
    if d.help:
        lines.append(f"  {c['help']}= help{c['reset']}: {d.help}")
    return "\n".join(lines) + "\n"


def _snippet(span: Span, label: str | None, c: dict, marker: str = "^") -> list[str]:
    out = [f"  --> {span.file}:{span.line}:{span.col}"]
    source = SOURCES.get(span.file)
    if source is None or not source.line(span.line):
        return out
    text = source.line(span.line).replace("\t", " ")
    gutter = " " * len(str(span.line))
    end = span.end_col if span.end_line == span.line else len(text) + 1
    width = max(end - span.col, 1)
    caret = " " * (span.col - 1) + marker * width + (f" {label}" if label else "")
    out += [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {c['caret']}{caret}{c['reset']}"]
    return out
