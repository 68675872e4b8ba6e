"""Parity with torchvision/timm: parameter count, ordered state_dict shapes and output shape always (from the
recorded reference files); outputs with the reference weights loaded when torchvision/timm is installed."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

import archdsl
from archdsl.weights import load_weights

from conftest import REFERENCE, SPECS, reference

NAMES = sorted(p.stem for p in REFERENCE.glob("*.json"))


def _spec(name: str) -> tuple:
    """The spec call a record describes: specs/<name>.arch with its defaults unless the record says otherwise
    (`"spec"` a file under specs/, `"network"` its name there, `"args"` the arguments: googlenet without aux heads)."""
    record = reference(name)
    return SPECS / record.get("spec", f"{name}.arch"), record.get("network"), record.get("args", {})


@pytest.mark.parametrize("name", NAMES)
def test_static_parameter_count(name):
    path, network, args = _spec(name)
    net = archdsl.check(path, network, **args)
    assert net.param_count == reference(name)["params"]
    assert list(net.output.dims) == reference(name)["output"][1:]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_shapes_in_order(name):
    path, network, args = _spec(name)
    with torch.device("meta"):  # shapes only: no weights are made, so the largest networks cost little
        model = archdsl.load(path, network, **args)
    ours = [list(v.shape) for v in model.state_dict().values()]
    theirs = [shape for _, shape in reference(name)["state_dict"]]
    if not reference(name).get("ordered", True):  # same keys, another order (generate.py's KEYS_ONLY says why)
        ours = [[k, list(v.shape)] for k, v in sorted(model.state_dict().items())]
        theirs = sorted(reference(name)["state_dict"])
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"entry {i}: ours {list(model.state_dict())[i]} {a}, reference {reference(name)['state_dict'][i]}"
    assert sum(p.numel() for p in model.parameters()) == reference(name)["params"]


def _reference_available(name: str) -> bool:
    timm = name.startswith(("repvgg", "mobilenetv3_"))
    module = "timm" if timm else "ultralytics" if name.startswith("yolo") else "torchvision"
    return importlib.util.find_spec(module) is not None


@pytest.mark.reference
@pytest.mark.parametrize("name", NAMES)
def test_outputs_equal_with_reference_weights(name):
    if not _reference_available(name):
        pytest.skip("torchvision/timm not installed (pip install -e '.[reference]')")
    sys.path.insert(0, str(REFERENCE))
    from generate import reference_model

    torch.manual_seed(0)
    ref = reference_model(name).eval()
    path, network, args = _spec(name)
    ours = load_weights(archdsl.load(path, network, **args), ref.state_dict()).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, actual = ref(x), ours(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
