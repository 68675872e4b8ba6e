"""What elaboration keeps while it runs: the limits it enforces, the block call stack, and the graph of each
submodule under construction."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import error
from ..ir import Graph
from ..source import Span
from ..types import TensorType


@dataclass(frozen=True)
class Limits:
    max_call_depth: int = 64
    max_depth: int = 100  # nested bodies (blocks, groups, loops, branches): bounds Python's recursion
    max_repeat: int = 10_000
    max_steps: int = 1_000_000  # items run and loop turns: a spec that would run for hours fails instead
    max_ops: int = 200_000
    max_params: int = 10**10


@dataclass(frozen=True)
class Frame:
    """One block call on the elaboration stack, for the notes of a diagnostic."""

    block: str
    args: str
    span: Span
    incoming: TensorType | None = None

    def note(self) -> str:
        return f"in `{self.block}({self.args})` called at {self.span}"


def stack_notes(frames: list[Frame], shown: int = 8) -> tuple[str, ...]:
    """The block call stack, innermost first; a deep one is cut in the middle."""
    notes = [f.note() for f in reversed(frames)]
    if len(notes) > shown:
        notes = notes[:shown // 2] + [f"... {len(notes) - shown} more calls ..."] + notes[-(shown // 2):]
    return tuple(notes)


@dataclass
class GraphBuilder:
    """The graph of one submodule under construction; value 0 is its input, value n the output of node n."""

    input: TensorType
    nodes: list = field(default_factory=list)
    position: int = 0
    labels: dict[str, Span] = field(default_factory=dict)
    # where the input comes from, so diagnostics can point at what decided a shape (passes/provenance.py)
    parent: "GraphBuilder | None" = None
    parent_value: int = 0
    input_span: Span | None = None

    def next_id(self) -> int:
        return len(self.nodes) + 1

    def name_for(self, label: str | None, label_span: Span | None) -> str:
        """The submodule name of the next item: its label, or its position as in `nn.Sequential`."""
        self.position += 1
        if label is None:
            return str(self.position - 1)
        if label in self.labels:
            raise error("E0110", f"label `{label}` is used twice in this block", label_span,
                        notes=(f"first used at {self.labels[label]}",),
                        help="labels name submodules and must be unique; a label inside `repeat` repeats it")
        self.labels[label] = label_span
        return label

    def type_of(self, value: int) -> TensorType:
        return self.input if value == 0 else self.nodes[value - 1].out

    def graph(self, output: int) -> Graph:
        return Graph.model_construct(input=self.input, nodes=tuple(self.nodes), output=output)


def total(graph: Graph, attribute: str) -> int:
    """The sum of `param_count` or `macs` over a graph's nodes."""
    return sum(getattr(n, attribute, 0) for n in graph.nodes)
