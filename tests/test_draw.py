"""`archdsl draw` and archdsl.viz: every spec renders with the real graphviz; views, folding, DOT without graphviz."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import archdsl
from archdsl.ir import Graph, GroupNode, OpNode
from archdsl.primitives import REGISTRY
from archdsl.viz import render, svg_or_none, to_dot
from archdsl.viz.fold import Run, find_runs

from conftest import SPECS, network_specs, run_cli

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's `dot` is not installed")


def _spec(name: str) -> Path:
    path = SPECS / f"{name}.arch"
    if not path.exists():
        pytest.fail(f"specs/{name}.arch is missing")
    return path


def _texts(svg: str, kind: str) -> list[str]:
    """The text pieces of the SVG's nodes (`kind="node"`) or edges (`"edge"`), as graphviz writes them."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [t.text.strip() for g in root.iter(f"{SVG}g") if g.get("class") == kind
            for t in g.iter(f"{SVG}text") if t.text and t.text.strip()]


def _edge_labels(svg: str) -> dict[str, str]:
    """`tail->head` -> the edge's label, for labelled edges."""
    root = ET.fromstring(svg)
    found = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            texts = [t.text.strip() for t in g.iter(f"{SVG}text") if t.text]
            if texts:
                found[g.find(f"{SVG}title").text.replace("&#45;&gt;", "->")] = texts[0]
    return found


def _top_level(graph: Graph):
    """The nodes of the default view: the network's own nodes, through labelled `{ ... }` groups."""
    for node in graph.nodes:
        if isinstance(node, GroupNode) and not node.block:
            yield from _top_level(node.graph)
        else:
            yield node


def _all_nodes(graph: Graph):
    for node in graph.nodes:
        yield node
        if isinstance(node, GroupNode):
            yield from _all_nodes(node.graph)


def _shapes(graph: Graph) -> set[str]:
    return {str(graph.input)} | {str(n.out) for n in _all_nodes(graph)}


@needs_dot
@pytest.mark.parametrize("spec", network_specs())
def test_every_spec_renders_to_svg_with_its_ops_blocks_and_shapes(spec):
    net = archdsl.check(*spec)
    svg = render(to_dot(net), "svg").decode()
    nodes = set(_texts(svg, "node"))
    for node in _top_level(net.graph):
        if isinstance(node, OpNode):
            assert REGISTRY[node.op].label(node.params) in nodes
        elif isinstance(node, GroupNode):
            assert node.block in nodes
    labels = _edge_labels(svg)
    assert [label for edge, label in labels.items() if edge.startswith("input->") and "@" not in label] == [
        str(net.input)]  # and, in graphs, `@like 3x520x520` where an op takes the input as a tensor argument
    edges = {edge: label.split()[-1] for edge, label in labels.items()}  # `@skip 64x56x56`: the shape
    outputs = ({"output": net.output} if not net.graph.outputs
               else {f"output_{name}": shape for name, shape in net.outputs().items()})  # one node per output
    assert {edge.split("->")[1]: label for edge, label in edges.items()
            if edge.split("->")[1] in outputs} == {name: str(shape) for name, shape in outputs.items()}
    assert set(edges.values()) <= _shapes(net.graph)  # every edge label is a tensor shape of the network
    assert _handed_on(net.graph) <= set(edges.values())


def _handed_on(graph: Graph) -> set[str]:
    """The shapes that the top-level block calls hand on, except inside a folded run (drawn once, `xN`)."""
    inside_runs = {p for run in find_runs(graph) for p in range(run.start, run.stop - 1)}
    shapes = set()
    for position, node in enumerate(graph.nodes):
        if isinstance(node, GroupNode) and not node.block:
            shapes |= _handed_on(node.graph)
        elif isinstance(node, GroupNode) and position not in inside_runs:
            shapes.add(str(node.out))
    return shapes


@needs_dot
def test_resnet18_default_view_is_one_node_per_block_call():
    svg = render(to_dot(archdsl.check(_spec("resnet18"))), "svg").decode()
    nodes = _texts(svg, "node")
    assert [t for t in nodes if t.startswith("layer")] == ["layer1", "layer2", "layer3", "layer4"]
    assert nodes.count("basic_stage") == 4 and "conv 7x7, 64, /2" in nodes
    assert "2 × basic · 148K params" in nodes  # block contents and parameter count
    assert {"64x56x56", "128x28x28", "256x14x14", "512x7x7", "1000"} <= set(_edge_labels(svg).values())


def _dense_blocks(net) -> dict[str, int]:
    return {n.name: sum(1 for m in n.graph.nodes if isinstance(m, GroupNode) and m.block == "dense_layer")
            for n in _all_nodes(net.graph) if isinstance(n, GroupNode) and n.block == "dense_block"}


def _node_count(svg: str) -> int:
    return sum(1 for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "node")


@needs_dot
def test_densenet121_default_view_is_small_and_deeper_views_show_every_layer():
    net = archdsl.check(_spec("densenet121"))
    blocks = _dense_blocks(net)
    assert sorted(blocks.values()) == [6, 12, 16, 24]
    default = render(to_dot(net), "svg").decode()
    texts = _texts(default, "node")
    for name, layers in blocks.items():
        assert name in texts
        assert any(t.startswith(f"{layers} × dense_layer") for t in texts)  # each block marked with its count
    assert _node_count(default) <= 20

    convs = [n for n in _all_nodes(net.graph) if isinstance(n, OpNode) and n.op == "conv"]
    assert len(convs) == 120
    folded = render(to_dot(net, depth=2), "svg").decode()  # one dense layer drawn per block, marked x6 ... x16
    assert {"×6", "×12", "×24", "×16"} <= set(_cluster_titles(folded))
    assert sum(1 for t in _texts(folded, "node") if t.startswith("conv ")) == 2 * 4 + 1 + 3  # layers, stem, transitions
    everything = render(to_dot(net, depth=2, expand_repeats=True), "svg").decode()
    labels = _texts(everything, "node")
    assert sum(1 for t in labels if t.startswith("conv ")) == len(convs)
    assert _node_count(everything) > 5 * _node_count(default)


def _cluster_titles(svg: str) -> list[str]:
    return [t.text.strip() for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "cluster"
            for t in g.iter(f"{SVG}text") if t.text and t.text.strip()]


@needs_dot
def test_depth_opens_block_calls_into_clusters():
    net = archdsl.check(_spec("resnet18"))
    svg = render(to_dot(net, depth=1), "svg").decode()
    titles = _cluster_titles(svg)
    assert {"layer1", "layer2", "basic_stage"} <= set(titles)
    nodes = _texts(svg, "node")
    assert "layer2.0" in nodes and "layer1.0–1" in nodes and "×2" in nodes  # equal blocks folded, marked x2
    deep = _texts(render(to_dot(net, depth=2, expand_repeats=True), "svg").decode(), "node")
    assert deep.count("conv 3x3, 64") == 4 and "+" in deep  # every conv of layer1, and the residual adds


# --- folding, on small specs written here


def test_runs_of_equal_block_calls_fold(write):
    path = write("net.arch", """
        block unit(c, stride=1) { conv(c, 3, stride=stride, pad=1) bn relu }
        network n(input=[3, 32, 32]) { unit(8, 2) unit(8) unit(8) unit(8) unit(16) }
    """)
    net = archdsl.check(path)
    assert find_runs(net.graph) == [Run(start=1, length=1, count=3)]  # the stride-2 call differs
    dot = to_dot(net)
    assert "<B>×3</B>" in dot and "1–3" in dot
    assert "×" not in to_dot(net, expand_repeats=True)


def test_a_repeated_unit_of_a_block_call_and_a_concat_folds_as_one(write):
    path = write("dense.arch", """
        block layer(growth) { bn relu conv(growth, 3, pad=1) }
        network n(input=[8, 16, 16]) { repeat 5 { concat { | layer(4) } } }
    """)
    net = archdsl.check(path)
    assert net.output.c == 28
    assert find_runs(net.graph) == [Run(start=0, length=2, count=5)]
    dot = to_dot(net)
    assert dot.count('"concat"') == 1 and "<B>×5</B>" in dot
    assert to_dot(net, expand_repeats=True).count('"concat"') == 5


def test_raw_ops_never_fold_and_a_read_from_outside_stops_a_run(write):
    ops = archdsl.check(write("ops.arch", "network n(input=[3, 8, 8]) { repeat 3 { conv(4, 3, pad=1) relu } }"))
    assert find_runs(ops.graph) == []
    shortcut = archdsl.check(write("skip.arch", """
        block unit(c) { conv(c, 1) relu }
        network n(input=[4, 8, 8]) { add { unit(4) unit(4) unit(4) | } }
    """))
    assert find_runs(shortcut.graph) == [Run(start=0, length=1, count=3)]  # the add reads the input, not a copy


def test_collapsed_blocks_say_what_they_hold(write):
    path = write("net.arch", """
        block mixed(c) { concat { conv(c, 1) | conv(c, 3, pad=1) | maxpool(3, stride=1, pad=1) } }
        block res(c) { add { conv(c, 3, pad=1) bn | } relu }
        block stage(c, n) { repeat n { res(c) } }
        network n(input=[4, 8, 8]) { mixed(4) stage(12, 3) }
    """)
    dot = to_dot(archdsl.check(path))
    assert "concat of 3 branches" in dot and "3 × res" in dot
    assert "residual" in to_dot(archdsl.check(path), depth=1)  # the res blocks inside the opened stage


def test_dot_source_is_deterministic_and_shapes_label_edges(write):
    path = write("net.arch", "network n(input=[3, 8, 8]) { conv(4, 3, stride=2, pad=1) bn relu gap flatten linear(2) }")
    first, second = to_dot(archdsl.check(path)), to_dot(archdsl.check(path))
    assert first == second
    assert 'label=" 4x4x4"' in first and 'label=" 2"' in first and "conv 3x3, 4, /2" in first


# --- the command


def test_dot_output_needs_no_graphviz_and_other_formats_say_how_to_install_it(tmp_path):
    no_dot = {"PATH": str(tmp_path)}  # a PATH without graphviz
    result = run_cli("draw", str(SPECS / "resnet18.arch"), "-o", str(tmp_path / "r.dot"), env=no_dot)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "r.dot").read_text().startswith('digraph "resnet18" {')

    (tmp_path / "r.svg").write_text("old")
    result = run_cli("draw", str(SPECS / "resnet18.arch"), "-o", str(tmp_path / "r.svg"), env=no_dot)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "`dot` program was not found" in message and "apt-get install graphviz" in message and ".dot" in message
    assert (tmp_path / "r.svg").read_text() == "old"  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.dot", "r.svg"]


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot"])
def test_cli_writes_each_format_and_the_same_spec_gives_the_same_file(tmp_path, suffix):
    outputs = []
    for attempt in range(2):
        out = tmp_path / f"{attempt}{suffix}"
        result = run_cli("draw", str(SPECS / "resnet18.arch"), "-o", str(out), "--depth", "1", "--set", "classes=10")
        assert result.returncode == 0, result.stderr.decode()
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    magic = {".svg": b"<?xml", ".png": b"\x89PNG", ".pdf": b"%PDF", ".dot": b"digraph"}[suffix]
    assert outputs[0].startswith(magic)
    if suffix == ".svg":
        assert "10" in _edge_labels(outputs[0].decode()).values()


def test_cli_usage_errors(tmp_path):
    spec = str(SPECS / "resnet18.arch")
    unknown = run_cli("draw", spec, "-o", str(tmp_path / "r.jpg"))
    assert unknown.returncode == 2 and b".svg, .png, .pdf, .dot" in unknown.stderr
    assert run_cli("draw", spec, "-o", str(tmp_path / "r.dot"), "--depth", "-1").returncode == 2
    assert run_cli("draw", spec).returncode == 2  # -o is required
    missing = run_cli("draw", str(tmp_path / "none.arch"), "-o", str(tmp_path / "r.dot"))
    assert missing.returncode == 2 and b"no such file" in missing.stderr
    assert not (tmp_path / "r.dot").exists()


def test_cli_reports_spec_errors_with_exit_1(write, tmp_path):
    path = write("bad.arch", "network n(input=[3, 8, 8]) { linear(4) }")
    result = run_cli("draw", str(path), "-o", str(tmp_path / "bad.dot"))
    assert result.returncode == 1 and b"E0206" in result.stderr


def test_network_option_picks_one_of_several(write, tmp_path):
    path = write("two.arch", """
        network small(input=[3, 8, 8]) { conv(4, 3) }
        network large(input=[3, 8, 8]) { conv(16, 5) }
    """)
    result = run_cli("draw", str(path), "-o", str(tmp_path / "l.dot"), "--network", "large")
    assert result.returncode == 0, result.stderr.decode()
    assert "conv 5x5, 16" in (tmp_path / "l.dot").read_text()
    ambiguous = run_cli("draw", str(path), "-o", str(tmp_path / "x.dot"))
    assert ambiguous.returncode == 1 and b"--network" in ambiguous.stderr


def test_deploy_draws_the_reparameterized_network(write, tmp_path):
    path = write("net.arch", "network n(input=[3, 8, 8]) { conv(4, 3, pad=1, bias=false) bn relu dropout(0.1) }")
    trained = run_cli("draw", str(path), "-o", str(tmp_path / "t.dot"))
    deployed = run_cli("draw", str(path), "-o", str(tmp_path / "d.dot"), "--deploy")
    assert trained.returncode == deployed.returncode == 0, deployed.stderr.decode()
    train_text, deploy_text = (tmp_path / "t.dot").read_text(), (tmp_path / "d.dot").read_text()
    assert ">bn<" in train_text and "dropout 0.1" in train_text
    assert "n (deploy)" in deploy_text and ">bn<" not in deploy_text and "dropout" not in deploy_text


def test_network_shows_inline_in_jupyter(write, monkeypatch, tmp_path):
    net = archdsl.check(write("net.arch", "network n(input=[3, 8, 8]) { conv(4, 3) relu }"))
    if shutil.which("dot") is not None:
        assert "conv 3x3, 4" in net._repr_svg_()
    monkeypatch.setenv("PATH", str(tmp_path))  # without graphviz Jupyter falls back to the text repr
    assert net._repr_svg_() is None and svg_or_none(net) is None
