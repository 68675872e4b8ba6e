"""Shape rules of the stdlib's segmentation blocks (segmentation.arch: resnet_trunk, fcn_head, aspp_conv, aspp,
deeplab_head; unet.arch: double_conv, unet_down, unet_up): static shapes agree with torch, on small inputs, and
the layouts are torchvision's (and the padded U-Net's)."""

from __future__ import annotations

import pytest
import torch

import archdsl
from archdsl.ir import GroupNode


def _run(write, body: str, input: list[int], run_at: list[int] | None = None):
    """Elaborate `network t(input) { body }` and run it at `run_at` (default: the input); return both."""
    net = archdsl.check(write("t.arch", f"network t(input={input}) {{\n{body}\n}}"))
    model = archdsl.build(net).eval()
    with torch.no_grad():
        out = model(torch.randn(2, *(run_at or input)))
    return net, model, out


def _block(net, label="b") -> GroupNode:
    return next(n for n in net.graph.nodes if isinstance(n, GroupNode) and n.name == label)


@pytest.mark.parametrize("replace, out, aux", [
    ([False, True, True], (2048, 8, 8), (1024, 8, 8)),      # output stride 8, as the segmentation models
    ([False, False, True], (2048, 4, 4), (1024, 4, 4)),     # output stride 16
    ([False, False, False], (2048, 2, 2), (1024, 4, 4)),    # the classification ResNet's strides
])
def test_resnet_trunk_returns_layer4_and_layer3(write, replace, out, aux):
    flags = str(replace).lower()
    net, model, result = _run(write, f"b: resnet_trunk([1, 1, 1, 1], replace_stride_with_dilation={flags}) -> (c5, c4)\n"
                                     "return {out: @c5, aux: @c4}", [3, 64, 64])
    assert {k: t.dims for k, t in net.outputs().items()} == {"out": out, "aux": aux}
    assert {k: tuple(v.shape[1:]) for k, v in result.items()} == {"out": out, "aux": aux}
    assert not any(k.startswith(("b.fc", "b.avgpool")) for k in model.state_dict())


def test_resnet_trunk_first_block_of_a_dilated_stage_keeps_the_previous_dilation(write):
    _, model, _ = _run(write, "b: resnet_trunk([1, 2, 2, 2]) -> (c5, c4)\nreturn @c5, @c4", [3, 32, 32])
    dilation = {name: m.dilation[0] for name, m in model.b.named_modules() if name.endswith("conv2")}
    assert dilation == {"layer1.0.conv2": 1, "layer2.0.conv2": 1, "layer2.1.conv2": 1, "layer3.0.conv2": 1,
                        "layer3.1.conv2": 2, "layer4.0.conv2": 2, "layer4.1.conv2": 4}
    assert all(m.padding == m.dilation for name, m in model.b.named_modules() if name.endswith("conv2"))


def test_fcn_head_layout(write):
    net, model, out = _run(write, "b: fcn_head(5)", [64, 9, 9])
    assert _block(net).out.dims == tuple(out.shape[1:]) == (5, 9, 9)
    assert {k: tuple(v.shape) for k, v in model.b.state_dict().items() if not k.endswith("tracked")} == {
        "0.weight": (16, 64, 3, 3), "1.weight": (16,), "1.bias": (16,), "1.running_mean": (16,),
        "1.running_var": (16,), "4.weight": (5, 16, 1, 1), "4.bias": (5,)}
    assert model.b.get_submodule("3").p == 0.1


def test_aspp_conv_is_padded_by_its_rate(write):
    net, model, out = _run(write, "b: aspp_conv(8, 3)", [4, 9, 9])
    assert _block(net).out.dims == tuple(out.shape[1:]) == (8, 9, 9)
    assert model.b.get_submodule("0").dilation == model.b.get_submodule("0").padding == (3, 3)


def test_aspp_pools_the_image_and_resizes_it_to_the_input_when_it_runs(write):
    net, model, out = _run(write, "b: aspp(rates=[1, 2, 3], c=8)", [4, 9, 11], run_at=[4, 5, 7])
    assert _block(net).out.dims == (8, 9, 11) and tuple(out.shape[1:]) == (8, 5, 7)
    assert [k for k in model.b.state_dict() if k.endswith("weight")] == [
        "convs.0.0.weight", "convs.0.1.weight", "convs.1.0.weight", "convs.1.1.weight", "convs.2.0.weight",
        "convs.2.1.weight", "convs.3.0.weight", "convs.3.1.weight", "convs.4.1.weight", "convs.4.2.weight",
        "project.0.weight", "project.1.weight"]
    assert model.b.get_submodule("project.0").in_channels == 5 * 8


def test_deeplab_head(write):
    net, _, out = _run(write, "b: deeplab_head(5, rates=[1, 2, 3])", [16, 9, 9])
    assert _block(net).out.dims == tuple(out.shape[1:]) == (5, 9, 9)


@pytest.mark.parametrize("call, out, mid", [("double_conv(8)", (8, 16, 16), 8), ("double_conv(8, mid=4)", (8, 16, 16), 4)])
def test_double_conv(write, call, out, mid):
    net, model, y = _run(write, f"b: {call}", [3, 16, 16])
    assert _block(net).out.dims == tuple(y.shape[1:]) == out
    conv = model.b.get_submodule("double_conv.0")
    assert conv.out_channels == mid and conv.bias is None


def test_unet_down_halves_the_size(write):
    net, model, y = _run(write, "b: unet_down(8)", [4, 16, 16])
    assert _block(net).out.dims == tuple(y.shape[1:]) == (8, 8, 8)
    assert list(model.b.state_dict())[0] == "maxpool_conv.1.double_conv.0.weight"


@pytest.mark.parametrize("bilinear, up, first", [(False, (16, 8, 2, 2), (8, 12, 3, 3)),  # convt 16->8, cat 4+8
                                                  (True, None, (10, 20, 3, 3))])         # cat 4+16, mid 20 // 2
def test_unet_up_concatenates_the_skip_first(write, bilinear, up, first):
    body = f"conv(4, 1) -> s\nmaxpool(2) conv(16, 1)\nb: unet_up(8, @s, bilinear={str(bilinear).lower()})"
    net, model, y = _run(write, body, [3, 16, 16])
    assert _block(net).out.dims == tuple(y.shape[1:]) == (8, 16, 16)
    shapes = {k: tuple(v.shape) for k, v in model.b.state_dict().items()}
    assert shapes.get("up.weight") == up and shapes["conv.double_conv.0.weight"] == first


def test_unet_up_refuses_a_skip_of_another_size(write):
    with pytest.raises(archdsl.ArchError, match="E0202"):
        archdsl.check(write("t.arch", "network t(input=[3, 18, 18]) {\n conv(4, 1) -> s maxpool(3) conv(16, 1)\n"
                                      " b: unet_up(8, @s)\n}"))
