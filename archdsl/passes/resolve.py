"""Load `.arch` files, resolve imports and build each file's table of blocks (lexical scoping).

A name in a block body is looked up in the file that defines the block: its own blocks, then the blocks of
the files it imports, then the standard library, then the primitives.

The loader reads and parses each file it reaches (the pipeline's read and parse stages, once per file) and
records its text in the compilation's `SourceMap`, under a display name no other file of that map uses.

Imports are confined (issue 14; README, "Limits and import policy"), because in CI the specs may come from a
pull request: an import names a `.arch` file by a relative path; it resolves (symlinks followed) to a regular
`.arch` file under the project root of the spec being compiled (the nearest folder above it holding `.git`,
`pyproject.toml` or `archdsl.toml`) or under a search path (`ARCHDSL_PATH`, folders separated by `os.pathsep`,
also searched for imports not found next to the importing file). Absolute paths and escapes from the root are
refused unless `ARCHDSL_ALLOW_IMPORTS_ANYWHERE=1`. A refused import is never read, so its content is never
quoted; a spec outside any project (no marker above it) may import relative paths anywhere, still only
regular `.arch` files.
"""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .. import ast
from ..diagnostics import ArchError, Diagnostic, error
from ..gcpause import paused_gc
from ..primitives import REGISTRY
from ..safe_io import file_kind, read_spec_bytes
from ..source import Source, SourceMap, file_key
from .variants import specialize
from ..syntax.parser import MAX_SOURCE_BYTES, decode, parse

STDLIB_PREFIX = "<stdlib>/"  # display names of the standard library's files; user files never start with "<"


@dataclass
class FileScope:
    """One loaded file and the blocks and networks visible from it."""

    module: ast.Module
    parent: "FileScope | None" = None  # the standard library, for user files
    blocks: dict[str, tuple[ast.BlockDef, "FileScope"]] = field(default_factory=dict)
    #: the file's own networks and the imported ones (own first), each with the scope that defines it
    networks: dict[str, tuple[ast.NetworkDef, "FileScope"]] = field(default_factory=dict)
    #: variants made whole (passes/variants.py) and imported networks: by id of the definition handed out
    _homes: dict[int, tuple[ast.NetworkDef, "FileScope"]] = field(default_factory=dict, repr=False)
    _variants: dict[int, ast.NetworkDef] = field(default_factory=dict, repr=False)  # made whole -> as written

    def network(self, definition: ast.NetworkDef, _variants: tuple[str, ...] = ()) -> tuple[ast.NetworkDef, "FileScope"]:
        """A network ready to elaborate, and the scope its body is elaborated in: a variant
        (`network resnet101 = resnet(...)`) becomes its base with new defaults, elaborated where the base is
        defined; an imported network is elaborated in its own file."""
        found = self._homes.get(id(definition))
        if found is not None:
            return found
        entry = self.networks.get(definition.name)
        home = entry[1] if entry is not None and entry[0] is definition else self
        if home is not self:
            return home.network(definition)
        if definition.base is None:
            return definition, self
        if definition.name in _variants:
            chain = " -> ".join((*_variants[_variants.index(definition.name):], definition.name))
            raise error("E0114", f"variant `{definition.name}` is made from itself: {chain}", definition.base.name_span,
                        help="a variant names the network it specializes; write that network out once")
        base = self.networks.get(definition.base.name)
        if base is None:
            raise self._unknown_network(definition.base)
        base_definition, base_home = base[1].network(base[0], (*_variants, definition.name))
        found = self._homes[id(definition)] = (specialize(definition, base_definition), base_home)
        self._homes[id(found[0])] = found
        self._variants[id(found[0])] = definition
        return found

    def variant(self, definition: ast.NetworkDef) -> ast.NetworkDef | None:
        """The variant as written (`network resnet101 = resnet(...)`) that `definition` was made from, if any."""
        found = self._variants.get(id(definition))
        if found is None:
            entry = self.networks.get(definition.name)
            home = entry[1] if entry is not None else self
            return home.variant(definition) if home is not self else None
        return found

    def own_networks(self) -> tuple[ast.NetworkDef, ...]:
        """The file's networks in file order, variants made whole."""
        return tuple(self.network(d)[0] for d in self.module.networks)

    def _unknown_network(self, call: ast.Call) -> ArchError:
        if self.lookup(call.name) is not None or call.name in REGISTRY:
            return error("E0101", f"`{call.name}` is a block, not a network", call.name_span, label="not a network",
                         help="a variant specializes a network: `network name = other_network(param=value)`")
        return error("E0101", f"unknown network `{call.name}`", call.name_span, label="not defined",
                     help=suggest(call.name, list(self.networks)) or "define it with `network`, or `import` the file "
                     "that does")

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
    else:  # never blocks: a FIFO or device is refused (safe_io.py)
        source = decode(name, read_spec_bytes(path, MAX_SOURCE_BYTES))
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
            _add_blocks(root, parse(source, remember=False), root)  # kept here, once: not in parse's memory
    return root, sources


def stdlib() -> FileScope:
    """All standard-library blocks in one scope; they may call each other freely."""
    return _stdlib()[0]


def stdlib_sources() -> SourceMap:
    """The standard library's text, for diagnostics inside its blocks (it is package data: loaded once)."""
    return _stdlib()[1]


#: files whose presence marks a project's root folder
PROJECT_MARKERS = (".git", "pyproject.toml", "archdsl.toml")


@dataclass(frozen=True)
class ImportPolicy:
    """Where imports may come from: see the module docstring."""

    search_paths: tuple[Path, ...] = ()
    anywhere: bool = False  # absolute paths and escapes from the project root allowed

    @classmethod
    def from_environment(cls) -> "ImportPolicy":
        paths = tuple(Path(p) for p in os.environ.get("ARCHDSL_PATH", "").split(os.pathsep) if p)
        return cls(search_paths=paths, anywhere=os.environ.get("ARCHDSL_ALLOW_IMPORTS_ANYWHERE", "") == "1")


def project_root(spec: Path) -> Path | None:
    """The nearest folder at or above the spec's folder that holds a project marker, or None."""
    folder = Path(os.path.realpath(spec)).parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return None


def load_file(path: Path, *, source_text: str | None = None, sources: SourceMap | None = None,
              policy: ImportPolicy | None = None) -> FileScope:
    """Parse `path` with its imports, recording their text in `sources`; raises ArchError (spec errors) or
    OSError (I/O)."""
    with paused_gc():  # see gcpause.py: the collector made large specs quadratic
        loader = _Loader(sources if sources is not None else SourceMap(), policy or ImportPolicy.from_environment(),
                         project_root(Path(path)))
        return loader.load(Path(path), source_text=source_text)


class _Loader:
    def __init__(self, sources: SourceMap, policy: ImportPolicy | None = None, root: Path | None = None):
        self.sources = sources
        self.policy = policy or ImportPolicy()
        self.roots = tuple(Path(os.path.realpath(p)) for p in ((root,) if root else ()) + self.policy.search_paths)
        self.confined = root is not None and not self.policy.anywhere
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
                imported = self.load(self.resolve_import(imp, path), span=imp.span)
                for name, entry in imported.blocks.items():
                    scope.blocks.setdefault(name, entry)
                for name, found in imported.networks.items():
                    scope.networks.setdefault(name, found)
        finally:
            self.active.pop()
        _add_blocks(scope, module, scope, own=True)
        self.done[key] = scope
        return scope


    def resolve_import(self, imp: ast.Import, importer: Path) -> Path:
        """The file an import names, checked against the policy before anything of it is read."""
        name = imp.path
        relative = f"imports are relative to the importing file ({display_name(importer.parent) or '.'})"
        if not name.endswith(".arch"):
            raise error("E0112", f"cannot import `{name}`: only `.arch` files can be imported", imp.span,
                        help="an import names a spec file, e.g. `import \"blocks.arch\"`")
        if Path(name).is_absolute() and not self.policy.anywhere:
            raise error("E0112", f"cannot import `{name}`: absolute paths are refused", imp.span,
                        help=f"{relative}; to allow any path, set ARCHDSL_ALLOW_IMPORTS_ANYWHERE=1")
        candidates = [importer.parent / name] + [Path(p) / name for p in self.policy.search_paths]
        target = next((c for c in candidates if os.path.lexists(c)), None)
        if target is None:
            searched = "; also searched ARCHDSL_PATH" if self.policy.search_paths else ""
            raise error("E0112", f"cannot import `{name}`: no such file", imp.span, help=relative + searched)
        real = Path(os.path.realpath(target))
        if self.confined and not any(real == root or root in real.parents for root in self.roots):
            raise error("E0112", f"cannot import `{name}`: it is outside the project", imp.span,
                        help=f"imports stay under the project's root folder ({display_name(self.roots[0])}) or a "
                             f"folder of ARCHDSL_PATH; to allow any path, set ARCHDSL_ALLOW_IMPORTS_ANYWHERE=1")
        if real.suffix != ".arch":  # a link named like a spec to something that is not one
            raise error("E0112", f"cannot import `{name}`: it links to a file that is not an `.arch` file", imp.span)
        try:
            mode = os.stat(real).st_mode
        except OSError as exc:
            raise error("E0112", f"cannot import `{name}`: {exc.strerror or 'unreadable'}", imp.span) from None
        if not stat.S_ISREG(mode):
            raise error("E0112", f"cannot import `{name}`: it is {file_kind(mode)}, not a regular file", imp.span)
        return target


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
    for network in module.networks:
        table.networks[network.name] = (network, defining)


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
