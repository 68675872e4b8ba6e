"""The variants of the bundled families (issue 13 item 4): each a one-line `network NAME = BASE(...)` in a family
file under specs/, named as torchvision or timm names it, found by name, with the reference's state_dict keys.

test_parity.py checks every record of tests/reference/ (variants included: their records say which file and
network) for parameter count, ordered shapes and, with the reference extra, outputs with the reference weights.
This file adds what is particular to variants: they are one line each, they load the reference's state_dict by
key (not only by order), the CLI finds them, and the RepVGG sizes reparameterize to the paper's counts.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch

import archdsl
from archdsl.passes.resolve import load_file

from conftest import REFERENCE, SPECS, run_cli

#: the record of every variant in a family file, by name (its "spec" and "network" say where it is)
VARIANTS = {p.stem: r for p in sorted(REFERENCE.glob("*.json")) if "network" in (r := json.loads(p.read_text()))}


def test_every_family_of_the_issue_has_its_variants():
    wanted = ["resnet101", "resnet152", "wide_resnet50_2", "wide_resnet101_2", "resnext101_32x8d", "resnext101_64x4d",
              "densenet161", "densenet169", "densenet201", "vgg13", "vgg13_bn", "vgg19", "vgg19_bn",
              "mobilenetv3_large_075", "mobilenetv3_small_050", "mobilenetv3_small_075", "shufflenet_v2_x0_5",
              "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", *(f"efficientnet_b{i}" for i in range(1, 8)),
              "efficientnet_v2_m", "efficientnet_v2_l", "convnext_small", "convnext_base", "convnext_large",
              "repvgg_a1", "repvgg_a2", "repvgg_b0", "repvgg_b1", "repvgg_b1g2", "repvgg_b1g4", "repvgg_b2",
              "repvgg_b2g4", "repvgg_b3", "repvgg_b3g4"]
    assert sorted(set(wanted) - set(VARIANTS)) == []


@pytest.mark.parametrize("spec", sorted({record["spec"] for record in VARIANTS.values()}))
def test_a_family_file_holds_variants_of_at_most_one_definition(spec):
    networks = load_file(SPECS / spec).module.networks
    bodies = [n.name for n in networks if n.base is None]  # the rest are `network NAME = BASE(...)`
    assert len(bodies) <= 1 and len(networks) > len(bodies), bodies


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_has_the_reference_keys_and_shapes(name):
    record = VARIANTS[name]
    with torch.device("meta"):  # names and shapes only: no weights are made
        model = archdsl.load(SPECS / record["spec"], record["network"])
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == record["state_dict"]


def test_the_cli_finds_a_variant_by_name(tmp_path):
    result = run_cli("check", "specs/shufflenetv2.arch")
    assert result.returncode == 0
    for name in ("shufflenet_v2_x0_5", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"):
        assert f"{name} 3x224x224 -> 1000, {VARIANTS[name]['params']:,} parameters".encode() in result.stdout
    out = tmp_path / "x0_5.pt"
    result = run_cli("build", "specs/shufflenetv2.arch", "--network", "shufflenet_v2_x0_5", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert out.exists()


#: Ding et al. 2021, Table 4: parameters of the reparameterized (deploy) RepVGGs, in millions
REPVGG_PAPER = {"repvgg_a1": 12.78, "repvgg_a2": 25.49, "repvgg_b0": 14.33, "repvgg_b1": 51.82, "repvgg_b1g2": 41.36,
                "repvgg_b1g4": 36.12, "repvgg_b2": 80.31, "repvgg_b2g4": 55.77, "repvgg_b3": 110.96,
                "repvgg_b3g4": 75.62}


@pytest.mark.parametrize("name", sorted(REPVGG_PAPER))
def test_repvgg_deploy_form_has_the_papers_parameter_count(name):
    # independent of timm: B1g2, which timm lacks, is checked here against the paper
    from archdsl.reparam import deploy_ir

    deployed = deploy_ir(archdsl.check(SPECS / "repvgg.arch", name)).param_count
    assert round(deployed / 1e6, 2) == pytest.approx(REPVGG_PAPER[name], abs=0.011)


def test_repvgg_groups_every_second_block_of_a_stage(write):
    path = write("n.arch", "network n(input=[8, 8, 8]) { s: repvgg_stage(16, 4, groups=4) }")
    stage = archdsl.load(path).s
    assert [stage.get_submodule(f"{i}.conv_kxk.conv").groups for i in range(4)] == [1, 4, 1, 4]
    assert [stage.get_submodule(f"{i}.conv_1x1.conv").groups for i in range(4)] == [1, 4, 1, 4]
    assert archdsl.check(path).output.dims == (16, 4, 4)


@pytest.mark.reference
@pytest.mark.parametrize("width", [0.5, 0.75, 1.25])
@pytest.mark.parametrize("size", ["large", "small"])
def test_torchvision_mobilenet_v3_widths(size, width):
    # torchvision names no other width, but its class takes one: the spec's `width` against it, by key
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision not installed (pip install -e '.[reference]')")
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

    from archdsl.weights import load_weights

    torch.manual_seed(0)
    ref = MobileNetV3(*_mobilenet_v3_conf(f"mobilenet_v3_{size}", width_mult=width)).eval()
    ours = archdsl.load(SPECS / f"mobilenet_v3_{size}.arch", width=width, input=[3, 96, 96])
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours = load_weights(ours, ref.state_dict()).eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-4, atol=1e-5)
