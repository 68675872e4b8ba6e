"""The IR: per block call, a DAG of primitive ops with inferred output types and provenance.

Nodes are numbered within their graph; id 0 is the graph's input. A `GroupNode` (a block call, a labelled
item or a `{ ... }` group) owns a nested graph and becomes a named submodule when lowered.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from .source import Span
from .types import TensorType


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: int
    inputs: tuple[int, ...]
    out: TensorType
    span: Span | None = None


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
    op: Literal["concat", "add", "mul"]


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

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the diagram inline (None without graphviz's `dot`: Jupyter then prints the repr)."""
        from .viz import svg_or_none

        return svg_or_none(self)


GroupNode.model_rebuild()
