"""What an Elaborator keeps while it runs, and the limits it checks as it goes.

Counters (steps, ops, parameters, activations), the block call stack and the depth, each with its limit from
`builder.Limits`; nodes enter a graph through `_emit`, which counts them. Errors carry the call stack as notes.
The statements are run in `elaborate.py`, calls in `calls.py`, outputs and named tensors in `outputs.py`.
"""

from __future__ import annotations

from ..diagnostics import ArchError, Diagnostic
from ..ir import GroupNode
from ..source import SourceMap, Span
from .builder import Frame, GraphBuilder, Limits, stack_notes, total
from .tensors import Names, Sites


class ElaborationState:
    """The counters and limits of one elaboration, the nodes it emits and the diagnostics it raises."""

    def __init__(self, limits: Limits = Limits(), sources: SourceMap | None = None):
        self.limits = limits
        # the loader's sources; spans now all come from the AST, so nothing here reads them any more
        self.sources = sources if sources is not None else SourceMap()
        self.frames: list[Frame] = []
        self.op_count = 0
        self.param_total = 0
        self.depth = 0
        self.steps = 0
        self.activation_total = 0  # elements of every activation so far, at batch 1
        self._sites: dict[int, Sites] = {}  # per definition: where its body names tensors (tensors.scan)
        self._bodies: list[Names] = []  # the names of every body elaborated so far (see `_names`)

    def _names(self, sites: Sites) -> Names:
        """The tensor names of a new body. A name binds a builder, and the builder holds the body's names: each
        body is a reference cycle, as is each group's builder with its parent's, which only Python's cyclic
        collector would free (a third of an elaboration's time went to collecting them). When the network is
        done, `_forget_names` and `GraphBuilder.release` break the cycles and reference counting frees
        everything at once."""
        names = Names(sites)
        self._bodies.append(names)
        return names

    def _forget_names(self) -> None:
        for names in self._bodies:
            names.bindings.clear()
        self._bodies.clear()

    def _step(self, span: Span) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise self._error("E0115", f"elaboration takes more than {self.limits.max_steps:,} steps", span,
                              label="still running here",
                              help="a loop runs far more often than any network needs; check its count")
        if self.depth > self.limits.max_depth:
            raise self._depth_error(span, f"items nest more than {self.limits.max_depth} levels deep")

    def _check_repeat(self, count: int, span: Span) -> None:
        if count > self.limits.max_repeat:
            raise self._error("E0115", f"repeat count {count:,} exceeds the limit of {self.limits.max_repeat:,}", span,
                              label="too many", help="no network repeats a block this often; check the count")

    def _check_recursion(self, frame: Frame) -> None:
        """The same call (block, arguments, input shape) while it is active can only recur forever."""
        again = next((i for i, f in enumerate(self.frames)
                      if (f.block, f.values, f.incoming) == (frame.block, frame.values, frame.incoming)), None)
        if again is not None:
            cycle = " -> ".join(f"`{f.block}({f.args})`" for f in [*self.frames[again:], frame])
            raise self._error("E0114", f"block `{frame.block}` calls itself with the same arguments and input, "
                              "so the recursion never ends", frame.span, label="recursive call",
                              notes=(f"the cycle: {cycle}",),
                              help="stop the recursion with an `if` on a parameter that changes from call to call")
        if len(self.frames) >= self.limits.max_call_depth:
            raise self._depth_error(frame.span, f"block calls nest more than {self.limits.max_call_depth} deep")

    def _depth_error(self, span: Span, message: str) -> ArchError:
        """Too deep: a block that keeps calling itself is the usual cause, and is named when it is."""
        blocks = [f.block for f in self.frames]
        if blocks and blocks.count(blocks[-1]) > 2:
            return self._error("E0114", f"block `{blocks[-1]}` keeps calling itself ({blocks.count(blocks[-1])} calls "
                               "deep)", span, label="recursive call",
                               help="stop the recursion with an `if` on a parameter that changes from call to call")
        return self._error("E0115", message, span, label="too deep here", help="split deep structures into named blocks")

    def _error(self, code: str, message: str, span: Span | None, **fields) -> ArchError:
        """A diagnostic with the block call stack as its notes."""
        notes = tuple(fields.pop("notes", ())) + stack_notes(self.frames)
        return ArchError(Diagnostic(code=code, message=message, span=span, notes=notes, **fields))

    def _stray_else(self, span: Span) -> ArchError:
        return self._error("E0001", "`else` without an `if` before it", span, label="stray `else`",
                           help="write `if cond { ... } else { ... }` with the `else` right after the `}` of the `if`")

    def _emit(self, builder: GraphBuilder, node) -> int:
        self.op_count += 1
        if node.kind != "group":  # a group's output is its last node's, already counted
            self._check_activation(node)
        if self.op_count > self.limits.max_ops:
            raise self._error("E0115", f"the network has more than {self.limits.max_ops:,} ops, the limit", node.span,
                              label=f"op {self.op_count:,}", help="a loop runs far more often than any network needs; "
                              "check its count")
        builder.nodes.append(node)
        name = getattr(node, "name", None)
        if name is not None:
            builder.by_name[name] = node.id
        return node.id

    def _emit_group(self, builder: GraphBuilder, inner: GraphBuilder, output: int, name: str, block: str, args, value,
                    span, checkpoint: bool = False) -> int:
        graph = inner.graph(output)
        inputs = (value, *(inner.input_sources[i] for i in sorted(inner.input_sources)))
        node = GroupNode.model_construct(id=builder.next_id(), inputs=inputs, out=inner.type_of(output), span=span,
                                         name=name, block=block, args=args, graph=graph, checkpoint=checkpoint,
                                         param_count=total(graph, "param_count"), macs=total(graph, "macs"),
                                         kind="group")
        inner.node_id, inner.output = node.id, output
        builder.children[node.id] = inner
        return self._emit(builder, node)

    def _check_activation(self, node) -> None:
        """Issue 14: what `build` would allocate, refused here from the static shapes (batch 1, float32)."""
        elements = 1
        for d in node.out.dims:
            elements *= d
        self.activation_total += elements
        limits = self.limits
        if elements > limits.max_activation:
            raise self._error("E0115", f"this activation would hold {elements:,} elements ({_size(elements)} at "
                              f"float32, batch 1), more than the limit of {limits.max_activation:,}", node.span,
                              label=f"output is {node.out}", help="use a smaller input or fewer channels; if this is "
                              "intended, raise the limit with ARCHDSL_MAX_ACTIVATION=N")
        if self.activation_total > limits.max_activations:
            raise self._error("E0115", f"the activations of this network would hold more than "
                              f"{limits.max_activations:,} elements in all ({_size(self.activation_total)} at "
                              f"float32, batch 1), the limit", node.span, label=f"output is {node.out}",
                              help="use a smaller input or fewer channels; if this is intended, raise the limit "
                              "with ARCHDSL_MAX_ACTIVATIONS=N")


def _size(elements: int) -> str:
    """Bytes of float32 elements, readable: `3.2 GB`."""
    size = elements * 4.0
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB", "EB"):
        if size < 1000 or unit == "EB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} EB"


__all__ = ["ElaborationState"]
