"""Issue 13 item 1: the project's description promises `vgg_block(2,256)`, `inception(64,(96,128),(16,32),32)`
and `dense(4,growth=32)`; a network using all three exactly as written checks and builds."""

from __future__ import annotations

import pytest

import archdsl
from conftest import SPECS

#: the three calls, byte for byte as the description writes them (no spaces after the commas)
VERBATIM = """
network mission(classes=10, input=[1, 96, 96]) {
    vgg_block(2,256)
    inception(64,(96,128),(16,32),32)
    dense(4,growth=32)
    gap flatten linear(classes)
}
"""


def test_the_three_blocks_check_as_written(write):
    net = archdsl.check(write("mission.arch", VERBATIM))
    assert net.output.dims == (10,)
    blocks = [node.block for node in net.graph.nodes if getattr(node, "block", "")]
    assert blocks == ["vgg_block", "inception", "dense"]
    shapes = [node.out.dims for node in net.graph.nodes if getattr(node, "block", "")]
    # vgg_block halves 96 to 48 with 256 channels; inception keeps 64 + 128 + 32 + 32 = 256; dense adds 4 * 32
    assert shapes == [(256, 48, 48), (256, 48, 48), (384, 48, 48)]


def test_the_bundled_spec_is_the_same_network(write):
    bundled = archdsl.check(SPECS / "mission.arch")
    assert bundled.param_count == archdsl.check(write("mission.arch", VERBATIM)).param_count == 1_126_266


def test_dense_defaults_to_growth_32_and_is_the_books_dense_block(write):
    path = write("d.arch", """
network a(input=[64, 8, 8]) { dense(4) }
network b(input=[64, 8, 8]) { book_dense_block(4, 32) }
""")
    a, b = archdsl.check(path, "a"), archdsl.check(path, "b")
    assert a.output.dims == b.output.dims == (64 + 4 * 32, 8, 8)
    assert a.param_count == b.param_count


def test_the_three_blocks_build_and_run(write):
    torch = pytest.importorskip("torch")
    model = archdsl.load(write("mission.arch", VERBATIM), input=[1, 32, 32])
    with torch.no_grad():
        assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 1_126_266
