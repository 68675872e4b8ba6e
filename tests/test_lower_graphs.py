"""Lowering graphs (issue 12): tensor parameters, several outputs, training-only outputs, learnable tensors,
feature maps; and what every module must keep doing on them (torch.compile with no graph break, torch.export,
ONNX with named outputs, pickling, reparameterization across a DAG)."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import pytest
import torch
from torch import nn

import archdsl
from archdsl import pipeline, reparam
from archdsl.reparam.verify import difference, randomize_batchnorm

UNET = """
block double_conv(c) { conv(c, 3, pad=1) bn relu conv(c, 3, pad=1) bn relu }
block up(c, @skip) { convt(c, 2, stride=2) concat { @skip | } double_conv(c) }
network unet(classes=2, input=[1, 32, 32]) {
    down1: double_conv(8) -> s1
    maxpool(2) down2: double_conv(16) -> s2
    maxpool(2) bottom: double_conv(32)
    up2: up(16, @s2)
    up1: up(8, skip=@s1)
    head: conv(classes, 1)
}
"""

AUX = """
block two(c) { conv(c, 1) -> a  relu conv(c, 3, pad=1) -> b  return @a, @b }
block scaled(c) { param gamma = (c, 1, 1) init 0.5  conv(c, 1) -> y  mul { @gamma | @y } }
network n(classes=3, input=[3, 16, 16]) {
    stem: conv(8, 3, pad=1) bn relu
    t: two(8) -> (p, q)
    add { @p | @q } -> s
    aux: { gap flatten linear(classes) } -> aux1
    @s sc: scaled(8)
    gap flatten fc: linear(classes) -> logits
    return @logits, train @aux1
}
"""

SEGMENT = """
network seg(classes=3, input=[3, 16, 16], @depth=[1, 16, 16]) {
    concat { @depth | }
    stem: conv(8, 3, pad=1) bn relu -> f1
    conv(16, 3, stride=2, pad=1) bn relu
    head: conv(classes, 1) -> out
    @f1 aux: conv(classes, 1) -> aux
    return {out: @out, aux: @aux}
}
"""


def load(write, text: str, **params):
    torch.manual_seed(0)
    return archdsl.load(write("g.arch", text), **params)


def calls(model: nn.Module) -> list[str]:
    """The children's names in the order a forward calls them (forward pre-hooks)."""
    seen: list[str] = []
    for name, module in model.named_modules():
        if name:
            module.register_forward_pre_hook(lambda m, args, name=name: seen.append(name))
    return seen


def test_a_block_with_a_tensor_parameter(write):
    model = load(write, UNET).eval()
    assert type(model.up1).forward.__code__.co_varnames[:3] == ("self", "x", "skip")
    assert "x = m['up1'](y, x)" in model.code  # the main input first, then the skip (s1, still in `x`)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        s1 = model.down1(x)
        s2 = model.down2(model.get_submodule("1")(s1))
        y = model.bottom(model.get_submodule("3")(s2))
        up = lambda block, y, skip: block.get_submodule("1")(torch.cat([skip, block.get_submodule("0")(y)], 1))
        torch.testing.assert_close(model(x), model.head(up(model.up1, up(model.up2, y, s2), s1)))


def test_several_outputs_train_only_outputs_and_a_learnable_tensor(write):
    model = load(write, AUX)
    x = torch.randn(2, 3, 16, 16)
    out = model.train()(x)
    assert type(out).__name__ == "NOutputs" and out._fields == ("logits", "aux1")
    assert out.logits.shape == out.aux1.shape == (2, 3)
    order = calls(model)
    model.eval()(x)
    assert not any(name.startswith("aux") for name in order)  # the training-only head is not run in eval mode
    assert model(x).shape == (2, 3)
    gamma = model.sc.gamma
    assert isinstance(gamma, nn.Parameter) and gamma.shape == (8, 1, 1) and torch.all(gamma == 0.5)
    assert list(model.sc.state_dict())[0] == "gamma"
    two = model.t(torch.randn(1, 8, 4, 4))
    assert [t.shape[1] for t in two] == [8, 8] and not model.t.get_submodule("1").inplace  # `a` is also returned
    model.train()(x).logits.sum().backward()
    assert gamma.grad is not None


def test_dict_outputs_and_a_second_network_input(write):
    model = load(write, SEGMENT).eval()
    x, depth = torch.randn(2, 3, 16, 16), torch.randn(2, 1, 16, 16)
    out = model(x, depth)
    assert isinstance(out, OrderedDict) and list(out) == ["out", "aux"]
    assert out["out"].shape == (2, 3, 8, 8) and out["aux"].shape == (2, 3, 16, 16)


def test_features_return_the_maps_asked_for_and_skip_the_rest(write):
    from conftest import SPECS

    model = archdsl.load(SPECS / "resnet18.arch", features=["layer2", "layer3.0.conv1", "layer4"])
    assert [(f.name, f.channels, f.reduction) for f in model.feature_info] == \
        [("layer2", 128, 8), ("layer3.0.conv1", 256, 16), ("layer4", 512, 32)]
    order = calls(model)
    maps = model.eval()(torch.randn(1, 3, 64, 64))
    assert isinstance(maps, list) and [m.shape[1:] for m in maps] == [(128, 8, 8), (256, 4, 4), (512, 2, 2)]
    assert "fc" not in order and "avgpool" not in order
    assert "fc.weight" in model.state_dict()  # the IR keeps the head: weights of the whole network still load


def test_graph_modules_pickle_and_deepcopy(write):
    model = load(write, AUX).eval()
    x = torch.randn(1, 3, 16, 16)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        torch.testing.assert_close(other(x), model(x))
        other.train()
        assert other(x)._fields == ("logits", "aux1")


@pytest.mark.slow
@pytest.mark.parametrize("text", [UNET, AUX, SEGMENT], ids=["unet", "aux", "segment"])
def test_compile_fullgraph_without_graph_breaks_and_export(write, text):
    model = load(write, text).eval()
    network = archdsl.nn.network_of(model)
    inputs = tuple(torch.randn(2, *t.dims) for t in [network.input, *(n.out for n in network.graph.extra_inputs())])
    for mode in (model.eval(), model.train()):
        explanation = torch._dynamo.explain(mode)(*inputs)
        assert explanation.graph_break_count == 0 and explanation.graph_count == 1
    model.eval()
    exported = torch.export.export(model, inputs)
    expected, actual = model(*inputs), exported.module()(*inputs)
    flat = (lambda o: list(o.values()) if isinstance(o, dict) else [o] if isinstance(o, torch.Tensor) else list(o))
    for a, b in zip(flat(actual), flat(expected)):
        torch.testing.assert_close(a, b)


def test_onnx_keeps_the_named_outputs_and_inputs(write, tmp_path):
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from archdsl.export import compare_with_onnxruntime, export_onnx

    model = randomize_batchnorm(load(write, SEGMENT).eval())
    path = tmp_path / "seg.onnx"
    export_onnx(model, (3, 16, 16), path, exporter="torchscript")
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input", "depth"] and [o.name for o in graph.output] == ["out", "aux"]
    assert compare_with_onnxruntime(model, path, (3, 16, 16), batch=3)[1] < 1e-5


DAG = """
network dag(input=[8, 10, 10]) {
    conv(8, 3, pad=1)
    bn -> shared            # the conv is read once: the BN folds, though its own output has two readers
    relu
    add { @shared | }
    conv(8, 1) -> c2
    bn -> b                 # this conv is read by the concat below too: the BN must stay
    concat { @c2 | }
    add { conv(16, 3, pad=1) bn | conv(16, 1) bn | } -> fused
    return @fused, @b
}
"""


def test_reparameterization_across_a_dag(write):
    net = archdsl.check(write("dag.arch", DAG))
    model = randomize_batchnorm(archdsl.build(net).double().eval())
    result = reparam.run(model, build=pipeline.deploy_structure)
    folded, kept = "\n".join(result.folded), "\n".join(result.kept)
    assert "`1`: folded into `0`" in folded
    assert "`4`: kept, `3` (conv) has 2 users" in kept
    assert result.fused == ["`reparam_conv`: fused `5`, `7`, the identity"]
    x = torch.randn(2, 8, 10, 10, dtype=torch.float64)
    with torch.no_grad():
        for a, b in zip(model(x), result.module(x)):
            assert difference(a, b)[1] < 1e-10
    assert archdsl.reparameterize(model)(x)[0].shape == (2, 16, 10, 10)
