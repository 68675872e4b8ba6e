"""The Python source of one graph's `forward`: a statement per IR node, as a hand-written module reads.

    def forward(self, x):
        m = self._modules
        x = m['conv1'](x)
        x = m['bn1'](x)
        y = m['relu'](x)
        return x + y

Children are called through `self._modules[name]`: any label works (a keyword, `forward`), and the call costs a
dict lookup where `self.name` costs `nn.Module.__getattr__`. A value's variable is reused once nothing reads the
value any more, so a block holds no dead tensor (a long chain is `x = ...(x)` throughout). Merges are the
combinators' own lowerings (combinators.py), called here with a `call` that writes source instead of running
torch. Outputs that exist only in training are computed under `if self.training:`, a constant guard for
`torch.compile(fullgraph=True)` and `torch.export`.

This module only writes text (classes.py compiles it); it imports no torch itself, though an op's `inline`
(`Primitive.inline`) may name torch's functions in the text it returns.
"""

from __future__ import annotations

import importlib
import keyword
import operator
from dataclasses import dataclass
from typing import Any, Callable

from ..combinators import COMBINATORS
from ..ir import Graph, GroupNode, InputNode, MergeNode, OpNode, ParamNode, SelectNode
from ..primitives import REGISTRY, Primitive

#: ops whose output is a fresh tensor that their backward pass does not need: an activation may overwrite it
FRESH_OUTPUT_OPS = frozenset({"conv", "bn", "linear", "gn", "ln"})

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.matmul: "@"}
#: names the generated code binds itself; an input or a module alias never takes them
_RESERVED = frozenset({"self", "m", "Outputs", "EvalOutputs", "OrderedDict"})
#: the top-level modules that the code of the combinators and inlined ops names (`torch.cat`,
#: `archdsl.nn.channels.channel_shuffle`): a tensor named `torch` must not hide the module as an argument
_MODULES = frozenset({"torch", "archdsl"})


@dataclass(frozen=True)
class ForwardCode:
    """What compiling one graph's forward needs: its source and the modules that the source names."""

    source: str
    modules: tuple[str, ...]  # importable modules bound under their own top-level name (`torch`)
    outputs: tuple[str, ...] = ()  # the field names of a tuple output's namedtuple (`Outputs`)
    eval_outputs: tuple[str, ...] = ()  # those left in eval mode when several are (`EvalOutputs`)
    inplace: frozenset[str] = frozenset()  # children (activations) that may overwrite their input
    inlined: frozenset[str] = frozenset()  # ops written as expressions (`Primitive.inline`): no child module


class Expr:
    """A Python expression of the generated code; `infix` ones get parentheses when nested."""

    __slots__ = ("text", "infix")

    def __init__(self, text: str, infix: bool = False):
        self.text, self.infix = text, infix

    def nested(self) -> str:
        return f"({self.text})" if self.infix else self.text


class _Writer:
    """The `Call` handed to a combinator's lowering: each torch call becomes an expression."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def __call__(self, function: Callable, *args: Any, **kwargs: Any) -> Expr:
        if function in _INFIX and len(args) == 2 and not kwargs:
            left, right = args
            return Expr(f"{_render(left)} {_INFIX[function]} {_nested(right)}", infix=True)
        parts = [_render(a) for a in args] + [f"{k}={_render(v)}" for k, v in kwargs.items()]
        return Expr(f"{self._name(function)}({', '.join(parts)})")

    def _name(self, function: Callable) -> str:
        """`torch.cat`: the function's importable path, its top-level module bound in the code's globals."""
        module = getattr(function, "__module__", None)
        # torch's own functions are methods of a hidden class (`_VariableFunctionsClass.cat`): try the bare name
        for path in (getattr(function, "__qualname__", ""), getattr(function, "__name__", "")):
            if module and path and "<" not in path and module.split(".")[0] not in _RESERVED \
                    and _resolve(module, path) is function:
                self.modules.add(module)
                return f"{module}.{path}"
        raise ValueError(f"a combinator calls {function!r}, which generated code cannot name: use a module-level "
                         "function")


def _resolve(module: str, path: str) -> Any:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    for part in path.split("."):
        found = getattr(found, part, None)
    return found


def _render(value: Any) -> str:
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_render(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise ValueError(f"a combinator passes {value!r}, which generated code cannot write as a literal")


def _nested(value: Any) -> str:
    return value.nested() if isinstance(value, Expr) else _render(value)


def generate(graph: Graph) -> ForwardCode:
    """The forward of `graph`: children are called by their node names (`OpNode.name`, `GroupNode.name`).

    Written once per structure: specs repeat blocks, and the key costs a fraction of writing the code again.
    """
    key = structure_key(graph)
    code = _GENERATED.get(key)
    if code is None:
        if len(_GENERATED) >= _GENERATED_LIMIT:  # a process that builds many specs (a search loop) starts over
            _GENERATED.clear()
        code = _GENERATED[key] = _generate(graph)
    return code


_GENERATED: dict[tuple, ForwardCode] = {}
_GENERATED_LIMIT = 4096


def structure_key(graph: Graph) -> tuple:
    """Everything the forward of `graph` depends on, and nothing else: not shapes, and no parameters but those
    of ops written inline (`slice(0, 58)` is `torch.narrow(x, 1, 0, 58)` in the code)."""
    return (graph.output, graph.output_kind, tuple((o.name, o.node, o.train_only) for o in graph.outputs),
            tuple(_node_key(n) for n in graph.nodes))


def _node_key(node) -> tuple:
    if isinstance(node, OpNode):  # the op decides whether it may run in place, or makes a fresh tensor
        if is_inlined(node):  # its parameters are in the code
            return ("op", node.inputs, node.name, node.op, node.params)
        return ("op", node.inputs, node.name, node.op)
    if isinstance(node, MergeNode):
        return ("merge", node.inputs, node.op, id(COMBINATORS[node.op]))
    if isinstance(node, GroupNode):
        return ("group", node.inputs, node.name, len(node.graph.outputs))
    if isinstance(node, SelectNode):
        return ("select", node.inputs, node.index)
    return (node.kind, node.inputs, node.name)  # an input (an argument's name), a parameter


def _generate(graph: Graph) -> ForwardCode:
    plan = _Plan(graph)
    writer = _Writer()
    names = _Names(safe_inputs(tuple(n.name for n in graph.extra_inputs())))
    lines = [f"def forward(self, {', '.join(names.inputs)}):"]
    if any(isinstance(n, (OpNode, GroupNode)) for n in graph.nodes):
        lines.append("    m = self._modules")
    for value, name in zip([0, *(n.id for n in graph.extra_inputs())], names.inputs):
        names.bind(value, name)
        names.release(value, plan.last_use, -1)
    for position, node in enumerate(plan.order):
        if node is _TRAINING:
            lines.append("    if self.training:")
            continue
        if node.id in plan.aliases or isinstance(node, (InputNode, SelectNode)):
            continue  # an alias is its input's variable; inputs are arguments; selects unpack their group's call
        indent = "        " if position > plan.training_at >= 0 else "    "
        expression = plan.expression(node, names, writer)
        for source in dict.fromkeys(plan.inputs(node)):
            names.release(source, plan.last_use, position)
        targets = [node.id, *plan.selects.get(node.id, ())]
        assigned = [names.assign(t) if t in plan.last_use else "_" for t in targets]
        lines.append(f"{indent}{', '.join(assigned)} = {expression}")
    if plan.training_at >= 0:
        lines.append(f"        return {_result(plan, names, training=True)}")
    lines.append(f"    return {_result(plan, names, training=False)}")
    results = plan.results
    fields = tuple(o.name for o in results) if graph.output_kind == "tuple" and len(results) > 1 else ()
    kept = [o.name for o in results if not o.train_only]
    eval_fields = tuple(kept) if fields and 1 < len(kept) < len(results) else ()
    return ForwardCode("\n".join(lines) + "\n", tuple(sorted(writer.modules)), fields, eval_fields,
                       frozenset(plan.inplace), frozenset(plan.inlined))


def safe_inputs(names: tuple[str, ...]) -> tuple[str, ...]:
    """Argument names of forward: `x`, then the extra inputs' tensor names where Python allows them."""
    safe = ["x"]
    for i, name in enumerate(names, start=1):
        ok = name.isidentifier() and not keyword.iskeyword(name) and name not in _RESERVED | _MODULES \
            and name not in safe \
            and not _is_temporary(name)
        safe.append(name if ok else f"input_{i}")
    return tuple(safe)


_TRAINING = object()  # the place in `_Plan.order` where the training-only statements start


class _Plan:
    """The order of the statements, each value's last reader, merges that are one of their inputs (aliases),
    the selects each multi-output group call unpacks, and the activations that run in place."""

    def __init__(self, graph: Graph):
        self.graph, self.results = graph, graph.results()
        self.aliases: dict[int, int] = {}  # a merge whose lowering hands back one of its inputs
        self.inlined: set[str] = set()  # ops written as expressions, not child calls
        self.selects: dict[int, list[int | None]] = {}  # group id -> the value of each of its outputs 1, 2, ...
        fresh: set[int] = set()  # values that are new tensors of this graph, which an activation may overwrite
        for node in graph.nodes:
            if isinstance(node, MergeNode):
                placeholders = [Expr(f"v{i}") for i in range(len(node.inputs))]
                result = COMBINATORS[node.op].lower(placeholders, _Writer())
                same = next((i for i, p in zip(self.inputs(node), placeholders) if result is p), None)
                if same is None:
                    fresh.add(node.id)
                else:
                    self.aliases[node.id] = same
            elif isinstance(node, OpNode) and node.op in FRESH_OUTPUT_OPS:
                fresh.add(node.id)
            elif isinstance(node, GroupNode) and len(node.graph.outputs) > 1:
                self.selects[node.id] = [None] * (len(node.graph.outputs) - 1)
            elif isinstance(node, SelectNode):
                self.selects[node.inputs[0]][node.index - 1] = node.id
        # a node that no output needs (the head, when `features=` asks for inner maps) is not run
        needed = graph.needed(o.node for o in self.results)
        training = graph.train_only_nodes()
        self.order: list = [n for n in graph.nodes if n.id in needed and n.id not in training]
        self.training_at = -1
        if training:
            self.training_at = len(self.order)
            self.order += [_TRAINING, *(n for n in graph.nodes if n.id in training)]
        self.last_use: dict[int, int] = {}
        for position, node in enumerate(self.order):
            if node is not _TRAINING and node.id not in self.aliases and not isinstance(node, SelectNode):
                for source in self.inputs(node):
                    self.last_use[source] = position
        for output in self.results:
            self.last_use[self.resolve(output.node)] = len(self.order)
        self.inplace = _inplace(graph, self.results, fresh)

    def resolve(self, value: int) -> int:
        return self.aliases.get(value, value)

    def inputs(self, node) -> list[int]:
        return [self.aliases.get(i, i) for i in node.inputs]

    def expression(self, node, names: _Names, writer: _Writer) -> str:
        args = [Expr(names.of(i)) for i in self.inputs(node)]
        if isinstance(node, MergeNode):
            return COMBINATORS[node.op].lower(args, writer).text
        if isinstance(node, ParamNode):
            return f"self._parameters[{node.name!r}]"
        if isinstance(node, OpNode) and is_inlined(node):
            self.inlined.add(node.name)
            return REGISTRY[node.op].inline(node.params, args[0], writer).text
        return f"m[{node.name!r}]({', '.join(a.text for a in args)})"


def is_inlined(node: OpNode) -> bool:
    """Whether the op is written into the forward (its primitive defines `Primitive.inline`) rather than called
    as a child."""
    return type(REGISTRY[node.op]).inline is not Primitive.inline


def _inplace(graph: Graph, results, fresh: set[int]) -> set[str]:
    """Activations whose input is a fresh tensor read by nothing else, as torchvision's models run them."""
    readers: dict[int, int] = {}
    for output in results:
        readers[output.node] = readers.get(output.node, 0) + 1
    for node in graph.nodes:
        for i in node.inputs:
            readers[i] = readers.get(i, 0) + 1
    return {node.name for node in graph.nodes
            if isinstance(node, OpNode) and REGISTRY[node.op].family == "act" and len(node.inputs) == 1
            and node.inputs[0] in fresh and readers.get(node.inputs[0]) == 1}


class _Names:
    """Variables for values: the first free of x, y, z, x3, x4, ... once the readers of a value are done."""

    def __init__(self, inputs: tuple[str, ...]):
        self.inputs = inputs
        self.bound: dict[int, str] = {}
        self.free: list[str] = []
        self.count = 1  # `x` is the main input's until it is released

    def bind(self, value: int, name: str) -> None:
        self.bound[value] = name

    def of(self, value: int) -> str:
        return self.bound[value]

    def assign(self, value: int) -> str:
        name = self.free.pop(min(range(len(self.free)), key=lambda i: _order(self.free[i]))) if self.free \
            else self._fresh()
        self.bound[value] = name
        return name

    def release(self, value: int, last_use: dict[int, int], position: int) -> None:
        """Free the value's variable when `position` is its last reader (extra inputs keep their names)."""
        if last_use.get(value, -1) <= position and _is_temporary(self.bound[value]):
            self.free.append(self.bound[value])

    def _fresh(self) -> str:
        name = _TEMPORARIES[self.count] if self.count < len(_TEMPORARIES) else f"x{self.count}"
        self.count += 1
        return name


_TEMPORARIES = ("x", "y", "z")


def _is_temporary(name: str) -> bool:
    return name in _TEMPORARIES or (name[:1] == "x" and name[1:].isdigit())


def _order(name: str) -> int:
    return _TEMPORARIES.index(name) if name in _TEMPORARIES else int(name[1:])


def _result(plan: _Plan, names: _Names, training: bool) -> str:
    """What forward returns: in eval mode without the train-only outputs (one left: the bare tensor)."""
    graph, results = plan.graph, plan.results
    outputs = [o for o in results if training or not o.train_only]
    values = [names.of(plan.resolve(o.node)) for o in outputs]
    kind = graph.output_kind
    if kind == "dict":
        return "OrderedDict([" + ", ".join(f"({o.name!r}, {v})" for o, v in zip(outputs, values)) + "])"
    if kind == "list":
        return "[" + ", ".join(values) + "]"
    if kind == "tuple" and len(outputs) > 1:
        return f"{'Outputs' if len(outputs) == len(results) else 'EvalOutputs'}({', '.join(values)})"
    return values[0]
