"""One diagnostic type for every error archdsl reports, and the table of error codes."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, field_validator

from .source import SourceMap, Span

#: Every code archdsl emits, with a one-line summary (shown by `archdsl explain` and in docs).
CODES: dict[str, str] = {
    "E0001": "syntax error",
    "E0002": "input cannot be read as an archdsl source (encoding, size, nesting)",
    "E0101": "unknown primitive, block or combinator",
    "E0102": "unknown variable",
    "E0103": "too many positional arguments",
    "E0104": "unknown keyword argument",
    "E0105": "missing argument",
    "E0106": "argument given twice",
    "E0107": "invalid argument value",
    "E0108": "type error in an expression",
    "E0109": "duplicate definition",
    "E0110": "duplicate label in one scope",
    "E0111": "no network to build, or several and none chosen",
    "E0112": "import cannot be resolved",
    "E0113": "import cycle",
    "E0114": "block recursion does not terminate",
    "E0115": "a limit was exceeded (number size, repeat count, op count, parameters)",
    "E0116": "arithmetic error (division by zero, overflow)",
    "E0117": "a combinator (`add`, `concat`, ...) with a single branch",
    "E0118": "a label that cannot name a submodule (`training`)",
    "E0120": "a tensor named twice in one body (`-> name`, `param name`, a tensor parameter)",
    "E0121": "unknown tensor `@name` (or feature)",
    "E0122": "a tensor used before it is made, or on a path where it is not made",
    "E0123": "a tensor given where a value is expected, or a value where a tensor is expected",
    "E0124": "`return` not last in its body, or a misplaced `train` output",
    "E0125": "outputs that do not match (`-> (a, b)` against what the block returns, an output returned twice)",
    "E0126": "invalid learnable tensor (`param name = shape init value`)",
    "E0201": "`add` branches have different shapes",
    "E0202": "`concat` branches disagree outside the channel axis",
    "E0203": "`mul` branches cannot be broadcast together",
    "E0204": "groups do not divide the channels",
    "E0205": "spatial size falls below 1",
    "E0206": "operation needs a different tensor rank",
    "E0207": "invalid shape for this operation",
}


class Severity(str, Enum):
    error = "error"
    warning = "warning"


#: the most characters of a diagnostic's message, of a label, of a note and of its help, and the most notes:
#: longer ones are elided in the middle, so a huge identifier, value or call stack in the input never makes a
#: huge message, in any format (issue 14)
MAX_MESSAGE, MAX_LABEL, MAX_NOTE, MAX_NOTES = 1000, 200, 500, 12


def elide(text: str, limit: int) -> str:
    """`text`, or its start and end around a count of what was left out.

    >>> elide("x" * 5000, 60)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ... (4,945 characters left out) ... xxxxxxxxxxxxxxx'
    """
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 4
    return f"{text[:head]} ... ({len(text) - head - tail:,} characters left out) ... {text[len(text) - tail:]}"


class Label(BaseModel):
    """A secondary span with its own short message (`channels were set to 64 here`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span
    message: str

    @field_validator("message")
    @classmethod
    def _bounded(cls, text: str) -> str:
        return elide(text, MAX_LABEL)


class Diagnostic(BaseModel):
    """A problem in a spec: code, message, where it is, and what may help.

    Messages are lowercase without a trailing period; identifiers are in backticks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    severity: Severity = Severity.error
    span: Span | None = None
    label: str | None = None
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None

    @field_validator("message", "help")
    @classmethod
    def _bounded(cls, text: str | None) -> str | None:
        return None if text is None else elide(text, MAX_MESSAGE)

    @field_validator("label")
    @classmethod
    def _bounded_label(cls, text: str | None) -> str | None:
        return None if text is None else elide(text, MAX_LABEL)

    @field_validator("notes")
    @classmethod
    def _bounded_notes(cls, notes: tuple[str, ...]) -> tuple[str, ...]:
        notes = tuple(elide(n, MAX_NOTE) for n in notes)
        if len(notes) > MAX_NOTES:
            keep = MAX_NOTES // 2
            notes = (*notes[:keep], f"... {len(notes) - 2 * keep + 1:,} more notes ...", *notes[-(keep - 1):])
        return notes


class Diagnostics(list):
    """Diagnostics together with the sources their spans point into: what a renderer needs to show them
    with their lines, wherever they travel (an `ArchError`, a report, a test).

    It is a list of `Diagnostic`; `sources` is the `SourceMap` of the compilation that found them.
    """

    def __init__(self, diagnostics=(), sources: SourceMap | None = None):
        super().__init__(diagnostics)
        self.sources = sources if sources is not None else SourceMap()


class ArchError(Exception):
    """Raised with one or more diagnostics when a spec is wrong; `sources` holds the text they point into."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic, sources: SourceMap | None = None):
        items = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        self.diagnostics = Diagnostics(items, sources if sources is not None else getattr(items, "sources", None))
        super().__init__("\n".join(_one_line(d) for d in self.diagnostics))

    @property
    def sources(self) -> SourceMap:
        return self.diagnostics.sources


def _one_line(d: Diagnostic) -> str:
    where = f"{d.span}: " if d.span else ""
    return f"{where}{d.severity.value}[{d.code}]: {d.message}"


def error(code: str, message: str, span: Span | None = None, **fields) -> ArchError:
    """Shorthand for raising a single diagnostic: `raise error("E0101", "...", span, help=...)`."""
    return ArchError(Diagnostic(code=code, message=message, span=span, **fields))
