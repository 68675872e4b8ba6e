"""The report of one CLI run: it collects diagnostics and owns the exit code."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .diagnostics import Diagnostic
from .render import RENDERERS

EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
MAX_SHOWN = 50


@dataclass
class Report:
    format: str = "text"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_checked: int = 0
    files_failed: int = 0
    usage_error: bool = False

    def add(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    @property
    def exit_code(self) -> int:
        if self.usage_error:
            return EXIT_USAGE
        return EXIT_SPEC_ERRORS if any(d.severity.value == "error" for d in self.diagnostics) else EXIT_OK

    def emit(self, stream=None) -> None:
        """Write the diagnostics (at most MAX_SHOWN of them) in the chosen format."""
        stream = stream or sys.stdout
        shown = self.diagnostics[:MAX_SHOWN]
        colour = self.format == "text" and stream.isatty()
        text = RENDERERS[self.format](shown, colour)
        if text:
            stream.write(text)
        hidden = len(self.diagnostics) - len(shown)
        if hidden and self.format == "text":
            stream.write(f"... and {hidden} more\n")

    def summary(self) -> str:
        errors = sum(1 for d in self.diagnostics if d.severity.value == "error")
        if not errors:
            return f"checked {self.files_checked} file{'s' if self.files_checked != 1 else ''}: no errors"
        return (f"checked {self.files_checked} file{'s' if self.files_checked != 1 else ''}: {errors} error"
                f"{'s' if errors != 1 else ''} in {self.files_failed} file{'s' if self.files_failed != 1 else ''}")
