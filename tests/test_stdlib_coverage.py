"""Every standard-library block earns its place: some spec uses it and a stdlib test checks its shape rule."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

import archdsl
from archdsl.ir import GroupNode
from archdsl.passes.resolve import load_file, stdlib

from conftest import all_specs

STDLIB_BLOCKS = sorted(stdlib().blocks)


def _blocks_in(graph, found: set[str]) -> None:
    for node in graph.nodes:
        if isinstance(node, GroupNode):
            found.add(node.block)
            _blocks_in(node.graph, found)


@lru_cache(maxsize=1)
def blocks_used_by_specs() -> frozenset[str]:
    found: set[str] = set()
    for path in all_specs():
        for definition in load_file(path).module.networks:
            _blocks_in(archdsl.check(path, network=definition.name).graph, found)
    return frozenset(found)


@lru_cache(maxsize=1)
def stdlib_test_text() -> str:
    return "\n".join(p.read_text() for p in sorted(Path(__file__).parent.glob("test_stdlib_*.py")))


def test_stdlib_is_not_empty():
    assert len(STDLIB_BLOCKS) >= 20


@pytest.mark.parametrize("block", STDLIB_BLOCKS)
def test_block_is_used_by_a_spec(block):
    assert block in blocks_used_by_specs(), f"no spec in specs/ uses stdlib block `{block}`"


@pytest.mark.parametrize("block", STDLIB_BLOCKS)
def test_block_has_a_shape_rule_test(block):
    assert re.search(rf"\b{block}\b", stdlib_test_text()), f"no tests/test_stdlib_*.py mentions `{block}`"
