"""Elaboration: AST -> IR. Binds arguments, unrolls loops, and infers every shape as it goes.

Errors are reported where they happen, with the chain of block calls that led there. What elaboration keeps
while it runs (limits, call stack, graphs under construction) is in `builder.py`; binding values to parameters
in `binding.py`; where a shape was decided, for diagnostics, in `provenance.py`; named tensors (`-> name`,
`@name`) and how they cross submodules in `tensors.py`.
"""

from __future__ import annotations

from pydantic import ValidationError

from .. import ast
from ..combinators import COMBINATORS, Combinator, MergeError, MergeInput, names_in_words
from ..diagnostics import ArchError, Diagnostic, Label, error
from ..budgets import value_budget
from ..gcpause import paused_gc
from ..ir import GroupNode, InputNode, MergeNode, Network, OpNode, Output, ParamNode
from ..primitives import REGISTRY, Primitive, ShapeError
from ..source import SourceMap, Span
from ..types import CHANNELS, SHAPE, SPATIAL, TensorType
from .binding import TensorArgument, bind_arguments, bind_parameters, invalid_argument, signature
from .builder import Frame, GraphBuilder, Limits, stack_notes, total
from .evaluate import MAX_INT, Evaluator, Value, repr_value, type_name
from .provenance import describe, trace
from .resolve import FileScope, suggest
from .tensors import Names, Sites, add_input, bring, misplaced_return, scan


class Elaborator:
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
        names = Names(self._scan(definition, network=True))
        builder = GraphBuilder(input_type, input_span=input_span, names=names)
        names.bind("input", builder, 0, input_span)
        for param in definition.params:
            if param.tensor:
                self._network_input(definition, param, overrides, variables, builder)
        try:
            # see gcpause.py: the collector made large specs quadratic; one value budget for every expression
            with paused_gc(), value_budget():
                output = self.sequence(definition.body, 0, builder, variables, scope, tail=True)
                if features:
                    output = self._features(definition, features, builder)
        except RecursionError:  # the limits above keep real and hostile specs below this; it is the last guard
            raise self._error("E0115", "the spec nests too deeply to elaborate", definition.name_span,
                              help="split deep structures into named blocks") from None
        graph = builder.graph(output)
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

    def _step(self, span: Span) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise self._error("E0115", f"elaboration takes more than {self.limits.max_steps:,} steps", span,
                              label="still running here",
                              help="a loop runs far more often than any network needs; check its count")
        if self.depth > self.limits.max_depth:
            raise self._depth_error(span, f"items nest more than {self.limits.max_depth} levels deep")

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

    def _check_repeat(self, count: int, span: Span) -> None:
        if count > self.limits.max_repeat:
            raise self._error("E0115", f"repeat count {count:,} exceeds the limit of {self.limits.max_repeat:,}", span,
                              label="too many", help="no network repeats a block this often; check the count")

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

    def _group(self, stmt: ast.Group, value, builder, variables, scope) -> int:
        name = builder.name_for(stmt.label, stmt.label_span)
        inner = GraphBuilder(builder.type_of(value), parent=builder, parent_value=value, names=builder.names)
        output = self.sequence(stmt.body, 0, inner, variables, scope)
        return self._emit_group(builder, inner, output, name, "", {}, value, stmt.span)

    # --- calls
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
            inner = GraphBuilder(incoming, parent=builder, parent_value=value, names=Names(self._scan(block, False)))
            inner.names.bind("input", inner, 0, block.name_span)
            for param in tensor_params:
                argument = tensors[param.name]
                source = builder.names.resolve(argument.name, argument.span, builder)
                inner.names.bind(param.name, inner, add_input(inner, param.name, builder.type_of(source), source,
                                                              param.span), param.span)
            output = self.sequence(block.body, 0, inner, bound, defining, tail=True)
        finally:
            self.frames.pop()
        return self._emit_group(builder, inner, output, name, block.name, bound, value, stmt.span, stmt.checkpoint)

    # --- nodes
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

    # --- diagnostics
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

    def _input_origin(self, code: str, builder: GraphBuilder, value: int, incoming: TensorType) -> tuple[Label, ...]:
        """For an op that cannot take its input: where the offending aspect of that input was decided."""
        aspect = {"E0204": CHANNELS, "E0205": SPATIAL, "E0206": SHAPE}.get(code)
        where = trace(builder, value, aspect) if aspect else None
        return (Label(span=where, message=f"{describe(aspect, incoming)} here"),) if where else ()

    def _stray_else(self, span: Span) -> ArchError:
        return self._error("E0001", "`else` without an `if` before it", span, label="stray `else`",
                           help="write `if cond { ... } else { ... }` with the `else` right after the `}` of the `if`")

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


def eval_macs(graph) -> int:
    """The MACs of what eval mode runs: the nodes the outputs that are not training-only need (all of a chain's)."""
    if not graph.outputs and len(graph.needed((graph.output,))) == len(graph.nodes):
        return total(graph, "macs")
    needed = graph.needed(o.node for o in graph.results() if not o.train_only)
    return sum(getattr(graph.nodes[i - 1], "macs", 0) for i in needed)


def _size(elements: int) -> str:
    """Bytes of float32 elements, readable: `3.2 GB`."""
    size = elements * 4.0
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB", "EB"):
        if size < 1000 or unit == "EB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} EB"


__all__ = ["Elaborator", "Limits", "Network"]
