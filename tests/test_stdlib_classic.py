"""Shape rules of the classic standard-library blocks (VGG, NiN, Inception, ResNet, the book's DenseNet), and of
the helper blocks the mobile and RepVGG files build on, checked statically and against torch."""

from __future__ import annotations

import pytest
import torch

import archdsl
from archdsl.ir import GroupNode, MergeNode, OpNode


def elaborate(write, call: str, input=(8, 16, 16)):
    path = write("b.arch", f"network n(input={list(input)}) {{ {call} }}")
    net = archdsl.check(path)
    model = archdsl.build(net).eval()
    with torch.no_grad():
        actual = tuple(model(torch.randn(1, *input)).shape[1:])
    assert actual == net.output.dims, "static shape and torch disagree"
    (node,) = net.graph.nodes
    return net, node


def ops(group: GroupNode) -> list[str]:
    out = []
    for n in group.graph.nodes:
        if isinstance(n, OpNode):
            out.append(n.op)
        elif isinstance(n, GroupNode):
            out.extend(ops(n))
        else:
            out.append(n.op)
    return out


@pytest.mark.parametrize("n, c, expected", [(1, 16, (16, 8, 8)), (3, 4, (4, 8, 8))])
def test_vgg_block_convolves_n_times_then_halves(write, n, c, expected):
    net, block = elaborate(write, f"vgg_block({n}, {c})")
    assert net.output.dims == expected and ops(block).count("conv") == n and ops(block)[-1] == "maxpool"


def test_nin_block_is_one_spatial_conv_and_two_1x1(write):
    net, block = elaborate(write, "nin_block(12, 3, 2, 1)")
    assert net.output.dims == (12, 8, 8)
    kernels = [n.params.kernel for n in block.graph.nodes if isinstance(n, OpNode) and n.op == "conv"]
    assert kernels == [3, 1, 1]


@pytest.mark.parametrize("call", ["inception(4, (6, 8), (2, 3), 5)", "googlenet_inception(4, (6, 8), (2, 3), 5)"])
def test_inception_concatenates_the_four_branch_widths(write, call):
    net, block = elaborate(write, call)
    assert net.output.dims == (4 + 8 + 3 + 5, 16, 16)
    assert isinstance(block.graph.nodes[-1], MergeNode) and len(block.graph.nodes[-1].inputs) == 4


def test_googlenet_inception_k3_selects_the_third_branch_kernel(write):
    _, block = elaborate(write, "googlenet_inception(4, (6, 8), (2, 3), 5, k3=5)")
    branch3 = next(n for n in block.graph.nodes if isinstance(n, GroupNode) and n.name == "branch3")
    assert [g.graph.nodes[0].params.kernel for g in branch3.graph.nodes] == [1, 5]


def test_basic_conv_is_conv_bn_relu_without_bias(write):
    net, block = elaborate(write, "basic_conv(10, 3, stride=2, pad=1)")
    assert net.output.dims == (10, 8, 8) and ops(block) == ["conv", "bn", "relu"]
    conv, bn, _ = block.graph.nodes
    assert conv.params.bias is False and bn.params.eps == 0.001


@pytest.mark.parametrize("call, out, projected", [
    ("basic(8)", (8, 16, 16), False),
    ("basic(16)", (16, 16, 16), True),
    ("basic(8, stride=2)", (8, 8, 8), True),
])
def test_basic_projects_the_shortcut_only_when_the_shape_changes(write, call, out, projected):
    net, block = elaborate(write, call)
    names = [n.name for n in block.graph.nodes if not isinstance(n, MergeNode)]
    assert net.output.dims == out and ("downsample" in names) == projected


def test_basic_stage_strides_only_its_first_block(write):
    net, stage = elaborate(write, "basic_stage(16, 3, stride=2)")
    assert net.output.dims == (16, 8, 8)
    assert [g.args["stride"] for g in stage.graph.nodes] == [2, 1, 1]


@pytest.mark.parametrize("call, out, conv3", [
    ("residual(8)", (8, 16, 16), False),
    ("residual(12, use_1x1conv=true, stride=2)", (12, 8, 8), True),
])
def test_book_residual_uses_a_bare_1x1_conv_shortcut_on_request(write, call, out, conv3):
    net, block = elaborate(write, call)
    names = [n.name for n in block.graph.nodes if isinstance(n, OpNode)]
    assert net.output.dims == out and ("conv3" in names) == conv3


def test_book_residual_refuses_a_channel_change_without_projection(write):
    with pytest.raises(archdsl.ArchError) as exc:
        elaborate(write, "residual(12)")
    assert exc.value.diagnostics[0].code == "E0201"


@pytest.mark.parametrize("call, out, strides", [
    ("resnet_block(8, 2, first_block=true)", (8, 16, 16), [1, 1]),
    ("resnet_block(16, 2)", (16, 8, 8), [2, 1]),
])
def test_resnet_block_downsamples_unless_it_is_the_first(write, call, out, strides):
    net, stage = elaborate(write, call)
    assert net.output.dims == out and [g.args["stride"] for g in stage.graph.nodes] == strides


@pytest.mark.parametrize("call, out", [("dense(2)", (8 + 2 * 32, 16, 16)), ("dense(3, growth=5)", (8 + 3 * 5, 16, 16))])
def test_dense_grows_by_growth_per_layer(write, call, out):
    net, block = elaborate(write, call)
    assert net.output.dims == out and ops(block).count("conv") == ops(block).count("concat")


def test_book_dense_block_grows_by_growth_per_layer(write):
    net, block = elaborate(write, "book_dense_block(3, 5)")
    assert net.output.dims == (8 + 3 * 5, 16, 16)


@pytest.mark.parametrize("call, out", [("book_transition()", (4, 8, 8)), ("book_transition(6)", (6, 8, 8))])
def test_book_transition_halves_resolution_and_by_default_channels(write, call, out):
    net, _ = elaborate(write, call)
    assert net.output.dims == out


@pytest.mark.parametrize("kernel, pad", [(3, 1), (1, 0)])
def test_repvgg_conv_bn_keeps_the_resolution_at_stride_1(write, kernel, pad):
    net, block = elaborate(write, f"repvgg_conv_bn(6, {kernel})")
    assert net.output.dims == (6, 16, 16) and block.graph.nodes[0].params.pad == pad


@pytest.mark.parametrize("exp, use_se, expected_ops", [
    (8, "false", ["conv", "bn", "activation", "conv", "bn"]),
    (24, "true", ["conv", "bn", "activation", "conv", "bn", "activation",
                  "gap", "conv", "activation", "conv", "activation", "mul", "conv", "bn"]),
])
def test_mobilenet_v3_layers_skip_the_expansion_when_it_keeps_the_width(write, exp, use_se, expected_ops):
    net, block = elaborate(write, f'mobilenet_v3_layers(8, {exp}, 3, 1, {use_se}, "hardswish", 0.001, 0.01)')
    assert net.output.dims == (8, 16, 16) and ops(block) == expected_ops
