"""Elaboration: AST -> IR. Binds arguments, unrolls loops, and infers every shape as it goes.

Errors are reported where they happen, with the chain of block calls that led there. This file holds the entry
point (`Elaborator.network`) and the statements; calls of primitives and blocks are in `calls.py`; what a body
names and returns (`-> name`, `return`, `features=`) in `outputs.py`; the counters, limits and node emission in
`elaboration_state.py`. What elaboration keeps while it runs (limits, call stack, graphs under construction) is
in `builder.py`; binding values to parameters in `binding.py`; where a shape was decided, for diagnostics, in
`provenance.py`; named tensors (`-> name`, `@name`) and how they cross submodules in `tensors.py`.
"""

from __future__ import annotations

from .. import ast
from ..combinators import COMBINATORS, Combinator, MergeError, MergeInput, names_in_words
from ..diagnostics import ArchError, Label, error
from ..budgets import value_budget
from ..gcpause import paused_gc
from ..ir import InputNode, MergeNode, Network, ParamNode
from ..primitives import REGISTRY
from ..source import Span
from ..types import TensorType
from .binding import bind_parameters
from .builder import Frame, GraphBuilder, Limits, total  # Frame and Limits: lsp/, api, cli and sweep import them here
from .calls import CallElaboration
from .evaluate import MAX_INT, Evaluator, Value, repr_value, type_name
from .outputs import OutputElaboration
from .provenance import describe, trace
from .resolve import FileScope, suggest
from .tensors import Names, Sites, misplaced_return, scan


class Elaborator(CallElaboration, OutputElaboration):
    """AST -> IR for one network at a time; `lsp/` overrides `item`, `memo.py` the body of block calls."""

    # --- entry point
    def network(self, definition: ast.NetworkDef, scope: FileScope, overrides: dict[str, Value] | None = None,
                override_span: Span | None = None, features: tuple[str, ...] | None = None) -> Network:
        """The IR of a network; `features` (labels, dotted paths of labels, or `@name`s) replaces its outputs by
        those tensors, returned as a list (as timm's `features_only`)."""
        definition, scope = scope.network(definition)  # a variant made whole; an imported network in its file
        overrides = dict(overrides or {})
        declared = [p.name for p in definition.params]
        for name in overrides:
            if name not in declared:
                raise error("E0104", f"network `{definition.name}` has no parameter `{name}`", override_span or definition.name_span,
                            help=suggest(name, declared) or f"parameters: {', '.join(f'`{n}`' for n in declared) or 'none'}")
        variables = bind_parameters([p for p in definition.params if not p.tensor], overrides, None,
                                    missing=lambda param: error(
            "E0105", f"network parameter `{param.name}` has no default and no value was given", param.span,
            help=f"give it a default or pass `--set {param.name}=...`"))
        input_type = self._input_type(definition, variables)
        input_span = self._input_span(definition, overrides, override_span)
        names = self._names(self._scan(definition, network=True))
        builder = GraphBuilder(input_type, input_span=input_span, names=names)
        try:
            names.bind("input", builder, 0, input_span)
            for param in definition.params:
                if param.tensor:
                    self._network_input(definition, param, overrides, variables, builder)
            # see gcpause.py: the collector made large specs quadratic; one value budget for every expression
            with paused_gc(), value_budget():
                output = self.sequence(definition.body, 0, builder, variables, scope, tail=True)
                if features:
                    output = self._features(definition, features, builder)
                graph = builder.graph(output)
        except RecursionError:  # the limits above keep real and hostile specs below this; it is the last guard
            raise self._error("E0115", "the spec nests too deeply to elaborate", definition.name_span,
                              help="split deep structures into named blocks") from None
        finally:
            self._forget_names()
            builder.release()
        return Network(name=definition.name, file=definition.span.file, params=variables, input=input_type,
                       output=builder.type_of(output), graph=graph, param_count=total(graph, "param_count"),
                       macs=eval_macs(graph))

    def _network_input(self, definition: ast.NetworkDef, param: ast.Param, overrides, variables,
                       builder: GraphBuilder) -> None:
        """A tensor parameter of a network (`@depth=[1, 224, 224]`): an extra input of `forward`, of that shape."""
        if param.name in overrides:
            value = overrides[param.name]
        elif param.default is not None:
            value = Evaluator(variables, None)(param.default)
        else:
            raise error("E0105", f"tensor parameter `@{param.name}` of network `{definition.name}` has no shape",
                        param.span, help=f"give its shape as its default, e.g. `@{param.name}=[3, 224, 224]`")
        if (not isinstance(value, tuple) or len(value) not in (1, 3)
                or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value)):
            raise error("E0107", f"the shape of `@{param.name}` must be [C, H, W] or [F] with positive integers, "
                        f"got {repr_value(value)}", param.span)
        node = InputNode.model_construct(id=builder.next_id(), inputs=(), out=TensorType.of(*value), span=param.span,
                                         name=param.name, kind="input")
        builder.nodes.append(node)
        builder.names.bind(param.name, builder, node.id, param.span)

    def _scan(self, definition: ast.Definition, network: bool) -> Sites:
        found = self._sites.get(id(definition))
        if found is None:
            found = self._sites[id(definition)] = scan(definition.params, definition.body, network)
        return found

    def _input_type(self, definition: ast.NetworkDef, variables: dict[str, Value]) -> TensorType:
        value = variables.get("input")
        span = next((p.span for p in definition.params if p.name == "input"), definition.name_span)
        if value is None:
            raise error("E0105", f"network `{definition.name}` has no `input` parameter", definition.name_span,
                        help="declare the input shape, e.g. `network net(input=[3, 224, 224]) { ... }`")
        if (not isinstance(value, tuple) or len(value) not in (1, 3)
                or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value)):
            raise error("E0107", f"`input` must be [C, H, W] or [F] with positive integers, got {repr_value(value)}",
                        span)
        if any(d > MAX_INT for d in value):  # `--input` and the API bypass the literal's check
            raise error("E0115", f"`input` size {max(value):,} is larger than 2**62", span, label="too large")
        return TensorType.of(*value)

    def _input_span(self, definition: ast.NetworkDef, overrides, override_span: Span | None) -> Span:
        if "input" in overrides and override_span is not None:
            return override_span
        return next((p.span for p in definition.params if p.name == "input"), definition.name_span)

    # --- statements
    def sequence(self, stmts, value: int, builder: GraphBuilder, variables: dict[str, Value], scope: FileScope,
                 tail: bool = False) -> int:
        """Run the statements from `value`; `tail`: the end of a block or network body, where `return` may be."""
        variables = dict(variables)
        self.depth += 1
        last = len(stmts) - 1
        try:
            for i, stmt in enumerate(stmts):
                self._step(stmt.span)
                if isinstance(stmt, ast.Let):
                    variables[stmt.name] = self._evaluator(variables, builder, value)(stmt.value)
                elif isinstance(stmt, ast.ParamDecl):
                    self._param(stmt, value, builder, variables)
                elif isinstance(stmt, ast.Return):
                    if not (tail and i == last):
                        raise misplaced_return(stmt.span)
                    value = self._return(stmt, builder)
                else:
                    value = self.item(stmt, value, builder, variables, scope, tail and i == last)
        finally:
            self.depth -= 1
        return value

    def _evaluator(self, variables: dict[str, Value], builder: GraphBuilder, value: int) -> Evaluator:
        """Expressions see the variables, `in` (the current tensor's shape) and named tensors' shapes."""
        return Evaluator(variables, builder.type_of(value), builder.names.type_of)

    def item(self, stmt: ast.Item, value: int, builder: GraphBuilder, variables, scope: FileScope,
             tail: bool = False) -> int:
        if stmt.label_template is not None:  # `"denselayer{i + 1}": ...`: the label is computed here
            label = self._label(stmt, self._evaluator(variables, builder, value))
            stmt = stmt.model_copy(update={"label": label, "label_template": None})
        if stmt.label is not None and not isinstance(stmt, (ast.Call, ast.Group)):
            # a label on a loop, a condition or a combinator names a submodule that holds it; `-> name` names
            # what that submodule makes
            wrapped = ast.Group(span=stmt.span, label=stmt.label, label_span=stmt.label_span, targets=stmt.targets,
                                body=(stmt.model_copy(update={"label": None, "label_span": None, "targets": ()}),))
            return self.item(wrapped, value, builder, variables, scope)
        value = self._item(stmt, value, builder, variables, scope, tail)
        if stmt.targets:
            self._name(stmt, value, builder)
        return value

    def _label(self, stmt: ast.Item, evaluate: Evaluator) -> str:
        """The submodule name a string label evaluates to; torch refuses an empty name or one with a `.`."""
        label = evaluate(stmt.label_template)
        if not label or "." in label:
            raise self._error("E0107", f"label `{label}` cannot name a submodule" if label else "an empty label cannot name a submodule", stmt.label_span,
                              label="evaluated here", help="a label must be non-empty and hold no `.`")
        return label

    def _item(self, stmt: ast.Item, value: int, builder: GraphBuilder, variables, scope: FileScope, tail: bool) -> int:
        if isinstance(stmt, ast.Use):
            return builder.names.resolve(stmt.name, stmt.span, builder)
        if isinstance(stmt, ast.Call):
            return self._call(stmt, value, builder, variables, scope)
        if isinstance(stmt, ast.Group):
            return self._group(stmt, value, builder, variables, scope)
        if isinstance(stmt, ast.Repeat):
            return self._repeat(stmt, value, builder, variables, scope)
        if isinstance(stmt, ast.For):
            return self._for(stmt, value, builder, variables, scope)
        if isinstance(stmt, ast.If):
            condition = self._evaluator(variables, builder, value)(stmt.cond)
            if not isinstance(condition, bool):
                raise self._error("E0108", f"an `if` condition must be a bool, got {type_name(condition)} "
                                  f"`{repr_value(condition)}`", stmt.cond.span,
                                  help="compare explicitly, e.g. `x != 0`, or pass `true` or `false`")
            return self.sequence(stmt.then if condition else stmt.orelse, value, builder, variables, scope, tail)
        if isinstance(stmt, ast.Combine):
            return self._combine(stmt, value, builder, variables, scope)
        raise AssertionError(f"unknown statement {stmt!r}")

    def _repeat(self, stmt: ast.Repeat, value, builder, variables, scope) -> int:
        count = self._evaluator(variables, builder, value)(stmt.count)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise self._error("E0108", f"`repeat` needs a non-negative int, got {type_name(count)} `{repr_value(count)}`",
                              stmt.count.span)
        self._check_repeat(count, stmt.count.span)
        for i in range(count):
            self._step(stmt.span)
            inner = dict(variables, **({stmt.var: i} if stmt.var else {}))
            value = self.sequence(stmt.body, value, builder, inner, scope)
        return value

    def _for(self, stmt: ast.For, value, builder, variables, scope) -> int:
        items = self._evaluator(variables, builder, value)(stmt.iterable)
        if isinstance(items, int) and not isinstance(items, bool):
            self._check_repeat(items, stmt.iterable.span)
            items = tuple(range(items))
        if not isinstance(items, tuple):
            raise self._error("E0108", f"`for` needs a list or an int, got {type_name(items)}", stmt.iterable.span)
        self._check_repeat(len(items), stmt.iterable.span)
        for row, item in enumerate(items):
            self._step(stmt.span)
            inner = dict(variables, **({stmt.index: row} if stmt.index else {}))
            if len(stmt.names) == 1:
                inner[stmt.names[0]] = item
            elif not isinstance(item, tuple) or len(item) != len(stmt.names):
                raise self._error("E0108", f"cannot unpack {repr_value(item)} into {len(stmt.names)} names "
                                  f"({', '.join(stmt.names)})", stmt.iterable.span)
            else:
                inner.update(zip(stmt.names, item))
            value = self.sequence(stmt.body, value, builder, inner, scope)
        return value

    def _combine(self, stmt: ast.Combine, value, builder, variables, scope) -> int:
        combinator = self._combinator(stmt, scope)
        if len(stmt.branches) == 1:  # `add { a b }` merges nothing: almost always a forgotten `|`
            raise self._error("E0117", f"`{stmt.op}` has a single branch, so it merges nothing", stmt.span,
                              label="one branch", help=f"separate the branches with `|`, e.g. `{stmt.op} {{ a | b }}`; "
                              f"an empty branch is the identity: `{stmt.op} {{ a | }}`")
        outputs = [self.sequence(branch.body, value, builder, variables, scope) for branch in stmt.branches]
        inputs = [self._merge_input(builder, output, branch, number)
                  for number, (output, branch) in enumerate(zip(outputs, stmt.branches), start=1)]
        try:
            out = combinator.infer(inputs)
        except MergeError as exc:
            raise self._merge_error(stmt, combinator, exc, builder, outputs, inputs) from None
        node = MergeNode.model_construct(id=builder.next_id(), inputs=tuple(outputs), out=out, span=stmt.span,
                                         op=combinator.name, kind="merge")
        return self._emit(builder, node)

    def _merge_input(self, builder: GraphBuilder, output: int, branch: ast.Branch, number: int) -> MergeInput:
        """A branch that is only `@name` is that tensor, named in the shape rule's messages with where it is made."""
        body = branch.body
        if len(body) == 1 and isinstance(body[0], ast.Use) and not body[0].targets and body[0].label is None:
            binding = builder.names.bindings[body[0].name]
            return MergeInput(builder.type_of(output), f"`@{body[0].name}`", binding.span)
        return MergeInput(builder.type_of(output), f"branch {number}", branch.span)

    def _combinator(self, stmt: ast.Combine, scope: FileScope) -> Combinator:
        combinator = COMBINATORS.get(stmt.op)
        if combinator is not None:
            return combinator
        if stmt.op == "else":  # `relu else { ... }`: an `else` that follows no `if` reads as a combinator's name
            raise self._stray_else(stmt.name_span)
        if stmt.op in REGISTRY or scope.lookup(stmt.op) is not None:  # a call, then a group: `relu { ... }`
            help_text = (f"a name right before `{{` names a combinator ({names_in_words()}); to call `{stmt.op}` "
                         f"and then open a group, write `{stmt.op}() {{ ... }}`")
        else:
            help_text = (suggest(stmt.op, list(COMBINATORS))
                         or f"a name right before `{{` names a combinator: {names_in_words()}")
        raise self._error("E0101", f"unknown combinator `{stmt.op}`", stmt.name_span, label="not a combinator",
                          help=help_text)

    def _merge_error(self, stmt: ast.Combine, combinator: Combinator, exc: MergeError, builder: GraphBuilder,
                     outputs: list[int], inputs: list[MergeInput]) -> ArchError:
        """Point at what decided the disagreeing inputs' shapes, not only at the combinator itself."""
        labels = []
        for i in (exc.reference, exc.culprit):
            identity = " (identity)" if not stmt.branches[i].body else ""
            where = trace(builder, outputs[i], exc.aspect) or inputs[i].span
            labels.append(Label(span=where, message=f"{inputs[i].name}{identity} is {inputs[i].type}: "
                                                    f"{describe(exc.aspect, inputs[i].type)} here"))
            if inputs[i].name.startswith("`@") and inputs[i].span is not None and inputs[i].span != where:
                labels.append(Label(span=inputs[i].span, message=f"{inputs[i].name} is made here"))
        return self._error(exc.code, exc.message, stmt.name_span, help=exc.help, secondary=tuple(labels),
                           label=combinator.requirement)

    def _group(self, stmt: ast.Group, value, builder, variables, scope) -> int:
        name = builder.name_for(stmt.label, stmt.label_span)
        inner = GraphBuilder(builder.type_of(value), parent=builder, parent_value=value, names=builder.names)
        output = self.sequence(stmt.body, 0, inner, variables, scope)
        return self._emit_group(builder, inner, output, name, "", {}, value, stmt.span)

    def _param(self, stmt: ast.ParamDecl, value: int, builder: GraphBuilder, variables) -> None:
        """`param name = shape init x`: a learnable tensor of the module being built, named as a tensor too."""
        evaluate = self._evaluator(variables, builder, value)
        shape = evaluate(stmt.shape)
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if (not isinstance(shape, tuple) or len(shape) not in (1, 3)
                or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
            shown = (f"({', '.join(repr(d) if isinstance(d, float) else repr_value(d) for d in shape)})"
                     if isinstance(shape, tuple) else f"{type_name(shape)} `{repr_value(shape)}`")
            floats = isinstance(shape, tuple) and any(isinstance(d, float) for d in shape)
            raise self._error("E0126", f"the shape of `param {stmt.name}` must be (C, H, W) or (F,) with positive "
                              f"integers, got {shown}", stmt.shape.span,
                              help="wrap a computed size in `int(...)` or use `//`" if floats else
                              "e.g. `param layer_scale = (dim, 1, 1) init 1e-6` scales each channel")
        init = evaluate(stmt.init) if stmt.init is not None else 0.0
        if not isinstance(init, (int, float)) or isinstance(init, bool):
            raise self._error("E0126", f"`param {stmt.name}` is filled with a number, got {type_name(init)} "
                              f"`{repr_value(init)}`", stmt.init.span)
        builder.reserve(stmt.name, stmt.name_span)
        out = TensorType.of(*shape)
        self.param_total += out.numel
        if self.param_total > self.limits.max_params:
            raise self._error("E0115", f"the network has more than {self.limits.max_params:,} parameters, the limit",
                              stmt.span, help="if this is intended, raise the limit with `--max-params N`")
        node = ParamNode.model_construct(id=builder.next_id(), inputs=(), out=out, span=stmt.span, name=stmt.name,
                                         init=float(init), param_count=out.numel, kind="param")
        builder.names.bind(stmt.name, builder, self._emit(builder, node), stmt.name_span)


def eval_macs(graph) -> int:
    """The MACs of what eval mode runs: the nodes the outputs that are not training-only need (all of a chain's)."""
    if not graph.outputs and len(graph.needed((graph.output,))) == len(graph.nodes):
        return total(graph, "macs")
    needed = graph.needed(o.node for o in graph.results() if not o.train_only)
    return sum(getattr(graph.nodes[i - 1], "macs", 0) for i in needed)


__all__ = ["Elaborator", "Limits", "Network"]
