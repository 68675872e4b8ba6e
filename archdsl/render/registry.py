"""The registry of output formats: a format is one module that registers one function with `@register`.

A registered function receives a `Rendering` (the diagnostics, the sources they point into, the I/O errors,
the run's summary and a command's own results) and returns the text to print. The CLI's `--format` choices
are the registry's names, in registration order; `Report` prints through it and knows no format by name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..diagnostics import Diagnostic
from ..source import SourceMap

MAX_SHOWN = 50  # diagnostics printed by formats for people and annotations; documents carry all of them


@dataclass(frozen=True)
class Rendering:
    """Everything a format may print for one run."""

    diagnostics: Sequence[Diagnostic]
    sources: SourceMap = field(default_factory=SourceMap)
    io_errors: Sequence[str] = ()
    summary: Mapping[str, Any] | None = None  # the run's counts and exit code (Report.summary_fields)
    results: Mapping[str, Any] | None = None  # what a command found (input sizes, a summary), for documents
    colour: bool = False

    def shown(self) -> tuple[list[Diagnostic], int]:
        """The diagnostics a line-oriented format prints, and how many it leaves out."""
        shown = list(self.diagnostics[:MAX_SHOWN])
        return shown, len(self.diagnostics) - len(shown)


@dataclass(frozen=True)
class Format:
    name: str
    render: Callable[[Rendering], str]
    #: for tools: its output goes to standard output, and the human summary line to standard error
    for_tools: bool = False
    #: one self-contained document (diagnostics, the summary and a command's results): nothing else is printed
    document: bool = False


FORMATS: dict[str, Format] = {}


def printable(text: str, keep: str = "\n") -> str:
    """`text` safe for any output: control characters (but those in `keep`) become `?`, and the bytes of a file
    name that is not UTF-8 (surrogate escapes) become `\\xNN`, so the result always encodes as UTF-8.

    >>> printable("a\\x1b[2Jb\\udcff.arch")
    'a?[2Jb\\\\xff.arch'
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in keep:
            out.append(ch)
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # os.fsdecode's escape of an undecodable byte
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            out.append(" " if ch == "\t" else "?")
        else:
            out.append(ch)
    return "".join(out)


def register(name: str, *, for_tools: bool = False, document: bool = False):
    """`@register("json", for_tools=True, document=True)` on a function Rendering -> str; a name is used once."""

    def decorate(render: Callable[[Rendering], str]) -> Callable[[Rendering], str]:
        if name in FORMATS:
            raise ValueError(f"output format `{name}` is registered twice")
        FORMATS[name] = Format(name, render, for_tools=for_tools, document=document or False)
        return render

    return decorate
