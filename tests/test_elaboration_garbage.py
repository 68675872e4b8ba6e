"""Elaboration leaves no reference cycles: reference counting frees a network's builders and names as soon as
the network is done, and Python's cyclic collector has nothing to find (it used to spend a third of an
elaboration's time on them; see ElaborationState._names)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from archdsl import pipeline

SPECS = sorted(p for p in (Path(__file__).parents[1] / "specs").glob("*.arch") if p.stem != "mission")


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_elaborating_a_network_makes_no_garbage_cycles(spec):
    compilation = pipeline.load(spec)
    definitions = pipeline.networks(compilation)  # every network of the file, variants included
    assert definitions
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for definition in definitions:
            gc.collect()
            net = pipeline.elaborate(compilation, {}, definition)
            del net
            assert gc.collect() == 0, definition.name
    finally:
        if was_enabled:
            gc.enable()


def test_features_and_named_tensors_make_none_either():
    compilation = pipeline.load("specs/unet.arch")
    pipeline.choose(compilation)
    gc.collect()
    gc.disable()
    try:
        net = pipeline.elaborate(compilation, {}, features=("down1", "down3", "@x2"))
        assert len(net.graph.outputs) == 3
        del net
        assert gc.collect() == 0
    finally:
        gc.enable()
