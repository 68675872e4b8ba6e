"""Finding repeated units in an IR graph, so that a diagram can draw one copy marked `xN`.

The IR unrolls every `repeat` and `for`, so a DenseNet block is 6 to 24 (dense_layer, concat) pairs and a
MobileNet stage is a chain of equal inverted residuals. A *run* is N >= 2 consecutive copies of a unit of k
nodes that are structurally equal and chained. Equal: the same ops with the same parameters and the same block
names, recursively; input channel counts may differ (a DenseNet block), and so may the rate of dropout-like
ops, identities at inference (EfficientNet's stochastic depth). Chained: each copy reads only the previous
copy's last node (and, besides, the same values from before the run: a named tensor that every copy merges or
passes to a block), and nothing outside a copy reads its inner nodes. Only units that hold a block call fold:
raw ops are always drawn.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from typing import Any, Sequence

from ..ir import Graph, GroupNode, InputNode, MergeNode, OpNode, ParamNode, SelectNode
from ..primitives import REGISTRY


@dataclass(frozen=True)
class Run:
    """Nodes `start .. start + length * count - 1` of a graph: `count` copies of a `length`-node unit."""

    start: int
    length: int
    count: int

    @property
    def stop(self) -> int:
        return self.start + self.length * self.count


class Signatures:
    """Structural signatures of nodes and graphs, ignoring names and shapes; memoized per graph object."""

    def __init__(self) -> None:
        self._graphs: dict[int, tuple] = {}
        self._keep: list[Graph] = []  # keeps memoized graphs alive so that their ids stay unique

    def node(self, node) -> tuple:
        if isinstance(node, OpNode):
            primitive = REGISTRY.get(node.op)
            if primitive is not None and primitive.inference_identity:
                return ("op", node.op)  # EfficientNet's drop rate grows block by block: still the same block
            return ("op", node.op, _canonical(node.params))
        if isinstance(node, MergeNode):
            return ("merge", node.op)
        if isinstance(node, InputNode):
            return ("input", node.name)
        if isinstance(node, SelectNode):
            return ("select", node.index)
        if isinstance(node, ParamNode):
            return ("param", node.out.dims, node.init)
        # a block's arguments are not compared: the ops they produce are, and a diagram shows ops
        return ("group", node.block, self.graph(node.graph))

    def graph(self, graph: Graph) -> tuple:
        key = id(graph)
        if key not in self._graphs:
            self._keep.append(graph)
            outputs = tuple((o.node, o.train_only) for o in graph.outputs)  # () for a chain
            self._graphs[key] = (tuple((self.node(n), n.inputs) for n in graph.nodes), graph.output, outputs)
        return self._graphs[key]


def _canonical(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, default=str)


def find_runs(graph: Graph, signatures: Signatures | None = None) -> list[Run]:
    """The maximal runs of `graph`, left to right; at each position the run covering the most nodes wins
    (the shortest unit on a tie, so that 12 (layer, concat) pairs read `x12`, not `x6` of a 4-node unit)."""
    signatures = signatures or Signatures()
    finder = _RunFinder(graph.nodes, {o.node for o in graph.results()}, signatures)
    runs: list[Run] = []
    i = 0
    while i < len(graph.nodes):
        run = finder.best_at(i)
        if run is None:
            i += 1
        else:
            runs.append(run)
            i = run.stop
    return runs


class _RunFinder:
    def __init__(self, nodes: Sequence, outputs: set[int], signatures: Signatures):
        self.nodes = nodes
        self.position = {n.id: p for p, n in enumerate(nodes)}
        self.users: dict[int, set[int]] = {}
        for p, n in enumerate(nodes):
            for source in n.inputs:
                self.users.setdefault(source, set()).add(p)
        self.outputs = outputs  # the graph's outputs: read from outside, so never inside a run
        self.node_sigs = [signatures.node(n) for n in nodes]
        # where the block calls are: a copy must hold one, and knowing where they are keeps the search linear
        # on long runs of raw ops, which never fold (199k ops took minutes to draw; issue 14)
        self.calls = [p for p, n in enumerate(nodes) if isinstance(n, GroupNode) and n.block]

    def best_at(self, start: int) -> Run | None:
        best: Run | None = None
        first_call = bisect.bisect_left(self.calls, start)
        if first_call == len(self.calls):
            return None  # no block call from here on: nothing to fold
        shortest = self.calls[first_call] - start + 1  # the first copy must reach a block call
        for length in range(shortest, (len(self.nodes) - start) // 2 + 1):
            if best is not None and (len(self.nodes) - start) // length * length <= best.count * best.length:
                continue  # cannot cover more than the best found (a tie keeps the shorter unit)
            if self.node_sigs[start + length] != self.node_sigs[start]:
                continue  # cheap filter: the second copy must begin like the first
            exit_id = self.nodes[start + length - 1].id
            second = self._copy(start + length, length, entry=exit_id, run_start=start)
            if second is None:
                continue
            signature = second[0]
            if not self._first_copy_matches(start, signature):
                continue
            count = 1
            while start + (count + 1) * length <= len(self.nodes):
                following = self._copy(start + count * length, length, entry=exit_id, run_start=start)
                if following is None or following[0] != signature:
                    break
                count, exit_id = count + 1, self.nodes[start + (count + 1) * length - 1].id
            candidate = Run(start, length, count)
            if count >= 2 and (best is None or count * length > best.count * best.length) and self._is_closed(candidate):
                best = candidate
        return best

    def _copy(self, start: int, length: int, entry: int, run_start: int) -> tuple[tuple, int] | None:
        """The relative signature of nodes start..start+length-1, a later copy whose entry is the previous
        copy's exit, or None when it is not a self-contained copy (or holds no block call). Values made before
        the run (`run_start`) may be read too, each named in the signature, so that every copy must read the
        same ones: a tensor that each copy merges in (`unit(c, @skip)`) is drawn once, into the drawn copy."""
        members = range(start, start + length)
        if bisect.bisect_left(self.calls, start) == bisect.bisect_left(self.calls, start + length):
            return None  # no block call among the members
        parts = []
        for p in members:
            relative = []
            for source in self.nodes[p].inputs:
                q = self.position.get(source, -1)
                if start <= q < start + length:
                    relative.append(q - start)
                elif source == entry:
                    relative.append("entry")
                elif q < run_start:
                    relative.append(("before", source))
                else:
                    return None
            parts.append((self.node_sigs[p], tuple(relative)))
        return tuple(parts), entry

    def _first_copy_matches(self, start: int, signature: tuple) -> bool:
        """Whether the copy at `start` reads as the second copy's `signature` says: the same nodes, its own nodes
        at the same places, the same values from before the run, and one value from outside, its entry, wherever
        the second copy reads the first one's exit (that value may also be one of those from before)."""
        entry = None
        for p, (node_sig, relative) in enumerate(signature, start):
            if self.node_sigs[p] != node_sig or len(relative) != len(self.nodes[p].inputs):
                return False
            for source, tag in zip(self.nodes[p].inputs, relative):
                q = self.position.get(source, -1)
                if tag == "entry":
                    if q >= start or entry not in (None, source):
                        return False
                    entry = source
                elif isinstance(tag, tuple):
                    if source != tag[1]:
                        return False
                elif q != start + tag:
                    return False
        return entry is not None

    def _is_closed(self, run: Run) -> bool:
        """No node outside a copy reads the copy's inner nodes; only the next copy reads a copy's exit."""
        for c in range(run.count):
            first, last = run.start + c * run.length, run.start + (c + 1) * run.length - 1
            allowed_readers = range(first, last + 1)
            for p in range(first, last):
                node_id = self.nodes[p].id
                if node_id in self.outputs or any(r not in allowed_readers for r in self.users.get(node_id, ())):
                    return False
            if c < run.count - 1:
                exit_id = self.nodes[last].id
                next_copy = range(last + 1, last + 1 + run.length)
                if exit_id in self.outputs or any(r not in next_copy for r in self.users.get(exit_id, ())):
                    return False
        return True
