"""The IR: per block call, a DAG of primitive ops with inferred output types and provenance.

Nodes are numbered within their graph; id 0 is the graph's input. A `GroupNode` (a block call, a labelled
item or a `{ ... }` group) owns a nested graph and becomes a named submodule when lowered.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer

from .combinators import COMBINATORS
from .source import Span
from .types import TensorType


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: int
    inputs: tuple[int, ...]
    out: TensorType
    span: Span | None = None


def _registered_combinator(name: str) -> str:
    """An IR read back from JSON names a merge that this archdsl knows how to compute."""
    if name not in COMBINATORS:
        raise ValueError(f"unknown combinator `{name}`")
    return name


class OpNode(_Node):
    kind: Literal["op"] = "op"
    op: str
    params: Any
    name: str
    param_count: int = 0
    macs: int = 0

    @field_serializer("params")
    def _dump_params(self, params: Any) -> dict:
        return params.model_dump(mode="json") if isinstance(params, BaseModel) else dict(params)


class MergeNode(_Node):
    kind: Literal["merge"] = "merge"
    op: Annotated[str, AfterValidator(_registered_combinator)]  # a name in archdsl/combinators.py


class GroupNode(_Node):
    kind: Literal["group"] = "group"
    name: str
    block: str  # the block's name, or "" for a labelled item or `{ ... }`
    args: dict[str, Any] = {}
    graph: Graph
    checkpoint: bool = False  # recomputed in the backward pass (activation checkpointing)
    param_count: int = 0
    macs: int = 0


Node = Annotated[Union[OpNode, MergeNode, GroupNode], Field(discriminator="kind")]


class Graph(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: TensorType
    nodes: tuple[Node, ...]
    output: int

    def output_type(self) -> TensorType:
        if self.output == 0:
            return self.input
        return next(n.out for n in self.nodes if n.id == self.output)


class Network(BaseModel):
    """A fully elaborated network: every shape known, every parameter counted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    file: str
    params: dict[str, Any]
    input: TensorType
    output: TensorType
    graph: Graph
    param_count: int
    macs: int

    #: draws a network as SVG text (None without graphviz's `dot`); the diagram layer sets it when imported
    #: (`archdsl.viz`), so that the IR, below it, never imports it
    svg_renderer: ClassVar[Callable[[Network], str | None] | None] = None

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the diagram inline (None when nothing draws it: Jupyter then prints the repr)."""
        draw = type(self).svg_renderer
        return draw(self) if draw is not None else None


GroupNode.model_rebuild()
