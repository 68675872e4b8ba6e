"""One document, analyzed: its syntax tree, its diagnostics, and the shapes of every item it holds.

`analyze(path, text)` parses the text (with recovery, see recovery.py), resolves its imports and elaborates
every network of the file, like `archdsl check`. While elaborating it records, for every item of the
document (a call, a loop, a combinator, a group, in networks and in blocks alike), each time it runs: the
incoming shape, the output shape, the parameters and MACs it adds, and the variables in scope. Hints, hover
and completion read those records. An error stops a network's elaboration where it happens, so the items
before it keep their shapes.

Nothing here knows the protocol: positions are the language's own (1-based lines and code-point columns).
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel

from .. import ast, pipeline
from ..diagnostics import ArchError, Diagnostic
from ..ir import Network
from ..passes.elaborate import Elaborator, Frame, Limits
from ..passes.resolve import STDLIB_PREFIX, FileScope
from ..source import SourceMap, Span
from ..types import TensorType
from .recovery import Recovered, recover


@dataclass(frozen=True)
class Instance:
    """One run of an item: a block body or a loop runs its items once per call or turn."""

    network: str
    incoming: TensorType
    out: TensorType
    params: int
    macs: int
    variables: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """A diagnostic of the document, with where to show it and the block call stack that led there."""

    diagnostic: Diagnostic
    span: Span | None  # in the document: the diagnostic's own span, or the call site that led to another file
    stack: tuple[Frame, ...] = ()  # outermost call first


@dataclass
class Analysis:
    path: Path
    name: str  # the display name that spans of this document carry
    text: str
    version: int | None = None
    uri: str | None = None  # as the editor names the document
    module: ast.Module | None = None
    scope: FileScope | None = None
    sources: SourceMap = field(default_factory=SourceMap)  # every text the analysis read, by display name
    recovered: Recovered | None = None
    problems: list[Problem] = field(default_factory=list)
    records: dict[Span, list[Instance]] = field(default_factory=dict)
    networks: dict[str, Network | None] = field(default_factory=dict)  # None: elaboration failed
    seconds: float = 0.0
    _items: list | None = field(default=None, repr=False)
    _ends: list = field(default_factory=list, repr=False)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def items(self) -> list[tuple[ast.Definition, ast.Item]]:
        """Every item of the document's definitions, outer before inner, in source order (walked once)."""
        if self._items is None:
            definitions = (*self.module.blocks, *self.module.networks) if self.module is not None else ()
            self._items = [(d, node) for d in definitions for node in walk(d)
                           if isinstance(node, ast.Item) and not isinstance(node, ast.Branch)]
            self._ends = sorted(((item.span.end_line, i) for i, (_, item) in enumerate(self._items)))
        return self._items

    def items_ending(self, first_line: int, last_line: int) -> list[ast.Item]:
        """The items whose last line is between two lines (1-based, inclusive): what a visible range shows."""
        items = self.items()
        start = bisect.bisect_left(self._ends, (first_line, -1))
        stop = bisect.bisect_right(self._ends, (last_line, len(items)))
        return [items[i][1] for _, i in self._ends[start:stop]]


class _Recorder(Elaborator):
    """Elaboration that records the shapes of the items of one file as they run."""

    def __init__(self, limits: Limits, sources: SourceMap, file: str, records: dict[Span, list[Instance]],
                 network: str):
        super().__init__(limits, sources)
        self.file, self.records, self.network_name = file, records, network

    def item(self, stmt, value, builder, variables, scope, tail=False):
        start = len(builder.nodes)
        incoming = builder.type_of(value)
        try:
            out = super().item(stmt, value, builder, variables, scope, tail)
        except ArchError as exc:
            if not hasattr(exc, "lsp_stack"):  # the innermost item sees the whole stack of block calls
                exc.lsp_stack = tuple(self.frames)
            raise
        # a label on a loop or combinator wraps it in a group that runs the unlabelled item: record that once
        wrapped = stmt.label is not None and not isinstance(stmt, (ast.Call, ast.Group))
        if stmt.span.file == self.file and not wrapped:
            added = builder.nodes[start:]
            self.records.setdefault(stmt.span, []).append(Instance(
                network=self.network_name, incoming=incoming, out=builder.type_of(out),
                params=sum(getattr(n, "param_count", 0) for n in added),
                macs=sum(getattr(n, "macs", 0) for n in added), variables=variables))
        return out


def analyze(path: Path, text: str, version: int | None = None, limits: Limits | None = None,
            uri: str | None = None) -> Analysis:
    """Analyze the text of the document at `path` (which need not exist on disk, nor be saved)."""
    started = time.perf_counter()
    path = Path(path)
    compilation = pipeline.Compilation(path, limits or Limits(), text)
    name = compilation.name
    result = Analysis(path=path, name=name, text=text, version=version, uri=uri, sources=compilation.sources)
    try:
        _analyze(result, compilation)
    except ArchError as exc:  # the text cannot be read at all (binary, too large): one error at the top
        result.problems.extend(Problem(d, d.span if _in(d.span, name) else None) for d in exc.diagnostics)
    except OSError as exc:  # an import that cannot be read
        result.problems.append(Problem(Diagnostic(code="E0112", message=f"cannot read an import: {exc}"), None))
    result.seconds = time.perf_counter() - started
    return result


def _analyze(result: Analysis, c: pipeline.Compilation) -> None:
    """read -> parse -> resolve through the pipeline, with recovery from syntax errors; then every network,
    elaborated by the recorder."""
    source = pipeline.read(c)  # E0002 for text that cannot be a spec
    result.name = source.name
    try:
        scope = pipeline.resolve(c)  # the usual case: the text is parsed once
        recovered = Recovered(result.text, scope.module)
    except ArchError as exc:
        syntax = [d for d in exc.diagnostics if d.code == "E0001" and _in(d.span, result.name)]
        recovered = recover(source, syntax if syntax and len(syntax) == len(exc.diagnostics) else None)
        result.problems.extend(Problem(d, d.span) for d in recovered.syntax)
        result.module = recovered.module
        result.recovered = recovered
        if recovered.module is None:
            return
        c = _again(result, recovered.text)
        try:
            scope = pipeline.resolve(c)
        except ArchError as again:
            scope = _load_without_imports(result, recovered, again)
            if scope is None:
                return
    result.recovered = recovered
    result.scope = scope
    result.module = scope.module
    for definition in scope.module.networks:
        recorder = _Recorder(c.limits, result.sources, result.name, result.records, definition.name)
        try:
            result.networks[definition.name] = recorder.network(definition, scope)
        except ArchError as exc:
            result.networks[definition.name] = None
            stack = getattr(exc, "lsp_stack", ())
            for diagnostic in exc.diagnostics:
                problem = _place(diagnostic, stack, result.name)
                if not _consequence(problem, recovered, result.name):
                    result.problems.append(problem)


def _again(result: Analysis, text: str) -> pipeline.Compilation:
    """A compilation of another text of the document (recovered), sharing the analysis' sources."""
    c = pipeline.Compilation(result.path, text=text)
    c.sources = result.sources
    return c


def _load_without_imports(result: Analysis, recovered: Recovered, exc: ArchError) -> FileScope | None:
    """Imports that fail are reported; the file is then loaded without them, so that the rest is analyzed."""
    mine = [d for d in exc.diagnostics if _in(d.span, result.name)]
    result.problems.extend(Problem(d, d.span) for d in mine)
    result.problems.extend(Problem(d, _import_span(d, result)) for d in exc.diagnostics if d not in mine)
    imports_failed = any(d.code in ("E0112", "E0113") for d in exc.diagnostics) or len(mine) < len(exc.diagnostics)
    if not imports_failed or result.module is None:
        return None
    lines = recovered.text.split("\n")
    for imp in result.module.imports:
        for n in range(imp.span.line, imp.span.end_line + 1):
            lines[n - 1] = " " * len(lines[n - 1])
    try:
        return pipeline.resolve(_again(result, "\n".join(lines)))
    except ArchError:
        return None


def _import_span(diagnostic: Diagnostic, result: Analysis) -> Span | None:
    """A problem inside an imported file is shown on the import that brings that file in (or the first one,
    for a file imported by an imported file)."""
    imports = result.module.imports if result.module is not None else ()
    source = result.sources.get(diagnostic.span.file) if diagnostic.span is not None else None
    if source is not None and source.path is not None:
        for imp in imports:
            if (result.path.parent / imp.path).resolve() == Path(source.path).resolve():
                return imp.span
    return imports[0].span if imports else None


def _place(diagnostic: Diagnostic, stack: tuple[Frame, ...], name: str) -> Problem:
    if _in(diagnostic.span, name):
        return Problem(diagnostic, diagnostic.span, stack)
    here = [f for f in stack if f.span.file == name]  # the innermost call made from this document
    return Problem(diagnostic, here[-1].span if here else None, stack)


def _consequence(problem: Problem, recovered: Recovered, name: str) -> bool:
    """An elaboration error caused by blanking a broken definition away, or met inside a blanked one."""
    if not recovered.touched:
        return False
    d = problem.diagnostic
    if d.code == "E0101" and any(f"`{removed}`" in d.message for removed in recovered.removed):
        return True
    spans = [problem.span, d.span, *(f.span for f in problem.stack)]
    return any(s is not None and s.file == name and recovered.is_touched(s.line) for s in spans)


def _in(span: Span | None, name: str) -> bool:
    return span is not None and span.file == name


# --- the syntax tree -------------------------------------------------------------------------------------

def children(node: BaseModel) -> Iterator[BaseModel]:
    """The AST nodes directly below `node`, in field order (works for every node kind, present and future)."""
    for key in type(node).model_fields:
        value = getattr(node, key, None)
        if isinstance(value, BaseModel) and not isinstance(value, Span):
            yield value
        elif isinstance(value, tuple):
            for v in value:
                if isinstance(v, BaseModel) and not isinstance(v, Span):
                    yield v


def walk(node: BaseModel) -> Iterator[BaseModel]:
    """`node` and every node below it, depth first, in source order."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(list(children(current))))


def contains(span: Span | None, line: int, col: int) -> bool:
    """Whether the position (1-based) is in `span`, its end included (a cursor right after a word is on it)."""
    if span is None:
        return False
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def path_at(module: ast.Module | None, line: int, col: int) -> list[BaseModel]:
    """The nodes that contain a position, outermost first (a definition, its items, down to a name)."""
    if module is None:
        return []
    found: list[BaseModel] = []
    candidates: list[BaseModel] = [*module.imports, *module.blocks, *module.networks]
    while candidates:
        inner = [c for c in candidates if contains(getattr(c, "span", None), line, col)]
        if not inner:
            break
        node = min(inner, key=lambda c: _size(c.span))
        found.append(node)
        candidates = list(children(node))
    return found


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_col - span.col)


# --- files ---------------------------------------------------------------------------------------------

def path_of(file: str, analysis: Analysis | None = None) -> Path | None:
    """The file a span's display name stands for (the standard library's included)."""
    source = analysis.sources.get(file) if analysis is not None else None
    if source is not None and source.path is not None:
        return Path(source.path)
    if file.startswith(STDLIB_PREFIX):
        entry = resources.files("archdsl").joinpath("stdlib", file[len(STDLIB_PREFIX):])
        return Path(str(entry))
    path = Path(file)
    return path if path.is_absolute() else Path.cwd() / path


def read_lines(file: str, analysis: Analysis | None = None) -> list[str]:
    """The lines of the file behind a display name, as the analysis read them (the editor's text for the
    document itself), else from the disk."""
    if analysis is not None and file == analysis.name:
        return analysis.lines
    source = analysis.sources.get(file) if analysis is not None else None
    if source is not None:
        return source.lines
    path = path_of(file, analysis)
    try:
        return path.read_text(encoding="utf-8").split("\n") if path is not None else []
    except (OSError, UnicodeError):
        return []


def text_of(span: Span, lines: list[str]) -> str:
    """The source text a span covers."""
    if not lines or span.line > len(lines):
        return ""
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    parts = [lines[span.line - 1][span.col - 1:], *lines[span.line:span.end_line - 1],
             lines[min(span.end_line, len(lines)) - 1][:span.end_col - 1]]
    return "\n".join(parts)


def doc_comment(span: Span, lines: list[str]) -> str:
    """The comment lines right above a definition: its documentation."""
    found: list[str] = []
    n = span.line - 1
    while n >= 1 and lines[n - 1].lstrip().startswith("#"):
        found.append(lines[n - 1].lstrip()[1:].strip())
        n -= 1
    return "\n".join(reversed(found))
