"""IR -> graphviz DOT source, top to bottom, deterministic (same network and options, same text).

Views: at `depth` 0 every block call is one node; each further level of `depth` opens one more level of block
calls into clusters. Labelled `{ ... }` groups (`features: { ... }`) are not blocks: they are always open, drawn
as a light dashed cluster. Runs of equal consecutive units (see `fold.py`) are drawn once and marked `xN` unless
`expand_repeats`. Edges carry the shape of the tensor they hold.

Graphs (docs/design/graphs.md) draw as DAGs: an edge runs from where a tensor is made to every place it is
used, however far apart. An edge that fills a tensor parameter (`up(c, @skip)`, `resize(@like)`), or leaves a
multi-output block for one of its later outputs, is labelled with that name and its shape (`@skip 64x128x128`);
an opened block's tensor parameters are no nodes: the edge goes straight to where the block uses the tensor. A
network with several outputs has one output node per output, named; training-only outputs and everything only
they need (auxiliary heads) are dashed, with a note in the title. Extra network inputs are input nodes; learnable
tensors (`param`) are small nodes of their own.

Works on any `Network`, so a transformed IR (e.g. a reparameterized deploy graph) draws the same way.

>>> from archdsl import check
>>> "conv 7x7, 64, /2" in to_dot(check("specs/resnet18.arch"))
True
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

from ..combinators import COMBINATORS
from ..ir import Graph, GroupNode, InputNode, MergeNode, Network, OpNode, Output, ParamNode, SelectNode
from ..types import TensorType
from . import labels, style
from .fold import Run, Signatures, find_runs


@dataclass(frozen=True)
class Endpoint:
    """Where a value comes from in the drawing: a DOT node, and the shape to write on edges leaving it."""

    node: str
    shape: TensorType
    tensor: str = ""  # a tensor parameter or a later output that the edges leaving here fill: labelled by name


def to_dot(network: Network, depth: int = 0, expand_repeats: bool = False, variant: str = "") -> str:
    """`variant` names a transformed network in the title (`deploy`)."""
    return _Drawing(network, depth, expand_repeats, variant).source()


class _Drawing:
    def __init__(self, network: Network, depth: int, expand_repeats: bool, variant: str):
        self.network = network
        self.variant = variant
        self.depth = depth
        self.expand_repeats = expand_repeats
        self.signatures = Signatures()
        self.constant_args = labels.constant_arguments(network.graph)
        self.body: list[str] = []
        self.edges: list[tuple[Endpoint, str]] = []
        self.clusters: list[str] = []  # the clusters open where the next node is written, outermost first
        self.membership: dict[str, tuple[str, ...]] = {}
        self.quiet: set[str] = set()  # ops that keep their input's shape (bn, relu...)
        self.labelled_merges: set[str] = set()  # merges whose every input edge shows its shape (concat)
        self.silent: set[str] = set()  # nodes that show their own shape (learnable tensors): unlabelled edges
        self.terminals: set[str] = {"output"}  # output nodes: the edges into them always show the shape
        self.ends: dict[tuple[str, ...], list[Endpoint]] = {}  # a group's path -> where each of its outputs comes from
        self.train_only = network.graph.train_only_nodes()  # top-level nodes that only training outputs need
        self.training = False  # drawing something that only training mode runs: dashed
        self.dashed: set[str] = set()  # the nodes drawn dashed; edges into them are dashed too
        self.indent = 1

    # --- output
    def source(self) -> str:
        net = self.network
        entry = Endpoint("input", net.input)
        self._node("input", labels.html(f"input  <B>{net.input}</B>"), style.terminal_attrs())
        extras = []
        for extra in net.graph.extra_inputs():  # a network's tensor parameters: `@depth=[1, 64, 64]`
            name = f"input_{extra.name}"
            self._node(name, labels.html(f"input <B>@{labels.escape(extra.name)}</B>  <B>{extra.out}</B>"),
                       style.terminal_attrs())
            extras.append(Endpoint(name, extra.out))
        exits = self._graph(net.graph, (), "", self.depth, entry, extras)
        self._outputs(net.graph.outputs, exits)
        name = f"{net.name} ({self.variant})" if self.variant else net.name
        title = (f"<B>{labels.escape(name)}</B>   {labels.params_text(net.param_count)}"
                 f" · {net.macs / 1e9:.2f} GMACs")
        if self.dashed:
            title = labels.html(title, labels.small("dashed: used in training mode only"))
        else:
            title = labels.html(title)
        lines = [f"digraph {_quote(net.name)} {{",
                 f"  graph [{_attrs({**style.GRAPH_ATTRS, 'label': title})}];",
                 f"  node [{_attrs(style.NODE_ATTRS)}];",
                 f"  edge [{_attrs(style.EDGE_ATTRS)}];",
                 *self.body, *self._edge_lines(), "}"]
        return "\n".join(lines) + "\n"

    def _outputs(self, outputs: tuple[Output, ...], exits: list[Endpoint]) -> None:
        """One `output` node for a chain; one node per output, by name, for a network with several."""
        if not outputs:
            self._node("output", labels.html("output"), style.terminal_attrs())
            self._edge(exits[0], "output")
            return
        for output, exit_ in zip(outputs, exits):
            name = f"output_{output.name}"
            self.terminals.add(name)
            title = f"output <B>{labels.escape(output.name)}</B>"
            self.training = output.train_only
            if output.train_only:
                self._node(name, labels.html(title, labels.small("training only")), style.terminal_attrs())
            else:
                self._node(name, labels.html(title), style.terminal_attrs())
            self.training = False
            self._edge(exit_, name)

    def _line(self, text: str) -> None:
        self.body.append("  " * self.indent + text)

    def _node(self, name: str, label: str, attrs: dict[str, str]) -> None:
        self.membership[name] = tuple(self.clusters)
        if self.training:
            self.dashed.add(name)
            attrs = style.training_only(attrs)
        self._line(f"{_quote(name)} [{_attrs({'label': label, **attrs})}];")

    def _edge(self, source: Endpoint, target: str) -> None:
        self.edges.append((source, target))

    def _edge_lines(self) -> list[str]:
        """Edges go after every cluster (an edge written inside a subgraph would pull its nodes into it).

        An edge shows its shape unless it leaves an op that kept its input's shape (`bn`, `relu`), within a
        cluster, to a node other than a merge that labels its inputs (`concat`): the shape is then the one just
        above. A fan-out writes its shape on its first edge only; an edge into an output node always does (a
        feature map is read from the middle of the network). An edge that fills a tensor parameter or carries
        a later output of a block says which (`@skip 64x128x128`); edges from a learnable tensor's node, which shows
        its shape, say nothing. Edges into nodes drawn dashed are dashed.
        Edges that all leave a cluster from one node (its output) start at the
        cluster's border, so that they do not run through its title, written at the bottom; likewise edges that
        all enter a cluster at one node.
        """
        heads: dict[str, set[str]] = defaultdict(set)  # cluster -> the nodes inside it that edges enter at
        tails: dict[str, set[str]] = defaultdict(set)  # cluster -> the nodes inside it that edges leave from
        crossings = []
        for source, target in self.edges:
            tail, head = self.membership[source.node], self.membership[target]
            common = 0
            while common < min(len(tail), len(head)) and tail[common] == head[common]:
                common += 1
            exits, enters = tail[common:], head[common:]
            for cluster in exits:
                tails[cluster].add(source.node)
            for cluster in enters:
                heads[cluster].add(target)
            crossings.append((exits, enters))
        lines, labelled = [], set()
        for (source, target), (exits, enters) in zip(self.edges, crossings):
            attrs = {}
            if source.tensor:
                attrs["label"] = f" @{source.tensor} {source.shape}"
            elif target in self.terminals or (source.node not in labelled and source.node not in self.silent and (
                    source.node not in self.quiet or exits or enters or target in self.labelled_merges)):
                labelled.add(source.node)
                attrs["label"] = " " + str(source.shape)
            head = next((c for c in enters if len(heads[c]) == 1), None)
            tail = next((c for c in exits if len(tails[c]) == 1), None)
            if head is not None:
                attrs["lhead"] = head
            if tail is not None:
                attrs["ltail"] = tail
            if target in self.dashed:
                attrs["style"] = "dashed"
            lines.append(f"  {_quote(source.node)} -> {_quote(target)} [{_attrs(attrs)}];")
        return lines

    def _open_cluster(self, name: str, label: str, attrs: dict[str, str]) -> None:
        cluster = "cluster_" + name
        self.clusters.append(cluster)
        self._line(f"subgraph {_quote(cluster)} {{")
        self.indent += 1
        if self.training:
            attrs = style.training_only(attrs)
        self._line(f"graph [{_attrs({'label': label, **attrs})}];")

    def _close_cluster(self) -> None:
        self.clusters.pop()
        self.indent -= 1
        self._line("}")

    # --- graphs
    def _graph(self, graph: Graph, path: tuple[str, ...], module: str, depth: int, entry: Endpoint,
               extras: Sequence[Endpoint] = ()) -> list[Endpoint]:
        """Draws `graph` whose input comes from `entry` and whose extra inputs (its `InputNode`s) from `extras`;
        returns where each of its outputs (`Graph.results`) comes from."""
        sources = {0: entry}
        for node, source in zip(graph.extra_inputs(), extras):  # a network's own are input nodes with their name
            sources[node.id] = Endpoint(source.node, node.out, node.name if path else "")
        runs = [] if self.expand_repeats else find_runs(graph, self.signatures)
        users = Counter(i for n in graph.nodes for i in n.inputs)
        users.update(o.node for o in graph.results())
        self._nodes(graph.nodes, runs, users, sources, path, module, depth)
        return [sources[o.node] for o in graph.results()]

    def _nodes(self, nodes: Sequence, runs: list[Run], users: Counter, sources: dict[int, Endpoint],
               path: tuple[str, ...], module: str, depth: int) -> None:
        starts = {run.start: run for run in runs}
        i = 0
        while i < len(nodes):
            run = starts.get(i)
            outer, self.training = self.training, self.training or (not path and nodes[i].id in self.train_only)
            if run is not None:
                self._run(nodes, run, users, sources, path, module, depth)
                i = run.stop
            elif isinstance(nodes[i], OpNode):
                chain = _chain(nodes, i, users, starts)
                self._ops(chain, sources, path)
                i += len(chain)
            else:
                self._one(nodes[i], sources, path, module, depth)
                i += 1
            self.training = outer

    def _ops(self, chain: list[OpNode], sources: dict[int, Endpoint], path: tuple[str, ...]) -> None:
        """One op, or an op with the norms and activations that follow it (`conv | bn | relu`), as one node."""
        name = _node_name(path, chain[0].id)
        if len(chain) == 1:
            family, faded = labels.op_family(chain[0])
            self._node(name, labels.html(labels.escape(labels.op_label(chain[0]))), style.op_attrs(family, faded))
        else:
            self._node(name, labels.chain_label(chain, dashed=self.training), style.chain_attrs())
        entry = sources[chain[0].inputs[0]]
        self._edge(entry, name)
        for tensor, value in zip(labels.tensor_params(chain[0]), chain[0].inputs[1:]):  # `resize(@like)`
            self._edge(Endpoint(sources[value].node, sources[value].shape, tensor), name)
        if chain[-1].out == entry.shape:
            self.quiet.add(name)
        for node in chain:
            sources[node.id] = Endpoint(name, node.out)

    def _one(self, node, sources: dict[int, Endpoint], path: tuple[str, ...], module: str, depth: int) -> None:
        name = _node_name(path, node.id)
        if isinstance(node, MergeNode):
            combinator = COMBINATORS[node.op]
            self._node(name, combinator.symbol, style.merge_attrs(combinator.symbol))
            if combinator.label_inputs:
                self.labelled_merges.add(name)
            for source in dict.fromkeys(node.inputs):  # `add { | }` reads one value twice: one edge
                self._edge(sources[source], name)
            sources[node.id] = Endpoint(name, node.out)
        elif isinstance(node, InputNode):
            pass  # `_graph` has bound it to where the caller's tensor comes from
        elif isinstance(node, SelectNode):  # a later output of a block: leaves the block's node, or its cluster
            end = self.ends[(*path, str(node.inputs[0]))][node.index]
            sources[node.id] = Endpoint(end.node, node.out, node.name)
        elif isinstance(node, ParamNode):
            self._node(name, labels.param_label(node), style.param_attrs())
            self.silent.add(name)
            sources[node.id] = Endpoint(name, node.out)
        else:
            ends = self._group([node], sources[node.inputs[0]], [sources[v] for v in node.inputs[1:]], path,
                               module, depth)
            self.ends[(*path, str(node.id))] = ends
            sources[node.id] = ends[0]

    def _group(self, groups: list[GroupNode], entry: Endpoint, extras: list[Endpoint], path: tuple[str, ...],
               module: str, depth: int) -> list[Endpoint]:
        """A block call (or a folded run of equal calls): one node, or a cluster when `depth` opens it. `extras`
        feed its extra inputs; returns where each of its outputs comes from (output 0 is the group's value)."""
        first, last = groups[0], groups[-1]
        inner_path = (*path, str(first.id))
        title_path = _run_path(module, [g.name for g in groups])
        shapes = [last.out] + [last.graph.type_of(o.node) for o in last.graph.results()[1:]]
        if first.block and depth == 0:
            name = _node_name(path, first.id)
            self._node(name, labels.block_label(title_path, groups, self.constant_args.get(first.block, set())),
                       style.block_attrs())
            self._edge(entry, name)
            for node, source in zip(first.graph.extra_inputs(), extras):  # `up(c, @skip)`: labelled `@skip`
                self._edge(Endpoint(source.node, source.shape, node.name), name)
            return [Endpoint(name, shape) for shape in shapes]
        if not first.graph.nodes:  # an empty group is the identity
            return [Endpoint(entry.node, last.out)]
        if not first.block and len(groups) == 1 and _draws_as_one_node(first.graph):
            # a frame around a single node says nothing: a block node's title carries the group's name
            exits = self._graph(first.graph, inner_path, _module_path(module, first.name), depth, entry, extras)
            return [Endpoint(exit_.node, shape) for exit_, shape in zip(exits, shapes)]
        if first.block:
            title = labels.block_title(title_path, first.block, len(groups))
            details = labels.params_text(sum(g.param_count for g in groups))
            self._open_cluster("_".join(inner_path), labels.html(title, labels.small(details)),
                               style.block_cluster_attrs() if len(groups) == 1 else style.repeat_cluster_attrs())
            depth -= 1
        else:
            label = labels.block_title(title_path, "", len(groups))
            self._open_cluster("_".join(inner_path), labels.html(label), style.group_cluster_attrs())
        exits = self._graph(first.graph, inner_path, _module_path(module, first.name), depth, entry, extras)
        self._close_cluster()
        return [Endpoint(exit_.node, shape) for exit_, shape in zip(exits, shapes)]

    def _run(self, nodes: Sequence, run: Run, users: Counter, sources: dict[int, Endpoint], path: tuple[str, ...],
             module: str, depth: int) -> None:
        """Draws the first copy of a run; the run's last node then reads from the first copy's exit."""
        copies = [nodes[run.start + c * run.length: run.start + (c + 1) * run.length] for c in range(run.count)]
        last_exit = copies[-1][-1]
        if run.length == 1:  # a run of one block call: the call itself carries the `xN`
            first = copies[0][0]
            ends = self._group([c[0] for c in copies], sources[first.inputs[0]],
                               [sources[v] for v in first.inputs[1:]], path, module, depth)
            self.ends[(*path, str(last_exit.id))] = ends
            sources[last_exit.id] = ends[0]
            return
        unit = copies[0]
        cluster = "_".join((*path, str(unit[0].id), "run"))
        title = f"<B>×{run.count}</B>"
        details = labels.params_text(sum(getattr(n, "param_count", 0) for copy in copies for n in copy))
        self._open_cluster(cluster, labels.html(title, labels.small(details)), style.repeat_cluster_attrs())
        self._nodes(unit, [], users, sources, path, module, depth)
        self._close_cluster()
        sources[last_exit.id] = Endpoint(sources[unit[-1].id].node, last_exit.out)
        drawn_ends = self.ends.get((*path, str(unit[-1].id)))
        if drawn_ends is not None:  # the last copy's later outputs leave the drawn copy's
            self.ends[(*path, str(last_exit.id))] = drawn_ends


#: op families that join the op before them in one node: they keep the shape and take no thought to read
FOLLOWERS = ("norm", "act", "regularize")


def _chain(nodes: Sequence, start: int, users: Counter, run_starts) -> list[OpNode]:
    """The op at `start` and the shape-keeping norms/activations that follow it, each the only reader of the one
    before (so no edge leaves the middle of the chain)."""
    chain = [nodes[start]]
    j = start + 1
    while j < len(nodes) and j not in run_starts:
        node, previous = nodes[j], chain[-1]
        if not (isinstance(node, OpNode) and labels.op_family(node)[0] in FOLLOWERS
                and node.inputs == (previous.id,) and users[previous.id] == 1 and node.out == previous.out):
            break
        chain.append(node)
        j += 1
    return chain


def _draws_as_one_node(graph: Graph) -> bool:
    """One node or one chain of ops (`conv1: { conv bn relu }`); its extra inputs draw as no node."""
    nodes = [n for n in graph.nodes if not isinstance(n, InputNode)]
    if len(nodes) <= 1:
        return True
    users = Counter(i for n in nodes for i in n.inputs)
    users.update(o.node for o in graph.results())
    return isinstance(nodes[0], OpNode) and len(_chain(nodes, 0, users, {})) == len(nodes)


def _node_name(path: tuple[str, ...], node_id: int) -> str:
    return "n" + "_".join((*path, str(node_id)))


def _module_path(module: str, name: str) -> str:
    return f"{module}.{name}" if module else name


def _run_path(module: str, names: list[str]) -> str:
    """`layer1`, or `features.2–3` for a folded run: a numbered name is prefixed by the enclosing module path
    back to the nearest named module (`features.1.0`, not `0`)."""
    first, last = names[0], names[-1]
    name = first if first == last else f"{first}–{last}"
    if not first.isdigit() or not module:
        return name
    prefix = module.split(".")
    start = len(prefix) - 1
    while start > 0 and prefix[start].isdigit():
        start -= 1
    return ".".join((*prefix[start:], name))


def _quote(text: str) -> str:
    if text.startswith("<") and text.endswith(">"):
        return text  # an HTML-like label
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in attrs.items())
