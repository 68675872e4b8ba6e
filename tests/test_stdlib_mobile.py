"""Shape rules of the mobile-family standard-library blocks (archdsl/stdlib/{conv_norm_act, squeeze_excitation,
mobilenet, shufflenet, efficientnet}.arch): output shapes, when the shortcut appears, the SE gate's shape, and
the channel arithmetic each paper (and torchvision) prescribes."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.passes.evaluate import make_divisible
from archdsl.ir import GroupNode, MergeNode, OpNode

from conftest import named_ops


def call(write, text: str, input: list[int]) -> GroupNode:
    """Elaborate one block call on an input of shape `input` and return its group."""
    net = archdsl.check(write("n.arch", f"network n(input={input}) {{ {text} }}"))
    (group,) = net.graph.nodes
    return group


def ops(group: GroupNode) -> dict[str, OpNode]:
    """Every primitive inside `group`, by its state_dict-style path."""
    return dict(named_ops(group.graph))


def merges(group: GroupNode) -> list[MergeNode]:
    return [n for n in group.graph.nodes if isinstance(n, MergeNode)]


def child(group: GroupNode, name: str) -> GroupNode:
    return next(n for n in group.graph.nodes if isinstance(n, GroupNode) and n.name == name)


# --- conv_norm_act -----------------------------------------------------------------------------

def test_conv_norm_act_pads_to_keep_size_and_names_conv_bn_act_0_1_2(write):
    block = call(write, 'conv_norm_act(32, 3, stride=2, act="hardswish", eps=0.001)', [16, 15, 15])
    assert block.out.dims == (32, 8, 8)
    layers = ops(block)
    assert list(layers) == ["0", "1", "2"]
    assert layers["0"].params.pad == 1 and layers["0"].params.bias is False
    assert layers["1"].params.eps == 0.001 and layers["2"].params.kind == "hardswish"


def test_conv_norm_act_without_activation_is_conv_and_bn(write):
    block = call(write, 'conv_norm_act(8, 5, groups=4, act="none")', [4, 9, 9])
    assert block.out.dims == (8, 9, 9)
    assert [n.op for n in ops(block).values()] == ["conv", "bn"]
    assert ops(block)["0"].params.pad == 2 and ops(block)["0"].params.groups == 4


# --- se ----------------------------------------------------------------------------------------

def test_se_gate_is_cx1x1_and_scales_the_input(write):
    block = call(write, 'se(4, act="silu", gate="sigmoid")', [16, 7, 7])
    assert block.out.dims == (16, 7, 7)
    (mul,) = merges(block)
    gate, identity = mul.inputs
    assert identity == 0 and mul.op == "mul"
    assert block.graph.nodes[gate - 1].out.dims == (16, 1, 1)
    layers = ops(block)
    assert list(layers) == ["avgpool", "fc1", "activation", "fc2", "scale_activation"]
    assert layers["fc1"].out.dims == (4, 1, 1) and layers["fc2"].out.dims == (16, 1, 1)
    assert (layers["activation"].params.kind, layers["scale_activation"].params.kind) == ("silu", "sigmoid")
    assert block.param_count == (16 * 4 + 4) + (4 * 16 + 16)


# --- MobileNet v1 ------------------------------------------------------------------------------

def test_depthwise_separable_is_depthwise_then_pointwise(write):
    block = call(write, "depthwise_separable(64, stride=2)", [32, 16, 16])
    assert block.out.dims == (64, 8, 8)
    layers = ops(block)
    assert layers["depthwise.0"].params.groups == 32 and layers["depthwise.0"].out.dims == (32, 8, 8)
    assert layers["pointwise.0"].params.kernel == 1 and layers["pointwise.0"].out.dims == (64, 8, 8)
    assert block.param_count == 32 * 9 + 2 * 32 + 32 * 64 + 2 * 64


# --- MobileNet v2 ------------------------------------------------------------------------------

@pytest.mark.parametrize("channels, c, stride, t, shortcut", [
    (16, 16, 1, 6, True),    # same shape: x + F(x)
    (16, 24, 1, 6, False),   # channels change
    (16, 16, 2, 6, False),   # resolution changes
    (32, 16, 1, 1, False),   # t = 1: no expansion conv
])
def test_inverted_residual_shortcut_and_expansion(write, channels, c, stride, t, shortcut):
    block = call(write, f"inverted_residual({c}, stride={stride}, t={t})", [channels, 8, 8])
    assert block.out.dims == (c, 8 // stride, 8 // stride)
    assert [m.op for m in merges(block)] == (["add"] if shortcut else [])
    body = child(block, "conv")
    assert body.block == "inverted_residual_layers"
    layers = ops(body)
    hidden = channels * t
    if t == 1:
        assert list(layers)[:3] == ["0.0", "0.1", "0.2"] and layers["0.0"].params.groups == channels
        assert list(layers)[-2:] == ["1", "2"]
    else:
        assert layers["0.0"].out.c == hidden and layers["1.0"].params.groups == hidden
        assert list(layers)[-2:] == ["2", "3"]
    projection = list(layers.values())[-2:]
    assert [n.op for n in projection] == ["conv", "bn"]  # linear bottleneck: no activation after it
    assert all(n.params.kind == "relu6" for n in layers.values() if n.op == "activation")


# --- MobileNet v3 ------------------------------------------------------------------------------

@pytest.mark.parametrize("channels, c, exp, stride, use_se, shortcut", [
    (16, 16, 16, 2, True, False),     # exp == in.c: no expansion; SE; stride 2
    (40, 40, 240, 1, True, True),     # shortcut
    (24, 40, 96, 1, False, False),    # channels change
])
def test_mobilenet_v3_block(write, channels, c, exp, stride, use_se, shortcut):
    text = f'mobilenet_v3_block({c}, {exp}, 5, stride={stride}, use_se={str(use_se).lower()}, act="hardswish")'
    block = call(write, text, [channels, 14, 14])
    size = 14 // stride
    assert block.out.dims == (c, size, size)
    assert [m.op for m in merges(block)] == (["add"] if shortcut else [])
    body = child(block, "block")
    parts = [n.block for n in body.graph.nodes]
    expected = (["conv_norm_act"] if exp != channels else []) + ["conv_norm_act"] + (["se"] if use_se else [])
    assert parts == expected + ["conv_norm_act"]
    layers = ops(body)
    depthwise = [n for n in layers.values() if n.op == "conv" and n.params.groups == exp]
    assert len(depthwise) == 1 and depthwise[0].params.kernel == 5 and depthwise[0].params.pad == 2
    if use_se:
        fc1 = next(n for path, n in layers.items() if path.endswith("fc1"))
        assert fc1.out.dims == (make_divisible(exp // 4, 8), 1, 1)
        gate = next(n for path, n in layers.items() if path.endswith("scale_activation"))
        assert gate.params.kind == "hardsigmoid"
    assert all(n.params.eps == 0.001 and n.params.momentum == 0.01 for n in layers.values() if n.op == "bn")


# --- ShuffleNet v1 -----------------------------------------------------------------------------

def test_shufflenet_v1_unit_stride_1_adds_the_input(write):
    block = call(write, "shufflenet_v1_unit(240, groups=3)", [240, 28, 28])
    assert block.out.dims == (240, 28, 28)
    assert [m.op for m in merges(block)] == ["add"]
    layers = ops(block)
    convs = [n for n in layers.values() if n.op == "conv"]
    assert [(n.out.c, n.params.groups) for n in convs] == [(60, 3), (60, 60), (240, 3)]
    assert [n.op for n in layers.values()][3] == "channel_shuffle"
    assert list(layers.values())[-1].op == "relu"


def test_shufflenet_v1_unit_stride_2_concatenates_an_average_pooled_shortcut(write):
    block = call(write, "shufflenet_v1_unit(480, groups=3, stride=2)", [240, 28, 28])
    assert block.out.dims == (480, 14, 14)
    (concat,) = merges(block)
    shortcut, main = (block.graph.nodes[i - 1] for i in concat.inputs)
    assert shortcut.op == "avgpool" and shortcut.out.dims == (240, 14, 14)
    assert main.block == "shufflenet_v1_main" and main.out.dims == (240, 14, 14)
    first = ops(main)["0"]
    assert first.out.c == 120 and first.params.groups == 3  # bottleneck: a quarter of the unit's output


def test_shufflenet_v1_stage_keeps_the_first_pointwise_conv_of_the_network_ungrouped(write):
    block = call(write, "shufflenet_v1_stage(240, 4, groups=3, first_groups=1)", [24, 56, 56])
    assert block.out.dims == (240, 28, 28)
    units = [n for n in block.graph.nodes if isinstance(n, GroupNode)]
    assert [u.block for u in units] == ["shufflenet_v1_unit"] * 4
    first_convs = [next(n for n in ops(u).values() if n.op == "conv") for u in units]
    assert [n.params.groups for n in first_convs] == [1, 3, 3, 3]
    assert ops(units[0])["1.6"].out.c == 240 - 24  # the main branch tops up the pooled 24 channels


# --- ShuffleNet v2 -----------------------------------------------------------------------------

def test_shufflenet_v2_unit_stride_1_splits_channels_in_halves(write):
    block = call(write, "shufflenet_v2_unit(116)", [116, 28, 28])
    assert block.out.dims == (116, 28, 28)
    (concat,) = merges(block)
    layers = ops(block)
    slices = [n for n in layers.values() if n.op == "slice"]
    assert [(n.params.start, n.params.stop) for n in slices] == [(0, 58), (58, 116)]
    assert {n.out.c for path, n in layers.items() if path.startswith("branch2.") and n.op == "conv"} == {58}
    assert "branch1.0" not in layers
    assert list(layers.values())[-1].op == "channel_shuffle" and list(layers.values())[-1].params.groups == 2


def test_shufflenet_v2_unit_stride_2_has_two_branches_on_the_whole_input(write):
    block = call(write, "shufflenet_v2_unit(116, stride=2)", [24, 56, 56])
    assert block.out.dims == (116, 28, 28)
    layers = ops(block)
    assert layers["branch1.0"].params.groups == 24 and layers["branch1.0"].out.dims == (24, 28, 28)
    assert layers["branch1.2"].out.dims == (58, 28, 28)
    assert layers["branch2.0"].out.dims == (58, 56, 56) and layers["branch2.3"].out.dims == (58, 28, 28)
    assert not any(n.op == "slice" for n in layers.values())


def test_shufflenet_v2_stage_downsamples_once(write):
    block = call(write, "shufflenet_v2_stage(232, 8)", [116, 28, 28])
    assert block.out.dims == (232, 14, 14)
    units = [n for n in block.graph.nodes if isinstance(n, GroupNode)]
    assert [u.args["stride"] for u in units] == [2] + [1] * 7
    assert all(n.block == "shufflenet_v2_branch" for u in units for n in u.graph.nodes
               if isinstance(n, GroupNode) and n.name == "branch2")


# --- EfficientNet ------------------------------------------------------------------------------

@pytest.mark.parametrize("channels, c, expand, stride, shortcut", [
    (40, 40, 6, 1, True),
    (40, 80, 6, 2, False),
    (32, 16, 1, 1, False),   # expand 1: no expansion conv
])
def test_mbconv(write, channels, c, expand, stride, shortcut):
    block = call(write, f"mbconv({c}, {expand}, 5, stride={stride}, drop=0.1)", [channels, 14, 14])
    size = 14 // stride
    assert block.out.dims == (c, size, size)
    assert [m.op for m in merges(block)] == (["add"] if shortcut else [])
    layers = ops(block)
    assert ("stochastic_depth" in layers) == shortcut
    if shortcut:
        assert layers["stochastic_depth"].params.p == 0.1
    body = child(block, "block")
    assert body.block == "mbconv_layers"
    hidden = make_divisible(channels * expand, 8)
    assert [n.block for n in body.graph.nodes] == (["conv_norm_act"] if expand != 1 else []) + \
        ["conv_norm_act", "se", "conv_norm_act"]
    depthwise = next(n for n in ops(body).values() if n.op == "conv" and n.params.groups > 1)
    assert depthwise.params.groups == hidden and depthwise.params.kernel == 5
    squeeze = next(n for p, n in ops(body).items() if p.endswith("fc1"))
    assert squeeze.out.c == max(1, channels // 4)  # of the block's input, as torchvision
    assert {n.params.kind for n in ops(body).values() if n.op == "activation"} == {"silu", "sigmoid"}


@pytest.mark.parametrize("channels, c, expand, stride, shortcut, convs", [
    (24, 24, 1, 1, True, [(24, 3, 1)]),                     # no expansion: one 3x3 conv straight to c
    (24, 48, 4, 2, False, [(96, 3, 2), (48, 1, 1)]),        # 3x3 expansion (with the stride), 1x1 projection
    (48, 48, 4, 1, True, [(192, 3, 1), (48, 1, 1)]),
])
def test_fused_mbconv(write, channels, c, expand, stride, shortcut, convs):
    block = call(write, f"fused_mbconv({c}, {expand}, 3, stride={stride})", [channels, 16, 16])
    assert block.out.dims == (c, 16 // stride, 16 // stride)
    assert [m.op for m in merges(block)] == (["add"] if shortcut else [])
    assert ("stochastic_depth" in ops(block)) == shortcut
    body = child(block, "block")
    assert body.block == "fused_mbconv_layers"
    found = [(n.out.c, n.params.kernel, n.params.stride) for n in ops(body).values() if n.op == "conv"]
    assert found == convs
    assert not any(n.op == "conv" and n.params.groups > 1 for n in ops(body).values())  # no depthwise conv
