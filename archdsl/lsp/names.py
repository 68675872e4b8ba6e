"""What a name stands for at a place in a document: a primitive, a block (with the file that defines it), a
parameter, a `let`, a loop variable. Shared by hover, completion, go-to-definition and references."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass

from pydantic_core import PydanticUndefined

from .. import ast
from ..passes.evaluate import BUILTINS, repr_value
from ..primitives import REGISTRY, Primitive
from ..source import Span
from .analysis import Analysis, doc_comment, read_lines, text_of, walk


@dataclass(frozen=True)
class Signature:
    name: str
    kind: str  # "primitive" or "block" or "network"
    params: tuple[tuple[str, str | None], ...]  # name and default (as source text), in order
    doc: str
    span: Span | None = None  # where a block is defined

    def text(self) -> str:
        keyword = "" if self.kind == "primitive" else f"{self.kind} "
        params = ", ".join(n if d is None else f"{n}={d}" for n, d in self.params)
        return f"{keyword}{self.name}({params})" if self.params or self.kind != "primitive" else self.name


def primitive_signature(primitive: Primitive) -> Signature:
    params = []
    for name, info in primitive.Params.model_fields.items():
        default = None if info.default is PydanticUndefined else repr_value(info.default) if info.default is not None \
            else "none"
        params.append((name, default))
    return Signature(primitive.name, "primitive", tuple(params), primitive_doc(primitive))


def primitive_doc(primitive: Primitive) -> str:
    doc = inspect.getdoc(type(primitive)) if type(primitive).__doc__ else None
    if not doc:
        module = sys.modules.get(type(primitive).__module__)
        doc = (inspect.getdoc(module) or "").split("\n\n")[0] if module else ""
    torch_class = getattr(primitive, "torch_class", None)
    if torch_class:
        doc = f"{doc}\n\n`torch.nn.{torch_class}`".strip()
    return doc or ""


def definition_signature(definition: ast.Definition, analysis: Analysis | None = None) -> Signature:
    lines = read_lines(definition.span.file, analysis)
    params = tuple((p.name, text_of(p.default.span, lines) if p.default is not None else None)
                   for p in definition.params)
    kind = "network" if isinstance(definition, ast.NetworkDef) else "block"
    return Signature(definition.name, kind, params, doc_comment(definition.span, lines), definition.name_span)


def callee(analysis: Analysis, name: str) -> Signature | None:
    """The signature of what a call of `name` in this document runs: a block in scope, else a primitive."""
    found = analysis.scope.lookup(name) if analysis.scope is not None else None
    if found is None and analysis.module is not None:  # the file did not load (a broken import): its own blocks
        found = next(((b, None) for b in analysis.module.blocks if b.name == name), None)
    if found is not None:
        return definition_signature(found[0], analysis)
    primitive = REGISTRY.get(name)
    return primitive_signature(primitive) if primitive is not None else None


def primitive_location(name: str) -> tuple[str, int] | None:
    """The Python file and line that define a primitive, for go-to-definition."""
    primitive = REGISTRY.get(name)
    if primitive is None:
        return None
    try:
        _, line = inspect.getsourcelines(type(primitive))
        return inspect.getsourcefile(type(primitive)), line
    except (OSError, TypeError):
        return None


@dataclass(frozen=True)
class Binding:
    """Where a variable of a definition is introduced."""

    name: str
    kind: str  # "parameter", "let", "loop variable", "loop index"
    span: Span


def bindings(definition: ast.Definition) -> list[Binding]:
    """Every name a definition introduces: its parameters, `let`s and loop variables, in source order."""
    found = [Binding(p.name, "parameter", p.span) for p in definition.params]
    for node in walk(definition):
        if isinstance(node, ast.Let):
            found.append(Binding(node.name, "let", node.span))
        elif isinstance(node, ast.For):
            found += [Binding(n, "loop variable", node.span) for n in node.names]
            if node.index:
                found.append(Binding(node.index, "loop index", node.span))
        elif isinstance(node, ast.Repeat) and node.var:
            found.append(Binding(node.var, "loop index", node.span))
        elif isinstance(node, ast.ListComp):
            found += [Binding(n, "loop variable", node.span) for n in node.names]
            found += [Binding(n, "loop variable", node.span) for c in node.clauses for n in c.names]
    return found


def binding_at(definition: ast.Definition, name: str, line: int, col: int) -> Binding | None:
    """The binding a use of `name` at a position refers to: the closest one before it."""
    before = [b for b in bindings(definition) if b.name == name and (b.span.line, b.span.col) <= (line, col)]
    return before[-1] if before else next((b for b in bindings(definition) if b.name == name), None)


FUNCTIONS = tuple(BUILTINS)
