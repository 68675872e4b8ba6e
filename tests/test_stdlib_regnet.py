"""Shape rules of the RegNet blocks (stdlib regnet.arch), statically and against torch; the widths the trunk
derives for every torchvision configuration are in tests/test_language_13_expressions.py."""

from __future__ import annotations

import pytest

import archdsl


def _call(write, call: str, input=(16, 8, 8)):
    net = archdsl.check(write("b.arch", f"network n(input={list(input)}) {{ b: {call} }}"))
    (node,) = net.graph.nodes
    return net, node


@pytest.mark.parametrize("call, out, proj, se", [
    ("regnet_block(16)", (16, 8, 8), False, False),                               # identity shortcut
    ("regnet_block(32, stride=2, group_width=8)", (32, 4, 4), True, False),       # projection
    ("regnet_block(16, group_width=8, se_ratio=0.25)", (16, 8, 8), False, True),  # RegNetY: squeeze-excitation
])
def test_regnet_block_projects_only_when_the_shape_changes(write, call, out, proj, se):
    net, block = _call(write, call)
    names = [n.name for n in block.graph.nodes if getattr(n, "name", None)]
    assert net.output.dims == out and ("proj" in names) == proj
    (f,) = [n for n in block.graph.nodes if getattr(n, "name", None) == "f"]
    assert [n.name for n in f.graph.nodes] == ["a", "b", *(["se"] if se else []), "c"]
    grouped = f.graph.nodes[1].graph.nodes[0]
    assert grouped.params.groups == out[0] // 8 if "group_width=8" in call else grouped.params.groups == 2


def test_regnet_stage_names_its_blocks_as_torchvision(write):
    net, stage = _call(write, "regnet_stage(3, 2, 24, 8)")
    assert [n.name for n in stage.graph.nodes] == ["block3-0", "block3-1"] and net.output.dims == (24, 4, 4)


def test_regnet_trunk_derives_stages(write):
    net, trunk = _call(write, "regnet_trunk(4, 16, 8.0, 2.0, 8)", input=(8, 32, 32))
    assert [n.name for n in trunk.graph.nodes] == ["block1", "block2"]
    assert [n.out.dims[0] for n in trunk.graph.nodes] == [16, 32]


def test_regnet_builds_and_runs(write):
    torch = pytest.importorskip("torch")
    model = archdsl.load(write("b.arch", "network n(input=[16, 8, 8]) { regnet_stage(1, 2, 32, 8, 0.25) }"))
    assert model(torch.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
