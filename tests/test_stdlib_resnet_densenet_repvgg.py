"""Shape rules of the stdlib's bottleneck (ResNet/ResNeXt), DenseNet-BC and RepVGG blocks: static shapes agree
with torch, projection and identity branches appear exactly when the papers' rules say."""

from __future__ import annotations

import pytest
import torch

import archdsl
from archdsl.ir import GroupNode


def _call(write, call: str, input: list[int]):
    """Elaborate `b: CALL` on `input`; return the block's group node and its torch module."""
    path = write("block.arch", f"network t(input={input}) {{ b: {call} }}")
    net = archdsl.check(path)
    (node,) = [n for n in net.graph.nodes if isinstance(n, GroupNode)]
    module = archdsl.build(net).b.eval()
    with torch.no_grad():
        y = module(torch.randn(2, *input))
    assert tuple(y.shape[1:]) == node.out.dims, "static shape differs from torch's"
    return node, module


def _children(node: GroupNode) -> list[str]:
    return [n.name for n in node.graph.nodes if isinstance(n, GroupNode)]


def _shapes(module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


# --- bottleneck (ResNet-50 / ResNeXt)

@pytest.mark.parametrize("call, input, out, projected", [
    ("bottleneck(16)", [64, 8, 8], (64, 8, 8), False),              # in.c == 4c, stride 1: identity shortcut
    ("bottleneck(16)", [32, 8, 8], (64, 8, 8), True),               # width changes
    ("bottleneck(16, stride=2)", [64, 8, 8], (64, 4, 4), True),     # resolution changes
    ("bottleneck(16, stride=2)", [64, 7, 7], (64, 4, 4), True),     # odd size: 3x3 pad 1 and 1x1 agree
    ("bottleneck(16, expansion=1)", [16, 5, 5], (16, 5, 5), False),
])
def test_bottleneck_shapes_and_projection(write, call, input, out, projected):
    node, module = _call(write, call, input)
    assert node.out.dims == out
    assert ("downsample" in _children(node)) == projected
    assert any(k.startswith("downsample.") for k in module.state_dict()) == projected


def test_bottleneck_torchvision_layout_stride_on_the_3x3(write):
    _, module = _call(write, "bottleneck(16, stride=2)", [32, 8, 8])
    assert list(module.state_dict())[:2] == ["conv1.weight", "bn1.weight"]
    assert module.conv1.stride == (1, 1) and module.conv2.stride == (2, 2)
    assert _shapes(module)["downsample.0.weight"] == (64, 32, 1, 1) and module.get_submodule("downsample.0").stride == (2, 2)


def test_resnext_grouped_width(write):
    # width = int(c * width_per_group / 64) * groups = 16 * 8 // 64 * 4 = 8, in 4 groups of 2
    _, module = _call(write, "bottleneck(16, groups=4, width_per_group=8)", [64, 8, 8])
    shapes = _shapes(module)
    assert shapes["conv1.weight"] == (8, 64, 1, 1)
    assert shapes["conv2.weight"] == (8, 2, 3, 3) and module.conv2.groups == 4
    assert shapes["conv3.weight"] == (64, 8, 1, 1)


def test_bottleneck_stage_projects_only_in_its_first_block(write):
    node, _ = _call(write, "bottleneck_stage(16, 3, stride=2)", [32, 8, 8])
    assert node.out.dims == (64, 4, 4)
    blocks = [n for n in node.graph.nodes if isinstance(n, GroupNode)]
    assert [("downsample" in _children(b)) for b in blocks] == [True, False, False]


# --- DenseNet-BC

def test_dense_layer_returns_only_its_new_channels(write):
    node, module = _call(write, "dense_layer(8)", [16, 6, 6])
    assert node.out.dims == (8, 6, 6)
    shapes = _shapes(module)
    assert shapes["conv1.weight"] == (32, 16, 1, 1) and shapes["conv2.weight"] == (8, 32, 3, 3)
    assert list(module.state_dict())[0] == "norm1.weight"


@pytest.mark.parametrize("n, growth, bn_size, input", [(3, 8, 4, [16, 6, 6]), (2, 4, 2, [5, 3, 3])])
def test_dense_block_grows_by_n_times_growth_keeping_its_input_first(write, n, growth, bn_size, input):
    path = write("block.arch", f"network t(input={input}) {{ b: dense_block({n}, {growth}, {bn_size}) }}")
    net = archdsl.check(path)
    assert net.output.dims == (input[0] + n * growth, *input[1:])
    model = archdsl.build(net).eval()
    x = torch.randn(2, *input)
    with torch.no_grad():
        y = model(x)
    assert y.shape[1:] == net.output.dims
    assert torch.equal(y[:, :input[0]], x)  # torchvision's order: the block input, then each layer's features
    # torchvision names the layers `denselayer1`, `denselayer2`, ...
    assert _shapes(model)[f"b.denselayer{n}.conv1.weight"] == (bn_size * growth, input[0] + (n - 1) * growth, 1, 1)


@pytest.mark.parametrize("input, c, out", [([16, 8, 8], 8, (8, 4, 4)), ([10, 9, 9], 5, (5, 4, 4))])
def test_transition_compresses_and_halves_resolution(write, input, c, out):
    node, module = _call(write, f"transition({c})", input)
    assert node.out.dims == out
    assert list(_shapes(module)) == ["norm.weight", "norm.bias", "norm.running_mean", "norm.running_var",
                                     "norm.num_batches_tracked", "conv.weight"]


# --- RepVGG

@pytest.mark.parametrize("call, input, out, identity", [
    ("repvgg_block(16)", [16, 8, 8], (16, 8, 8), True),             # stride 1, same width: BN identity branch
    ("repvgg_block(16, stride=2)", [16, 8, 8], (16, 4, 4), False),
    ("repvgg_block(32)", [16, 8, 8], (32, 8, 8), False),
    ("repvgg_block(8, stride=2)", [3, 7, 7], (8, 4, 4), False),     # odd size: 3x3 pad 1 and 1x1 agree
])
def test_repvgg_identity_branch_only_when_shape_is_kept(write, call, input, out, identity):
    node, module = _call(write, call, input)
    assert node.out.dims == out
    assert ("identity" in [n.name for n in node.graph.nodes if hasattr(n, "name")]) == identity
    keys = list(module.state_dict())
    # timm's RepVggBlock order: identity (BN only), then conv_kxk, then conv_1x1
    expected = (["identity"] if identity else []) + ["conv_kxk", "conv_1x1"]
    assert list(dict.fromkeys(k.split(".")[0] for k in keys)) == expected
    shapes = _shapes(module)
    assert shapes["conv_kxk.conv.weight"] == (out[0], input[0], 3, 3)
    assert shapes["conv_1x1.conv.weight"] == (out[0], input[0], 1, 1)


def test_repvgg_block_sums_its_branches_then_relu(write):
    _, module = _call(write, "repvgg_block(4)", [4, 5, 5])
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        expected = torch.relu(module.identity(x) + module.conv_kxk(x) + module.conv_1x1(x))
        torch.testing.assert_close(module(x), expected)


def test_repvgg_stage_identity_after_its_first_block(write):
    node, _ = _call(write, "repvgg_stage(32, 3)", [16, 8, 8])
    assert node.out.dims == (32, 4, 4)
    blocks = [n for n in node.graph.nodes if isinstance(n, GroupNode)]
    assert [any(getattr(n, "name", "") == "identity" for n in b.graph.nodes) for b in blocks] == [False, True, True]
