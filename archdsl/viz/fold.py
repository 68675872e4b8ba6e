"""Finding repeated units in an IR graph, so that a diagram can draw one copy marked `xN`.

The IR unrolls every `repeat` and `for`, so a DenseNet block is 6 to 24 (dense_layer, concat) pairs and a
MobileNet stage is a chain of equal inverted residuals. A *run* is N >= 2 consecutive copies of a unit of k
nodes that are structurally equal and chained. Equal: the same ops with the same parameters and the same block
names, recursively; input channel counts may differ (a DenseNet block), and so may the rate of dropout-like
ops, identities at inference (EfficientNet's stochastic depth). Chained: each copy reads only the previous
copy's last node, and nothing outside a copy reads its inner nodes. Only units that hold a block call fold:
raw ops are always drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from ..ir import Graph, GroupNode, MergeNode, OpNode
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
        # a block's arguments are not compared: the ops they produce are, and a diagram shows ops
        return ("group", node.block, self.graph(node.graph))

    def graph(self, graph: Graph) -> tuple:
        key = id(graph)
        if key not in self._graphs:
            self._keep.append(graph)
            self._graphs[key] = (tuple((self.node(n), n.inputs) for n in graph.nodes), graph.output)
        return self._graphs[key]


def _canonical(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, sort_keys=True, default=str)


def find_runs(graph: Graph, signatures: Signatures | None = None) -> list[Run]:
    """The maximal runs of `graph`, left to right; at each position the run covering the most nodes wins
    (the shortest unit on a tie, so that 12 (layer, concat) pairs read `x12`, not `x6` of a 4-node unit)."""
    signatures = signatures or Signatures()
    finder = _RunFinder(graph.nodes, graph.output, signatures)
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
    def __init__(self, nodes: Sequence, output: int, signatures: Signatures):
        self.nodes = nodes
        self.position = {n.id: p for p, n in enumerate(nodes)}
        self.users: dict[int, set[int]] = {}
        for p, n in enumerate(nodes):
            for source in n.inputs:
                self.users.setdefault(source, set()).add(p)
        self.output = output
        self.node_sigs = [signatures.node(n) for n in nodes]

    def best_at(self, start: int) -> Run | None:
        best: Run | None = None
        for length in range(1, (len(self.nodes) - start) // 2 + 1):
            if self.node_sigs[start + length] != self.node_sigs[start]:
                continue  # cheap filter: the second copy must begin like the first
            first = self._copy(start, length, entry=None)
            if first is None:
                continue
            signature, _ = first
            count, exit_id = 1, self.nodes[start + length - 1].id
            while start + (count + 1) * length <= len(self.nodes):
                following = self._copy(start + count * length, length, entry=exit_id)
                if following is None or following[0] != signature:
                    break
                count, exit_id = count + 1, self.nodes[start + (count + 1) * length - 1].id
            candidate = Run(start, length, count)
            if count >= 2 and (best is None or count * length > best.count * best.length) and self._is_closed(candidate):
                best = candidate
        return best

    def _copy(self, start: int, length: int, entry: int | None) -> tuple[tuple, int] | None:
        """The relative signature of nodes start..start+length-1 and the one value it reads from outside,
        or None when it is not a self-contained copy (or holds no block call)."""
        members = range(start, start + length)
        if not any(isinstance(self.nodes[p], GroupNode) and self.nodes[p].block for p in members):
            return None
        parts = []
        for p in members:
            relative = []
            for source in self.nodes[p].inputs:
                q = self.position.get(source, -1)
                if start <= q < start + length:
                    relative.append(q - start)
                elif entry is None or source == entry:
                    entry = source
                    relative.append("entry")
                else:
                    return None
            parts.append((self.node_sigs[p], tuple(relative)))
        if entry is None:
            return None
        return tuple(parts), entry

    def _is_closed(self, run: Run) -> bool:
        """No node outside a copy reads the copy's inner nodes; only the next copy reads a copy's exit."""
        for c in range(run.count):
            first, last = run.start + c * run.length, run.start + (c + 1) * run.length - 1
            allowed_readers = range(first, last + 1)
            for p in range(first, last):
                node_id = self.nodes[p].id
                if node_id == self.output or any(r not in allowed_readers for r in self.users.get(node_id, ())):
                    return False
            if c < run.count - 1:
                exit_id = self.nodes[last].id
                next_copy = range(last + 1, last + 1 + run.length)
                if exit_id == self.output or any(r not in next_copy for r in self.users.get(exit_id, ())):
                    return False
        return True
