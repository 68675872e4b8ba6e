"""Reparameterization: the tensor math, module fusion, the geometry rule, the passes on a spec holding every pattern,
and the deploy graph as an ordinary module (state_dict, ONNX, torch.compile) and from the CLI."""

from __future__ import annotations

import copy
import importlib.util
import io

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import fx, nn

import archdsl
from archdsl import pipeline, reparam
from archdsl.reparam import deploy_ir, math
from archdsl.reparam.geometry import Branch, Fused, fuse
from archdsl.reparam.modules import ReparamError, fuse_branches, fuse_conv_bn, fuse_linear_bn
from archdsl.reparam.verify import difference, randomize_batchnorm

from conftest import SPECS, all_specs, run_cli
from test_deploy_agreement import KEPT_BATCHNORMS, assert_agree, batchnorms, check_small, foldable_batchnorms

EXACT = dict(rtol=1e-10, atol=1e-10)  # float64


def random_bn(channels: int, affine: bool = True) -> dict:
    return dict(mean=torch.randn(channels, dtype=torch.float64) * 0.5,
                var=torch.rand(channels, dtype=torch.float64) * 2 + 0.1, eps=1e-5,
                gamma=torch.rand(channels, dtype=torch.float64) + 0.5 if affine else None,
                beta=torch.randn(channels, dtype=torch.float64) if affine else None)


def apply_bn(y: torch.Tensor, bn: dict) -> torch.Tensor:
    return F.batch_norm(y, bn["mean"], bn["var"], bn["gamma"], bn["beta"], training=False, eps=bn["eps"])


# -- math

@settings(max_examples=150, deadline=None)
@given(groups=st.integers(1, 3), depthwise=st.booleans(), in_per_group=st.integers(1, 3),
       out_per_group=st.integers(1, 3), kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), bias=st.booleans(), affine=st.booleans(),
       extra=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_conv_bn_fold_is_exact_for_any_geometry(groups, depthwise, in_per_group, out_per_group, kernel, stride,
                                                padding, dilation, bias, affine, extra, seed):
    torch.manual_seed(seed)
    if depthwise:
        in_per_group, out_per_group = 1, out_per_group  # groups == in_channels, a channel multiplier
    cin, cout = groups * in_per_group, groups * out_per_group
    w = torch.randn(cout, in_per_group, *kernel, dtype=torch.float64)
    b = torch.randn(cout, dtype=torch.float64) if bias else None
    bn = random_bn(cout, affine)
    size = [d * (k - 1) + 1 + extra for k, d in zip(kernel, dilation)]
    x = torch.randn(2, cin, *size, dtype=torch.float64)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    fused_w, fused_b = math.fuse_conv_bn_weights(w, b, bn["mean"], bn["var"], bn["eps"], bn["gamma"], bn["beta"])
    expected = apply_bn(F.conv2d(x, w, b, **geometry), bn)
    torch.testing.assert_close(F.conv2d(x, fused_w, fused_b, **geometry), expected, **EXACT)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_bn_fold_is_exact(bias):
    torch.manual_seed(0)
    w, b = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, dtype=torch.float64) if bias else None
    bn, x = random_bn(7), torch.randn(4, 5, dtype=torch.float64)
    fused_w, fused_b = math.fuse_linear_bn_weights(w, b, bn["mean"], bn["var"], bn["eps"], bn["gamma"], bn["beta"])
    torch.testing.assert_close(F.linear(x, fused_w, fused_b), apply_bn(F.linear(x, w, b), bn), **EXACT)


@pytest.mark.parametrize("small, large", [((1, 1), (3, 3)), ((3, 3), (5, 5)), ((1, 1), (7, 7)), ((3, 1), (3, 5))])
def test_kernel_padded_at_the_centre_computes_the_same_convolution(small, large):
    torch.manual_seed(0)
    w, x = torch.randn(4, 3, *small, dtype=torch.float64), torch.randn(2, 3, 9, 9, dtype=torch.float64)
    padding = tuple(k // 2 for k in small)
    grown = tuple(p + (K - k) // 2 for p, k, K in zip(padding, small, large))
    torch.testing.assert_close(F.conv2d(x, math.pad_kernel(w, large), padding=grown), F.conv2d(x, w, padding=padding),
                               **EXACT)


def test_asymmetric_kernels_placed_at_an_offset():
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    one_by_three = torch.randn(3, 2, 1, 3, dtype=torch.float64)
    placed = math.pad_kernel(one_by_three, (3, 3), offset=(1, 0))
    torch.testing.assert_close(F.conv2d(x, placed, padding=1), F.conv2d(x, one_by_three, padding=(0, 1)), **EXACT)
    with pytest.raises(ValueError, match="does not fit"):
        math.pad_kernel(one_by_three, (3, 3), offset=(0, 1))


@pytest.mark.parametrize("groups", [1, 2, 6])  # 6: depthwise
@pytest.mark.parametrize("size", [(1, 1), (3, 3), (3, 1)])
def test_identity_kernel_returns_its_input(groups, size):
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
    kernel = math.identity_kernel(6, groups, size, dtype=torch.float64)
    assert kernel.shape == (6, 6 // groups, *size)
    padding = tuple(k // 2 for k in size)
    torch.testing.assert_close(F.conv2d(x, kernel, padding=padding, groups=groups), x, **EXACT)


@pytest.mark.parametrize("groups", [1, 5])
def test_batchnorm_alone_is_a_1x1_convolution(groups):
    bn, x = random_bn(5), torch.randn(2, 5, 4, 4, dtype=torch.float64)
    w, b = math.bn_as_conv(bn["mean"], bn["var"], bn["eps"], bn["gamma"], bn["beta"], groups)
    torch.testing.assert_close(F.conv2d(x, w, b, groups=groups), apply_bn(x, bn), **EXACT)


# -- modules

def double_eval(*modules: nn.Module) -> list[nn.Module]:
    return [randomize_batchnorm(m.double().eval()) for m in modules]


def test_fuse_conv_bn_copies_and_refuses_training_mode():
    conv, bn = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), nn.BatchNorm2d(6)
    with pytest.raises(ReparamError, match=r"call model\.eval\(\) first"):
        fuse_conv_bn(conv, bn)
    conv, bn = double_eval(conv, bn)
    before = conv.weight.clone()
    fused = fuse_conv_bn(conv, bn)
    assert fused is not conv and not fused.training and torch.equal(conv.weight, before)
    x = torch.randn(2, 4, 11, 11, dtype=torch.float64)
    torch.testing.assert_close(fused(x), bn(conv(x)), **EXACT)


def test_fuse_linear_bn():
    linear, bn = double_eval(nn.Linear(5, 3, bias=False), nn.BatchNorm1d(3))
    x = torch.randn(4, 5, dtype=torch.float64)
    torch.testing.assert_close(fuse_linear_bn(linear, bn)(x), bn(linear(x)), **EXACT)


def branch(conv: nn.Conv2d) -> Branch:
    return Branch(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                  conv.groups)


@pytest.mark.parametrize("groups", [1, 6])
def test_fuse_branches_acnet_style(groups):
    """3x3 + 1x3 + 3x1 convolutions, a BatchNorm and an identity of one input: one 3x3 convolution."""
    convs = double_eval(nn.Conv2d(6, 6, 3, padding=1, groups=groups), nn.Conv2d(6, 6, (1, 3), padding=(0, 1),
                        groups=groups), nn.Conv2d(6, 6, (3, 1), padding=(1, 0), groups=groups, bias=False))
    (bn,) = double_eval(nn.BatchNorm2d(6))
    plan = fuse([*map(branch, convs), Branch(6, 6), Branch(6, 6)])
    assert isinstance(plan, Fused) and plan.branch.kernel == (3, 3) and plan.branch.padding == (1, 1)
    assert plan.offsets == ((0, 0), (1, 0), (0, 1), (1, 1), (1, 1))
    fused = fuse_branches([*convs, bn, None], plan)
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)
    torch.testing.assert_close(fused(x), sum(c(x) for c in convs) + bn(x) + x, **EXACT)


def test_fuse_branches_with_stride_and_an_even_kernel_off_centre():
    """A 2x2 window [0, 1] sits inside a 3x3 window [-1, 1] at offset 1: same outputs at stride 2."""
    convs = double_eval(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Conv2d(3, 4, 2, stride=2))
    plan = fuse([branch(c) for c in convs])
    assert plan.offsets == ((0, 0), (1, 1))
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(fuse_branches(convs, plan)(x), convs[0](x) + convs[1](x), **EXACT)


@pytest.mark.parametrize("branches, reason", [
    ([Branch(4, 4, (3, 3), (1, 1), (1, 1)), Branch(4, 4)], "no branch is a convolution"),
    ([Branch(4, 4, (3, 3), (2, 2), (1, 1), groups=1), Branch(4, 4)], "differ in stride"),
    ([Branch(4, 4, (3, 3), (1, 1), (1, 1), groups=1), Branch(4, 4, groups=2)], "differ in groups"),
    ([Branch(4, 4, (3, 3), (3, 3), (1, 1), groups=1), Branch(4, 4, (3, 3), (3, 3), (0, 0), groups=1)],
     "no branch's window covers"),
    ([Branch(4, 4, (3, 3), (1, 1), (2, 2), (2, 2), groups=1), Branch(4, 4, (3, 3), (1, 1), (1, 1), groups=1)],
     "differ in dilation"),
    ([Branch(4, 4, (3, 3), (1, 1), (2, 2), (2, 2), groups=1), Branch(4, 4, (1, 1), (1, 1), (1, 1), groups=1)],
     "off the dilation-2 grid"),
    ([Branch(6, 6, (3, 3), (1, 1), (1, 1), groups=2), Branch(6, 6)], None),
])
def test_geometry_rule(branches, reason):
    plan = fuse(branches)
    if reason is None:
        assert isinstance(plan, Fused)
    else:
        assert isinstance(plan, str) and reason in plan


# -- the pass on a spec that holds every pattern

ZOO = """
block acnet(c) {
    add { conv(c, 3, pad=1, bias=false) bn | conv(c, (1, 3), pad=(0, 1), bias=false) bn
        | conv(c, (3, 1), pad=(1, 0), bias=false) bn | bn | }
    relu
}
block depthwise_rep(c) {
    add { conv(c, 3, pad=1, groups=c, bias=false) bn | conv(c, 1, groups=c, bias=false) bn | bn }
    relu
}
block partial(c) { add { conv(c, 3, pad=1) bn | conv(c, 1) bn | conv(c, 3, pad=1) relu } }
block dilated(c) { add { conv(c, 3, pad=2, dilation=2) bn | conv(c, 1) bn | } relu }
block strided(c) { add { conv(c, 3, stride=2, pad=1) bn | conv(c, 1, stride=2) bn } relu }
block off_centre(c) { add { conv(c, 3, stride=3, pad=1) | conv(c, 3, stride=3) } }

network zoo(input=[8, 18, 18]) {
    acnet(8) depthwise_rep(8) partial(8) dilated(8)
    { conv(8, 3, pad="same") } dropout(0.1) bn
    conv(8, 1) add { bn | relu }
    relu bn
    strided(16)
    off_centre(16)
    gap flatten linear(10) bn
}
"""


def run(model: nn.Module):
    """The deploy path with its report, as `archdsl.reparameterize` and `build --deploy` take it."""
    return reparam.run(model, build=pipeline.deploy_structure)


def deploy_and_compare(net: archdsl.Network, dtype=torch.float64, batch: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    model = randomize_batchnorm(archdsl.build(net).to(dtype).eval())
    result = run(model)
    x = torch.randn(batch, *net.input.dims, dtype=dtype)
    with torch.no_grad():
        reference, deployed = model(x), result.module(x)
    return model, result, x, difference(reference, deployed)


def test_zoo_every_pattern(write):
    net = archdsl.check(write("zoo.arch", ZOO))
    result = assert_agree(net)  # float64: the deploy graph computes what the training form computes, to 1e-10
    assert not foldable_batchnorms(result.module)
    kept = "\n".join(result.kept)
    assert len(batchnorms(result.module)) == 2
    assert "`8`: kept, `7` (conv) has 2 users" in kept
    assert "`11`: kept, it follows `10` (relu), not a conv" in kept
    assert "`13.add`: kept, its linear branches cannot be one convolution: no branch's window covers" in kept
    fused = "\n".join(result.fused)
    assert len(result.fused) == 5 and "`2.reparam_conv`: fused `2.0`, `2.2`, 1 other operand(s) still added" in fused
    assert "`0.reparam_conv`: fused `0.0`, `0.2`, `0.4`, `0.6`, the identity" in fused
    assert result.removed == ["`5`: removed, the identity at inference"]  # the dropout
    folded = "\n".join(result.folded)
    assert "`6`: folded into `4.0`" in folded  # through the dropout, into the conv that ends the group
    assert "`17`: folded into `16`" in folded  # BatchNorm1d into the linear layer
    deploy = result.module
    assert deploy.get_submodule("0.reparam_conv").kernel_size == (3, 3)
    assert deploy.get_submodule("1.reparam_conv").groups == 8
    assert deploy.get_submodule("3.reparam_conv").dilation == (2, 2)
    assert deploy.get_submodule("12.reparam_conv").stride == (2, 2)


def test_training_mode_is_refused_and_the_model_is_not_modified():
    net = check_small(SPECS / "repvgg_a0.arch")
    model = archdsl.build(net)
    with pytest.raises(ValueError, match=r"call model\.eval\(\) first"):
        archdsl.reparameterize(model)
    model.eval()
    model.stem.conv_kxk.train()  # one submodule left in training mode is refused too
    with pytest.raises(ValueError, match=r"call model\.eval\(\) first"):
        archdsl.reparameterize(model)
    model.eval()
    before = copy.deepcopy(model.state_dict())
    deploy = archdsl.reparameterize(model)
    assert deploy is not model and not deploy.training
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_a_module_without_fx_graph_is_refused():
    with pytest.raises(ReparamError, match="symbolic_trace"):
        archdsl.reparameterize(nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)).eval())


def test_a_traced_module_is_reparameterized():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()).double().eval()
    randomize_batchnorm(model)
    traced = fx.symbolic_trace(model)
    deploy = archdsl.reparameterize(traced)
    x = torch.randn(1, 3, 5, 5, dtype=torch.float64)
    assert not batchnorms(deploy)
    torch.testing.assert_close(deploy(x), model(x), **EXACT)


def test_the_deploy_module_is_the_lowered_deploy_ir_and_shares_no_tensor():
    net = check_small(SPECS / "repvgg_a0.arch")
    model = randomize_batchnorm(archdsl.build(net).eval())
    deploy = archdsl.reparameterize(model)
    assert archdsl.nn.network_of(deploy) == deploy_ir(net)  # what summary/draw --deploy show
    ours = {t.data_ptr() for t in model.state_dict().values()}
    assert not ours & {t.data_ptr() for t in deploy.state_dict().values()}
    assert not any(t.is_meta for t in deploy.state_dict().values())


def test_a_model_changed_after_its_build_is_refused_not_half_deployed():
    net = check_small(SPECS / "resnet18.arch")
    model = archdsl.build(net).eval()
    model.layer1.get_submodule("0").add_module("2", nn.GELU().eval())  # the spec's ReLU, swapped
    with pytest.raises(ReparamError, match=r"`layer1\.0\.2` is a GELU where the spec built a ReLU.*symbolic_trace"):
        archdsl.reparameterize(model)


# -- every spec: tests/test_deploy_agreement.py deploys each one with both passes


@pytest.mark.parametrize("name", sorted(KEPT_BATCHNORMS))
def test_named_networks_exist(name):
    """The acceptance list of the reparameterization issue names these specs: they must exist."""
    if not (SPECS / name).exists():
        pytest.fail(f"specs/{name} is missing")
    assert (SPECS / name) in all_specs()


# -- RepVGG-A0, the acceptance numbers

REPVGG = SPECS / "repvgg_a0.arch"


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
def test_repvgg_a0_deploy(dtype, tolerance):
    net = archdsl.check(REPVGG)
    model, result, x, (max_abs, max_rel) = deploy_and_compare(net, dtype, batch=1)
    assert sum(p.numel() for p in model.parameters()) == 9_108_968
    assert sum(p.numel() for p in result.module.parameters()) == 8_309_384
    assert not batchnorms(result.module)
    assert max_rel < tolerance, (max_abs, max_rel)
    assert len(result.fused) == 22 and not result.kept
    convs = [m for m in result.module.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 22 and all(c.kernel_size == (3, 3) and c.bias is not None for c in convs)
    assert deploy_ir(net).param_count == 8_309_384


def _timm_available() -> bool:
    return importlib.util.find_spec("timm") is not None


@pytest.mark.reference
def test_repvgg_a0_deploy_matches_timm_reparameterized():
    if not _timm_available():
        pytest.skip("timm not installed (pip install -e '.[reference]')")
    import timm
    from timm.utils.model import reparameterize_model

    from archdsl.weights import load_weights

    torch.manual_seed(0)
    reference = randomize_batchnorm(timm.create_model("repvgg_a0", pretrained=False).eval())
    ours = load_weights(archdsl.load(REPVGG), reference.state_dict()).eval()
    timm_deploy, our_deploy = reparameterize_model(copy.deepcopy(reference)), archdsl.reparameterize(ours)
    # the same keys (timm also names the fused convolution `reparam_conv`) and shapes, in the same order
    assert [(k, v.shape) for k, v in timm_deploy.state_dict().items()] == \
        [(k, v.shape) for k, v in our_deploy.state_dict().items()]
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert difference(timm_deploy(x), our_deploy(x))[1] < 1e-5  # outputs reach ~1e4 with random statistics


# -- the deploy graph is an ordinary module

SMALL_REPVGG = dict(depths=(1, 2), widths=(8, 16), stem=8, classes=10, input=(3, 32, 32))


@pytest.fixture(scope="module")
def small_deploy():
    net = archdsl.check(REPVGG, **SMALL_REPVGG)
    model, result, x, _ = deploy_and_compare(net, torch.float32, batch=2)
    return net, model, result.module, x


def test_deploy_state_dict_round_trip(small_deploy):
    net, model, deploy, x = small_deploy
    buffer = io.BytesIO()
    torch.save(deploy.state_dict(), buffer)
    buffer.seek(0)
    fresh = archdsl.build(deploy_ir(net)).eval()
    fresh.load_state_dict(torch.load(buffer))
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), model(x), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript exporter: dynamo's needs onnxscript
def test_deploy_exports_to_onnx(small_deploy, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    net, model, deploy, x = small_deploy
    path = tmp_path / "deploy.onnx"
    torch.onnx.export(deploy, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"])
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(y), model(x), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_deploy_compiles(small_deploy):
    net, model, deploy, x = small_deploy
    compiled = torch.compile(deploy, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


# -- CLI and imports

@pytest.mark.slow
def test_cli_build_deploy_reports_counts_and_differences(tmp_path):
    out = tmp_path / "deploy.pt"
    small = ["--set", "depths=[1, 2]", "--set", "widths=[8, 16]", "--set", "stem=8", "--set", "input=[3, 32, 32]"]
    result = run_cli("build", str(REPVGG), *small, "--deploy", "-o", str(out), env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "deploy: " in text and "4 add(s) fused" in text and "max abs diff" in text and "max rel diff" in text
    state = torch.load(out)
    assert not any("bn" in key or "identity" in key for key in state) and any("reparam_conv" in k for k in state)
    # the check ran on a copy with random BN statistics; what was saved folds the model's own, fresh ones
    biases = [v for k, v in state.items() if k.endswith("reparam_conv.bias")]
    assert biases and all(torch.count_nonzero(b) == 0 for b in biases)


@pytest.mark.slow
def test_cli_verbose_lists_what_was_kept_and_why():
    result = run_cli("build", str(SPECS / "resnet18.arch"), "--set", "input=[3, 32, 32]", "--deploy", "--verbose",
                     env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "`layer1.0.bn1`: folded into `layer1.0.conv1`" in text
    assert "`layer1.0.add`: kept, no convolution and another operand are linear ops of one value" in text


def test_deploy_weights_are_channels_last_unless_asked_otherwise():
    from conftest import SPECS

    model = archdsl.load(SPECS / "resnet18.arch", input=[3, 32, 32]).eval()
    deployed = archdsl.reparameterize(model)
    conv = deployed.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    kept = archdsl.reparameterize(model, memory_format=torch.contiguous_format)
    assert kept.conv1.weight.is_contiguous()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(deployed(x), kept(x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(deployed(x), model(x), rtol=1e-4, atol=1e-5)


def test_the_layer_pass_alone_names_the_public_function_for_a_module_archdsl_built():
    """`archdsl.reparam.reparameterize` cannot lower (lowering is beside it, not under it): for a module archdsl
    built it says which function does, instead of asking for a torch.fx graph."""
    model = archdsl.load(SPECS / "repvgg_a0.arch", input=[3, 32, 32]).eval()
    with pytest.raises(ReparamError, match=r"archdsl\.reparameterize\(model\)"):
        reparam.reparameterize(model)
    assert isinstance(archdsl.reparameterize(model), nn.Module)
