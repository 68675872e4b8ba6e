"""Load `.arch` files, resolve imports and build each file's table of blocks (lexical scoping).

A name in a block body is looked up in the file that defines the block: its own blocks, then the blocks of
the files it imports, then the standard library, then the primitives.

The loader reads and parses each file it reaches (the pipeline's read and parse stages, once per file) and
records its text in the compilation's `SourceMap`, under a display name no other file of that map uses.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .. import ast
from ..diagnostics import ArchError, Diagnostic, error
from ..gcpause import paused_gc
from ..primitives import REGISTRY
from ..source import Source, SourceMap, file_key
from ..syntax.parser import decode, parse, read_limited

STDLIB_PREFIX = "<stdlib>/"  # display names of the standard library's files; user files never start with "<"


@dataclass
class FileScope:
    """One loaded file and the blocks visible from it."""

    module: ast.Module
    parent: "FileScope | None" = None  # the standard library, for user files
    blocks: dict[str, tuple[ast.BlockDef, "FileScope"]] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[ast.BlockDef, "FileScope"] | None:
        found = self.blocks.get(name)
        if found is None and self.parent is not None:
            return self.parent.lookup(name)
        return found

    def visible_names(self) -> list[str]:
        names = list(self.blocks)
        return names + (self.parent.visible_names() if self.parent else [])


def display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_source(path: Path, sources: SourceMap, text: str | None = None) -> Source:
    """Read and decode one file (or take `text` as its contents) and record it in `sources`.

    I/O problems are usage errors (exit 2), raised as OSError; undecodable bytes are an ArchError.
    """
    key = file_key(path)
    name = display_name(path)
    if name.startswith("<") or not sources.name_is_free(name, key):  # a folder named `<stdlib>`, or a chdir
        name = key
    if text is not None:
        source = decode(name, text.encode("utf-8"))
    elif path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an .arch file")
    else:
        source = decode(name, read_limited(path))
    source.path = path
    return sources.add(source, key)


@lru_cache(maxsize=1)
def _stdlib() -> tuple[FileScope, SourceMap]:
    root = FileScope(ast.Module(file="<stdlib>"))
    sources = SourceMap()
    package = resources.files("archdsl").joinpath("stdlib")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".arch"):
            source = sources.add(decode(STDLIB_PREFIX + entry.name, entry.read_bytes()))
            _add_blocks(root, parse(source), root)
    return root, sources


def stdlib() -> FileScope:
    """All standard-library blocks in one scope; they may call each other freely."""
    return _stdlib()[0]


def stdlib_sources() -> SourceMap:
    """The standard library's text, for diagnostics inside its blocks (it is package data: loaded once)."""
    return _stdlib()[1]


def load_file(path: Path, *, source_text: str | None = None, sources: SourceMap | None = None) -> FileScope:
    """Parse `path` with its imports, recording their text in `sources`; raises ArchError (spec errors) or
    OSError (I/O)."""
    with paused_gc():  # see gcpause.py: the collector made large specs quadratic
        return _Loader(sources if sources is not None else SourceMap()).load(Path(path), source_text=source_text)


class _Loader:
    def __init__(self, sources: SourceMap):
        self.sources = sources
        self.done: dict[Path, FileScope] = {}
        self.active: list[Path] = []

    def load(self, path: Path, *, source_text: str | None = None, span=None) -> FileScope:
        key = path.resolve()
        if key in self.active:
            cycle = " -> ".join(display_name(p) for p in self.active[self.active.index(key):] + [key])
            raise error("E0113", f"import cycle: {cycle}", span, label="this import closes the cycle",
                        help="move the shared blocks into a file that both import")
        if key in self.done:
            return self.done[key]
        module = parse(read_source(path, self.sources, source_text))
        scope = FileScope(module, parent=stdlib())
        self.sources.update(stdlib_sources())
        self.active.append(key)
        try:
            for imp in module.imports:
                target = (path.parent / imp.path)
                if not target.is_file():
                    raise error("E0112", f"cannot import `{imp.path}`: no such file", imp.span,
                                help=f"imports are relative to the importing file ({display_name(path.parent) or '.'})")
                imported = self.load(target, span=imp.span)
                for name, entry in imported.blocks.items():
                    scope.blocks.setdefault(name, entry)
        finally:
            self.active.pop()
        _add_blocks(scope, module, scope, own=True)
        self.done[key] = scope
        return scope


def _add_blocks(table: FileScope, module: ast.Module, defining: FileScope, own: bool = False) -> None:
    problems: list[Diagnostic] = []
    seen: dict[str, ast.Definition] = {}
    for definition in (*module.blocks, *module.networks):
        if definition.name in REGISTRY:
            problems.append(Diagnostic(code="E0109", message=f"`{definition.name}` is already a primitive",
                                       span=definition.name_span, help="choose another name for this definition"))
        elif definition.name in seen:
            first = seen[definition.name]
            problems.append(Diagnostic(code="E0109", message=f"`{definition.name}` is defined twice",
                                       span=definition.name_span, notes=(f"first defined at {first.name_span}",)))
        seen[definition.name] = definition
        _check_params(definition, problems)
    if problems:
        raise ArchError(problems)
    for block in module.blocks:
        table.blocks[block.name] = (block, defining)


def _check_params(definition: ast.Definition, problems: list[Diagnostic]) -> None:
    names: set[str] = set()
    seen_default = False
    for param in definition.params:
        if param.name in names:
            problems.append(Diagnostic(code="E0109", message=f"parameter `{param.name}` is declared twice",
                                       span=param.span))
        names.add(param.name)
        if param.default is not None:
            seen_default = True
        elif seen_default:
            problems.append(Diagnostic(code="E0105", message=f"parameter `{param.name}` has no default but follows one that has",
                                       span=param.span, help="put parameters without defaults first"))


def suggest(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
