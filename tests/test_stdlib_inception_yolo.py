"""Shape rules of the Inception v3, GoogLeNet auxiliary and YOLOv8 standard-library blocks, checked statically and
against torch; C2f and SPPF also against hand-written modules in Ultralytics' formulation (chunk, extend, cat)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archdsl

from conftest import named_ops, randomize_batchnorm_stats


def elaborate(write, call: str, input=(8, 16, 16), body: str = ""):
    path = write("b.arch", f"network n(input={list(input)}) {{ {body} {call} }}")
    net = archdsl.check(path)
    model = archdsl.build(net).eval()
    with torch.no_grad():
        out = model(torch.randn(1, *input))
    assert tuple(out.shape[1:]) == net.output.dims, "static shape and torch disagree"
    return net, model


def ops(graph) -> list[str]:
    return [op.op for _, op in named_ops(graph)]


@pytest.mark.parametrize("call, expected", [
    ("inception_a(32)", 64 + 64 + 96 + 32),
    ("inception_c(16)", 4 * 192),
    ("inception_e", 320 + 2 * 384 + 2 * 384 + 192),
])
def test_inception_v3_modules_keep_the_grid(write, call, expected):
    net, _ = elaborate(write, call, input=(8, 9, 9))
    assert net.output.dims == (expected, 9, 9)


@pytest.mark.parametrize("call, expected", [("inception_b", 384 + 96 + 8), ("inception_d", 320 + 192 + 8)])
def test_inception_v3_reductions_halve_the_grid_and_pass_the_pool_through(write, call, expected):
    net, _ = elaborate(write, call, input=(8, 17, 17))
    assert net.output.dims == (expected, 8, 8)


def test_inception_c_factorizes_7x7_into_1x7_and_7x1(write):
    net, _ = elaborate(write, "inception_c(16)", input=(8, 9, 9))
    kernels = [op.params.kernel for _, op in named_ops(net.graph) if op.op == "conv"]
    assert kernels.count((1, 7)) == 3 and kernels.count((7, 1)) == 3


def test_inception_v3_aux_pools_17x17_to_5x5_then_classifies(write):
    net, model = elaborate(write, "inception_v3_aux(10)", input=(768, 17, 17))
    assert net.output.dims == (10,)
    assert [k for k in model.state_dict() if k.endswith("weight")][:2] == ["0.conv0.conv.weight", "0.conv0.bn.weight"]


def test_googlenet_aux_pools_to_4x4(write):
    net, model = elaborate(write, "googlenet_aux(10, 0.7)", input=(512, 14, 14))
    assert net.output.dims == (10,)
    assert model._modules["0"].fc1.in_features == 128 * 4 * 4


@pytest.mark.parametrize("stride, act", [(1, True), (2, False)])
def test_yolo_conv_pads_to_keep_the_size_and_uses_ultralytics_batchnorm(write, stride, act):
    net, model = elaborate(write, f"yolo_conv(12, 3, {stride}, act={'true' if act else 'false'})")
    assert net.output.dims == (12, 16 // stride, 16 // stride)
    bn = model._modules["0"].bn
    assert (bn.eps, bn.momentum) == (0.001, 0.03)
    assert ops(net.graph)[-1] == ("silu" if act else "bn")


def test_c2f_bottleneck_appends_c_channels(write):
    net, _ = elaborate(write, "c2f_bottleneck(4)")
    assert net.output.dims == (8 + 4, 16, 16)


class _Conv(nn.Module):
    def __init__(self, c1, c2, k=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=0.001, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = _Conv(c, c, 3), _Conv(c, c, 3), shortcut

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class _C2f(nn.Module):
    """Ultralytics' C2f, as block.py writes it."""

    def __init__(self, c1, c2, n, shortcut):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = _Conv(c1, 2 * self.c)
        self.cv2 = _Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(_Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class _SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        self.cv1, self.cv2 = _Conv(c1, c1 // 2), _Conv(c1 // 2 * 4, c2)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


@pytest.mark.parametrize("n, shortcut", [(1, True), (3, False)])
def test_c2f_as_a_running_concatenation_equals_ultralytics_chunk_and_cat(write, n, shortcut):
    net, model = elaborate(write, f"c2f(16, {n}, {'true' if shortcut else 'false'})")
    assert net.output.dims == (16, 16, 16)
    reference = randomize_batchnorm_stats(_C2f(8, 16, n, shortcut), seed=0).eval()
    assert sorted(model.state_dict()) == sorted(f"0.{k}" for k in reference.state_dict())
    model.load_state_dict({f"0.{k}": v for k, v in reference.state_dict().items()})
    x = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_sppf_equals_the_chain_of_three_pools(write):
    net, model = elaborate(write, "sppf(12)")
    assert net.output.dims == (12, 16, 16)
    reference = randomize_batchnorm_stats(_SPPF(8, 12), seed=0).eval()
    model.load_state_dict({f"0.{k}": v for k, v in reference.state_dict().items()})
    x = torch.randn(2, 8, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_yolo_box_and_cls_branches(write):
    assert elaborate(write, "yolo_box(16, reg_max=4)")[0].output.dims == (16, 16, 16)
    assert elaborate(write, "yolo_cls(12, 5)")[0].output.dims == (5, 16, 16)


def test_yolo_detect_decodes_three_scales_and_returns_their_maps(write):
    body = "conv(16, 1) -> p3 conv(32, 3, stride=2, pad=1) -> p4 conv(64, 3, stride=2, pad=1) -> p5 @p3"
    path = write("d.arch", f"network n(input=[3, 32, 32]) {{ {body} "
                           f"head: yolo_detect(5, @p4, @p5, reg_max=4) -> (det, a, b, c) return @det, train @a, train @b, train @c }}")
    net = archdsl.check(path)
    assert [tuple(t.dims) for t in net.outputs().values()] == [
        (4 + 5, 32 * 32 + 16 * 16 + 8 * 8), (16 + 5, 32, 32), (16 + 5, 16, 16), (16 + 5, 8, 8)]
    keys = [k for k in archdsl.build(net).state_dict() if k.startswith("head.") and k.endswith(".weight")
            and ".bn." not in k]
    assert [k.split(".")[1:3] for k in keys] == [["cv2", "0"]] * 3 + [["cv2", "1"]] * 3 + [["cv2", "2"]] * 3 + \
        [["cv3", "0"]] * 3 + [["cv3", "1"]] * 3 + [["cv3", "2"]] * 3 + [["dfl", "conv"]]
