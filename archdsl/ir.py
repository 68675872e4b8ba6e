"""The IR: per block call, a DAG of primitive ops with inferred output types and provenance.

Nodes are numbered within their graph, in an order where every node comes after its inputs; node n is
`graph.nodes[n - 1]` and value n is its output; id 0 is the graph's main input. A `GroupNode` (a block call,
a labelled item or a `{ ... }` group) owns a nested graph and becomes a named submodule when lowered.

Graphs, not only chains (docs/design/graphs.md, "The IR"):

- a graph may have extra inputs besides value 0: its `InputNode`s, in node order (a block's tensor
  parameters, a network's extra inputs, or a tensor of the enclosing body that a group uses). The
  `GroupNode` that calls it passes `inputs = (main, *one value per InputNode, in that order)`;
- a graph may have several outputs (`outputs`, each with a name and `train_only`) returned as a `tuple`,
  a `dict` or a `list` (`output_kind`). `output` stays the main output: the first that is not train-only;
  with no `outputs`, `output` is the graph's one output, a bare tensor;
- a `GroupNode`'s value is its graph's output 0; a `SelectNode` (inputs = the group's id) is output `index`;
- a `ParamNode` is a learnable tensor (an `nn.Parameter` of the graph's own module, called `name`), with no
  inputs.

>>> g = Graph(input=TensorType.of(3, 8, 8), nodes=(), output=0)
>>> g.results()
(Output(name='', node=0, train_only=False),)
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_serializer, model_serializer

from .combinators import COMBINATORS
from .frozen import Frozen
from .source import Span
from .types import TensorType


class _Node(Frozen):
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


class InputNode(_Node):
    """An extra input of its graph (`inputs` is empty): a tensor parameter (`block up(c, @skip)`), a network's
    extra input, or a named tensor of the enclosing body that a group uses. Lowered as an argument of
    `forward`, after the main input, in node order."""

    kind: Literal["input"] = "input"
    name: str  # the tensor's name in the spec (`skip`); a forward argument's name


class SelectNode(_Node):
    """Output `index` (>= 1) of the multi-output group `inputs[0]` (its output 0 is the group node's value)."""

    kind: Literal["select"] = "select"
    index: int
    name: str  # the output's name in the group's graph


class ParamNode(_Node):
    """A learnable tensor (`param layer_scale = (dim, 1, 1) init 1e-6`), with no inputs: an `nn.Parameter`
    registered on the module of the graph that holds it, under `name`, filled with `init`."""

    kind: Literal["param"] = "param"
    name: str
    init: float = 0.0
    param_count: int = 0


Node = Annotated[Union[OpNode, MergeNode, GroupNode, InputNode, SelectNode, ParamNode], Field(discriminator="kind")]


class Output(Frozen):
    """One output of a graph: the value `node`, named (a tuple's field, a dict's key), maybe training-only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    node: int
    train_only: bool = False  # dropped in eval mode, with whatever only it needs


#: how a graph's outputs are returned: one bare tensor, a (named) tuple, a dict by name, a list (features)
OutputKind = Literal["tensor", "tuple", "dict", "list"]


class Graph(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: TensorType
    nodes: tuple[Node, ...]
    output: int  # the main output: the first of `outputs` that is not train-only
    outputs: tuple[Output, ...] = ()  # empty: `output` is the one output, a bare tensor
    output_kind: OutputKind = "tensor"

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        """A chain's dump is what it was before graphs had several inputs and outputs: defaults left out."""
        data = handler(self)
        if not self.outputs:
            data.pop("outputs", None)
        if self.output_kind == "tensor":
            data.pop("output_kind", None)
        return data

    def type_of(self, value: int) -> TensorType:
        return self.input if value == 0 else self.nodes[value - 1].out

    def output_type(self) -> TensorType:
        return self.type_of(self.output)

    def results(self) -> tuple[Output, ...]:
        """Every output, a chain's one output included (named "")."""
        return self.outputs or (Output.model_construct(name="", node=self.output, train_only=False),)

    def extra_inputs(self) -> tuple[InputNode, ...]:
        """The inputs after the main one, in the order a caller passes them."""
        return tuple(n for n in self.nodes if isinstance(n, InputNode))

    def needed(self, values) -> frozenset[int]:
        """The ids of the nodes that computing `values` runs (in this graph; a group counts as one node)."""
        seen: set[int] = set()
        pending = [v for v in values if v != 0]
        while pending:
            value = pending.pop()
            if value in seen:
                continue
            seen.add(value)
            pending.extend(i for i in self.nodes[value - 1].inputs if i != 0 and i not in seen)
        return frozenset(seen)

    def train_only_nodes(self) -> frozenset[int]:
        """The nodes that only training-mode outputs need: eval mode does not run them."""
        if not any(o.train_only for o in self.outputs):
            return frozenset()
        kept = self.needed(o.node for o in self.outputs if not o.train_only)
        return self.needed(o.node for o in self.outputs) - kept


class Feature(Frozen):
    """One feature map asked for with `features=` (as timm's `feature_info`): its channels, and its reduction,
    how many input pixels one of its pixels spans (the input's height over its height; None for flat ones)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # as asked: a label (`layer2`), a dotted path (`features.3`) or a named tensor (`@c5`)
    channels: int
    reduction: int | float | None
    shape: tuple[int, ...]


def _reduction(input: TensorType, out: TensorType) -> int | float | None:
    if input.rank != 3 or out.rank != 3:
        return None
    if out.h <= input.h:
        return input.h // out.h  # 299 // 35 == 8: the stride, as timm reports it, despite unpadded borders
    return 1 / (out.h // input.h)  # up-sampled: 0.5 for twice the input's size


class Network(Frozen):
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

    def outputs(self) -> dict[str, TensorType]:
        """Each output's name and type (a chain's one output is named "")."""
        return {o.name: self.graph.type_of(o.node) for o in self.graph.results()}

    @property
    def feature_info(self) -> tuple[Feature, ...]:
        """The feature maps asked for with `features=` (empty otherwise), in order."""
        if self.graph.output_kind != "list":
            return ()
        types = [(o.name, self.graph.type_of(o.node)) for o in self.graph.outputs]
        return tuple(Feature(name=name, channels=t.c, reduction=_reduction(self.input, t), shape=t.dims)
                     for name, t in types)

    #: draws a network as SVG text (None without graphviz's `dot`); the diagram layer sets it when imported
    #: (`archdsl.viz`), so that the IR, below it, never imports it
    svg_renderer: ClassVar[Callable[[Network], str | None] | None] = None

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the diagram inline (None when nothing draws it: Jupyter then prints the repr)."""
        draw = type(self).svg_renderer
        return draw(self) if draw is not None else None


GroupNode.model_rebuild()
