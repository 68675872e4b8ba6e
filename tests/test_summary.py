"""`archdsl summary` and `archdsl check --input`: static per-layer counts, equal to what forward hooks measure."""

from __future__ import annotations

import json

import pytest

import archdsl
from archdsl.summary import summarize

from conftest import SPECS, at_small_input, network_specs, run_cli

# torchvision's published GFLOPS (its model docs' "GFLOPS" column counts conv/linear multiply-accumulates)
PUBLISHED_GMACS = {"resnet18": 1.814, "mobilenet_v2": 0.301, "resnet50": 4.089, "alexnet": 0.714, "vgg16": 15.47,
                   "googlenet": 1.498, "densenet121": 2.834, "mobilenet_v3_large": 0.217, "efficientnet_b0": 0.386}
# torchvision documents the smallest input of some models in their weights' metadata (`min_size`)
DOCUMENTED_MIN_SIZE = {"alexnet": 63, "googlenet": 15, "vgg16": 32, "resnet18": 1}


def _summary_json(*args: str) -> dict:
    result = run_cli("summary", *args, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMACS))
def test_macs_match_torchvision_published_gflops(name):
    path = SPECS / f"{name}.arch"
    if not path.exists():
        pytest.fail(f"specs/{name}.arch is missing")
    totals = _summary_json(str(path))["totals"]
    assert round(totals["macs"] / 1e9, 3 if PUBLISHED_GMACS[name] < 10 else 2) == PUBLISHED_GMACS[name]


def test_summary_json_rows_add_up_to_totals():
    data = _summary_json(str(SPECS / "resnet18.arch"))
    ops = [row for row in data["layers"] if row["kind"] == "op"]
    assert data["totals"]["params"] == 11_689_512 == sum(row["params"] for row in ops)
    assert data["totals"]["macs"] == 1_814_073_344 == sum(row["macs"] for row in ops)
    groups = {row["name"]: row for row in data["layers"] if row["kind"] == "group"}
    assert groups["layer1"]["params"] == sum(r["params"] for r in ops if r["name"].startswith("layer1."))
    conv1 = next(row for row in ops if row["name"] == "conv1")
    assert conv1 == {"name": "conv1", "kind": "op", "op": "conv", "label": "conv 7x7, 64, /2", "depth": 0,
                     "output": [64, 112, 112], "params": 9408, "macs": 118_013_952}
    assert data["input"] == [3, 224, 224] and data["output"] == [1000]


def test_activation_memory_counts_every_op_and_merge_output_once(write):
    spec = write("act.arch", """
        network net(input=[2, 8, 8]) {
            conv(4, 3, pad=1) relu
            add { conv(4, 1) | identity }
            b: { gap flatten linear(3) }
        }""")
    data = _summary_json(str(spec))
    # conv 256 + relu 256 + conv 256 + identity 256 + add 256 + gap 4 + flatten 4 + linear 3 (the group adds none)
    assert data["totals"]["activation_elements"] == 5 * 256 + 4 + 4 + 3
    assert data["totals"]["activation_bytes"] == 4 * data["totals"]["activation_elements"]
    assert [row["kind"] for row in data["layers"]] == ["op", "op", "op", "op", "merge", "group", "op", "op", "op"]


def test_depth_folds_blocks_into_one_row_and_input_overrides_size():
    data = _summary_json(str(SPECS / "resnet18.arch"), "--depth", "0", "--input", "3x64x64")
    assert [row["name"] for row in data["layers"]][:6] == ["conv1", "bn1", "2", "maxpool", "layer1", "layer2"]
    assert all(row["depth"] == 0 for row in data["layers"])
    assert data["input"] == [3, 64, 64]
    assert next(r for r in data["layers"] if r["name"] == "layer4")["output"] == [512, 2, 2]


def test_text_table_has_totals_and_no_colour_when_piped():
    result = run_cli("summary", str(SPECS / "resnet18.arch"))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "\x1b[" not in out
    assert "layer1.0.conv1" in out and "conv 3x3, 64" in out and "64x56x56" in out
    assert "11,689,512" in out and "1.814 G" in out and "activations" in out


def test_summary_errors_are_diagnostics(write):
    spec = write("bad.arch", "network net(input=[3, 8, 8]) { conv(4, 3, stride=9) linear(2) }")
    result = run_cli("summary", str(spec))
    assert result.returncode == 1
    assert b"error[E0206]" in result.stderr
    assert run_cli("summary", str(spec), "--input", "3xHxW").returncode == 2


# --- forward hooks: the static totals are what the built model actually does --------------------------------


def _hook_counts(model, x):
    from torch import nn

    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.ConvTranspose2d):  # each input value meets out/groups x kh x kw weights
            kh, kw = module.kernel_size
            macs.append(inputs[0][0].numel() * (module.out_channels // module.groups) * kh * kw)
        elif isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs.append(output[0].numel() * (module.in_channels // module.groups) * kh * kw)
        else:
            macs.append(module.in_features * module.out_features * (output[0].numel() // module.out_features))

    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, layers)]
    model(x)
    for handle in handles:
        handle.remove()
    return sum(macs), sum(p.numel() for p in model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("spec", network_specs())
def test_static_totals_equal_forward_hook_counts(spec):
    import torch

    net = at_small_input(*spec)
    model = archdsl.build(net).eval()
    with torch.no_grad():
        macs, params = _hook_counts(model, torch.randn(1, *net.input.dims))
    s = summarize(net)
    assert (s.macs, s.params) == (macs, params)


# --- archdsl check --input: the smallest input size -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DOCUMENTED_MIN_SIZE))
def test_smallest_input_matches_torchvision_documentation(name):
    result = run_cli("check", str(SPECS / f"{name}.arch"), "--input", "3xHxW", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    (found,) = json.loads(result.stdout)["networks"]
    size = DOCUMENTED_MIN_SIZE[name]
    assert found["smallest"] == [3, size, size]
    assert [axis["minimum"] for axis in found["axes"]] == [size, size]


def test_smallest_input_text_and_shared_symbol():
    result = run_cli("check", str(SPECS / "alexnet.arch"), "--input", "3xSxS")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "alexnet accepts 3x63x63 at the smallest" in out
    assert "H, W >= 63: every size from 63 to 224 fits; at 62:" in out


def test_concrete_input_checks_at_that_size():
    assert run_cli("check", str(SPECS / "alexnet.arch"), "--input", "3x63x63").returncode == 0
    too_small = run_cli("check", str(SPECS / "alexnet.arch"), "--input", "3x62x62")
    assert too_small.returncode == 1 and b"error[E0205]" in too_small.stderr


def test_search_finds_the_true_minimum_where_sizes_are_not_monotone(write):
    # size 3 fits, 4 and 5 do not, 6 and up do: bisection alone would answer 6
    spec = write("odd.arch", """
        network odd(input=[1, 16, 16]) {
            if in.h == 3 { identity } else { maxpool(6, stride=1) }
        }""")
    result = run_cli("check", str(spec), "--input", "1xHx16", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    (axis,) = json.loads(result.stdout)["networks"][0]["axes"]
    assert axis["minimum"] == 3
    assert axis["valid"][:3] == [3, 6, 7] and 4 not in axis["valid"] and 5 not in axis["valid"]


def test_search_reports_periodic_sizes(write):
    # a stride-2 conv rounds odd sizes up, a 2x2 pool rounds them down: only even sizes can be added
    spec = write("even.arch", """
        network even(input=[4, 16, 16]) {
            add { conv(4, 3, stride=2, pad=1) | maxpool(2) }
        }""")
    result = run_cli("check", str(spec), "--input", "4xSxS")
    assert result.returncode == 0, result.stderr.decode()
    assert "every 2" in result.stdout.decode() and "4x2x2 at the smallest" in result.stdout.decode()


def test_input_search_without_torch_and_bad_values():
    assert run_cli("check", str(SPECS / "vgg16.arch"), "--input", "3xHx").returncode == 2
    assert run_cli("check", str(SPECS / "vgg16.arch"), "--input", "3xHxW", "--set", "classes=10").returncode == 0


# --- --deploy: the reparameterized graph, still without torch ----------------------------------------------------


def test_deploy_summary_counts_the_fused_network():
    train = _summary_json(str(SPECS / "repvgg_a0.arch"))
    deploy = _summary_json(str(SPECS / "repvgg_a0.arch"), "--deploy")
    assert train["totals"]["params"] == 9_108_968
    assert deploy["totals"]["params"] == 8_309_384  # timm's reparameterized RepVGG-A0
    assert not any(row["op"] == "bn" for row in deploy["layers"])
    assert deploy["totals"]["macs"] < train["totals"]["macs"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["repvgg_a0", "resnet18", "mobilenet_v2"])
def test_deploy_totals_equal_forward_hook_counts_of_the_reparameterized_model(name):
    import torch

    from archdsl.reparam import deploy_ir

    net = at_small_input(SPECS / f"{name}.arch")
    model = archdsl.reparameterize(archdsl.build(net).eval())
    with torch.no_grad():
        macs, params = _hook_counts(model, torch.randn(1, *net.input.dims))
    s = summarize(deploy_ir(net))
    assert (s.macs, s.params) == (macs, params)


def test_input_search_skips_networks_of_another_rank(write):
    flat = write("mlp.arch", "network mlp(input=[16]) { linear(4) }")
    result = run_cli("check", str(flat), str(SPECS / "vgg16.arch"), "--input", "3xHxW")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "mlp: skipped: --input has 3 dims but network `mlp` takes 16" in out and "vgg16 accepts 3x32x32" in out
    features = run_cli("check", str(flat), "--input", "F", "--format", "json")
    assert json.loads(features.stdout)["networks"][0]["smallest"] == [1]
