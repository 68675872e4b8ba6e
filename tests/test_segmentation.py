"""The segmentation specs against torchvision: fcn_resnet50 and deeplabv3_resnet50 with `aux_loss=True`.

Always (from tests/reference/*.json and torchvision's source): parameter counts, the ordered state_dict keys and
shapes, the outputs {out, aux} at the input's resolution, the dilations of the backbone and of ASPP, which no
shape records. With torchvision installed: the same outputs in eval and training mode with its weights.
"""

from __future__ import annotations

import importlib.util

import pytest

import archdsl

from conftest import SPECS, named_ops, randomize_batchnorm_stats, reference

NAMES = ["fcn_resnet50", "deeplabv3_resnet50"]
#: parameters with `aux=false` (torchvision's aux_loss=False or None): without the FCN head on layer3
WITHOUT_AUX = {"fcn_resnet50": 32_957_013, "deeplabv3_resnet50": 39_638_869}
#: the 3x3 dilation of each bottleneck of layer3 and layer4 in torchvision's
#: `resnet50(replace_stride_with_dilation=[False, True, True])`: `_make_layer` gives a dilated stage's first block
#: the previous stage's dilation
DILATIONS = {"layer3": [1, 2, 2, 2, 2, 2], "layer4": [2, 4, 4]}


@pytest.mark.parametrize("name", NAMES)
def test_static_facts_match_the_record(name):
    net = archdsl.check(SPECS / f"{name}.arch")
    record = reference(name)
    assert net.param_count == record["params"]
    assert {k: [1, *t.dims] for k, t in net.outputs().items()} == record["outputs"]
    assert net.graph.output_kind == "dict" and list(net.outputs()) == ["out", "aux"]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_keys_and_shapes_are_torchvisions(name):
    """Resizing to the input adds no entry: torchvision calls `F.interpolate`, a function, not a module."""
    model = archdsl.load(SPECS / f"{name}.arch")
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == reference(name)["state_dict"]


@pytest.mark.parametrize("name", NAMES)
def test_without_the_auxiliary_head(name):
    net = archdsl.check(SPECS / f"{name}.arch", aux=False)
    assert net.param_count == WITHOUT_AUX[name]
    assert list(net.outputs()) == ["out"]


@pytest.mark.parametrize("name", NAMES)
def test_dilated_backbone_as_torchvision_builds_it(name):
    ops = dict(named_ops(archdsl.check(SPECS / f"{name}.arch").graph))
    for stage, dilations in DILATIONS.items():
        convs = [ops[f"backbone.{stage}.{i}.conv2"].params for i in range(len(dilations))]
        assert [c.dilation for c in convs] == dilations
        assert [c.pad for c in convs] == dilations and all(c.stride == 1 for c in convs)
    assert ops["backbone.layer4.2.conv3"].out.dims == (2048, 65, 65)  # output stride 8 at 520x520


def test_aspp_rates_and_image_pooling():
    ops = dict(named_ops(archdsl.check(SPECS / "deeplabv3_resnet50.arch").graph))
    assert [ops[f"classifier.0.convs.{i}.0"].params.dilation for i in (1, 2, 3)] == [12, 24, 36]
    pooling = [ops[f"classifier.0.convs.4.{i}"] for i in range(5)]
    assert [op.op for op in pooling] == ["gap", "conv", "bn", "relu", "resize"]
    assert pooling[-1].out.dims == (256, 65, 65) and pooling[-1].params.mode == "bilinear"


@pytest.mark.slow
def test_outputs_follow_the_input_size_when_it_runs():
    import torch

    model = archdsl.load(SPECS / "fcn_resnet50.arch", input=[3, 64, 64]).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 40, 56))
    assert {k: tuple(v.shape) for k, v in out.items()} == {"out": (1, 21, 40, 56), "aux": (1, 21, 40, 56)}


@pytest.mark.slow
@pytest.mark.reference
@pytest.mark.parametrize("name", NAMES)
def test_same_outputs_as_torchvision_in_eval_and_training(name):
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision not installed (pip install -e '.[reference]')")
    import torch
    from torchvision.models import segmentation

    torch.manual_seed(0)
    ref = getattr(segmentation, name)(weights=None, weights_backbone=None, aux_loss=True)
    randomize_batchnorm_stats(ref)
    ours = archdsl.load(SPECS / f"{name}.arch", weights=ref)
    x = torch.randn(2, 3, 64, 72)  # not the declared 520x520: the heads resize to whatever comes in
    for training in (False, True):
        ref.train(training), ours.train(training)
        with torch.no_grad():
            torch.manual_seed(2)  # the dropouts of both heads draw the same masks, in the same order
            expected = ref(x)
            torch.manual_seed(2)
            actual = ours(x)
        assert list(actual) == list(expected) == ["out", "aux"]
        torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.state_dict(), ref.state_dict())  # running statistics updated alike
