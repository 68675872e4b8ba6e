"""`draw` on graphs (issue 12): skip edges from where a tensor is made to where it is used, several outputs (train-only
ones dashed), tensor parameters, exports and captures, learnable tensors; folded repeats still fold.

The specs are small and written here; assertions read the DOT source (node `n<ids>` is the IR node at that path of
group ids: `n7` is top-level node 7, `n7_3` node 3 of group 7's graph), and render it with graphviz when installed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import pytest

import archdsl
from archdsl.viz import render, to_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's `dot` is not installed")

UNET = """
block double_conv(c) { conv(c, 3, pad=1) relu conv(c, 3, pad=1) relu }
block up(c, @skip) { convt(c, 2, stride=2) concat { @skip | } double_conv(c) }

network unet(classes=2, input=[1, 64, 64]) {
    down1: double_conv(16) -> s1
    maxpool(2) down2: double_conv(32) -> s2
    maxpool(2) bottom: double_conv(64)
    up2: up(32, @s2)
    up1: up(16, @s1)
    head: conv(classes, 1)
}
"""

TWO = """
block two(c) { conv(c, 1) -> a  conv(2 * c, 1) -> b  return @a, @b }
network n(input=[3, 8, 8]) { two(4) -> (x, y)  conv(8, 1)  add { @y | }  concat { @x | } }
"""

AUX = """
block aux_head(classes) { gap flatten linear(classes) }
network net(classes=10, input=[3, 32, 32]) {
    conv(16, 3, pad=1) relu -> early
    conv(32, 3, stride=2, pad=1) relu -> middle
    conv(64, 3, stride=2, pad=1) relu
    gap flatten fc: linear(classes) -> logits
    @early aux1: aux_head(classes) -> aux1
    @middle aux2: { conv(8, 1) relu gap flatten linear(classes) } -> aux2
    return @logits, train @aux2, train @aux1
}
"""

# named tensors from different depths: exported out of a group (`@c3`, `@c4`), captured into one (`@s`), and passed
# to each of three equal calls (`unit(8, @s)`, which still fold)
DEPTHS = """
block unit(c, @extra) { conv(c, 3, pad=1) relu add { @extra | } }
block two(c) { conv(c, 1) -> a  conv(2 * c, 3, stride=2, pad=1) -> b  return @a, @b }
network n(input=[3, 32, 32]) {
    stem: conv(8, 3, pad=1) -> s
    unit(8, @s) unit(8, @s) unit(8, @s)
    backbone: { conv(16, 3, stride=2, pad=1) layer3: two(16) -> (c3, c4) layer4: conv(64, 3, stride=2, pad=1) }
    concat { @c4 | }
    upsample(2)
    concat { @c3 | }
    upsample(2)
    head: { concat { @s | } conv(4, 1) }
}
"""


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    attrs: dict


EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$', re.MULTILINE)
ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
NODE = re.compile(r'^\s*"([^"]+)" \[label=(.*)$', re.MULTILINE)


def edges(dot: str) -> list[Edge]:
    return [Edge(tail, head, dict(ATTR.findall(attrs))) for tail, head, attrs in EDGE.findall(dot)]


def nodes(dot: str) -> dict[str, str]:
    """DOT node name -> the rest of its line (label and attributes)."""
    return dict(NODE.findall(dot))


def between(dot: str, tail: str, head: str) -> list[Edge]:
    return [e for e in edges(dot) if (e.tail, e.head) == (tail, head)]


def draw(write, text: str, **options) -> str:
    net = archdsl.check(write("net.arch", text))
    dot = to_dot(net, **options)
    if shutil.which("dot") is not None:
        assert render(dot, "svg").startswith(b"<?xml")  # graphviz takes it
    return dot


# --- skip edges and tensor parameters


def test_a_skip_runs_from_where_the_tensor_is_made_into_the_block_that_takes_it(write):
    dot = draw(write, UNET)  # 1 down1, 2 maxpool, 3 down2, 4 maxpool, 5 bottom, 6 up2, 7 up1, 8 head
    assert [e.attrs.get("label") for e in between(dot, "n3", "n6")] == [" @skip 32x32x32"]
    assert [e.attrs.get("label") for e in between(dot, "n1", "n7")] == [" @skip 16x64x64"]
    assert [e.attrs.get("label") for e in between(dot, "n5", "n6")] == [" 64x16x16"]  # the main input: its shape
    assert [e.attrs.get("label") for e in between(dot, "n1", "n2")] == [" 16x64x64"]  # the chain, as before
    assert len(edges(dot)) == 11


def test_an_opened_block_takes_the_skip_where_it_uses_it(write):
    dot = draw(write, UNET, depth=1)
    # up1's graph: 1 the skip (no node), 2 convt, 3 concat, 4 double_conv; down1's exit is its last conv | relu
    assert "n7_1" not in nodes(dot) and {"n7_2", "n7_3", "n7_4"} <= set(nodes(dot))
    (skip,) = [e for e in edges(dot) if e.head == "n7_3" and e.tail.startswith("n1_")]
    assert skip.attrs["label"] == " @skip 16x64x64"
    assert between(dot, "n7_2", "n7_3")  # and the up-sampled tensor, from inside
    assert 'subgraph "cluster_7"' in dot


def test_an_op_that_takes_the_input_as_a_tensor_argument(write):
    dot = draw(write, """network seg(input=[3, 32, 32]) {
        conv(8, 3, stride=4, pad=1) conv(2, 1) resize(@input, mode="bilinear") }""")
    assert [e.attrs["label"] for e in between(dot, "input", "n3")] == [" @like 3x32x32"]
    assert [e.attrs["label"] for e in between(dot, "input", "n1")] == [" 3x32x32"]


# --- several outputs


def test_a_block_with_two_outputs_is_one_node_with_an_edge_per_use(write):
    dot = draw(write, TWO)  # 1 two, 2 its output b, 3 conv, 4 add, 5 concat
    assert "n2" not in nodes(dot)
    assert {e.head for e in edges(dot) if e.tail == "n1"} == {"n3", "n4", "n5"}
    assert [e.attrs["label"] for e in between(dot, "n1", "n4")] == [" @b 8x8x8"]  # output `b`, by its name
    assert between(dot, "n1", "n3")[0].attrs["label"] == " 4x8x8"  # output 0, the chain


def test_an_opened_block_with_two_outputs_sends_each_from_where_it_is_made(write):
    dot = draw(write, TWO, depth=1)
    assert [e.attrs["label"] for e in between(dot, "n1_2", "n4")] == [" @b 8x8x8"]
    assert between(dot, "n1_1", "n3") and between(dot, "n1_1", "n5")


def test_auxiliary_heads_are_dashed_with_an_output_node_each(write):
    dot = draw(write, AUX)
    drawn = nodes(dot)
    assert "output" not in drawn
    assert {"output_logits", "output_aux1", "output_aux2"} <= set(drawn)
    assert "training only" in drawn["output_aux1"] and 'style="rounded,dashed"' in drawn["output_aux1"]
    assert "training only" not in drawn["output_logits"] and "dashed" not in drawn["output_logits"]
    into = {e.head: e for e in edges(dot)}
    for name in ("output_aux1", "output_aux2"):
        assert (into[name].attrs["label"], into[name].attrs["style"]) == (" 10", "dashed")
    assert into["output_logits"].attrs == {"label": " 10"}
    graph = archdsl.check(write("net.arch", AUX)).graph
    ids = graph.train_only_nodes()  # aux1 (a block call) and aux2 (a `{ ... }` group, drawn open)
    heads = {name for name in drawn if any(name == f"n{i}" or name.startswith(f"n{i}_") for i in ids)}
    assert len(heads) == 1 + 4  # aux1; aux2: conv | relu, gap, flatten, linear
    assert all("dashed" in drawn[h] for h in heads)
    trained = heads | {"output_aux1", "output_aux2"}
    assert not any("dashed" in line for name, line in drawn.items() if name not in trained)
    dashed = {e.head for e in edges(dot) if e.attrs.get("style") == "dashed"}
    assert dashed == trained
    assert "dashed: used in training mode only" in dot.splitlines()[1]  # the legend, in the title


def test_an_opened_auxiliary_head_is_a_dashed_cluster_of_dashed_nodes(write):
    dot = draw(write, AUX, depth=1)
    graph = archdsl.check(write("net.arch", AUX)).graph
    aux2 = next(n for n in graph.nodes if getattr(n, "name", "") == "aux2")
    cluster = dot[dot.index(f'subgraph "cluster_{aux2.id}"'):]
    assert 'style="rounded,dashed"' in cluster.splitlines()[1]
    inner = [name for name in nodes(dot) if name.startswith(f"n{aux2.id}_")]
    assert inner and all('STYLE="rounded,dashed"' in nodes(dot)[n] or "dashed" in nodes(dot)[n] for n in inner)


def test_a_dict_of_outputs_has_a_node_per_key_and_chains_keep_one_output_node(write):
    dot = draw(write, """network seg(input=[3, 16, 16]) {
        conv(8, 3, pad=1) -> features  conv(4, 1) -> out  @features aux: conv(4, 1) -> aux
        return {out: @out, aux: @aux} }""")
    assert {"output_out", "output_aux"} <= set(nodes(dot)) and "dashed" not in dot
    chain = draw(write, "network n(input=[3, 8, 8]) { conv(4, 1) }")
    assert '"output" [label=<output>' in chain and "training" not in chain


def test_feature_maps_are_output_nodes_with_their_shapes(write):
    net = archdsl.check(write("net.arch", AUX.replace("return @logits, train @aux2, train @aux1", "")),
                        features=["@early", "@middle", "aux1"])
    into = {e.head: e.attrs.get("label") for e in edges(to_dot(net))}
    assert {h: label for h, label in into.items() if h.startswith("output_")} == {
        "output_@early": " 16x32x32", "output_@middle": " 32x16x16", "output_aux1": " 10"}


# --- named tensors from different depths


def test_exported_and_captured_tensors_are_edges_across_clusters(write):
    dot = draw(write, DEPTHS)
    net = archdsl.check(write("net.arch", DEPTHS))
    ids = {getattr(n, "name", ""): n.id for n in net.graph.nodes}
    backbone, head = ids["backbone"], ids["head"]
    layer3 = next(n for n in net.graph.nodes[backbone - 1].graph.nodes if getattr(n, "name", "") == "layer3")
    # layer3 is a collapsed block inside the backbone's frame: both of its outputs leave its one node
    c3 = [e for e in edges(dot) if e.attrs.get("label", "").startswith(" @c3")]
    c4 = [e for e in edges(dot) if e.attrs.get("label", "").startswith(" @c4")]
    assert [(e.tail, e.attrs["label"]) for e in c3] == [(f"n{backbone}_{layer3.id}", " @c3 16x16x16")]
    assert [(e.tail, e.attrs["label"]) for e in c4] == [(f"n{backbone}_{layer3.id}", " @c4 32x8x8")]
    # `head: { concat { @s | } ... }` captures the stem's tensor: the edge runs from the stem into the frame
    (captured,) = [e for e in edges(dot) if e.attrs.get("label", "").startswith(" @s ")]
    assert captured.tail == f"n{ids['stem']}" and captured.head.startswith(f"n{head}_")


def test_repeated_calls_that_take_the_same_tensor_still_fold(write):
    dot = draw(write, DEPTHS)
    ids = {getattr(n, "name", ""): n.id for n in archdsl.check(write("net.arch", DEPTHS)).graph.nodes}
    stem = f"n{ids['stem']}"
    folded = [name for name, line in nodes(dot).items() if "<B>×3</B>" in line]
    assert len(folded) == 1 and "unit" in nodes(dot)[folded[0]]
    assert sorted(e.attrs["label"] for e in between(dot, stem, folded[0])) == [" 8x32x32", " @extra 8x32x32"]
    expanded = draw(write, DEPTHS, expand_repeats=True)
    assert sum(1 for e in edges(expanded) if e.attrs.get("label") == " @extra 8x32x32") == 3
    opened = draw(write, DEPTHS, depth=1)  # one copy drawn in a `×3` frame, the tensor into its add
    assert "<B>×3</B>" in opened and sum(1 for e in edges(opened) if "@extra" in e.attrs.get("label", "")) == 1


def test_calls_that_take_different_tensors_do_not_fold(write):
    dot = draw(write, """
        block unit(c, @extra) { conv(c, 1) add { @extra | } }
        network n(input=[4, 8, 8]) { conv(4, 1) -> a  conv(4, 1) -> b  unit(4, @a) unit(4, @b) unit(4, @a) }""")
    assert "×" not in dot


# --- inputs and learnable tensors


def test_a_second_network_input_is_an_input_node(write):
    dot = draw(write, "network n(input=[3, 16, 16], @depth=[1, 16, 16]) { concat { @depth | } conv(8, 1) }")
    assert "@depth" in nodes(dot)["input_depth"] and "1x16x16" in nodes(dot)["input_depth"]
    assert [e.attrs.get("label") for e in between(dot, "input_depth", "n2")] == [" 1x16x16"]


def test_a_learnable_tensor_is_a_small_node_and_its_blocks_still_fold(write):
    text = """
        block scaled(dim) {
            param layer_scale = (dim, 1, 1) init 1e-6
            add { | mul { @layer_scale | conv(dim, 3, pad=1, groups=dim) } }
        }
        network n(input=[16, 8, 8]) { features: { scaled(16) scaled(16) scaled(16) } }"""
    assert "<B>×3</B>" in draw(write, text)
    dot = draw(write, text, depth=1)
    (param,) = [name for name, line in nodes(dot).items() if "layer_scale" in line]
    assert 'shape="note"' in nodes(dot)[param] and "16x1x1" in nodes(dot)[param]
    (used,) = [e for e in edges(dot) if e.tail == param]
    assert "label" not in used.attrs  # the node shows its shape
    assert len(draw(write, text, depth=1, expand_repeats=True).split('shape="note"')) == 4


# --- the bundled graph specs


@needs_dot
@pytest.mark.parametrize("name", ["unet", "fcn_resnet50", "deeplabv3_resnet50", "yolov8n", "inception_v3", "googlenet"])
def test_bundled_graph_specs_draw_at_each_depth(name):
    from conftest import SPECS

    net = archdsl.check(SPECS / f"{name}.arch")
    for depth in (0, 1):
        dot = to_dot(net, depth=depth)
        drawn = nodes(dot)
        for output in net.graph.outputs:
            line = drawn[f"output_{output.name}"]
            assert ("dashed" in line) == output.train_only
        assert render(dot, "svg").startswith(b"<?xml")
