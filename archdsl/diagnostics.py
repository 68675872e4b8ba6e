"""One diagnostic type for every error archdsl reports, and the table of error codes."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict

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


class Label(BaseModel):
    """A secondary span with its own short message (`channels were set to 64 here`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span
    message: str


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
