"""The report of one CLI run: it collects diagnostics and I/O problems, prints them, and owns the exit code.

Exit codes: 0 clean, 1 errors in the specs, 2 usage or I/O errors (a missing file, a directory...), 3 an
internal error (a bug in archdsl: it must never happen, whatever the input).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from .diagnostics import Diagnostic
from .render import FORMATS, Format, Rendering
from .source import SourceMap

EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal; NO_COLOR (no-color.org) and TERM=dumb turn it off, FORCE_COLOR on."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class Report:
    format: str = "text"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    io_errors: list[str] = field(default_factory=list)
    files_checked: int = 0
    files_failed: int = 0
    usage_error: bool = False
    sources: SourceMap = field(default_factory=SourceMap)  # the text the diagnostics point into
    results: dict | None = None  # what the command found, for formats that print one document

    def add(self, diagnostics: list[Diagnostic], sources: SourceMap | None = None) -> None:
        """Add diagnostics, once each: networks of one file that share a broken block report it once.

        Their sources come with them (`Diagnostics.sources`, or `sources` for a plain list).
        """
        self.sources.update(sources if sources is not None else getattr(diagnostics, "sources", SourceMap()))
        seen = {(d.code, d.span, d.message) for d in self.diagnostics}
        for d in diagnostics:
            if (d.code, d.span, d.message) not in seen:
                seen.add((d.code, d.span, d.message))
                self.diagnostics.append(d)

    def add_io_error(self, message: str) -> None:
        self.io_errors.append(message)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity.value == "error")

    @property
    def exit_code(self) -> int:
        if self.usage_error or self.io_errors:
            return EXIT_USAGE
        return EXIT_SPEC_ERRORS if self.errors else EXIT_OK

    @property
    def output_format(self) -> Format:
        return FORMATS[self.format]

    def emit(self, stream: TextIO | None = None) -> None:
        """Write the problems (and any results) in the chosen format."""
        stream = stream or sys.stdout
        colour = use_colour(stream)
        text = self.output_format.render(Rendering(self.diagnostics, self.sources, tuple(self.io_errors),
                                                   self.summary_fields(), self.results, colour))
        if text:
            stream.write(text)

    def print(self, summary_line: bool = True) -> None:
        """Emit where the format belongs (standard output for tools, standard error for people), then the
        one-line summary, unless the format is a document that carries it. The summary goes to standard
        error when there are problems or when standard output belongs to a tool."""
        form = self.output_format
        self.emit(sys.stdout if form.for_tools else sys.stderr)
        if summary_line and not form.document:
            problems = bool(self.diagnostics or self.io_errors)
            (sys.stderr if problems or form.for_tools else sys.stdout).write(self.summary() + "\n")

    def summary(self) -> str:
        """One line: "checked 12 files: 3 errors in 2 files"."""
        line = f"checked {_plural(self.files_checked, 'file')}: "
        if self.errors:
            line += f"{_plural(self.errors, 'error')} in {_plural(self.files_failed, 'file')}"
        else:
            line += "no errors"
        if self.io_errors:
            line += f"; {_plural(len(self.io_errors), 'file')} could not be read"
        return line

    def summary_fields(self) -> dict:
        return {"files_checked": self.files_checked, "files_failed": self.files_failed, "errors": self.errors,
                "io_errors": list(self.io_errors), "exit_code": self.exit_code, "text": self.summary()}
