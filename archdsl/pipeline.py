"""The compiler's stages, in order. Every CLI command and the Python API go through these functions, and
none of them repeats the sequence.

    read         file -> Source             decoded, and recorded in the compilation's SourceMap
    parse        Source -> ast.Module       (`format_text` prints it back in the canonical layout: `fmt`)
    resolve      file -> FileScope          with its imports, each read and parsed in turn (passes/resolve.py)
    choose       FileScope -> NetworkDef    the network asked for, or the file's only one
    elaborate    NetworkDef -> ir.Network   parameters bound, every shape inferred (passes/elaborate.py)
  then one back end:
    lower           ir.Network -> nn.Module     (lower/)
    reparameterize  nn.Module -> nn.Module      (reparam/: deploy IR, weights from the module's, then lower)
    deploy          ir.Network -> ir.Network    (reparam/: the same rewrite on the IR, torch-free)
    draw            ir.Network -> image bytes   (viz/)
    summarize       ir.Network -> Summary       (summary.py)
    export          nn.Module -> ONNX file      (export.py)

The back ends are imported inside their functions: they may import torch, and `import archdsl` must not.

A `Compilation` records what the stages found for one file: its sources, scope, the chosen network and its
parameters, the elaborated network, and the diagnostics of stages that go on after an error (`check` reports
every network of a file). An `ArchError` that leaves a stage carries the compilation's `SourceMap`, so it is
rendered with the text it points into, wherever and whenever it is rendered.

>>> c = compile_network("specs/resnet18.arch", params={"classes": 10})
>>> c.definition.name, c.network.param_count
('resnet18', 11181642)
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

from . import ast
from .diagnostics import ArchError, Diagnostics, error
from .ir import Network
from .passes.elaborate import Elaborator, Limits
from .passes.resolve import FileScope, display_name, load_file, read_source
from .source import Source, SourceMap
from .syntax import parser

if TYPE_CHECKING:
    from torch import nn

    from .passes.input_size import Dim, InputSizeReport
    from .summary import Summary


@dataclass
class Compilation:
    """One file on its way through the pipeline; each stage fills in what it finds."""

    path: Path
    limits: Limits = field(default_factory=Limits)
    text: str | None = None  # the file's contents when they do not come from disk (an editor's buffer)
    sources: SourceMap = field(default_factory=SourceMap)  # every text read for this compilation
    scope: FileScope | None = None
    definition: ast.NetworkDef | None = None  # the chosen (or last elaborated) network
    params: dict[str, Any] = field(default_factory=dict)  # its parameter values, as the language sees them
    network: Network | None = None  # its elaboration
    diagnostics: Diagnostics = field(init=False)  # problems of stages that continue after an error

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.diagnostics = Diagnostics(sources=self.sources)

    @property
    def name(self) -> str:
        """The file as diagnostics and reports call it."""
        return display_name(self.path)


@contextmanager
def _stage(c: Compilation) -> Iterator[None]:
    """Give an error leaving a stage the compilation's sources, so it renders with the right text."""
    try:
        yield
    except ArchError as exc:
        exc.sources.update(c.sources)
        raise


@contextmanager
def _in_variant(c: Compilation, definition: ast.NetworkDef) -> Iterator[None]:
    """An error in a variant's network (`network tiny = resnet(width=4)`) says which variant it was."""
    try:
        yield
    except ArchError as exc:
        variant = c.scope.variant(definition) if c.scope is not None else None
        if variant is not None:
            note = f"in `{variant.name}` ({variant.name_span}), the network `{variant.base.name}` with other defaults"
            exc.diagnostics[:] = [d.model_copy(update={"notes": (*d.notes, note)}) for d in exc.diagnostics]
        raise


# --- the front end


def read(c: Compilation, data: bytes | None = None, name: str | None = None) -> Source:
    """The file's text, or `data` read elsewhere (standard input) under `name`, recorded in `c.sources`."""
    with _stage(c):
        if data is None:
            return read_source(c.path, c.sources, c.text)
        return c.sources.add(parser.decode(name or c.name, data))


def parse(c: Compilation, source: Source) -> ast.Module:
    """One file's syntax tree; every syntax error of the file is reported at once."""
    with _stage(c):
        return parser.parse(source)


def format_text(c: Compilation, source: Source) -> str:
    """The canonical layout of one file's text (`archdsl fmt`; syntax/format.py): read -> parse -> print."""
    from .syntax.format import format_source

    with _stage(c):
        return format_source(source)


class UnsafeFormat(Exception):
    """The formatter's output would mean another program, or would change again: nothing may be written."""


def format_checked(c: Compilation, source: Source) -> str:
    """`format_text`, refusing (`UnsafeFormat`) a result that parses to another syntax tree or is not stable
    (`archdsl fmt` and the language server's formatting both go through it)."""
    from .syntax.format import same_ast

    formatted = format_text(c, source)
    if formatted == source.text:
        return formatted
    again = c.sources.add(Source(f"{source.name} (formatted)", formatted))
    if not same_ast(parse(c, source), parse(c, again)):
        raise UnsafeFormat("the formatted text parses to a different program")
    if format_text(c, again) != formatted:
        raise UnsafeFormat("formatting is not stable on this file")
    return formatted


def resolve(c: Compilation) -> FileScope:
    """Read and parse the file and, in turn, each file it imports; the blocks visible from it."""
    with _stage(c):
        c.scope = load_file(c.path, source_text=c.text, sources=c.sources)
    return c.scope


def choose(c: Compilation, name: str | None = None) -> ast.NetworkDef:
    """The network called `name`, or the file's only network."""
    with _stage(c):
        c.definition = _choose(c.scope, name)
    return c.definition


def networks(c: Compilation, name: str | None = None) -> tuple[ast.NetworkDef, ...]:
    """What a command over whole files works on: the network called `name`, or every network of the file."""
    if name is not None:
        return (choose(c, name),)
    with _stage(c):
        return c.scope.own_networks()  # variants made whole


def elaborate(c: Compilation, params: Mapping[str, Any] | None = None,
              definition: ast.NetworkDef | None = None, features: Sequence[str] | None = None, *,
              elaborator: Elaborator | None = None) -> Network:
    """The IR of the chosen network (or `definition`) with `params` overriding its parameters' defaults;
    with `features` (labels, dotted paths or `@tensor`s), its outputs are those feature maps, a list.
    `elaborator`: a fresh one to use instead of the plain `Elaborator` (a sweep's, passes/memo.py)."""
    definition = definition or c.definition
    values = {name: as_value(value) for name, value in (params or {}).items()}
    elaborator = elaborator or Elaborator(c.limits, c.sources)
    with _stage(c), _in_variant(c, definition):
        network = elaborator.network(definition, c.scope, values, features=tuple(features) if features else None)
    c.definition, c.params, c.network = definition, network.params, network
    return network


def elaborate_each(c: Compilation, overrides: Mapping[str, Any], name: str | None = None) -> list[Network]:
    """Every network of the file (or the one called `name`), each given the overrides it declares.

    An error in one network is added to `c.diagnostics` and does not hide those of the others; an error
    that concerns the whole file (syntax, imports, no such network) is raised.
    """
    found = []
    for definition in networks(c, name):
        try:
            found.append(elaborate(c, declared(definition, overrides), definition))
        except ArchError as exc:
            c.diagnostics.extend(exc.diagnostics)
    return found


def declared(definition: ast.NetworkDef, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that `definition` has parameters for (`--set` over several files applies where it can)."""
    names = {p.name for p in definition.params}
    return {k: v for k, v in overrides.items() if k in names}


def search_input_sizes(c: Compilation, definition: ast.NetworkDef, overrides: Mapping[str, Any],
                       dims: tuple["Dim", ...]) -> "InputSizeReport":
    """Elaborate at many input sizes: the smallest each symbolic axis of `dims` accepts (passes/input_size.py)."""
    from .passes.input_size import search

    with _stage(c):
        return search(definition, c.scope, dict(overrides), dims, sources=c.sources)


def load(path: str | Path, *, limits: Limits | None = None, text: str | None = None) -> Compilation:
    """read -> parse -> resolve: a file ready for `choose` and `elaborate`."""
    c = Compilation(Path(path), limits or Limits(), text)
    resolve(c)
    return c


def compile_network(path: str | Path, network: str | None = None, params: Mapping[str, Any] | None = None,
                    limits: Limits | None = None, *, text: str | None = None,
                    features: Sequence[str] | None = None) -> Compilation:
    """The whole front end for one network: read -> parse -> resolve -> choose -> elaborate.

    Raises `ArchError` (the spec is wrong; it carries the sources) or `OSError` (the file cannot be read).
    """
    c = load(path, limits=limits, text=text)
    choose(c, network)
    elaborate(c, params, features=features)
    return c


def as_value(value: Any) -> Any:
    """A Python value as the language sees it: lists become tuples (values are immutable)."""
    if isinstance(value, (list, tuple)):
        return tuple(as_value(v) for v in value)
    return value


def _choose(scope: FileScope, name: str | None) -> ast.NetworkDef:
    found = scope.module.networks
    if name is not None:  # the file's own networks and variants, then the imported ones
        if name in scope.networks:
            return scope.network(scope.networks[name][0])[0]
        available = ", ".join(f"`{d.name}`" for d in found) or "none"
        imported = ", ".join(f"`{n}`" for n in scope.networks if n not in {d.name for d in found})
        raise error("E0111", f"`{scope.module.file}` has no network `{name}`", None,
                    help=f"networks in the file: {available}" + (f"; imported: {imported}" if imported else ""))
    if len(found) == 1:
        return scope.network(found[0])[0]
    if not found:
        raise error("E0111", f"`{scope.module.file}` defines no network", None,
                    help="add `network name(input=[3, 224, 224]) { ... }`, or check a file that has one")
    names = ", ".join(f"`{d.name}`" for d in found)
    raise error("E0111", f"`{scope.module.file}` defines several networks ({names}); choose one", found[1].name_span,
                help="pass `--network NAME` (or `network=` in Python)")


# --- the back ends: each imports its package when called


def lower(network: Network, device=None) -> "nn.Module":
    """A torch module computing `network` (imports torch); `device="meta"` allocates and initialises nothing."""
    from .lower import lower as lower_network

    return lower_network(network, device)


def reparameterize(module: "nn.Module", memory_format=None) -> "nn.Module":
    """The inference form of a module: BatchNorm folded, parallel linear branches fused (RepVGG).

    A module archdsl built is the lowering of its deploy IR (`deploy`), with weights computed from its own."""
    from .reparam import reparameterize as fuse

    return fuse(module, memory_format=memory_format, build=deploy_structure)


def deploy_and_check(module: "nn.Module", x, state=None, reference=None):
    """Reparameterize `module` and compare both forms on `x` (with the weights `state` where given: random
    BatchNorm statistics make the check mean something; `reference`: the training form's output on `x`, where
    already computed); a `reparam.verify.DeployCheck`."""
    from .reparam.verify import deploy_and_check as check

    return check(module, x, build=deploy_structure, state=state, reference=reference)


def deploy_weights(deployed: "nn.Module", module: "nn.Module") -> None:
    """Give `deployed` (the deploy form of `module`'s network) the deploy weights of `module` itself."""
    from .nn import network_of
    from .reparam.deploy import reload

    reload(deployed, module, network_of(module))


def deploy_structure(network: Network) -> "nn.Module":
    """The modules of `network` with no weights yet (the deploy path assigns the ones it computes)."""
    return lower(network, device="meta")


def deploy(network: Network) -> Network:
    """What `reparameterize` makes of the network, as IR (torch-free): for `draw`, `summary` and `--emit ir`."""
    from .reparam import deploy_ir

    return deploy_ir(network)


def draw(network: Network, graphviz_format: str, *, depth: int = 0, expand_repeats: bool = False,
         variant: str = "") -> bytes:
    """A diagram of `network` in `graphviz_format` (`dot` is the DOT source, which needs no graphviz)."""
    from .viz import render, to_dot

    return render(to_dot(network, depth=depth, expand_repeats=expand_repeats, variant=variant), graphviz_format)


def summarize(network: Network, depth: int | None = None) -> "Summary":
    """Per-layer shapes, parameters and MACs, read off the IR (summary.py)."""
    from .summary import summarize as summarize_network

    return summarize_network(network, depth)


def export(module: "nn.Module", input_dims: tuple[int, ...], path: Path, *, opset: int, exporter: str) -> str:
    """`module` as an ONNX file at `path`; returns the exporter that wrote it (export.py)."""
    from .export import export_onnx

    return export_onnx(module, input_dims, path, opset=opset, exporter=exporter)
