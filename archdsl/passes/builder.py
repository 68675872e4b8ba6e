"""What elaboration keeps while it runs: the limits it enforces, the block call stack, and the graph of each
submodule under construction."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..budgets import default_max_activation, default_max_activations, default_max_ops, default_max_params
from ..diagnostics import error
from ..ir import Graph, GroupNode, Output, OutputKind, SelectNode
from ..source import Span
from ..types import TensorType


#: labels torch's `nn.Module` sets as plain attributes on every module (`train()` assigns `training`), so no
#: submodule can have the name; tests/test_hostile_budgets.py builds every other keyword and Module attribute
RESERVED_LABELS = frozenset({"training"})


@dataclass(frozen=True)
class Limits:
    max_call_depth: int = 64
    max_depth: int = 100  # nested bodies (blocks, groups, loops, branches): bounds Python's recursion
    max_repeat: int = 10_000
    max_steps: int = 1_000_000  # items run and loop turns: a spec that would run for hours fails instead
    max_ops: int = default_max_ops()  # budgets.py: build and draw of any accepted network take seconds
    # what build would allocate, sized to this machine's memory (budgets.py); raise with --max-params, or
    # ARCHDSL_MAX_PARAMS / ARCHDSL_MAX_ACTIVATION / ARCHDSL_MAX_ACTIVATIONS
    max_params: int = default_max_params()
    max_activation: int = default_max_activation()  # elements of one activation at batch 1
    max_activations: int = default_max_activations()  # elements of all activations together at batch 1


@dataclass(frozen=True)
class Frame:
    """One block call on the elaboration stack, for the notes of a diagnostic."""

    block: str
    args: str  # as a note shows them: long values are elided (values.py)
    span: Span
    incoming: TensorType | None = None
    values: tuple = ()  # the arguments themselves, (name, value) pairs: what recursion detection compares

    def note(self) -> str:
        return f"in `{self.block}({self.args})` called at {self.span}"


def stack_notes(frames: list[Frame], shown: int = 8) -> tuple[str, ...]:
    """The block call stack, innermost first; a deep one is cut in the middle."""
    notes = [f.note() for f in reversed(frames)]
    if len(notes) > shown:
        notes = notes[:shown // 2] + [f"... {len(notes) - shown} more calls ..."] + notes[-(shown // 2):]
    return tuple(notes)


@dataclass(eq=False)
class GraphBuilder:
    """The graph of one submodule under construction; value 0 is its input, value n the output of node n.

    It outlives its construction: a tensor named inside a finished group and used after it, or a feature
    asked for by label, becomes an extra output of the group's graph (`export`).
    """

    input: TensorType
    nodes: list = field(default_factory=list)
    position: int = 0
    labels: dict[str, Span] = field(default_factory=dict)
    unlabelled: set[str] = field(default_factory=set)  # position names given to items without a label
    # where the input comes from, so diagnostics can point at what decided a shape (passes/provenance.py)
    parent: "GraphBuilder | None" = None
    parent_value: int = 0
    input_span: Span | None = None
    #: the tensor names of the body this graph belongs to (passes/tensors.py); groups share their body's
    names: object = None
    #: extra inputs: InputNode id -> the value of the parent graph passed for it (tensor arguments, captures)
    input_sources: dict[int, int] = field(default_factory=dict)
    captured: dict[int, int] = field(default_factory=dict)  # parent value -> its InputNode here
    #: once emitted: the id of this graph's GroupNode in the parent, and its main output
    node_id: int | None = None
    output: int | None = None
    #: `return` of a block or network body: how the outputs are returned, and which
    returned: tuple[OutputKind, tuple[Output, ...]] | None = None
    exported: dict[int, int] = field(default_factory=dict)  # value here -> the parent's select of it
    extra_outputs: list[Output] = field(default_factory=list)  # outputs after those of `return` (exports)
    children: dict[int, "GraphBuilder"] = field(default_factory=dict)  # group node id -> its graph's builder
    by_name: dict[str, int] = field(default_factory=dict)  # submodule name -> node id
    selects: dict[tuple[int, int], int] = field(default_factory=dict)  # (group id, output index) -> select id

    def next_id(self) -> int:
        return len(self.nodes) + 1

    def name_for(self, label: str | None, label_span: Span | None) -> str:
        """The submodule name of the next item: its label, or its position as in `nn.Sequential`."""
        self.position += 1
        if label is None:
            name = str(self.position - 1)
            if name in self.labels:  # two submodules with one name: the second would silently replace the first
                raise error("E0110", f"label `{name}` is also the position name of the unlabelled item number "
                            f"{self.position - 1} of this block", self.labels[name],
                            help="label that item too, or choose a label that is not a position number")
            self.unlabelled.add(name)
            return name
        if label in RESERVED_LABELS:  # check must refuse what build cannot make (issue 14)
            raise error("E0118", f"label `{label}` cannot name a submodule: torch's `nn.Module` keeps its own "
                        f"`{label}` attribute", label_span, label="reserved by torch",
                        help=f"choose another label, e.g. `{label}_`")
        if label in self.unlabelled:
            raise error("E0110", f"label `{label}` is already the position name of an unlabelled item of this block",
                        label_span, help="label that item too, or choose a label that is not a position number")
        if label in self.labels:
            raise error("E0110", f"label `{label}` is used twice in this block", label_span,
                        notes=(f"first used at {self.labels[label]}",),
                        help="labels name submodules and must be unique; a label inside `repeat` repeats it")
        self.labels[label] = label_span
        return label

    def reserve(self, name: str, span: Span) -> None:
        """A module attribute that is not an item (a learnable tensor): its name must not be a label too."""
        if name in self.labels:
            raise error("E0110", f"`{name}` names two things of this module", span,
                        notes=(f"first used at {self.labels[name]}",),
                        help="labels and learnable tensors (`param`) are attributes of one module: rename one")
        self.labels[name] = span

    def type_of(self, value: int) -> TensorType:
        return self.input if value == 0 else self.nodes[value - 1].out

    def results(self, output: int) -> tuple[OutputKind, tuple[Output, ...]]:
        """How the graph returns its outputs, and which: `return`'s, then the exported ones."""
        kind, outputs = self.returned or ("tensor", (Output.model_construct(name="", node=output, train_only=False),))
        if self.extra_outputs:
            return ("tuple" if kind == "tensor" else kind), outputs + tuple(self.extra_outputs)
        return kind, outputs

    def graph(self, output: int) -> Graph:
        if self.returned is None and not self.extra_outputs:  # a chain's one output: the usual case, kept fast
            return Graph.model_construct(input=self.input, nodes=tuple(self.nodes), output=output)
        kind, outputs = self.results(output)
        if kind == "tensor":
            return Graph.model_construct(input=self.input, nodes=tuple(self.nodes), output=output)
        return Graph.model_construct(input=self.input, nodes=tuple(self.nodes), output=output, outputs=outputs,
                                     output_kind=kind)

    def select(self, group: int, index: int, name: str, out: TensorType, span: Span | None) -> int:
        """The value of output `index` of the group node `group` (its own value for output 0)."""
        if index == 0:
            return group
        found = self.selects.get((group, index))
        if found is None:
            found = self.next_id()
            self.nodes.append(SelectNode.model_construct(id=found, inputs=(group,), out=out, span=span, index=index,
                                                         name=name, kind="select"))
            self.selects[(group, index)] = found
        return found

    def export(self, value: int, name: str, span: Span | None) -> int:
        """`value` of this finished group's graph made an output of it: its value in the parent graph."""
        parent = self.parent
        if value == self.output:
            return self.node_id
        if value not in self.exported:
            index = len(self.results(self.output)[1])
            self.extra_outputs.append(Output.model_construct(name=name, node=value, train_only=False))
            group: GroupNode = parent.nodes[self.node_id - 1]
            parent.nodes[self.node_id - 1] = group.model_copy(update={"graph": self.graph(self.output)})
            self.exported[value] = parent.select(self.node_id, index, name, self.type_of(value), span)
        return self.exported[value]

    def release(self) -> None:
        """Forget the builders of the groups under this one, once the network is done: each holds its parent,
        and the parent it, so without this only the cyclic collector frees them (see ElaborationState._names)."""
        pending = [self]
        while pending:
            builder = pending.pop()
            pending.extend(builder.children.values())
            builder.children = {}


def total(graph: Graph, attribute: str) -> int:
    """The sum of `param_count` or `macs` over a graph's nodes."""
    return sum(getattr(n, attribute, 0) for n in graph.nodes)
