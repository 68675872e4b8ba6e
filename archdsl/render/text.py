"""Human-readable diagnostics: the offending lines, underlined, then notes and help (rustc's layout).

```
error[E0201]: `add`: branch 2 has shape 64x32x32, branch 1 has 128x32x32
  --> resnet.arch:2:5
   |
 2 |     add {
   |     ^^^ `add` of 2 branches
 3 |         conv(c, 3, pad=1) bn relu conv(c, 3, pad=1) bn
   |                                   ---------------- branch 1: channels were set to 128 here
   = note: in `res(c=128)` called at net.arch:10:5
   = help: ...
```

The primary span is underlined with `^`, related spans with `-`; labels on one line share its snippet.
Long lines are cut to a window around the labels; wide (CJK) characters count two columns; control
characters from hostile input are shown as `?`, so a diagnostic never drives the terminal.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..source import Source, SourceMap, Span
from .registry import Rendering, register

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "primary": "\033[1;31m", "secondary": "\033[1;34m",
            "gutter": "\033[1;34m", "note": "\033[1;36m", "help": "\033[1;32m", "bold": "\033[1m",
            "reset": "\033[0m"}
_PLAIN = {k: "" for k in _COLOURS}
MAX_LINE = 100  # columns of source shown around the labels of one line
CONTEXT = 24  # columns kept before the first label when a long line is cut


@dataclass(frozen=True)
class _Annotation:
    span: Span
    label: str | None
    primary: bool


@register("text")
def text_format(r: Rendering) -> str:
    """Every diagnostic up to MAX_SHOWN, then what was left out and the files that could not be read."""
    shown, hidden = r.shown()
    out = render_text(shown, r.colour, r.sources)
    if hidden:
        out += f"... and {hidden} more\n"
    return out + "".join(f"error: {clean(message)}\n" for message in r.io_errors)


def render_text(diagnostics: list[Diagnostic], colour: bool = False, sources: SourceMap | None = None) -> str:
    """Diagnostics with their source lines; `sources` defaults to those the diagnostics carry (`Diagnostics`)."""
    if sources is None:
        sources = getattr(diagnostics, "sources", None) or SourceMap()
    return "\n".join(_render_one(d, colour, sources) for d in diagnostics)


def _render_one(d: Diagnostic, colour: bool, sources: SourceMap) -> str:
    c = _COLOURS if colour else _PLAIN
    severity = d.severity.value
    lines = [f"{c[severity]}{severity}[{d.code}]{c['reset']}{c['bold']}: {clean(d.message)}{c['reset']}"]
    annotations = ([_Annotation(d.span, d.label, True)] if d.span is not None else []) + \
                  [_Annotation(s.span, s.message, False) for s in d.secondary]
    gutter = max((len(str(a.span.line)) for a in annotations), default=1)
    files: list[str] = []
    for a in annotations:
        if a.span.file not in files:
            files.append(a.span.file)
    for index, name in enumerate(files):
        group = [a for a in annotations if a.span.file == name]
        first = group[0].span
        arrow = "-->" if index == 0 else ":::"
        lines.append(f"{' ' * gutter}{c['gutter']}{arrow}{c['reset']} {clean(name)}:{first.line}:{first.col}")
        lines += _snippet(sources.get(name), group, gutter, c)
    pad = " " * gutter
    for note in d.notes:
        lines.append(f"{pad} {c['gutter']}={c['reset']} {c['note']}note{c['reset']}: {clean(note)}")
    if d.help:
        lines.append(f"{pad} {c['gutter']}={c['reset']} {c['help']}help{c['reset']}: {clean(d.help)}")
    return "\n".join(lines) + "\n"


def _snippet(source: Source | None, group: list[_Annotation], gutter: int, c: dict) -> list[str]:
    if source is None:
        return []
    bar = f"{c['gutter']}|{c['reset']}"
    out = [f"{' ' * gutter} {bar}"]
    previous = None
    for number in sorted({a.span.line for a in group}):
        if number > len(source.lines):
            continue
        text = source.line(number)
        if previous is not None and number > previous + 1:
            out.append(f"{' ' * gutter}{c['gutter']}...{c['reset']}")
        previous = number
        on_line = [a for a in group if a.span.line == number]
        shown, offset, cut_left, cut_right = _window(text, on_line)
        visible = clean(shown)
        out.append(f"{c['gutter']}{number:>{gutter}} |{c['reset']} {'...' if cut_left else ''}{visible}"
                   f"{'...' if cut_right else ''}")
        lead = 3 if cut_left else 0
        for a in sorted(on_line, key=lambda a: not a.primary):
            start = max(a.span.col - 1 - offset, 0)
            end = a.span.end_col - 1 - offset if a.span.end_line == number else len(text) - offset
            end = min(max(end, start + 1), len(shown) + 1)
            pad = lead + _width(shown[:start])
            marks = ("^" if a.primary else "-") * max(_width(shown[start:end]), 1)
            colour = c["primary"] if a.primary else c["secondary"]
            label = f" {clean(a.label)}" if a.label else ""
            out.append(f"{' ' * gutter} {bar} {colour}{' ' * pad}{marks}{label}{c['reset']}")
    return out


def _window(text: str, on_line: list[_Annotation]) -> tuple[str, int, bool, bool]:
    """The part of a long line worth showing: (text, columns cut on the left, cut left?, cut right?)."""
    if len(text) <= MAX_LINE:
        return text, 0, False, False
    first = min(a.span.col for a in on_line) - 1
    start = max(min(first - CONTEXT, len(text) - MAX_LINE), 0)
    end = start + MAX_LINE
    return text[start:end], start, start > 0, end < len(text)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clean(text: str) -> str:
    """Text safe for a terminal: tabs become spaces, other control characters `?`."""
    return "".join(" " if ch == "\t" else "?" if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\n" else ch
                   for ch in text)
