"""GitHub Actions workflow annotations: `::error file=...,line=...,col=...,endLine=...,endColumn=...::message`.

GitHub shows each annotation on the pull request's diff, at the span. Notes (the block call stack) and the
help go into the annotation's body, one per line; `%`, CR and LF are escaped as the runner requires.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from .registry import Rendering, printable, register


def escape_data(text: str) -> str:
    """Text for a workflow command: no control character reaches the log (a spec's strings and file names may
    hold ESC or BEL), a file name that is not UTF-8 shows its bytes, and `%`, CR, LF are escaped."""
    return printable(text, keep="\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@register("github", for_tools=True)
def github_format(r: Rendering) -> str:
    """An annotation per diagnostic up to MAX_SHOWN; files that could not be read as annotations without a file."""
    shown, hidden = r.shown()
    out = render_github(shown)
    if hidden:
        out += f"... and {hidden} more\n"
    return out + "".join(f"::error::{escape_data(message)}\n" for message in r.io_errors)


def render_github(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    out = []
    for d in diagnostics:
        props = [f"title={_escape_property(f'archdsl {d.code}')}"]
        if d.span is not None:
            s = d.span
            # GitHub's endColumn is inclusive; ours is one past the end
            props = [f"file={_escape_property(s.file)}", f"line={s.line}", f"col={s.col}",
                     f"endLine={s.end_line}", f"endColumn={max(s.end_col - 1, s.col)}"] + props
        lines = [d.message + (f" ({d.label})" if d.label else "")]
        lines += [f"{label.span}: {label.message}" for label in d.secondary]
        lines += [f"note: {n}" for n in d.notes] + ([f"help: {d.help}"] if d.help else [])
        out.append(f"::{d.severity.value} {','.join(props)}::{escape_data(chr(10).join(lines))}")
    return "\n".join(out) + ("\n" if out else "")
