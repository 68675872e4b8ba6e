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


@settings(max_examples=120, deadline=None)
@given(c=small, h=small, w=small, out=small, k=st.integers(1, 4), s=st.integers(1, 3), pad=st.integers(0, 2),
       output_pad=st.integers(0, 2), d=st.integers(1, 2), groups=st.sampled_from([1, 2]))
def test_transposed_conv_rule_matches_torch(c, h, w, out, k, s, pad, output_pad, d, groups):
    x = TensorType.of(c, h, w)
    params = dict(out=out, kernel=k, stride=s, pad=pad, output_pad=output_pad, dilation=d, groups=groups)
    ours, primitive, p = _ours("convt", params, x)
    if ours is None:
        if c % groups or out % groups or output_pad >= max(s, d):
            return  # torch refuses these when the module is made; our rule says so statically
        theirs = _torch_shape(primitive.build(p, x, x), x)
        assert theirs is None or 0 in theirs  # torch returns an empty tensor where the padding eats everything
        return
    module = primitive.build(p, x, TensorType.of(*ours))
    assert _torch_shape(module, x) == ours
    assert sum(t.numel() for t in module.parameters()) == primitive.param_count(p, x, TensorType.of(*ours))


@settings(max_examples=60, deadline=None)
@given(c=small, h=small, w=small, sh=st.integers(1, 3), sw=st.integers(1, 3),
       mode=st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic"]), corners=st.booleans())
def test_upsample_rule_matches_torch(c, h, w, sh, sw, mode, corners):
    x = TensorType.of(c, h, w)
    ours, primitive, p = _ours("upsample", dict(scale=(sh, sw), mode=mode, align_corners=corners), x)
    if ours is None:
        assert corners and mode.startswith("nearest")
        return
    assert _torch_shape(primitive.build(p, x, TensorType.of(*ours)), x) == ours


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 36), h=small, w=small, r=st.integers(1, 3), name=st.sampled_from(["pixel_shuffle",
                                                                                           "pixel_unshuffle"]))
def test_pixel_shuffle_rules_match_torch(c, h, w, r, name):
    x = TensorType.of(c, h, w)
    ours, primitive, p = _ours(name, dict(factor=r), x)
    expected = _torch_shape(primitive.build(p, x, x), x)
    assert ours == expected


PARAMETERLESS_SAMPLES = {
    "gn": dict(groups=1), "lrn": dict(size=3), "linear": dict(out=5), "channel_shuffle": dict(groups=1),
    "slice": dict(start=0, stop=1), "adaptive_avgpool": dict(size=2), "adaptive_maxpool": dict(size=2),
    "maxpool": dict(kernel=2), "avgpool": dict(kernel=2), "conv": dict(out=4, kernel=1),
    "activation": dict(kind="silu"), "convt": dict(out=4, kernel=2, stride=2, groups=2),
    "upsample": dict(scale=2, mode="bilinear"), "resize": dict(mode="bilinear", align_corners=True),
    "yolo_decode": dict(classes=2, reg_max=2),
    "pixel_shuffle": dict(factor=2), "pixel_unshuffle": dict(factor=3), "permute": dict(dims=(0, 2, 3, 1)),
}
#: inputs other than the default 6x9x9 (flat features for `linear`)
SAMPLE_INPUTS = {"linear": TensorType.of(6), "pixel_shuffle": TensorType.of(8, 9, 9),
                 "yolo_decode": TensorType.of(10, 8, 8)}
#: the types of the tensors that a primitive with tensor parameters (`resize(@like)`) takes besides its input
SAMPLE_TENSORS = {"resize": (TensorType.of(2, 13, 5),),
                  "yolo_decode": (TensorType.of(10, 4, 4), TensorType.of(10, 2, 2))}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_primitive_rule_and_parameter_count_match_its_module(name):
    primitive = REGISTRY[name]
    x = SAMPLE_INPUTS.get(name, TensorType.of(6, 9, 9))
    tensors = SAMPLE_TENSORS.get(name, ())
    assert len(tensors) == len(primitive.tensor_params), f"give `{name}` sample tensors in SAMPLE_TENSORS"
    p = primitive.Params(**PARAMETERLESS_SAMPLES.get(name, {}))
    y = primitive.infer(p, x, *tensors)
    module = primitive.build(p, x, y)
    with torch.no_grad():
        out = module.eval()(torch.zeros(1, *x.dims), *(torch.zeros(1, *t.dims) for t in tensors))
    assert tuple(out.shape[1:]) == y.dims
    assert sum(t.numel() for t in module.parameters()) == primitive.param_count(p, x, y)
    assert isinstance(primitive.label(p), str) and primitive.family
