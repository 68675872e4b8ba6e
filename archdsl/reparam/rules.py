"""The reparameterization rules, written once over a small graph view that two adapters implement.

graph.py adapts a lowered model's `torch.fx` graphs (`reparameterize`, `build --deploy`); ir.py adapts the
torch-free IR (`deploy_ir`: `summary`/`draw --deploy`, `--emit ir --deploy`). Each graph is rewritten after
the graphs nested in it, until nothing changes:

1. ops that are the identity at inference (`identity`, every primitive registered with
   `inference_identity=True`, a group left empty) are removed;
2. a BatchNorm right after a convolution (BatchNorm1d after a linear layer) folds into it, also when the
   convolution ends a nested group, provided that nothing else reads the convolution's output;
3. a sum (a chain of adds, nested adds read only by it included) whose operands include two or more linear
   branches of one value (a convolution, a BatchNorm, the value itself, or a group that is just one of those)
   with compatible geometry (geometry.py) becomes one convolution named `reparam_conv` (timm's name); the
   other operands stay summed with it.

What cannot be folded exactly stays as it is, with the reason in `Report.kept`. The rules read facts from the
view (`Op`), which takes them from the primitive registry (`role_of`), and change the graph only through the
view's three edits: `bypass`, `fold` and `fuse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from ..primitives import REGISTRY
from .geometry import Branch, Fused, fuse

Role = Literal["identity", "conv", "linear", "norm", "other"]
N = TypeVar("N")  # a value of the graph: the adapter's node (an fx.Node, an IR node), the input included


#: the primitives whose algebra the rules know, and their role
ROLES: dict[str, Role] = {"conv": "conv", "bn": "norm", "linear": "linear"}


def role_of(primitive: str) -> Role:
    """The registry's word on an op: `identity` and every primitive registered with `inference_identity=True`
    are the identity at inference; conv, bn and linear are the linear ops that fold and fuse."""
    entry = REGISTRY.get(primitive)
    if primitive == "identity" or (entry is not None and entry.inference_identity):
        return "identity"
    return ROLES.get(primitive, "other")


def input_of(prefix: str) -> str:
    """How reports name the input of the graph at `prefix`."""
    return f"the input of `{prefix.rstrip('.')}`" if prefix else "the input of the model"


@dataclass(frozen=True)
class Op:
    """What the rules know of one op, whichever graph it sits in.

    `channels` is a convolution's input channels or a norm's features; `rank` is 3 for a norm of feature maps
    (it folds into a convolution) and 1 for a norm of flat features (into a linear layer); `branch` is the
    geometry of a convolution or 2-D norm as a linear branch, or why it cannot be one; `unfoldable` says why a
    norm is no affine map at inference.
    """

    role: Role
    kind: str  # how reports name it: the module class (`Conv2d`) or the primitive (`conv`)
    channels: int = 0
    rank: int = 3
    branch: Branch | str | None = None
    unfoldable: str | None = None


@dataclass(frozen=True)
class Leaf:
    """An op reached from a node of the graph, through nested groups: `path` names it from that graph down."""

    path: str
    op: Op


@dataclass(frozen=True)
class AddPlan(Generic[N]):
    """The members of a sum that become one convolution: their common input, indices, leaves (None: identity)."""

    source: N
    members: list[int]
    leaves: list[Leaf | None]
    fused: Fused


class GraphView(Protocol[N]):
    """One graph as the rules see it. Nodes stay valid while the graph is edited."""

    prefix: str  # the graph's own path, ending in "." ("" for the top level)

    def nodes(self) -> list[N]: ...  # the computing nodes, in order: neither the input nor the output
    def output(self) -> N: ...
    def is_input(self, value: N) -> bool: ...
    def users(self, value: N) -> list[N]: ...  # one entry per use; the graph's output counts as a user
    def source(self, node: N) -> N | None: ...  # the value that a call of one argument reads, else None
    def op(self, node: N) -> Op | None: ...  # the op a call is; None for a group, a merge, the input
    def group(self, node: N) -> GraphView | None: ...  # the graph that a group call runs
    def is_add(self, node: N) -> bool: ...
    def operands(self, add: N) -> list[N]: ...
    def path(self, node: N) -> str: ...  # a call's name within this graph (its submodule once lowered)
    def name(self, node: N) -> str: ...  # a node's full name, for reports
    def describe(self, value: N) -> str: ...  # e.g. "`layer1.0.conv1` (Conv2d)", "the input of `stem`"
    def kind_name(self, role: Role) -> str: ...  # "Conv2d" or "conv"

    def bypass(self, node: N) -> None: ...  # readers of the node read its source; the node goes
    def fold(self, norm: N, into: Leaf) -> None: ...  # the norm folds into the leaf op that produces its source
    def fuse(self, adds: list[N], operands: list[N], plan: AddPlan) -> str: ...  # returns the new conv's name


@dataclass
class Report:
    """What the pass changed, and what it left with the reason (for `--verbose`)."""

    folded: list[str] = field(default_factory=list)  # BatchNorms folded into the op before them
    fused: list[str] = field(default_factory=list)  # adds of linear branches now one convolution
    removed: list[str] = field(default_factory=list)  # ops that are the identity at inference
    kept: list[str] = field(default_factory=list)  # BatchNorms and adds left as they are, with the reason


def rewrite(view: GraphView, report: Report) -> None:
    """Apply the rules to one graph (its groups already rewritten) until nothing changes; report what is left."""
    while any([drop_identities(view, report), fold_norms(view, report), fuse_adds(view, report)]):
        pass
    for node in _norms(view):
        report.kept.append(f"`{view.name(node)}`: kept, {match_norm(view, node)}")
    for adds, operands in add_chains(view):
        report.kept.append(f"`{view.name(adds[0])}`: kept, {match_add(view, operands)}")


# -- 1. identities


def drop_identities(view: GraphView, report: Report) -> bool:
    changed = False
    for node in view.nodes():
        if view.source(node) is not None and _is_identity(view, node):
            view.bypass(node)
            report.removed.append(f"`{view.name(node)}`: removed, the identity at inference")
            changed = True
    return changed


def _is_identity(view: GraphView, node) -> bool:
    op = view.op(node)
    if op is not None:
        return op.role == "identity"
    inner = view.group(node)
    return inner is not None and not inner.nodes() and inner.is_input(inner.output())


# -- 2. BatchNorm into the convolution or linear layer before it


def _norms(view: GraphView) -> list:
    return [n for n in view.nodes() if (op := view.op(n)) is not None and op.role == "norm"]


def fold_norms(view: GraphView, report: Report) -> bool:
    changed = False
    for node in _norms(view):
        producer = match_norm(view, node)
        if isinstance(producer, Leaf):
            view.fold(node, producer)
            report.folded.append(f"`{view.name(node)}`: folded into `{view.prefix}{producer.path}`")
            changed = True
    return changed


def match_norm(view: GraphView, node) -> Leaf | str:
    """The op to fold the norm `node` into, or why there is none."""
    norm = view.op(node)
    if norm.unfoldable:
        return norm.unfoldable
    source = view.source(node)
    if source is None:
        return "its input is not a single value of this graph"
    if view.is_input(source):
        return f"it normalizes {input_of(view.prefix)} (a pre-activation norm)"
    if len(users := view.users(source)) > 1:
        return f"{view.describe(source)} has {len(users)} users, so folding would change the others"
    wanted = "conv" if norm.rank == 3 else "linear"
    producer = producer_of(view, source)
    if producer is None or producer.op.role != wanted:
        return (f"it follows {view.describe(source)}, not a {view.kind_name(wanted)}: only a norm right after a "
                "linear op folds (a nonlinearity, pooling or merge in between is not linear)")
    return producer


def producer_of(view: GraphView, value) -> Leaf | None:
    """The op whose output `value` is, looking into a group that ends with it (read by nothing else)."""
    op = view.op(value)
    if op is not None:
        return Leaf(view.path(value), op)
    inner = view.group(value)
    if inner is None:
        return None
    last = inner.output()
    if inner.is_input(last) or len(inner.users(last)) != 1:
        return None
    leaf = producer_of(inner, last)
    return leaf and Leaf(f"{view.path(value)}.{leaf.path}", leaf.op)


# -- 3. sums of linear branches into one convolution


def add_chains(view: GraphView) -> list[tuple[list, list]]:
    """Each maximal sum: its adds (the outermost first) and its operands in order.

    An add read only by another add belongs to that one's sum, whether the graph holds binary adds (fx) or
    nested n-ary ones (the IR's `add { add { ... } | ... }`).
    """
    chains = []
    for node in view.nodes():
        if view.is_add(node) and not _inside_sum(view, node):
            adds, operands = [], []
            _collect(view, node, adds, operands)
            chains.append((adds, operands))
    return chains


def _inside_sum(view: GraphView, add) -> bool:
    users = view.users(add)
    return len(users) == 1 and view.is_add(users[0])


def _collect(view: GraphView, add, adds: list, operands: list) -> None:
    adds.append(add)
    for operand in view.operands(add):
        if view.is_add(operand) and _inside_sum(view, operand):
            _collect(view, operand, adds, operands)
        else:
            operands.append(operand)


def fuse_adds(view: GraphView, report: Report) -> bool:
    for adds, operands in add_chains(view):
        plan = match_add(view, operands)
        if isinstance(plan, AddPlan):
            names = [f"`{view.name(operands[i])}`" if plan.leaves[k] else "the identity"
                     for k, i in enumerate(plan.members)]
            name = view.fuse(adds, operands, plan)
            others = len(operands) - len(plan.members)
            tail = f", {others} other operand(s) still added to it" if others else ""
            report.fused.append(f"`{view.prefix}{name}`: fused {', '.join(names)}{tail}")
            return True  # other sums may read this one: match them again on the new graph
    return False


def match_add(view: GraphView, operands: list) -> AddPlan | str:
    """Which operands of a sum become one convolution, or why none do."""
    branches = [linear_branch(view, op) for op in operands]
    best = None
    for source in dict.fromkeys(b[0] for b in branches if b is not None and b[1].op.role == "conv"):
        members = [i for i, (op, b) in enumerate(zip(operands, branches))
                   if op is source or (b is not None and b[0] is source)]
        if best is None or len(members) > len(best[1]):
            best = source, members
    if best is None or len(best[1]) < 2:
        parts = [f"{view.describe(op)} is a {b[1].op.kind} of {view.describe(b[0])}" if b
                 else f"{view.describe(op)} is not one conv or BatchNorm read only by the add" if _is_call(view, op)
                 else f"{view.describe(op)} enters as it is" for op, b in zip(operands, branches)]
        return f"no convolution and another operand are linear ops of one value: {'; '.join(parts)}"
    source, members = best
    leaves = [None if operands[i] is source else branches[i][1] for i in members]
    channels = next(leaf.op.channels for leaf in leaves if leaf is not None and leaf.op.role == "conv")
    geometries = [Branch(channels, channels) if leaf is None else leaf.op.branch for leaf in leaves]
    reason = next((g for g in geometries if isinstance(g, str)), None) or fuse(geometries)
    if isinstance(reason, str):
        return f"its linear branches cannot be one convolution: {reason}"
    return AddPlan(source, members, leaves, reason)


def _is_call(view: GraphView, node) -> bool:
    return not view.is_input(node) and (view.op(node) is not None or view.group(node) is not None)


def linear_branch(view: GraphView, node) -> tuple[object, Leaf] | None:
    """(input, leaf) when `node` is one convolution or 2-D norm of its input, read only by the sum."""
    source = view.source(node)
    if source is None or len(view.users(node)) != 1:
        return None
    leaf = single_op(view, node)
    if leaf is None or leaf.op.role not in ("conv", "norm") or leaf.op.rank != 3:
        return None
    return source, leaf


def single_op(view: GraphView, node) -> Leaf | None:
    """The op when `node` is one op on its input, through groups that hold only that op."""
    op = view.op(node)
    if op is not None:
        return Leaf(view.path(node), op)
    inner = view.group(node)
    body = inner.nodes() if inner is not None else []
    if len(body) != 1 or inner.output() is not body[0] or (source := inner.source(body[0])) is None \
            or not inner.is_input(source):
        return None
    leaf = single_op(inner, body[0])
    return leaf and Leaf(f"{view.path(node)}.{leaf.path}", leaf.op)
