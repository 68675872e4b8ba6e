"""Interop: ONNX export checked with onnxruntime, `torch.export` and `torch.compile(fullgraph=True)` on every spec.

The ONNX tests take the `onnx` fixture, so only they are skipped where onnx or onnxruntime is missing.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

import archdsl
from archdsl.export import compare_with_onnxruntime, export_onnx
from archdsl.reparam.verify import randomize_batchnorm

from conftest import SPECS, at_small_input, network_specs, run_cli

ONNX_SPECS = ["resnet18", "googlenet", "mobilenet_v3_large", "efficientnet_b0"]


def _trained_looking(net) -> torch.nn.Module:
    """A built model in eval mode whose BatchNorms have non-trivial statistics, as trained ones do."""
    torch.manual_seed(0)
    return randomize_batchnorm(archdsl.build(net).eval(), torch.Generator().manual_seed(0))


# --- ONNX ---------------------------------------------------------------------------------------------------


@pytest.fixture
def onnx():
    """The onnx module, once onnxruntime is known to be there too; the test is skipped otherwise."""
    pytest.importorskip("onnxruntime")
    return pytest.importorskip("onnx")


@pytest.mark.slow
@pytest.mark.parametrize("name", ONNX_SPECS)
def test_onnx_output_equals_torch(name, tmp_path, onnx):
    path = SPECS / f"{name}.arch"
    if not path.exists():
        pytest.fail(f"specs/{name}.arch is missing")
    net = archdsl.check(path)
    model = _trained_looking(net)
    out = tmp_path / f"{name}.onnx"
    export_onnx(model, net.input.dims, out)
    onnx.checker.check_model(str(out))
    max_abs, max_rel = compare_with_onnxruntime(model, out, net.input.dims, batch=3)  # exported at batch 1
    assert max_rel <= 1e-4, (max_abs, max_rel)


def test_export_command(tmp_path, onnx):
    out = tmp_path / "resnet18.onnx"
    result = run_cli("export", str(SPECS / "resnet18.arch"), "--input", "3x64x64", "--set", "classes=10",
                     "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    stdout = result.stdout.decode()
    assert "exported resnet18: 11,181,642 parameters, input [batch, 3, 64, 64]" in stdout
    assert "checked with onnxruntime: max abs diff" in stdout
    model = onnx.load(str(out))
    assert [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == ["batch", 3, 64, 64]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resnet18.onnx"]


def test_export_with_weights_uses_them(tmp_path, onnx):
    net = archdsl.check(SPECS / "resnet18.arch", input=(3, 64, 64), classes=10)
    model = _trained_looking(net)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "model.onnx"
    result = run_cli("export", str(SPECS / "resnet18.arch"), "--input", "3x64x64", "--set", "classes=10",
                     "--weights", str(weights), "-o", str(out), "--no-check")
    assert result.returncode == 0, result.stderr.decode()
    assert b"not checked (--no-check)" in result.stdout
    _, max_rel = compare_with_onnxruntime(model, out, net.input.dims)  # the saved weights, not fresh ones
    assert max_rel <= 1e-4


@pytest.mark.slow
def test_export_deploy_fuses_branches(tmp_path, onnx):
    path = SPECS / "repvgg_a0.arch"
    counts = {}
    for form in ("train", "deploy"):
        out = tmp_path / f"{form}.onnx"
        args = ["--deploy"] if form == "deploy" else []
        result = run_cli("export", str(path), "--input", "3x64x64", *args, "-o", str(out))
        assert result.returncode == 0, result.stderr.decode()
        counts[form] = sum(node.op_type == "Conv" for node in onnx.load(str(out)).graph.node)
    assert counts == {"train": 2 * 22, "deploy": 22}  # 3x3 + 1x1 conv in each of the 22 blocks, then one


@pytest.mark.skipif(importlib.util.find_spec("onnxscript") is not None, reason="the dynamo exporter is available")
def test_a_failed_export_leaves_the_previous_file(tmp_path):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"previous")
    result = run_cli("export", str(SPECS / "resnet18.arch"), "--exporter", "dynamo", "-o", str(out))
    assert result.returncode == 2 and b"onnxscript" in result.stderr
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_export_usage_errors(tmp_path, write):
    assert run_cli("export", str(SPECS / "resnet18.arch")).returncode == 2  # -o is required
    bad = write("bad.arch", "network n(input=[3, 8, 8]) { conv(4, 9) }")
    result = run_cli("export", str(bad), "-o", str(tmp_path / "x.onnx"))
    assert result.returncode == 1 and b"error[E0205]" in result.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_dilated_same_padding_exports_with_explicit_pads(tmp_path, write, onnx):
    # torch's padding="same" exports as auto_pad SAME, which onnxruntime refuses with dilation
    spec = write("d.arch", 'network n(input=[3, 9, 10]) { conv(4, 3, pad="same", dilation=2) conv(4, (1, 5), pad="same") }')
    model = archdsl.load(spec).eval()
    assert [m.padding for m in model.children()] == [(2, 2), (0, 2)]
    x = torch.randn(1, 3, 9, 10)
    first = model.get_submodule("0")
    expected = torch.nn.functional.conv2d(x, first.weight, first.bias, padding="same", dilation=2)
    torch.testing.assert_close(first(x), expected)
    result = run_cli("export", str(spec), "-o", str(tmp_path / "d.onnx"))
    assert result.returncode == 0, result.stderr.decode()


def test_a_file_onnxruntime_cannot_run_is_an_export_error(tmp_path, write, onnx):
    from archdsl.export import ExportError

    model = archdsl.load(write("n.arch", "network n(input=[3, 4, 4]) { conv(4, 1) }")).eval()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(ExportError, match="onnxruntime cannot run"):
        compare_with_onnxruntime(model, broken, (3, 4, 4))


# --- torch.export and torch.compile ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("spec", network_specs())
def test_torch_export_and_no_graph_breaks(spec):
    path, network = spec
    net = at_small_input(path, network)
    model = _trained_looking(net)
    x = torch.randn(2, *net.input.dims)
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x))
    torch._dynamo.reset()
    explained = torch._dynamo.explain(model.train())(x)  # training mode: dropout, stochastic depth, BN updates
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1


@pytest.mark.slow
def test_compile_fullgraph_with_inductor_computes_like_eager():
    net = archdsl.check(SPECS / "resnet18.arch", input=(3, 32, 32), classes=10)
    model = _trained_looking(net)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True)  # the default backend, inductor: generated C++ kernels
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        expected, actual = model(x), compiled(x)
    assert (actual - expected).abs().max() <= 1e-4 * expected.abs().max()
