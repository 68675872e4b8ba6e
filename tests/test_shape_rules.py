"""Property tests: every primitive's static shape rule agrees with what torch computes, over random geometry."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings, strategies as st

from archdsl.primitives import REGISTRY, ShapeError
from archdsl.types import TensorType

small = st.integers(min_value=1, max_value=12)


def _torch_shape(module, x: TensorType):
    with torch.no_grad():
        try:
            return tuple(module.eval()(torch.zeros(1, *x.dims)).shape[1:])
        except RuntimeError:
            return None


def _ours(name: str, params: dict, x: TensorType):
    primitive = REGISTRY[name]
    p = primitive.Params(**params)
    try:
        out = primitive.infer(p, x)
    except ShapeError:
        return None, primitive, p
    return out.dims, primitive, p


@settings(max_examples=120, deadline=None)
@given(c=small, h=small, w=small, out=small, k=st.integers(1, 5), s=st.integers(1, 3), pad=st.integers(0, 2),
       d=st.integers(1, 2), groups=st.sampled_from([1, 2, 3]))
def test_conv_rule_matches_torch(c, h, w, out, k, s, pad, d, groups):
    x = TensorType.of(c, h, w)
    ours, primitive, p = _ours("conv", dict(out=out, kernel=k, stride=s, pad=pad, dilation=d, groups=groups), x)
    if ours is None:  # our rule refuses: torch must refuse too (or we refuse a group mismatch torch can't build)
        if c % groups or out % groups:
            return
        assert _torch_shape(primitive.build(p, x, x), x) is None
        return
    module = primitive.build(p, x, TensorType.of(*ours))
    assert _torch_shape(module, x) == ours
    assert sum(t.numel() for t in module.parameters()) == primitive.param_count(p, x, TensorType.of(*ours))


@settings(max_examples=120, deadline=None)
@given(c=small, h=small, w=small, k=st.integers(1, 4), s=st.integers(1, 3), pad=st.integers(0, 2), ceil=st.booleans(),
       name=st.sampled_from(["maxpool", "avgpool"]))
def test_pool_rule_matches_torch(c, h, w, k, s, pad, ceil, name):
    x = TensorType.of(c, h, w)
    ours, primitive, p = _ours(name, dict(kernel=k, stride=s, pad=pad, ceil=ceil), x)
    if ours is None:
        if pad > k // 2:
            return  # torch raises at construction for this; our rule reports it statically
        assert _torch_shape(primitive.build(p, x, x), x) is None
        return
    assert _torch_shape(primitive.build(p, x, TensorType.of(*ours)), x) == ours


PARAMETERLESS_SAMPLES = {
    "gn": dict(groups=1), "lrn": dict(size=3), "linear": dict(out=5), "channel_shuffle": dict(groups=1),
    "slice": dict(start=0, stop=1), "adaptive_avgpool": dict(size=2), "adaptive_maxpool": dict(size=2),
    "maxpool": dict(kernel=2), "avgpool": dict(kernel=2), "conv": dict(out=4, kernel=1),
    "activation": dict(kind="silu"),
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_primitive_rule_and_parameter_count_match_its_module(name):
    primitive = REGISTRY[name]
    x = TensorType.of(6) if name == "linear" else TensorType.of(6, 9, 9)
    p = primitive.Params(**PARAMETERLESS_SAMPLES.get(name, {}))
    y = primitive.infer(p, x)
    module = primitive.build(p, x, y)
    assert _torch_shape(module, x) == y.dims
    assert sum(t.numel() for t in module.parameters()) == primitive.param_count(p, x, y)
    assert isinstance(primitive.label(p), str) and primitive.family
