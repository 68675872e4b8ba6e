"""The torch-free deploy pass on graphs: merges that read a block's second output or an extra input."""

from __future__ import annotations

import archdsl
from archdsl.reparam import deploy_ir

TWO_OUTPUTS = """
block pair(c) {
    conv(c, 3, pad=1) -> a
    conv(c, 1) -> b
    return @a, @b
}
network two(input=[3, 16, 16]) {
    pair(8) -> (x, y)
    @x
    add { bn | @y }
}
"""


def test_deploy_ir_keeps_a_sum_that_reads_a_second_output(tmp_path):
    spec = tmp_path / "two.arch"
    spec.write_text(TWO_OUTPUTS)
    network = archdsl.check(spec)
    deployed = deploy_ir(network)  # raised AttributeError: 'SelectNode' object has no attribute 'op'
    assert deployed.output.dims == network.output.dims == (8, 16, 16)
    # the bn reads the block's first output from outside the block: it is kept, not folded across the call
    assert [getattr(n, "op", n.kind) for n in deployed.graph.nodes] == ["group", "select", "bn", "add"]
    assert deployed.param_count == network.param_count == 312
