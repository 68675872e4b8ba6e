"""What a body names and returns: `-> name` and `-> (a, b)`, `return`, and the `features=` of a network.

Named tensors themselves (`@name`, their bindings and how they cross submodules) are in `tensors.py`.
"""

from __future__ import annotations

from .. import ast
from ..diagnostics import Label, error
from ..ir import GroupNode, Output
from .builder import GraphBuilder
from .elaboration_state import ElaborationState
from .resolve import suggest
from .tensors import bring


class OutputElaboration(ElaborationState):
    """The outputs of the graphs an Elaborator builds, and the names it gives their tensors."""

    def _features(self, definition: ast.NetworkDef, features: tuple[str, ...], root: GraphBuilder) -> int:
        """The tensors asked for by `features=` become the network's outputs, a list."""
        outputs = []
        for feature in features:
            if feature.startswith("@"):
                value = root.names.resolve(feature[1:], definition.name_span, root)
            else:
                value = self._labelled(definition, feature, root)
            outputs.append(Output.model_construct(name=feature, node=value, train_only=False))
        root.returned = ("list", tuple(outputs))
        return outputs[0].node

    def _labelled(self, definition: ast.NetworkDef, path: str, root: GraphBuilder) -> int:
        """The value of the item at a dotted path of submodule names (`layer2`, `features.3`) in the root graph."""
        builder, parts = root, path.split(".")
        for depth, part in enumerate(parts):
            node_id = builder.by_name.get(part)
            inside = builder.children.get(node_id) if node_id is not None else None
            if node_id is None or (depth < len(parts) - 1 and inside is None):
                where = ".".join(parts[:depth]) or f"network `{definition.name}`"
                raise error("E0121", f"no item `{path}` to take features from: {where} has no submodule `{part}`",
                            definition.name_span, help=suggest(part, list(builder.by_name)) or
                            "name features by label (`layer2`), by dotted path (`features.3`) or as `@tensor`")
            if depth < len(parts) - 1:
                builder = inside
        return bring(builder, node_id, root, parts[-1], None)

    def _name(self, stmt: ast.Item, value: int, builder: GraphBuilder) -> None:
        """`-> name` names the item's tensor; `-> (a, b)` each output of a block that returns several."""
        targets = stmt.targets
        if len(targets) == 1:
            builder.names.bind(targets[0].name, builder, value, targets[0].span)
            return
        node = builder.nodes[value - 1] if value else None
        results = node.graph.results() if isinstance(node, GroupNode) else ()
        if len(results) != len(targets):
            what = (f"`{node.block}` returns {len(results)} tensors" if isinstance(node, GroupNode) and node.block
                    and len(results) > 1 else "the item makes one tensor")
            raise self._error("E0125", f"`-> (...)` names {len(targets)} tensors, but {what}", targets[0].span,
                              label=f"{len(targets)} names", help="name as many tensors as the block returns "
                              "(`return @a, @b` in the block); `-> name` names the first")
        for index, (target, result) in enumerate(zip(targets, results)):
            selected = builder.select(value, index, result.name, node.graph.type_of(result.node), target.span)
            builder.names.bind(target.name, builder, selected, target.span)

    def _return(self, stmt: ast.Return, builder: GraphBuilder) -> int:
        """The body's outputs: a tuple or a dict (in a block: a tuple), some of a network's only for training."""
        outputs, seen = [], {}
        for out in stmt.outputs:
            key = out.key if out.key is not None else out.name
            if key in seen:
                raise self._error("E0125", f"output `{key}` is returned twice", out.span, label="again",
                                  secondary=(Label(span=seen[key], message="first returned here"),),
                                  help="each output needs its own name (a tuple's fields are the tensors' names)")
            seen[key] = out.span
            value = builder.names.resolve(out.name, out.span, builder)
            outputs.append(Output.model_construct(name=key, node=value, train_only=out.train))
        main = next((o.node for o in outputs if not o.train_only), None)
        if main is None:
            raise self._error("E0124", "every output is `train`: in eval mode the network would return nothing",
                              stmt.span, help="return the main output without `train`, e.g. `return @logits, train @aux`")
        if len(outputs) > 1 or stmt.form == "dict" and builder.parent is None:
            builder.returned = ("tuple" if builder.parent is not None else stmt.form, tuple(outputs))
        return main


__all__ = ["OutputElaboration"]
