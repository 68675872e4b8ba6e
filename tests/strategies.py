"""Hypothesis strategies for *valid* archdsl specs, written from the grammar's constructs.

`specs()` draws a `GeneratedSpec`: one file with up to three blocks and a network that uses every form of the
language: primitive calls with positional and keyword arguments, `let`, labels, `{ ... }` groups, `repeat n as
i`, `for` loops with destructuring, `add`/`concat`/`mul` with identity branches, `if`/`else` on parameters and on
`in.c`, block calls with defaults (`checkpoint` ones too), ternaries, comparisons, `min`/`max`, channel counts,
kernels, strides, paddings, dilations, groups, pooling with ceil mode, and a flat head.

The generator follows the shapes while it writes, so that nearly every spec passes `archdsl check`:

- the network body is written *concretely*: the generator knows the exact shape at each item and may use any op
  that fits it (any kernel, padding, dilation, groups, ceil-mode pooling, channel slices, adaptive pools ...);
- block bodies and loop bodies are written *generically*: they must fit every input they will meet, so they use
  only ops valid for any feature map (windows with `pad = dilation * (kernel // 2)`, whose output size is
  `(size - 1) // stride + 1` whatever the size), branches built to agree (the same stride and the same channel
  expression in every branch), and channel expressions clamped with `max`/`min`.

Every piece of text comes with a Python function computing its output shape, the generator's own model of the
language (`GeneratedSpec.output`); tests/test_differential.py compares it, the static shapes of `check` and the
shapes torch computes.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from hypothesis import strategies as st

Shape = tuple[int, ...]
Env = dict[str, Any]  # variable values while the network runs; "in" is the incoming shape

MAX_CHANNELS = 16  # channel expressions are clamped here: specs stay small and fast to build and run
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "hardswish", "hardsigmoid", "silu", "gelu")
LABELS = ("stem", "conv1", "bn1", "body", "head", "proj", "down", "branch", "mix", "fc", "layer1", "se", "pre", "post")
COMMENTS = ("", "", "", "  # a comment", "  # why: { | } ( ) \"quoted\"")


#: an item that ends in a call without parentheses: a `{` right after it would name a combinator
#: (docs/language.md: "write `relu() { ... }`")
BARE_CALL = re.compile(r"(?:^|[\s:])[A-Za-z_]\w*$")


class Invalid(Exception):
    """The generator's model says this piece does not fit its input (the piece is then not used)."""


# --- expressions: text, the value it has in an environment, and the range of values it can take

@dataclass(frozen=True)
class Expr:
    text: str
    value: Callable[[Env], Any]
    lo: int = 0
    hi: int = 0
    atom: bool = True

    def wrapped(self) -> str:
        return self.text if self.atom else f"({self.text})"


def lit(v: int) -> Expr:
    return Expr(str(v), lambda env: v, v, v)


def var(name: str, lo: int, hi: int) -> Expr:
    return Expr(name, lambda env: env[name], lo, hi)


IN_C = Expr("in.c", lambda env: env["in"][0], 1, 4 * MAX_CHANNELS)


def call(name: str, *args: Expr) -> Expr:
    fn = {"max": max, "min": min}[name]
    los, his = [a.lo for a in args], [a.hi for a in args]
    return Expr(f"{name}({', '.join(a.text for a in args)})", lambda env: fn(*(a.value(env) for a in args)),
                fn(*los), fn(*his))


def binop(a: Expr, op: str, b: Expr) -> Expr:
    if op == "+":
        value, lo, hi = (lambda env: a.value(env) + b.value(env)), a.lo + b.lo, a.hi + b.hi
    elif op == "*":
        corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
        value, lo, hi = (lambda env: a.value(env) * b.value(env)), min(corners), max(corners)
    elif op == "//":  # b is a positive literal
        value, lo, hi = (lambda env: a.value(env) // b.value(env)), a.lo // b.hi, a.hi // b.lo
    else:
        raise ValueError(op)
    return Expr(f"{a.wrapped()} {op} {b.wrapped()}", value, lo, hi, atom=False)


@dataclass(frozen=True)
class Cond:
    text: str
    value: Callable[[Env], bool]


def clamp(e: Expr, lo: int, hi: int) -> Expr:
    """`e`, wrapped in max/min where its range could leave [lo, hi]."""
    if e.lo < lo:
        e = call("max", lit(lo), e)
    if e.hi > hi:
        e = call("min", lit(hi), e)
    return e


# --- the generator's state

@dataclass
class Scope:
    """Where the generator writes: the variables in sight and whether shapes are known."""

    draw: Callable
    generic: bool  # shapes unknown (a block or loop body): only ops that fit any feature map
    variables: dict[str, tuple[int, int]] = field(default_factory=dict)  # int variables and their ranges
    labels: set[str] = field(default_factory=set)  # labels used in this naming scope
    in_loop: bool = False  # a label written here would repeat (unless inside a new group)
    depth: int = 0
    budget: list[int] = field(default_factory=lambda: [40])  # items left in the whole spec (shared)
    blocks: list["BlockInfo"] = field(default_factory=list)
    names: list[int] = field(default_factory=lambda: [0])  # counter for fresh variable names (shared)
    in_channels: bool = True  # `in.c` may be used (not inside a flat head)
    no_stride: bool = False  # inside a branch before its last op: the size must not change

    def child(self, **changes) -> "Scope":
        return replace(self, variables=dict(self.variables), depth=self.depth + 1, **changes)

    def spend(self) -> bool:
        self.budget[0] -= 1
        return self.budget[0] >= 0

    def fresh(self, stem: str) -> str:
        self.names[0] += 1
        return f"{stem}{self.names[0]}"


@dataclass(frozen=True)
class Piece:
    text: str
    apply: Callable[[Env, Shape], Shape]


@dataclass(frozen=True)
class BlockInfo:
    name: str
    params: tuple[tuple[str, int, int, Expr | None], ...]  # name, lo, hi, default
    apply: Callable[[Env, Shape], Shape]  # the body, given the parameters' values in env


@dataclass(frozen=True)
class GeneratedSpec:
    text: str
    input: Shape
    output: Shape  # what the generator's own model of the language expects

    def __str__(self) -> str:
        return self.text


# --- expressions drawn for a scope

def int_expr(s: Scope, lo: int, hi: int, *, allow_in: bool = True) -> Expr:
    """An int expression whose value lies in [lo, hi] wherever it is evaluated."""
    d = s.draw
    atoms = [lit(d(st.integers(lo, hi)))]
    atoms += [var(n, a, b) for n, (a, b) in sorted(s.variables.items())]
    if allow_in and s.in_channels:
        atoms.append(IN_C)
    e = d(st.sampled_from(atoms))
    form = d(st.sampled_from(["plain", "plain", "add", "mul", "div", "minmax", "ternary"]))
    if form == "add":
        e = binop(e, "+", lit(d(st.integers(0, 4))))
    elif form == "mul":
        e = binop(e, "*", lit(d(st.integers(1, 3))))
    elif form == "div":
        e = binop(e, "//", lit(d(st.integers(1, 3))))
    elif form == "minmax":
        e = call(d(st.sampled_from(["min", "max"])), e, lit(d(st.integers(lo, hi))))
    elif form == "ternary":
        other = lit(d(st.integers(lo, hi)))
        cond = condition(s)
        then, orelse = (e, other) if d(st.booleans()) else (other, e)
        e = Expr(f"{then.wrapped()} if {cond.text} else {orelse.wrapped()}",
                 lambda env, c=cond, a=then, b=orelse: a.value(env) if c.value(env) else b.value(env),
                 min(then.lo, orelse.lo), max(then.hi, orelse.hi), atom=False)
    return clamp(e, lo, hi)


def condition(s: Scope) -> Cond:
    d = s.draw
    atoms = [var(n, a, b) for n, (a, b) in sorted(s.variables.items())] + ([IN_C] if s.in_channels else [])
    if not atoms:
        value = d(st.booleans())
        return Cond("true" if value else "false", lambda env: value)
    left = d(st.sampled_from(atoms))
    op = d(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
    right = d(st.integers(0, MAX_CHANNELS))
    ops = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
           "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
    cond = Cond(f"{left.text} {op} {right}", lambda env: ops[op](left.value(env), right))
    if d(st.integers(0, 3)) == 0:
        cond = Cond(f"not ({cond.text})", lambda env, c=cond: not c.value(env))
    if d(st.integers(0, 3)) == 0:
        other = Cond(f"{left.text} % 2 == 0", lambda env: left.value(env) % 2 == 0)
        joiner = d(st.sampled_from(["and", "or"]))
        cond = Cond(f"{cond.text} {joiner} {other.text}",
                    (lambda env, a=cond, b=other: a.value(env) and b.value(env)) if joiner == "and" else
                    (lambda env, a=cond, b=other: a.value(env) or b.value(env)))
    return cond


def stride_expr(s: Scope) -> Expr:
    """1 or 2, maybe through a variable that holds one of them; 1 where the size must not change."""
    if s.no_stride:
        return lit(1)
    strides = [var(n, a, b) for n, (a, b) in sorted(s.variables.items()) if 1 <= a and b <= 2]
    options = [lit(1), lit(1), lit(2)] + strides
    return s.draw(st.sampled_from(options))


def channels(s: Scope) -> Expr:
    return int_expr(s, 1, MAX_CHANNELS)


def kwarg(name: str, value: str, positional: bool) -> str:
    return value if positional else f"{name}={value}"


def window(size: int, k: int, stride: int, pad: int, dilation: int = 1, ceil: bool = False) -> int:
    """torch's output size of a sliding window; raises Invalid when the window does not fit."""
    span = dilation * (k - 1) + 1
    n = (size + 2 * pad - span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (n - 1) * stride >= size + pad:
        n -= 1
    if n < 1:
        raise Invalid(f"window {span} does not fit {size}")
    return n


def same_family(size: int, stride: int) -> int:
    """Output size of a window with pad = dilation * (kernel // 2) and an odd kernel: fits any size."""
    return (size - 1) // stride + 1


def need_map(shape: Shape) -> None:
    if len(shape) != 3:
        raise Invalid(f"needs a feature map, got {shape}")


def bound(env: Env, shape: Shape) -> Env:
    return {**env, "in": shape}


# --- ops that fit any feature map (generic)

def generic_op(s: Scope) -> Piece:
    d = s.draw
    kind = d(st.sampled_from(["conv", "conv", "conv", "bn", "act", "act", "pool", "depthwise", "misc", "leaky",
                              "activation"]))
    if kind == "conv":
        c, stride = channels(s), stride_expr(s)
        k = d(st.sampled_from([1, 3, 3, 5]))
        dilation = d(st.sampled_from([1, 1, 1, 2])) if k > 1 else 1
        pad = dilation * (k // 2)
        bias = d(st.sampled_from(["", "", ", bias=false", ", bias=true"]))
        extra = "" if stride.text == "1" and d(st.booleans()) else f", stride={stride.text}"
        extra += f", pad={pad}" if pad or d(st.booleans()) else ""
        extra += f", dilation={dilation}" if dilation > 1 else ""
        text = f"conv({c.text}, {k}{extra}{bias})"

        def apply(env, shape, c=c, stride=stride):
            need_map(shape)
            sv = stride.value(bound(env, shape))
            return (c.value(bound(env, shape)), same_family(shape[1], sv), same_family(shape[2], sv))

        return Piece(text, apply)
    if kind == "depthwise":
        k = d(st.sampled_from([3, 5]))
        return Piece(f"conv(in.c, {k}, pad={k // 2}, groups=in.c, bias=false)", _keep_map)
    if kind == "bn":
        return Piece(d(st.sampled_from(["bn", "bn", "bn(eps=0.001)", "bn(momentum=0.01)"])), _keep_map)
    if kind == "act":
        return Piece(d(st.sampled_from(ACTIVATIONS)), _keep)
    if kind == "leaky":
        return Piece(f"leaky_relu({d(st.sampled_from(['0.1', 'slope=0.2', '0.01']))})", _keep)
    if kind == "activation":
        return Piece(f'activation("{d(st.sampled_from(ACTIVATIONS))}")', _keep)
    if kind == "pool":
        stride = stride_expr(s)
        which = d(st.sampled_from(["maxpool", "avgpool"]))
        text = f"{which}(3, stride={stride.text}, pad=1)"

        def apply(env, shape, stride=stride):
            need_map(shape)
            sv = stride.value(bound(env, shape))
            return (shape[0], same_family(shape[1], sv), same_family(shape[2], sv))

        return Piece(text, apply)
    text = d(st.sampled_from(["identity", "dropout(0.1)", "dropout(p=0.5)", "drop_path(0.2)", "ln", "lrn(3)"]))
    return Piece(text, _keep_map if text in ("ln", "lrn(3)") else _keep)


def _keep(env: Env, shape: Shape) -> Shape:
    return shape


def _keep_map(env: Env, shape: Shape) -> Shape:
    need_map(shape)
    return shape


# --- ops that need the exact shape (concrete)

def concrete_op(s: Scope, shape: Shape) -> Piece:
    d = s.draw
    c, h, w = shape
    kind = d(st.sampled_from(["conv", "conv", "pool", "pool", "adaptive", "gn", "slice", "shuffle", "same"]))
    if kind == "conv":
        kh = d(st.integers(1, min(5, h + 2)))
        kw = d(st.sampled_from([kh, d(st.integers(1, min(5, w + 2)))]))
        stride = (d(st.integers(1, 3)), d(st.integers(1, 3)))
        dilation = d(st.sampled_from([1, 1, 1, 2]))
        pad = (d(st.integers(0, kh)), d(st.integers(0, kw)))
        divisors = [g for g in range(1, c + 1) if c % g == 0]
        groups = d(st.sampled_from(divisors)) if d(st.integers(0, 3)) == 0 else 1
        out = groups * d(st.integers(1, max(1, MAX_CHANNELS // groups)))
        oh = window(h, kh, stride[0], pad[0], dilation)
        ow = window(w, kw, stride[1], pad[1], dilation)
        kernel = str(kh) if kh == kw else f"({kh}, {kw})"
        stride_text = str(stride[0]) if stride[0] == stride[1] else f"[{stride[0]}, {stride[1]}]"
        pad_text = str(pad[0]) if pad[0] == pad[1] else f"({pad[0]}, {pad[1]})"
        text = f"conv({out}, {kernel}, stride={stride_text}, pad={pad_text}"
        text += (f", dilation={dilation}" if dilation > 1 else "") + (f", groups={groups}" if groups > 1 else "")
        return Piece(text + ")", lambda env, sh: (out, oh, ow))
    if kind == "same":
        k, dilation = d(st.integers(1, 4)), d(st.integers(1, 2))
        out = d(st.integers(1, MAX_CHANNELS))
        return Piece(f'conv({out}, {k}, pad="same", dilation={dilation})', lambda env, sh: (out, h, w))
    if kind == "pool":
        k = d(st.integers(1, min(4, h, w) if min(h, w) >= 1 else 1))
        stride = d(st.integers(1, 3))
        pad = d(st.integers(0, k // 2))
        ceil = d(st.booleans())
        oh, ow = window(h, k, stride, pad, ceil=ceil), window(w, k, stride, pad, ceil=ceil)
        which = d(st.sampled_from(["maxpool", "avgpool"]))
        text = f"{which}({k}, stride={stride}, pad={pad}" + (", ceil=true" if ceil else "") + ")"
        return Piece(text, lambda env, sh: (c, oh, ow))
    if kind == "adaptive":
        size = (d(st.integers(1, 4)), d(st.integers(1, 4)))
        which = d(st.sampled_from(["adaptive_avgpool", "adaptive_maxpool", "gap"]))
        if which == "gap":
            return Piece("gap", lambda env, sh: (c, 1, 1))
        text = f"{which}({size[0]})" if size[0] == size[1] else f"{which}(({size[0]}, {size[1]}))"
        return Piece(text, lambda env, sh: (c, size[0], size[0]) if size[0] == size[1] else (c, *size))
    if kind == "gn":
        groups = d(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
        return Piece(f"gn({groups})", _keep)
    if kind == "slice":
        start = d(st.integers(0, c - 1))
        stop = d(st.integers(start + 1, c))
        return Piece(f"slice({start}, {stop})", lambda env, sh: (stop - start, h, w))
    groups = d(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
    return Piece(f"channel_shuffle({groups})", _keep)


# --- structure

def sequence(s: Scope, shape: Shape | None, items: int) -> Piece:
    """Up to `items` items; with a known `shape` (concrete), each is checked against the model as it is written."""
    texts: list[str] = []
    applies: list[Callable] = []
    env_shape = shape
    for _ in range(items):
        if not s.spend():
            break
        piece = item(s, env_shape)
        if piece is None:
            continue
        if env_shape is not None:
            try:
                env_shape = piece.apply(s_env(s), env_shape)
            except Invalid:
                continue  # the model says it does not fit: leave it out
        if piece.text.startswith("{") and texts and BARE_CALL.search(texts[-1]) and not texts[-1].startswith("let "):
            texts[-1] += "()"  # `relu { ... }` is a combinator named relu; `relu() { ... }` a call, then a group
        texts.append(piece.text)
        applies.append(piece.apply)
    # between items: a space, a line break, or a comment (which must end its line)
    joiners = [s.draw(st.sampled_from([" ", " ", "\n", "\n"] + [c + "\n" for c in COMMENTS if c]))
               for _ in texts[1:]]
    text = "".join(t + j for t, j in zip(texts, joiners + [""]))

    def apply(env, shape, applies=tuple(applies)):
        for f in applies:
            shape = f(env, shape)
        return shape

    return Piece(text, apply)


def s_env(s: Scope) -> Env:
    """The concrete values of a scope's variables (concrete scopes hold exact ranges)."""
    return {n: lo for n, (lo, hi) in s.variables.items()}


def item(s: Scope, shape: Shape | None) -> Piece | None:
    """One item: an op, a block call, a let, a loop, a branch, an if, a group; maybe labelled."""
    d = s.draw
    deep = s.depth >= 3
    kinds = ["op", "op", "op", "op"]
    if shape is not None and len(shape) == 3:  # the network's own level: the exact shape is known
        kinds += ["concrete"] * 6
    if shape is None or len(shape) == 3:
        kinds += ["let"]
        if not deep:
            kinds += ["add", "concat", "mul", "repeat", "for", "if", "group"]
        if s.blocks and not s.no_stride:  # a block may downsample
            kinds += ["block", "block"]
    kind = d(st.sampled_from(kinds))
    if kind == "op":
        piece = generic_op(s) if shape is None or len(shape) == 3 else flat_op(s, shape)
    elif kind == "concrete":
        try:
            piece = concrete_op(s, shape)
        except Invalid:
            return None
    elif kind == "let":
        name = s.fresh("v")
        value = int_expr(s, 1, MAX_CHANNELS)
        s.variables[name] = (value.lo, value.hi) if shape is None else (value.value(bound(s_env(s), shape)),) * 2
        return Piece(f"let {name} = {value.wrapped()}", _let_apply(name, value))  # a bare ternary needs ()
    elif kind in ("add", "concat", "mul"):
        piece = merge(s, kind, shape)
    elif kind == "repeat":
        piece = repeat(s, shape)
    elif kind == "for":
        piece = for_loop(s, shape)
    elif kind == "if":
        piece = if_item(s, shape)
    elif kind == "group":
        inner = s.child(labels=set(), in_loop=False)
        body = sequence(inner, shape, d(st.integers(1, 3)))
        piece = Piece("{ " + body.text + " }", body.apply)
    else:
        piece = block_call(s)
    return labelled(s, piece, kind)


def _let_apply(name: str, value: Expr):
    # a `let` binds for the rest of the body; its value is evaluated where it stands
    def apply(env, shape):
        env[name] = value.value(bound(env, shape))
        return shape

    return apply


def labelled(s: Scope, piece: Piece, kind: str) -> Piece:
    d = s.draw
    if kind == "let" or s.in_loop or d(st.integers(0, 2)) != 0:
        return piece
    base = d(st.sampled_from(LABELS))
    label = base if base not in s.labels else s.fresh(base + "_")
    if keyword.iskeyword(label):
        return piece
    s.labels.add(label)
    return Piece(f"{label}: {piece.text}" if kind != "if" else f"{label}: {{ {piece.text} }}", piece.apply)


def flat_op(s: Scope, shape: Shape) -> Piece:
    d = s.draw
    kind = d(st.sampled_from(["linear", "linear", "act", "bn", "ln", "dropout", "identity"]))
    if kind == "linear":
        out = d(st.integers(1, MAX_CHANNELS))
        bias = d(st.sampled_from(["", "", ", bias=false"]))
        return Piece(f"linear({out}{bias})", lambda env, sh: (out,))
    return Piece({"act": d(st.sampled_from(ACTIVATIONS)), "bn": "bn", "ln": "ln", "dropout": "dropout(0.3)",
                  "identity": "identity"}[kind], _keep)


def merge(s: Scope, kind: str, shape: Shape | None) -> Piece:
    """Branches built to agree: the same stride in each, and for `add` the same channel expression at the end
    of each (written without `in`, which differs from branch to branch); `mul` multiplies by gates that
    broadcast, or by branches of the input's channels."""
    d = s.draw
    n = d(st.integers(2, 3))
    if kind == "mul":
        branches = [mul_branch(s, first=index == 0) for index in range(n)]
    else:
        stride = lit(1) if s.no_stride else stride_expr(s)
        target = int_expr(s, 1, MAX_CHANNELS, allow_in=False)
        identity_ok = stride.text == "1"
        branches = []
        for _ in range(n):
            if identity_ok and not any(b.text == "" for b in branches) and d(st.integers(0, 3)) == 0:
                if kind == "concat":
                    branches.append(Piece("", _keep))
                    continue
            branches.append(branch(s, kind, stride, target))
        if kind == "add" and identity_ok and d(st.integers(0, 2)) == 0:
            return guarded_shortcut(s, branches[0], branch(s, kind, stride, target), target)
    text = f"{kind} {{ " + " | ".join(b.text for b in branches) + " }"

    def apply(env, shape, branches=tuple(branches)):
        need_map(shape)
        outs = [b.apply(dict(env), shape) for b in branches]
        if kind == "concat":
            if len({o[1:] for o in outs}) != 1:
                raise Invalid(f"concat branches {outs}")
            return (sum(o[0] for o in outs), *outs[0][1:])
        if kind == "add":
            if len(set(outs)) != 1:
                raise Invalid(f"add branches {outs}")
            return outs[0]
        result = outs[0]  # mul: broadcast
        for o in outs[1:]:
            if len(o) != len(result) or any(a != b and 1 not in (a, b) for a, b in zip(o, result)):
                raise Invalid(f"mul branches {outs}")
            result = tuple(max(a, b) for a, b in zip(o, result))
        return result

    return Piece(text, apply)


def guarded_shortcut(s: Scope, residual: Piece, projection: Piece, target: Expr) -> Piece:
    """`add { f | }` when the channels already match, else `add { f | projection }`, as resnet's blocks do."""
    text = (f"if in.c == {target.wrapped()} {{ add {{ {residual.text} | }} }} "
            f"else {{ add {{ {residual.text} | {projection.text} }} }}")

    def apply(env, shape):
        need_map(shape)
        a = residual.apply(dict(env), shape)
        b = shape if shape[0] == target.value(bound(env, shape)) else projection.apply(dict(env), shape)
        if a != b:
            raise Invalid(f"add branches {a} and {b}")
        return a

    return Piece(text, apply)


def mul_branch(s: Scope, first: bool) -> Piece:
    """The identity, a gate of 1 or of the input's channels at 1x1 (squeeze-and-excitation), or a branch of the
    input's channels at its size."""
    d = s.draw
    choice = d(st.sampled_from(["identity", "gate", "se", "plain"] if first else ["gate", "se", "plain"]))
    if choice == "identity":
        return Piece("", _keep)
    if choice == "gate":
        return Piece(f"gap conv(1, 1) {d(st.sampled_from(['sigmoid', 'hardsigmoid']))}",
                     lambda env, shape: (1, 1, 1) if len(shape) == 3 else _raise(shape))
    if choice == "se":
        name, hidden = s.fresh("se"), d(st.integers(1, 4))
        return Piece(f"let {name} = in.c gap conv({hidden}, 1) relu conv({name}, 1) sigmoid",
                     lambda env, shape: (shape[0], 1, 1) if len(shape) == 3 else _raise(shape))
    k = d(st.sampled_from([1, 3]))
    return Piece(f"conv(in.c, {k}, pad={k // 2}) {d(st.sampled_from(ACTIVATIONS))}", _keep_map)


def branch(s: Scope, kind: str, stride: Expr, target: Expr) -> Piece:
    """Ops that keep the size, then a window of `stride` to `target` channels (any channels for concat)."""
    d = s.draw
    inner = s.child(generic=True, no_stride=True)
    before = sequence(inner, None, d(st.integers(0, 2)))
    last_c = target if kind != "concat" else channels(inner)
    k = d(st.sampled_from([1, 3]))
    last = f"conv({last_c.text}, {k}, stride={stride.text}, pad={k // 2})"
    after = d(st.sampled_from(["", " bn", " bn relu", " relu"]))
    text = " ".join(t for t in (before.text, last + after) if t)

    def apply(env, shape, before=before, last_c=last_c, stride=stride):
        env = dict(env)
        shape = before.apply(env, shape)
        need_map(shape)
        e = bound(env, shape)
        sv = stride.value(e)
        return (last_c.value(e), same_family(shape[1], sv), same_family(shape[2], sv))

    return Piece(text, apply)


def _raise(shape):
    raise Invalid(f"needs a feature map, got {shape}")


def repeat(s: Scope, shape: Shape | None) -> Piece:
    d = s.draw
    n = d(st.integers(1, 3))
    name = s.fresh("i") if d(st.booleans()) else None
    inner = s.child(generic=True, in_loop=True)
    if name:
        inner.variables[name] = (0, n - 1)
    body = sequence(inner, None, d(st.integers(1, 3)))
    count = str(n) if d(st.booleans()) or not s.variables else _count_expr(s, n)
    text = f"repeat {count}" + (f" as {name}" if name else "") + " { " + body.text + " }"

    def apply(env, shape, body=body):
        for i in range(n):
            shape = body.apply({**env, **({name: i} if name else {})}, shape)
        return shape

    return Piece(text, apply)


def _count_expr(s: Scope, n: int) -> str:
    """`n` written through a variable when one is known exactly (a concrete scope)."""
    for name, (lo, hi) in sorted(s.variables.items()):
        if lo == hi and not s.generic:
            return f"{n} + {name} - {lo}" if lo != n else name
    return str(n)


def for_loop(s: Scope, shape: Shape | None) -> Piece:
    d = s.draw
    inner = s.child(generic=True, in_loop=True)
    if d(st.booleans()):
        values = d(st.lists(st.integers(1, MAX_CHANNELS), min_size=1, max_size=3))
        name = s.fresh("c")
        inner.variables[name] = (min(values), max(values))
        body = sequence(inner, None, d(st.integers(1, 3)))
        listed = "[" + ", ".join(map(str, values)) + "]"
        text = f"for {name} in {listed} {{ {body.text} }}"
        bindings = [{name: v} for v in values]
    else:
        rows = d(st.lists(st.tuples(st.integers(1, MAX_CHANNELS), st.integers(1, 2)), min_size=1, max_size=3))
        c_name, s_name = s.fresh("c"), s.fresh("s")
        inner.variables[c_name] = (min(r[0] for r in rows), max(r[0] for r in rows))
        inner.variables[s_name] = (min(r[1] for r in rows), max(r[1] for r in rows))
        body = sequence(inner, None, d(st.integers(1, 3)))
        listed = "[" + ", ".join(f"[{a}, {b}]" for a, b in rows) + "]"
        text = f"for {c_name}, {s_name} in {listed} {{ {body.text} }}"
        bindings = [{c_name: a, s_name: b} for a, b in rows]

    def apply(env, shape, body=body):
        for binding in bindings:
            shape = body.apply({**env, **binding}, shape)
        return shape

    return Piece(text, apply)


def if_item(s: Scope, shape: Shape | None) -> Piece:
    d = s.draw
    cond = condition(s)
    # both arms are written generically: which one runs depends on values the generator may not know
    then = sequence(s.child(generic=True), None, d(st.integers(1, 2)))
    orelse = sequence(s.child(generic=True), None, d(st.integers(0, 2))) if d(st.booleans()) else None
    text = f"if {cond.text} {{ {then.text} }}" + (f" else {{ {orelse.text} }}" if orelse is not None else "")

    def apply(env, shape, cond=cond, then=then, orelse=orelse):
        if cond.value(bound(env, shape)):
            return then.apply(env, shape)
        return orelse.apply(env, shape) if orelse is not None else shape

    return Piece(text, apply)


def block_call(s: Scope) -> Piece:
    d = s.draw
    block = d(st.sampled_from(s.blocks))
    args: list[str] = []
    values: list[tuple[str, Expr]] = []
    keyword_only = False
    for name, lo, hi, default in block.params:
        if default is not None and d(st.booleans()):
            keyword_only = True  # skipped one: the rest go by keyword
            continue
        value = int_expr(s, lo, hi)
        keyword_only = keyword_only or d(st.integers(0, 3)) == 0
        args.append(f"{name}={value.text}" if keyword_only else value.text)
        values.append((name, value))
    given = {name for name, _ in values}
    defaults = [(name, default) for name, lo, hi, default in block.params if name not in given]
    text = f"{block.name}({', '.join(args)})" if args or d(st.booleans()) else block.name
    if d(st.integers(0, 4)) == 0:
        text = "checkpoint " + (text if "(" in text else text + "()")

    def apply(env, shape, values=tuple(values), defaults=tuple(defaults)):
        e = bound(env, shape)
        inner = {name: value.value(e) for name, value in values}
        inner.update({name: default.value(e) for name, default in defaults})
        return block.apply(inner, shape)

    return Piece(text, apply)


def block_definition(s: Scope, index: int) -> tuple[str, BlockInfo]:
    d = s.draw
    params: list[tuple[str, int, int, Expr | None]] = [("c", 1, MAX_CHANNELS, None)]
    if d(st.booleans()):
        params.append(("stride", 1, 2, lit(d(st.integers(1, 2)))))
    if d(st.booleans()):
        params.append(("mid", 1, MAX_CHANNELS, d(st.sampled_from([lit(4), IN_C]))))
    inner = Scope(draw=d, generic=True, variables={n: (lo, hi) for n, lo, hi, _ in params}, budget=s.budget,
                  blocks=list(s.blocks), names=s.names, depth=1)
    body = sequence(inner, None, d(st.integers(1, 4)))
    name = f"unit{index}"
    declared = ", ".join(n if default is None else f"{n}={default.text}" for n, _, _, default in params)
    text = f"block {name}({declared}) {{\n    {body.text}\n}}\n"
    return text, BlockInfo(name, tuple(params), lambda env, shape, body=body: body.apply(dict(env), shape))


@st.composite
def specs(draw, max_items: int = 40) -> GeneratedSpec:
    """A valid spec: up to three blocks and a network using them, with the output shape the generator expects."""
    channels_in = draw(st.integers(1, 8))
    size = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    width = draw(st.integers(1, MAX_CHANNELS))
    budget = [max_items]
    names = [0]
    blocks: list[BlockInfo] = []
    header = ""
    for index in range(draw(st.integers(0, 3))):
        s = Scope(draw=draw, generic=True, budget=budget, blocks=blocks, names=names)
        text, info = block_definition(s, index)
        header += text
        blocks.append(info)
    top = Scope(draw=draw, generic=False, variables={"width": (width, width)}, budget=budget, blocks=blocks,
                names=names)
    shape: Shape = (channels_in, *size)
    body = sequence(top, shape, draw(st.integers(1, 8)))
    out = body.apply({"width": width}, shape)  # every item was checked as it was written: this fits
    head = ""
    if draw(st.booleans()) and len(out) == 3:
        classes = draw(st.integers(1, 10))
        head = draw(st.sampled_from(["gap flatten linear(classes)", "flatten linear(classes)",
                                     "gap flatten dropout(0.2) fc: linear(classes)",
                                     "flatten linear(width) relu linear(classes, bias=false)"]))
        if "fc:" in head and "fc" in top.labels:
            head = head.replace("fc: ", "")
        out = (classes,)
        params = f"classes={classes}, width={width}"
    else:
        params = f"width={width}"
    dims = ", ".join(map(str, shape))
    network = f"network net({params}, input=[{dims}]) {{\n    {body.text}\n    {head}\n}}\n"
    return GeneratedSpec(header + network, shape, out)


__all__ = ["GeneratedSpec", "Invalid", "specs"]
