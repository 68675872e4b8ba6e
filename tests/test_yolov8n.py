"""YOLOv8n against Ultralytics: `yolov8n.yaml` as `ultralytics.nn.tasks.DetectionModel` builds it.

Always (from tests/reference/yolov8n.json): 3,157,200 parameters of which 3,157,184 train (the rest is the fixed
DFL convolution), Ultralytics' state_dict keys and shapes (`model.0.conv.weight` ...), the decoded detections in
eval mode and the three head maps in training. Ultralytics registers each C2f's `cv2` before its bottlenecks `m`;
the spec registers modules in the order they run, so the state_dict holds the same entries in another order, and
that is the only difference. With `ultralytics` installed: the same outputs in eval and training mode with its
weights, at an input size other than the declared one.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

import archdsl

from conftest import SPECS, randomize_batchnorm_stats, reference

SPEC = SPECS / "yolov8n.arch"
#: parameters at Ultralytics' scales of yolov8.yaml (depth, width, max_channels), as DetectionModel builds them
SCALES = {"n": ((0.33, 0.25, 1024), 3_157_200), "s": ((0.33, 0.5, 1024), 11_166_560),
          "m": ((0.67, 0.75, 768), 25_902_640), "l": ((1.0, 1.0, 512), 43_691_520),
          "x": ((1.0, 1.25, 512), 68_229_648)}


def test_static_facts_match_the_record():
    net = archdsl.check(SPEC)
    record = reference("yolov8n")
    assert net.param_count == record["params"] == 3_157_200
    assert list(net.output.dims) == record["output"][1:] == [84, 8400]  # 4 box coordinates + 80 classes
    assert [(o.name, o.train_only) for o in net.graph.outputs] == [
        ("detections", False), ("stride8", True), ("stride16", True), ("stride32", True)]
    assert [list(t.dims) for t in list(net.outputs().values())[1:]] == record["train_outputs"]
    assert round(2 * net.macs / 1e9, 1) == 8.7  # Ultralytics reports 8.7 GFLOPs (2 per multiply-accumulate)


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_every_scale_of_the_yaml(scale):
    (depth, width, max_channels), params = SCALES[scale]
    assert archdsl.check(SPEC, depth=depth, width=width, max_channels=max_channels).param_count == params


def test_rows_of_the_yaml_are_the_labels():
    """Every YAML row with a module of its own (all but the four Concat rows) is `model.<row>`."""
    model = archdsl.load(SPEC)
    assert list(model._modules) == ["model"]
    assert sorted(model.model._modules, key=int) == [str(i) for i in range(23) if i not in (11, 14, 17, 20)]


def _c2f_order(keys: list[str]) -> list[str]:
    """Ultralytics' order from ours: in each C2f (a module with `cv1`, `m` and `cv2`), `cv2` before `m`."""
    out, i = [], 0
    while i < len(keys):
        prefix = keys[i].rsplit(".m.", 1)[0] + "." if ".m." in keys[i] else None
        if prefix is None:
            out.append(keys[i])
            i += 1
            continue
        bottlenecks = [k for k in keys[i:] if k.startswith(prefix + "m.")]
        cv2 = [k for k in keys[i:] if k.startswith(prefix + "cv2.")]
        out += cv2 + bottlenecks
        i += len(bottlenecks) + len(cv2)
    return out


def test_state_dict_is_ultralytics_up_to_the_order_in_c2f():
    import torch

    model = archdsl.load(SPEC)
    ours = model.state_dict()
    theirs = reference("yolov8n")["state_dict"]
    assert [[k, list(ours[k].shape)] for k in _c2f_order(list(ours))] == theirs
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == reference("yolov8n")["trainable"]
    fixed = [(k, p) for k, p in model.named_parameters() if not p.requires_grad]
    assert [k for k, _ in fixed] == ["model.22.dfl.conv.weight"]
    assert torch.equal(fixed[0][1].flatten(), torch.arange(16.0))


def test_eval_decodes_and_training_returns_the_head_maps():
    import torch

    model = archdsl.load(SPEC)
    x = torch.randn(1, 3, 128, 96)  # any multiple of 32
    with torch.no_grad():
        detections = model.eval()(x)
        out = model.train()(x)
    assert tuple(detections.shape) == (1, 84, 16 * 12 + 8 * 6 + 4 * 3)
    assert list(out._fields) == ["detections", "stride8", "stride16", "stride32"]
    assert [tuple(t.shape) for t in out[1:]] == [(1, 144, 16, 12), (1, 144, 8, 6), (1, 144, 4, 3)]
    assert ((detections[:, 4:] >= 0) & (detections[:, 4:] <= 1)).all()  # class probabilities


@pytest.mark.slow
@pytest.mark.reference
def test_same_outputs_as_ultralytics_in_eval_and_training():
    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics not installed (pip install -e '.[reference]')")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    import torch
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    ref = DetectionModel("yolov8n.yaml", verbose=False)
    randomize_batchnorm_stats(ref)
    ours = archdsl.load(SPEC, weights=ref)
    x = torch.randn(2, 3, 256, 320)  # not the declared 640x640: anchors follow the maps' sizes
    with torch.no_grad():
        expected, raw = ref.eval()(x)
        torch.testing.assert_close(ours.eval()(x), expected, rtol=1e-4, atol=1e-4)
        expected, actual = ref.train()(x), ours.train()(x)
        head = ref.model[-1]
        maps = [torch.cat((head.cv2[i](f), head.cv3[i](f)), 1) for i, f in enumerate(expected["feats"])]
    torch.testing.assert_close(tuple(actual[1:]), tuple(maps), rtol=1e-4, atol=1e-5)
    flat = torch.cat([t.flatten(2) for t in actual[1:]], 2)
    torch.testing.assert_close(flat[:, :64], expected["boxes"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(flat[:, 64:], expected["scores"], rtol=1e-4, atol=1e-5)
