"""Shape rules and layout of the stdlib's ConvNeXt blocks, `cn_block` and `cn_stage` (archdsl/stdlib/convnext.arch),
in torchvision's `CNBlock` layout."""

from __future__ import annotations

import pytest
import torch

import archdsl


def test_cn_block_layout_layer_scale_and_stochastic_depth(write):
    path = write("n.arch", "network n(input=[8, 6, 6]) { b: cn_block(scale=0.5, drop=0.25) }")
    block = archdsl.load(path).b
    assert [(k, tuple(v.shape)) for k, v in block.state_dict().items()] == [
        ("layer_scale", (8, 1, 1)),  # a parameter of the block itself, before its children, as torchvision's
        ("block.0.weight", (8, 1, 7, 7)), ("block.0.bias", (8,)),  # depthwise 7x7
        ("block.2.weight", (8,)), ("block.2.bias", (8,)),  # LayerNorm, after permute (block.1)
        ("block.3.weight", (32, 8)), ("block.3.bias", (32,)),  # nn.Linear weights, not 1x1 convs
        ("block.5.weight", (8, 32)), ("block.5.bias", (8,)),  # after GELU (block.4); permute back is block.6
    ]
    assert torch.equal(block.layer_scale, torch.full((8, 1, 1), 0.5))
    assert block.get_submodule("stochastic_depth").p == 0.25
    x = torch.randn(2, 8, 6, 6)
    block.eval()
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.layer_scale * block.get_submodule("block")(x))


@pytest.mark.parametrize("input", [[8, 6, 6], [8, 5, 7], [3, 1, 1]])
def test_cn_stage_keeps_the_shape_and_numbers_its_blocks_across_stages(write, input):
    # blocks 4, 5, 6 of 10: torchvision's sd_prob = p * k / (total - 1)
    path = write("n.arch", f"network n(input={input}) {{ s: cn_stage(3, 4, 10, stochastic_depth=0.3) }}")
    net = archdsl.check(path)
    assert net.output.dims == tuple(input)
    stage = archdsl.build(net).s.eval()
    rates = [stage.get_submodule(f"{i}.stochastic_depth").p for i in range(3)]
    assert rates == pytest.approx([0.3 * k / 9 for k in (4, 5, 6)])
    with torch.no_grad():
        assert tuple(stage(torch.randn(2, *input)).shape[1:]) == tuple(input)
