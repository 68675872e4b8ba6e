"""Inception v3 (Szegedy et al. 2016) against torchvision's `inception_v3(init_weights=False)`.

Always (from tests/reference/inception_v3.json): 27,161,264 parameters at 299x299, torchvision's state_dict keys in
its order (AuxLogits between Mixed_6e and Mixed_7a), `(logits, aux_logits)` in training and the logits in eval mode.
With torchvision installed: the same outputs in eval and training mode with its weights.
"""

from __future__ import annotations

import importlib.util

import pytest

import archdsl

from conftest import SPECS, randomize_batchnorm_stats, reference

SPEC = SPECS / "inception_v3.arch"


def test_static_facts_match_the_record():
    net = archdsl.check(SPEC)
    record = reference("inception_v3")
    assert net.param_count == record["params"] == 27_161_264
    assert net.graph.input.dims == (3, 299, 299)
    assert [(o.name, o.train_only) for o in net.graph.outputs] == [("logits", False), ("aux_logits", True)]
    assert [list(t.dims) for t in net.outputs().values()] == record["train_outputs"]
    assert round(net.macs / 1e9, 2) == 5.71  # torchvision's published 5.71 GFLOPS


def test_state_dict_keys_and_shapes_are_torchvisions():
    model = archdsl.load(SPEC)
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == reference("inception_v3")["state_dict"]


def test_without_the_aux_head():
    net = archdsl.check(SPEC, aux_logits=False)
    assert net.param_count == 27_161_264 - 3_326_696  # torchvision's AuxLogits
    assert net.graph.outputs == ()


def test_grid_sizes_at_299():
    """The 35x35, 17x17 and 8x8 grids of the paper's Table 1, and the 5x5 map the aux head pools to."""
    groups = {n.name: n for n in archdsl.check(SPEC).graph.nodes}
    assert groups["Mixed_5d"].out.dims == (288, 35, 35)
    assert groups["Mixed_6e"].out.dims == (768, 17, 17)
    assert groups["Mixed_7c"].out.dims == (2048, 8, 8)
    assert groups["AuxLogits"].graph.nodes[0].out.dims == (768, 5, 5)


@pytest.mark.slow
@pytest.mark.reference
def test_same_outputs_as_torchvision_in_eval_and_training():
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision not installed (pip install -e '.[reference]')")
    import torch
    import torchvision

    torch.manual_seed(0)
    ref = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    randomize_batchnorm_stats(ref)
    ours = archdsl.load(SPEC, weights=ref)
    x = torch.randn(2, 3, 299, 299)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), ref.eval()(x), rtol=1e-4, atol=1e-5)
        torch.manual_seed(2)  # one dropout, before fc: the same mask
        expected = ref.train()(x)
        torch.manual_seed(2)
        actual = ours.train()(x)
    assert type(expected).__name__ == "InceptionOutputs" and list(actual._fields) == list(expected._fields)
    torch.testing.assert_close(tuple(actual), tuple(expected), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.state_dict(), ref.state_dict())  # running statistics updated alike
