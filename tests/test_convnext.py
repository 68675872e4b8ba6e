"""ConvNeXt's vocabulary (issue 13 item 2): `permute`, `ln2d`, `ln_last`, `linear(..., channels_last=true)`, and
the ConvNeXt networks (the stdlib's blocks are in test_stdlib_convnext.py). Parity of the whole networks with
torchvision is in test_parity.py (convnext_tiny) and test_variants.py (small, base, large)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn import functional as F

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.primitives import REGISTRY, ShapeError
from archdsl.types import TensorType

from conftest import SPECS, reference


# --- permute

@pytest.mark.parametrize("dims", [(2, 3, 4), (5,)], ids=["map", "flat"])
def test_permute_rule_matches_torch_for_every_order(dims):
    x = TensorType.of(*dims)
    primitive = REGISTRY["permute"]
    for order in itertools.permutations(range(1, len(dims) + 1)):
        p = primitive.Params(dims=(0, *order))
        y = primitive.infer(p, x)
        out = primitive.build(p, x, y)(torch.zeros(1, *dims))
        assert tuple(out.shape[1:]) == y.dims


@pytest.mark.parametrize("order", [(0, 2, 1), (1, 0, 2, 3), (0, 1, 2, 2), (0, 1, 2, 3, 4)])
def test_permute_refuses_what_is_not_an_order_keeping_the_batch_first(order):
    p = REGISTRY["permute"].Params(dims=order)
    with pytest.raises(ShapeError) as caught:
        REGISTRY["permute"].infer(p, TensorType.of(2, 3, 4))
    assert caught.value.code == "E0207"


# --- linear on the last dimension, LayerNorms over channels

def test_channels_last_linear_applies_to_the_last_dimension():
    primitive = REGISTRY["linear"]
    p = primitive.Params(out=7, channels_last=True)
    x = TensorType.of(4, 5, 3)
    y = primitive.infer(p, x)
    module = primitive.build(p, x, y)
    assert y.dims == (4, 5, 7) and tuple(module.weight.shape) == (7, 3)
    assert primitive.param_count(p, x, y) == sum(t.numel() for t in module.parameters())
    assert primitive.macs(p, x, y) == 4 * 5 * 3 * 7


def test_linear_on_a_feature_map_still_wants_flatten(write):
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("n.arch", "network n(input=[3, 8, 8]) { conv(4, 3) linear(10) }"))
    assert "E0206" in str(caught.value)


def test_ln2d_is_ln_last_between_permutes_and_normalizes_each_pixel(write):
    path = write("n.arch", """
network a(input=[6, 5, 4]) { ln2d(eps=1e-6) }
network b(input=[6, 5, 4]) { permute([0, 2, 3, 1]) ln_last(eps=1e-6) permute([0, 3, 1, 2]) }
""")
    a, b = archdsl.load(path, "a"), archdsl.load(path, "b")
    torch.manual_seed(0)
    for module in (a, b):
        for t in module.parameters():
            t.data = torch.arange(t.numel(), dtype=t.dtype) * 0.1 + 0.5
    x = torch.randn(2, 6, 5, 4)
    expected = F.layer_norm(x.permute(0, 2, 3, 1), (6,), a.get_submodule("0").weight, a.get_submodule("0").bias,
                            1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(a(x), expected)
    torch.testing.assert_close(b(x), expected)
    assert archdsl.check(path, "a").param_count == archdsl.check(path, "b").param_count == 12


# --- the block and the network

def test_convnext_tiny_keys_equal_torchvision_and_drop_rates_grow_linearly():
    model = archdsl.load(SPECS / "convnext_tiny.arch")
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == reference("convnext_tiny")["state_dict"]
    # torchvision: sd_prob = stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0), 18 blocks
    rates = [m.p for name, m in model.named_modules() if name.endswith("stochastic_depth")]
    assert rates == pytest.approx([0.1 * k / 17 for k in range(18)])


def test_convnext_sizes_are_parameters_of_one_spec():
    tiny = archdsl.check(SPECS / "convnext_tiny.arch")
    assert tiny.param_count == 28_589_128
    large = archdsl.check(SPECS / "convnext_tiny.arch", widths=[192, 384, 768, 1536], depths=[3, 3, 27, 3])
    assert large.param_count == 197_767_336  # torchvision's convnext_large
