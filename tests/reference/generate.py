"""Regenerate tests/reference/*.json from torchvision/timm/ultralytics (needs the `reference` extra).

Each file records what a spec must match: the parameter count, the ordered state_dict entries (name, shape)
and the output shape. The parity tests read these files, so they hold without torchvision installed.

    python tests/reference/generate.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

HERE = Path(__file__).parent

TORCHVISION = ["alexnet", "vgg11", "vgg11_bn", "vgg16", "resnet18", "resnet34", "resnet50", "resnext50_32x4d",
               "googlenet", "densenet121", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
               "shufflenet_v2_x1_0", "efficientnet_b0", "efficientnet_v2_s", "convnext_tiny"]
TIMM = ["repvgg_a0"]
#: torchvision.models.segmentation, with the auxiliary head (`aux_loss=True`); they return a dict, recorded as
#: "output" (the first one's shape) and "outputs" (each one's)
SEGMENTATION = ["fcn_resnet50", "deeplabv3_resnet50"]
#: inputs other than 3x224x224, the specs' defaults: the segmentation presets of torchvision resize to 520
INPUT = {name: (3, 520, 520) for name in SEGMENTATION} | {"inception_v3": (3, 299, 299), "yolov8n": (3, 640, 640)}
#: built by `ultralytics.nn.tasks.DetectionModel` from the YAML bundled with the package
ULTRALYTICS = ["yolov8n"]
#: torchvision networks with constructor arguments, and a record's name -> the torchvision builder it calls
TORCHVISION_KWARGS = {"googlenet": dict(aux_logits=False, init_weights=False),
                      "googlenet_aux": dict(aux_logits=True, init_weights=False),
                      "inception_v3": dict(aux_logits=True, init_weights=False)}
BUILDER = {"googlenet_aux": "googlenet"}
#: how the spec makes a record's network when that is not specs/<name>.arch with its defaults: googlenet's record
#: is torchvision's `aux_logits=False`; the spec's default keeps the auxiliary heads, as torchvision's does
RECORDED_AS = {"googlenet": {"args": {"aux_logits": False}}, "googlenet_aux": {"spec": "googlenet.arch"}}
#: networks with outputs that exist only in training mode: "train_outputs" records each one's shape (one sample);
#: for YOLO, each scale's head map `cat(cv2[i](x), cv3[i](x))`, which Ultralytics' training output holds
WITH_TRAIN_OUTPUTS = ["googlenet_aux", "inception_v3", "yolov8n"]
#: specs whose state_dict has the reference's keys and shapes in another order ("ordered": false), and why
KEYS_ONLY = {"yolov8n": "C2f's bottlenecks `m` run before `cv2`; Ultralytics registers `cv2` first"}


def reference_model(name: str) -> torch.nn.Module:
    """The reference module, random weights, nothing downloaded."""
    if name in ULTRALYTICS:
        import os

        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics.nn.tasks import DetectionModel

        model = DetectionModel(f"{name}.yaml", verbose=False)
        model.model[-1].export = True  # eval returns the decoded detections alone, not (detections, raw maps)
        return model
    if name in TIMM:
        import timm

        return timm.create_model(name, pretrained=False)
    import torchvision

    if name in SEGMENTATION:
        return getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, aux_loss=True)
    return getattr(torchvision.models, BUILDER.get(name, name))(weights=None, **TORCHVISION_KWARGS.get(name, {}))


def describe(name: str) -> dict:
    model = reference_model(name).eval()
    with torch.no_grad():
        out = model(torch.randn(1, *INPUT.get(name, (3, 224, 224))))
    train = _train_outputs(name, model) if name in WITH_TRAIN_OUTPUTS else None
    outputs = {k: list(v.shape) for k, v in out.items()} if isinstance(out, dict) else None
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        **RECORDED_AS.get(name, {}),
        "params": sum(p.numel() for p in model.parameters()),
        **({"trainable": trainable} if trainable != sum(p.numel() for p in model.parameters()) else {}),
        "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        **({"ordered": False} if name in KEYS_ONLY else {}),
        "output": next(iter(outputs.values())) if outputs else list(out.shape),
        **({"outputs": outputs} if outputs else {}),
        **({"train_outputs": train} if train else {}),
    }


def _train_outputs(name: str, model: torch.nn.Module) -> list[list[int]]:
    """The shape of one sample of each training-mode output (a batch of two: BatchNorm needs more than one value)."""
    model.train()
    with torch.no_grad():
        out = model(torch.randn(2, *INPUT.get(name, (3, 224, 224))))
        if name in ULTRALYTICS:
            head = model.model[-1]
            out = [torch.cat((head.cv2[i](x), head.cv3[i](x)), 1) for i, x in enumerate(out["feats"])]
    model.eval()
    return [list(t.shape[1:]) for t in out]


if __name__ == "__main__":
    for name in TORCHVISION + SEGMENTATION + TIMM + ["googlenet_aux", "inception_v3"] + ULTRALYTICS:
        info = describe(name)
        (HERE / f"{name}.json").write_text(json.dumps(info) + "\n")
        print(f"{name}: {info['params']:,} parameters, {len(info['state_dict'])} state_dict entries")
