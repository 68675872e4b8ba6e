"""Elaborating calls: of a primitive (one op) and of a block (a group holding the graph of its body).

Arguments are bound in `binding.py`; a block call's body runs through the statements of `elaborate.py`;
`memo.py` reuses the body of equal block calls across a sweep by overriding `_block_body`.
"""

from __future__ import annotations

from pydantic import ValidationError

from .. import ast
from ..combinators import COMBINATORS
from ..diagnostics import Label
from ..ir import OpNode
from ..primitives import REGISTRY, Primitive, ShapeError
from ..types import CHANNELS, SHAPE, SPATIAL, TensorType
from .binding import TensorArgument, bind_arguments, bind_parameters, invalid_argument, signature
from .builder import Frame, GraphBuilder
from .elaboration_state import ElaborationState
from .evaluate import Value, repr_value
from .provenance import describe, trace
from .resolve import FileScope, suggest
from .tensors import add_input


class CallElaboration(ElaborationState):
    """The calls of an Elaborator; `sequence` and `_scan` come from the Elaborator itself."""

    def _call(self, stmt: ast.Call, value, builder, variables, scope: FileScope) -> int:
        incoming = builder.type_of(value)
        found = scope.lookup(stmt.name)
        if found is not None:
            block, defining = found
            return self._block_call(stmt, block, defining, value, builder, variables, incoming)
        primitive = REGISTRY.get(stmt.name)
        if primitive is None and stmt.name == "else":
            raise self._stray_else(stmt.name_span)
        if primitive is None and stmt.name in COMBINATORS:
            raise self._error("E0001", f"`{stmt.name}` takes its branches in braces", stmt.name_span,
                              label="expected `{` after it", help=f"write `{stmt.name} {{ branch | branch }}`")
        if primitive is None and stmt.name in scope.networks:
            raise self._error("E0101", f"`{stmt.name}` is a network, and a network cannot be called inside a body",
                              stmt.name_span, label="a network", help=f"to reuse its layers, move them into a `block`; "
                              f"for a network with other defaults, write `network name = {stmt.name}(...)`")
        if primitive is None:
            candidates = scope.visible_names() + list(REGISTRY)
            raise self._error("E0101", f"unknown primitive or block `{stmt.name}`", stmt.name_span, label="not defined",
                              help=suggest(stmt.name, candidates) or "define it with `block` or `import` the file that does")
        if stmt.checkpoint:
            raise self._error("E0107", f"`checkpoint` applies to block calls, and `{stmt.name}` is a primitive",
                              stmt.span, help="wrap the ops in a block and checkpoint the call of that block")
        return self._primitive_call(stmt, primitive, value, builder, variables, incoming)

    def _primitive_call(self, stmt: ast.Call, primitive: Primitive, value, builder, variables, incoming) -> int:
        # tensor parameters (`resize(@like)`) come first and become the op's extra inputs, in their order
        names = [*primitive.tensor_params, *primitive.Params.model_fields]
        values, spans = bind_arguments(stmt, names, variables, incoming, self._error, tensors=builder.names.type_of,
                                       tensor_params={n: ast.Param(span=stmt.name_span, name=n, tensor=True)
                                                      for n in primitive.tensor_params})
        extra = []
        for name in primitive.tensor_params:
            if name not in values:
                raise self._error("E0105", f"`{stmt.name}` is missing argument `@{name}`", stmt.span,
                                  help=signature(stmt.name, [f"@{n}" if n == name else n for n in names]))
            argument = values.pop(name)
            extra.append(builder.names.resolve(argument.name, argument.span, builder))
        try:
            params = primitive.Params(**values)
        except ValidationError as exc:
            raise invalid_argument(stmt, primitive.Params, exc, values, spans, self._error) from None
        try:
            out = primitive.infer(params, incoming, *(builder.type_of(v) for v in extra))
        except ShapeError as exc:
            raise self._error(exc.code, exc.message, stmt.span, help=exc.help, label=f"input is {incoming}",
                              secondary=self._input_origin(exc.code, builder, value, incoming)) from None
        name = builder.name_for(stmt.label, stmt.label_span)
        count = primitive.param_count(params, incoming, out)
        self.param_total += count
        if self.param_total > self.limits.max_params:
            raise self._error("E0115", f"the network has more than {self.limits.max_params:,} parameters, the limit",
                              stmt.span, label=f"{count:,} parameters here, {self.param_total:,} in all so far",
                              help="if this is intended, raise the limit with `--max-params N`")
        node = OpNode.model_construct(id=builder.next_id(), inputs=(value, *extra), out=out, span=stmt.span,
                                      op=primitive.name, params=params, name=name, param_count=count,
                                      macs=primitive.macs(params, incoming, out), kind="op")
        return self._emit(builder, node)

    def _block_call(self, stmt: ast.Call, block: ast.BlockDef, defining: FileScope, value, builder, variables,
                    incoming) -> int:
        names = [p.name for p in block.params]
        tensor_params = [p for p in block.params if p.tensor]
        values, _ = bind_arguments(stmt, names, variables, incoming, self._error, tensors=builder.names.type_of,
                                   tensor_params={p.name: p for p in tensor_params})
        missing = lambda param: self._error(  # noqa: E731
            "E0105", f"`{block.name}` is missing argument `{'@' if param.tensor else ''}{param.name}`", stmt.span,
            help=signature(block.name, names), secondary=(Label(span=param.span, message="declared here"),))
        tensors = {p.name: values.pop(p.name) for p in tensor_params if p.name in values}
        bound = bind_parameters([p for p in block.params if not p.tensor], values, incoming, missing=missing)
        for param in tensor_params:
            if param.name not in tensors:
                raise missing(param)
        args_text = ", ".join([f"{k}={repr_value(v)}" for k, v in bound.items()] +
                              [f"{k}=@{v.name}" for k, v in tensors.items()])
        frame = Frame(block.name, args_text, stmt.span, incoming, tuple(bound.items()))
        self._check_recursion(frame)
        name = builder.name_for(stmt.label, stmt.label_span)
        self.frames.append(frame)
        try:
            inner, output = self._block_body(block, defining, bound, tensors, value, builder)
        finally:
            self.frames.pop()
        return self._emit_group(builder, inner, output, name, block.name, bound, value, stmt.span, stmt.checkpoint)

    def _block_body(self, block: ast.BlockDef, defining: FileScope, bound: dict[str, Value],
                    tensors: dict[str, TensorArgument], value: int, builder: GraphBuilder) -> tuple[GraphBuilder, int]:
        """The graph of one block call's body, and its output (passes/memo.py reuses it across equal calls)."""
        inner = GraphBuilder(builder.type_of(value), parent=builder, parent_value=value,
                             names=self._names(self._scan(block, False)))
        inner.names.bind("input", inner, 0, block.name_span)
        for param in block.params:
            if param.tensor:
                argument = tensors[param.name]
                source = builder.names.resolve(argument.name, argument.span, builder)
                inner.names.bind(param.name, inner, add_input(inner, param.name, builder.type_of(source), source,
                                                              param.span), param.span)
        return inner, self.sequence(block.body, 0, inner, bound, defining, tail=True)

    def _input_origin(self, code: str, builder: GraphBuilder, value: int, incoming: TensorType) -> tuple[Label, ...]:
        """For an op that cannot take its input: where the offending aspect of that input was decided."""
        aspect = {"E0204": CHANNELS, "E0205": SPATIAL, "E0206": SHAPE}.get(code)
        where = trace(builder, value, aspect) if aspect else None
        return (Label(span=where, message=f"{describe(aspect, incoming)} here"),) if where else ()


__all__ = ["CallElaboration"]
