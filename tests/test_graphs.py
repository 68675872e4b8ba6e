"""Graphs, not only chains (issue 12, docs/design/graphs.md): named tensors, tensor parameters, several outputs,
training-only outputs, learnable tensors and feature maps, checked statically (no torch).

Each test writes a small spec: a U-Net-like skip, a block with two outputs, auxiliary heads on a chain.
"""

from __future__ import annotations

import json

import pytest

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.ir import GroupNode, InputNode, MergeNode, Network, ParamNode, SelectNode
from archdsl.pipeline import Compilation, format_checked, read
from archdsl.render import render_text

UNET = """
block double_conv(c) { conv(c, 3, pad=1) relu conv(c, 3, pad=1) relu }

block up(c, @skip) {
    convt(c, 2, stride=2)
    concat { @skip | }
    double_conv(c)
}

network unet(classes=2, input=[1, 64, 64]) {
    down1: double_conv(16) -> s1
    maxpool(2) down2: double_conv(32) -> s2
    maxpool(2) bottom: double_conv(64)
    up2: up(32, @s2)
    up1: up(16, skip=@s1)
    head: conv(classes, 1)
}
"""

AUX = """
block aux_head(classes) { gap flatten linear(classes) }

network net(classes=10, input=[3, 32, 32]) {
    conv(16, 3, pad=1) relu -> early
    conv(32, 3, stride=2, pad=1) relu -> middle
    conv(64, 3, stride=2, pad=1) relu
    gap flatten fc: linear(classes) -> logits
    @early aux1: aux_head(classes) -> aux1
    @middle aux2: aux_head(classes) -> aux2
    return @logits, train @aux2, train @aux1
}
"""

TWO = """
block two(c) {
    conv(c, 1) -> a
    conv(2 * c, 1) -> b
    return @a, @b
}

network n(input=[3, 8, 8]) {
    two(4) -> (x, y)
    conv(8, 1)
    add { @y | }
    concat { @x | }
}
"""


def check(tmp_path, text: str, name: str = "spec.arch", **kwargs) -> Network:
    path = tmp_path / name
    path.write_text(text)
    return archdsl.check(path, **kwargs)


def failure(tmp_path, text: str, **kwargs):
    with pytest.raises(ArchError) as caught:
        check(tmp_path, text, **kwargs)
    return caught.value.diagnostics[0]


def node(graph, name: str):
    return next(n for n in graph.nodes if getattr(n, "name", None) == name)


# --- shapes and the IR ---------------------------------------------------------------------------------------

def test_unet_skips_are_extra_inputs_of_the_block_calls(tmp_path):
    net = check(tmp_path, UNET)
    assert net.output.dims == (2, 64, 64)
    up2, up1 = node(net.graph, "up2"), node(net.graph, "up1")
    assert up2.inputs == (node(net.graph, "bottom").id, node(net.graph, "down2").id)
    assert up1.inputs == (up2.id, node(net.graph, "down1").id)
    (skip,) = up1.graph.extra_inputs()
    assert isinstance(skip, InputNode) and skip.name == "skip" and skip.out.dims == (16, 64, 64)
    merge = next(n for n in up1.graph.nodes if isinstance(n, MergeNode))
    assert merge.inputs[0] == skip.id and merge.out.dims == (32, 64, 64)


def test_a_block_returning_two_tensors_is_unpacked_with_selects(tmp_path):
    net = check(tmp_path, TWO)
    call = net.graph.nodes[0]
    assert isinstance(call, GroupNode) and call.graph.output_kind == "tuple"
    assert [o.name for o in call.graph.outputs] == ["a", "b"]
    select = net.graph.nodes[1]
    assert isinstance(select, SelectNode) and select.inputs == (call.id,) and select.index == 1
    assert select.out.dims == (8, 8, 8)
    assert call.out.dims == (4, 8, 8)  # the group's own value is its first output: the chain goes on from it
    assert net.output.dims == (12, 8, 8)


def test_auxiliary_heads_are_training_only_outputs(tmp_path):
    net = check(tmp_path, AUX)
    graph = net.graph
    assert graph.output_kind == "tuple"
    assert [(o.name, o.train_only) for o in graph.outputs] == [("logits", False), ("aux2", True), ("aux1", True)]
    assert graph.output == node(graph, "fc").id and net.output.dims == (10,)
    assert net.outputs() == {name: archdsl.types.TensorType.of(10) for name in ("logits", "aux2", "aux1")}
    assert graph.train_only_nodes() == {node(graph, "aux1").id, node(graph, "aux2").id}
    aux_params = node(graph, "aux1").param_count + node(graph, "aux2").param_count
    assert net.param_count == sum(getattr(n, "param_count", 0) for n in graph.nodes) and aux_params > 0


def test_a_dict_of_outputs(tmp_path):
    net = check(tmp_path, """
network seg(input=[3, 32, 32]) {
    conv(8, 3, pad=1) -> features
    conv(4, 1) -> out
    @features conv(4, 1) -> aux
    return {out: @out, aux: @aux}
}""")
    assert net.graph.output_kind == "dict"
    assert [(o.name, o.train_only) for o in net.graph.outputs] == [("out", False), ("aux", False)]


def test_a_single_output_return_is_the_tensor(tmp_path):
    net = check(tmp_path, "network n(input=[3, 8, 8]) { conv(4, 1) -> a  conv(8, 1)  return @a }")
    assert net.output.dims == (4, 8, 8) and net.graph.outputs == () and net.graph.output == 1


def test_a_name_made_inside_a_group_is_exported_when_used_after_it(tmp_path):
    net = check(tmp_path, """
network n(input=[3, 32, 32]) {
    backbone: { conv(8, 3, pad=1) layer3: conv(16, 3, stride=2, pad=1) -> c4  layer4: conv(32, 3, pad=1) }
    classifier: conv(2, 1)
    @c4 aux_classifier: conv(2, 1)
    return {out: @classifier, aux: @aux}
}""".replace("@classifier", "@out").replace("conv(2, 1)\n    @c4", "conv(2, 1) -> out\n    @c4").replace(
        "aux_classifier: conv(2, 1)", "aux_classifier: conv(2, 1) -> aux"))
    backbone = node(net.graph, "backbone")
    assert [o.name for o in backbone.graph.outputs] == ["", "c4"]
    select = next(n for n in net.graph.nodes if isinstance(n, SelectNode))
    assert select.inputs == (backbone.id,) and select.index == 1 and select.out.dims == (16, 16, 16)
    assert node(net.graph, "aux_classifier").inputs == (select.id,)


def test_a_name_of_the_body_is_captured_by_a_group_that_uses_it(tmp_path):
    net = check(tmp_path, """
network n(input=[3, 16, 16]) {
    stem: conv(8, 3, pad=1) -> stem
    layer1: { conv(8, 3, pad=1) inner: { conv(8, 1) add { @stem | } } }
}""")
    layer1 = node(net.graph, "layer1")
    assert layer1.inputs == (node(net.graph, "stem").id, node(net.graph, "stem").id)
    (outer,) = layer1.graph.extra_inputs()
    inner = node(layer1.graph, "inner")
    assert inner.inputs[1] == outer.id
    (captured,) = inner.graph.extra_inputs()
    assert captured.name == "stem" and captured.out.dims == (8, 16, 16)


def test_a_loop_rebinds_its_name_each_turn(tmp_path):
    net = check(tmp_path, """
network n(input=[3, 32, 32]) {
    repeat 3 { conv(8, 3, stride=2, pad=1) -> last }
    @last conv(4, 1)
    @input conv(4, 1)
}""")
    convs = [n for n in net.graph.nodes if n.op == "conv"]
    assert convs[3].inputs == (convs[2].id,) and convs[3].out.dims == (4, 4, 4)
    assert convs[4].inputs == (0,) and net.output.dims == (4, 32, 32)


def test_input_in_a_block_is_the_block_input_and_shapes_read_named_tensors(tmp_path):
    net = check(tmp_path, """
block res(c) { conv(c, 3, pad=1) -> y  add { @input | @y } }
network n(input=[8, 8, 8]) { conv(8, 1) -> a  res(8)  conv(@a.c * 2, 1)  linear_like: conv(in.c + @input.c, 1) }""")
    assert net.output.dims == (24, 8, 8)
    res = node(net.graph, "1")
    assert res.graph.nodes[-1].inputs == (0, 1)


def test_a_learnable_tensor_is_a_param_node_of_its_module(tmp_path):
    net = check(tmp_path, """
block scaled(dim) {
    param layer_scale = (dim, 1, 1) init 1e-6
    mul { @layer_scale | block: { conv(dim, 3, pad=1, groups=dim) } }
}
network n(input=[16, 8, 8]) { features: scaled(16) }""")
    features = node(net.graph, "features")
    scale = features.graph.nodes[0]
    assert isinstance(scale, ParamNode) and scale.name == "layer_scale" and scale.init == 1e-6
    assert scale.out.dims == (16, 1, 1) and scale.param_count == 16 and scale.inputs == ()
    assert features.param_count == 16 + node(features.graph, "block").param_count
    assert net.output.dims == (16, 8, 8)


def test_a_network_with_a_second_input(tmp_path):
    net = check(tmp_path, "network n(input=[3, 32, 32], @depth=[1, 32, 32]) { concat { @depth | } conv(8, 1) }")
    (depth,) = net.graph.extra_inputs()
    assert depth.name == "depth" and depth.out.dims == (1, 32, 32) and net.output.dims == (8, 32, 32)


def test_the_ir_of_a_graph_reads_back_from_json(tmp_path):
    for text in (UNET, AUX, TWO):
        net = check(tmp_path, text)
        again = Network.model_validate_json(net.model_dump_json())
        assert again.model_dump(mode="json") == net.model_dump(mode="json")
    assert "outputs" in json.loads(check(tmp_path, AUX).model_dump_json())["graph"]
    assert "outputs" not in json.loads(check(tmp_path, UNET).model_dump_json())["graph"]


# --- feature maps ----------------------------------------------------------------------------------------------

def test_features_by_label_path_and_name_without_torch(tmp_path):
    net = check(tmp_path, AUX.replace("return @logits, train @aux2, train @aux1", ""),
                features=["@early", "@middle", "aux1.1"])
    assert net.graph.output_kind == "list"
    assert [(f.name, f.channels, f.reduction) for f in net.feature_info] == [
        ("@early", 16, 1), ("@middle", 32, 2), ("aux1.1", 16, None)]
    resnet = archdsl.check("specs/resnet18.arch", features=["layer1", "layer2.1", "layer3.0.conv1"])
    assert [(f.channels, f.reduction) for f in resnet.feature_info] == [(64, 4), (128, 8), (256, 16)]
    assert archdsl.check("specs/resnet18.arch").feature_info == ()


def test_an_unknown_feature_is_named(tmp_path):
    with pytest.raises(ArchError) as caught:
        archdsl.check("specs/resnet18.arch", features=["layer9"])
    problem = caught.value.diagnostics[0]
    assert problem.code == "E0121" and "layer9" in problem.message and "did you mean" in (problem.help or "")


# --- errors ----------------------------------------------------------------------------------------------------

#: each case: the spec, the code, and the text the error points at (its last occurrence in the spec)
ERRORS = [
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  conv(4, 1) -> a }", "E0120", "a }"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  add { @b | } }", "E0121", "@b"),
    ("network n(input=[3, 8, 8]) { add { @a | } conv(4, 1) -> a }", "E0122", "@a"),
    ("network n(input=[3, 8, 8]) { if false { conv(3, 1) -> a } add { @a | } }", "E0122", "@a"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  conv(@a) }", "E0123", "@a"),
    ("block b(@t) { add { @t | } }\nnetwork n(input=[3, 8, 8]) { b(t=3) }", "E0123", "3)"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  add { return @a | } }", "E0124", "return"),
    ("block b() { conv(4, 1) -> a  return @input, train @a }\nnetwork n(input=[3, 8, 8]) { b() }", "E0124",
     "train"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  return train @a }", "E0124", "return"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> (a, b) }", "E0125", "a, b"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> a  return {x: @a, x: @input} }", "E0125", "x: @input"),
    ("network n(input=[3, 8, 8]) { param p = (4, 1) init 1.0  mul { @p | } }", "E0126", "(4, 1)"),
    ("network n(input=[3, 8, 8]) { param p = 3 init true }", "E0126", "true"),
    ("network n(input=[3, 8, 8]) { p: conv(3, 1)  param p = 3  mul { @p | } }", "E0110", "p = 3"),
    ("block b(c, @t) { add { @t | } }\nnetwork n(input=[3, 8, 8]) { b(3) }", "E0105", "b(3)"),
    ("network n(input=[3, 8, 8]) { conv(4, 1) -> input }", "E0120", "input }"),
]


@pytest.mark.parametrize("text, code, at", ERRORS)
def test_graph_errors(tmp_path, text, code, at):
    problem = failure(tmp_path, text)
    assert problem.code == code, render_text([problem])
    offset = text.rindex(at)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert (problem.span.line, problem.span.col) == (line, col), render_text([problem])


def test_used_before_made_names_both_places(tmp_path):
    problem = failure(tmp_path, "network n(input=[3, 8, 8]) {\n    add { @a | }\n    conv(3, 1) -> a\n}")
    assert (problem.span.line, problem.span.col) == (2, 11)
    assert [(label.span.line, label.span.col) for label in problem.secondary] == [(3, 19)]


def test_a_merge_of_named_tensors_names_their_producers(tmp_path):
    problem = failure(tmp_path, UNET.replace("up1: up(16, skip=@s1)", "up1: up(16, skip=@s2)"))
    assert problem.code == "E0202" and "`@skip`" in problem.message
    # inside the block: where the argument was made, in the caller, and where `skip` came in
    assert any("`@skip` is made here" == label.message for label in problem.secondary)
    assert any(label.span.line == 12 for label in problem.secondary)  # `maxpool(2) down2: ... -> s2`


# --- the formatter --------------------------------------------------------------------------------------------

def test_fmt_prints_the_graph_forms_and_keeps_their_meaning(tmp_path):
    text = (UNET + AUX.replace("network net", "network net2") + TWO.replace("network n(", "network n3(")
            + "network p(input=[3, 8, 8], @d=[1, 8, 8]) {\n    param s = (3, 1, 1) init 0.5\n"
              "    mul { @s | } -> y\n    return {out: @y, d: train @d}\n}\n")
    path = tmp_path / "all.arch"
    path.write_text(text)
    c = Compilation(path)
    formatted = format_checked(c, read(c))
    for form in ("-> s1", "block up(c, @skip)", "up(16, skip=@s1)", "return @logits, train @aux2, train @aux1",
                 "two(4) -> (x, y)", "param s = (3, 1, 1) init 0.5", "return {out: @y, d: train @d}", "@d=[1, 8, 8]",
                 "@early aux1: aux_head(classes) -> aux1"):
        assert form in formatted, form


def test_a_param_without_init_starts_at_zero(tmp_path):
    net = check(tmp_path, "network n(input=[3, 8, 8]) { param bias = (3, 8, 8)  add { @bias | } }")
    assert net.graph.nodes[0].init == 0.0 and net.output.dims == (3, 8, 8)


# --- check and summary ------------------------------------------------------------------------------------------

def test_summary_has_a_row_per_output(tmp_path):
    from archdsl.summary import summarize

    s = summarize(check(tmp_path, AUX))
    assert s.output_kind == "tuple"
    assert [(r.name, r.output, r.train_only) for r in s.outputs] == [
        ("logits", (10,), False), ("aux2", (10,), True), ("aux1", (10,), True)]
    logits, aux2, aux1 = s.outputs
    assert aux1.macs < aux2.macs < logits.macs == s.macs  # the totals count what eval mode runs: no aux head
    assert check(tmp_path, AUX).macs == s.macs and s.params == check(tmp_path, AUX).param_count
    assert s.to_json()["outputs"]["kind"] == "tuple"
    assert "outputs" not in summarize(archdsl.check("specs/resnet18.arch")).to_json()


def test_a_learnable_tensor_is_a_summary_row_and_not_an_activation(tmp_path):
    from archdsl.summary import summarize

    s = summarize(check(tmp_path, "network n(input=[3, 8, 8]) { param s = (3, 1, 1) init 1.0  mul { @s | } }"))
    assert [(r.name, r.kind, r.params) for r in s.rows] == [("s", "param", 3), ("", "merge", 0)]
    assert s.activation_elements == 3 * 8 * 8


def test_check_prints_each_output(tmp_path):
    from archdsl.cli.check import check_file

    (tmp_path / "aux.arch").write_text(AUX)
    problems, lines = check_file(tmp_path / "aux.arch", {})
    assert not problems and "-> (logits 10, aux2 10 train, aux1 10 train)" in lines[0]


# --- the documentation's examples -------------------------------------------------------------------------------

def _graph_examples() -> list[str]:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text()
    section = text[text.index("## Graphs"):]
    section = section[:section.index("\n## ", 1)]
    return [block.split("\n", 1)[1] for block in section.split("```arch")[1:] for block in [block.split("```")[0]]]


@pytest.mark.parametrize("example", _graph_examples())
def test_the_graph_examples_of_the_docs_check(tmp_path, example):
    path = tmp_path / "example.arch"
    path.write_text(example)
    c = archdsl.pipeline.load(path)
    for definition in c.scope.module.networks:
        net = archdsl.pipeline.elaborate(c, {}, definition)
        assert net.param_count > 0
    c2 = Compilation(path)
    assert format_checked(c2, read(c2))  # and the formatter keeps their meaning


def test_the_aux_example_returns_logits_alone_without_aux(tmp_path):
    example = next(e for e in _graph_examples() if "aux_net" in e)
    (tmp_path / "aux.arch").write_text(example)
    with_aux = archdsl.check(tmp_path / "aux.arch", "aux_net")
    without = archdsl.check(tmp_path / "aux.arch", "aux_net", aux=False)
    assert [o.name for o in with_aux.graph.outputs] == ["logits", "aux2", "aux1"]
    assert without.graph.outputs == () and without.output.dims == (10,)
    assert without.param_count == with_aux.param_count - 2 * (16 * 10 + 10)  # no aux head


def test_summary_of_feature_maps_on_the_command_line():
    from click.testing import CliRunner

    from archdsl.cli import main

    result = CliRunner().invoke(main, ["summary", "specs/resnet18.arch", "--features", "layer2,layer4", "--format",
                                       "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(f["name"], f["channels"], f["reduction"]) for f in data["features"]] == [
        ("layer2", 128, 8), ("layer4", 512, 32)]
    assert data["outputs"]["kind"] == "list"
