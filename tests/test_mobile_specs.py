"""The mobile-family specs under their scaling knobs: width multipliers and EfficientNet's compound
coefficients give torchvision's parameter counts; MobileNet v1 and ShuffleNet v1 (no torchvision model)
stay within the papers' parameter and mult-add figures.

The torchvision numbers are literals measured once in the reference environment (torch 2.14.1,
torchvision 0.29.1), so these tests hold without torchvision installed:

    python -c "import torchvision.models as M; m = M.mobilenet_v2(width_mult=0.5); \\
               print(sum(p.numel() for p in m.parameters()))"

and likewise for each constructor named in the tables below.
"""

from __future__ import annotations

import pytest
import torch

import archdsl

from conftest import SPECS

# (spec, parameters, torchvision constructor it must match, its parameter count)
TORCHVISION_VARIANTS = [
    ("mobilenet_v2", dict(width=0.5), "mobilenet_v2(width_mult=0.5)", 1_968_680),
    ("mobilenet_v2", dict(width=0.75), "mobilenet_v2(width_mult=0.75)", 2_636_424),
    ("mobilenet_v2", dict(width=1.4), "mobilenet_v2(width_mult=1.4)", 6_108_776),
    ("mobilenet_v2", dict(classes=10), "mobilenet_v2(num_classes=10)", 2_236_682),
    ("mobilenet_v3_large", dict(width=0.75), "mobilenet_v3_large(width_mult=0.75)", 3_377_576),
    ("mobilenet_v3_small", dict(width=0.5), "mobilenet_v3_small(width_mult=0.5)", 917_264),
    ("mobilenet_v3_small", dict(width=1.25), "mobilenet_v3_small(width_mult=1.25)", 3_644_912),
    ("shufflenet_v2_x1_0", dict(width=0.5), "shufflenet_v2_x0_5()", 1_366_792),
    ("shufflenet_v2_x1_0", dict(width=1.5), "shufflenet_v2_x1_5()", 3_503_624),
    ("shufflenet_v2_x1_0", dict(width=2.0), "shufflenet_v2_x2_0()", 7_393_996),
    ("efficientnet_b0", dict(width=1.0, depth=1.1), "efficientnet_b1()", 7_794_184),
    ("efficientnet_b0", dict(width=1.1, depth=1.2), "efficientnet_b2()", 9_109_994),
    ("efficientnet_b0", dict(width=1.2, depth=1.4), "efficientnet_b3()", 12_233_232),
    ("efficientnet_b0", dict(width=1.4, depth=1.8), "efficientnet_b4()", 19_341_616),
    ("efficientnet_b0", dict(width=1.6, depth=2.2), "efficientnet_b5()", 30_389_784),
    ("efficientnet_b0", dict(width=1.8, depth=2.6), "efficientnet_b6()", 43_040_704),
    ("efficientnet_b0", dict(width=2.0, depth=3.1), "efficientnet_b7()", 66_347_960),
    ("efficientnet_b0", dict(classes=10), "efficientnet_b0(num_classes=10)", 4_020_358),
    ("efficientnet_v2_s", dict(classes=10), "efficientnet_v2_s(num_classes=10)", 20_190_298),
]


@pytest.mark.parametrize("spec, params, constructor, expected", TORCHVISION_VARIANTS,
                         ids=[v[2] for v in TORCHVISION_VARIANTS])
def test_scaled_variants_have_torchvision_parameter_counts(spec, params, constructor, expected):
    net = archdsl.check(SPECS / f"{spec}.arch", **params)
    assert net.param_count == expected, constructor
    assert net.output.dims == (params.get("classes", 1000),)


def test_a_width_variant_is_a_real_model():
    model = archdsl.load(SPECS / "mobilenet_v2.arch", width=0.5).eval()
    assert sum(p.numel() for p in model.parameters()) == 1_968_680
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_efficientnet_input_size_is_a_parameter():
    # B1's native resolution; the parameter count does not depend on it
    net = archdsl.check(SPECS / "efficientnet_b0.arch", width=1.0, depth=1.1, input=(3, 240, 240))
    assert net.param_count == 7_794_184 and net.input.dims == (3, 240, 240)


def test_shufflenet_v2_rejects_a_width_without_a_channel_table():
    with pytest.raises(archdsl.ArchError):
        archdsl.check(SPECS / "shufflenet_v2_x1_0.arch", width=0.75)


# --- from the papers ---------------------------------------------------------------------------

def test_mobilenet_v1_matches_the_paper():
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224 has 4.2M parameters and 569M mult-adds
    net = archdsl.check(SPECS / "mobilenet_v1.arch")
    assert 4_150_000 <= net.param_count <= 4_250_000
    assert 565_000_000 <= net.macs <= 573_000_000
    assert net.output.dims == (1000,)


@pytest.mark.parametrize("width, params_millions, macs_millions", [
    (0.75, 2.6, 325), (0.5, 1.3, 149), (0.25, 0.5, 41),   # Table 6 (width multiplier)
])
def test_mobilenet_v1_width_multiplier_matches_the_paper(width, params_millions, macs_millions):
    net = archdsl.check(SPECS / "mobilenet_v1.arch", width=width)
    assert abs(net.param_count / 1e6 - params_millions) <= 0.05
    assert abs(net.macs / 1e6 - macs_millions) <= 1


def test_mobilenet_v1_resolution_multiplier_matches_the_paper():
    # Table 7: 1.0 MobileNet-128 has 186M mult-adds, same 4.2M parameters
    net = archdsl.check(SPECS / "mobilenet_v1.arch", input=(3, 128, 128))
    assert abs(net.macs / 1e6 - 186) <= 1 and 4_150_000 <= net.param_count <= 4_250_000


def test_shufflenet_v1_matches_the_paper():
    # Zhang et al. 2018, Table 2: ShuffleNet 1x (g = 3) has 140 MFLOPs (mult-adds); the reference
    # implementation (megvii-model/ShuffleNet-Series) reports 138M and 1.9M parameters
    net = archdsl.check(SPECS / "shufflenet_v1.arch")
    assert 1_800_000 <= net.param_count <= 1_950_000
    assert 135_000_000 <= net.macs <= 142_000_000
    assert net.output.dims == (1000,)


@pytest.mark.parametrize("groups, macs_millions", [(1, 143), (2, 140), (3, 137), (4, 133), (8, 137)])
def test_shufflenet_v1_groups_keep_the_paper_complexity(groups, macs_millions):
    # Table 1: the stage widths per group count are chosen to keep about the same complexity
    net = archdsl.check(SPECS / "shufflenet_v1.arch", groups=groups)
    assert abs(net.macs / 1e6 - macs_millions) <= 2


@pytest.mark.parametrize("width, macs_millions", [(2.0, 524), (0.5, 38)])
def test_shufflenet_v1_scale_factor_matches_the_paper(width, macs_millions):
    # Table 2, g = 3: ShuffleNet 2x 524 MFLOPs, 0.5x 38 MFLOPs
    net = archdsl.check(SPECS / "shufflenet_v1.arch", width=width)
    assert abs(net.macs / 1e6 - macs_millions) <= 1


@pytest.mark.parametrize("spec", ["mobilenet_v1", "shufflenet_v1"])
def test_paper_specs_build_and_run(spec):
    model = archdsl.load(SPECS / f"{spec}.arch").eval()
    assert sum(p.numel() for p in model.parameters()) == archdsl.check(SPECS / f"{spec}.arch").param_count
    with torch.no_grad():
        assert model(torch.randn(2, 3, 224, 224)).shape == (2, 1000)
