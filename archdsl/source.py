"""Source files and spans: the one place where positions are represented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A region of a source file; lines and columns are 1-based, `end_col` is exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


#: Every decoded source by display name, so diagnostics can be rendered with their lines.
SOURCES: dict[str, "Source"] = {}


class Source:
    """The text of one `.arch` file, with its display name."""

    def __init__(self, name: str, text: str, path: Path | None = None, register: bool = True):
        self.name = name
        self.text = text
        self.path = path
        # split on "\n" only, as the parser counts lines (splitlines() would also split on \f, \x1c, U+2028...)
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]
        if register:
            SOURCES[name] = self

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def span(self, line: int, col: int, end_line: int | None = None, end_col: int | None = None) -> Span:
        return Span(file=self.name, line=line, col=col,
                    end_line=end_line if end_line is not None else line,
                    end_col=end_col if end_col is not None else col + 1)
