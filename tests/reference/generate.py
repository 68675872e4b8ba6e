"""Regenerate tests/reference/*.json from torchvision/timm/ultralytics (needs the `reference` extra).

Each file records what a spec must match: the parameter count, the ordered state_dict entries (name, shape)
and the output shape. The parity tests read these files, so they hold without torchvision installed. A
network that is not the only one of `specs/<name>.arch` (a variant in a family file) records where it is:
`"spec"` (the file under specs/) and `"network"` (its name there).

    python tests/reference/generate.py            # every record
    python tests/reference/generate.py vgg19 ...  # these
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).parent

TORCHVISION = ["alexnet", "vgg11", "vgg11_bn", "vgg16", "resnet18", "resnet34", "resnet50", "resnext50_32x4d",
               "googlenet", "densenet121", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
               "shufflenet_v2_x1_0", "efficientnet_b0", "efficientnet_v2_s", "convnext_tiny",
               "regnet_x_400mf", "regnet_y_400mf"]
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

#: variants, by the family file that holds them: name -> spec file under specs/
FAMILIES = {
    "resnet.arch": ["resnet101", "resnet152", "wide_resnet50_2", "wide_resnet101_2", "resnext101_32x8d",
                    "resnext101_64x4d"],
    "densenet.arch": ["densenet161", "densenet169", "densenet201"],
    "vgg.arch": ["vgg13", "vgg13_bn", "vgg16_bn", "vgg19", "vgg19_bn"],
    "shufflenetv2.arch": ["shufflenet_v2_x0_5", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"],
    "efficientnet.arch": [f"efficientnet_b{i}" for i in range(1, 8)] + ["efficientnet_v2_m", "efficientnet_v2_l"],
    "convnext.arch": ["convnext_small", "convnext_base", "convnext_large"],
    "repvgg.arch": ["repvgg_a1", "repvgg_a2", "repvgg_b0", "repvgg_b1", "repvgg_b1g2", "repvgg_b1g4", "repvgg_b2",
                    "repvgg_b2g4", "repvgg_b3", "repvgg_b3g4"],
    "mobilenetv3.arch": ["mobilenetv3_large_075", "mobilenetv3_large_100", "mobilenetv3_small_050",
                         "mobilenetv3_small_075", "mobilenetv3_small_100"],
}
VARIANTS = {name: spec for spec, names in FAMILIES.items() for name in names}


def _timm_repvgg_b1g2():
    """RepVGG-B1g2 (Ding et al. 2021, Table 4): timm's `repvgg_b1g4` configuration with groups=2 (timm
    registers only the g4 variants; the paper's and the original code's g2 groups the same layers)."""
    from timm.models.byobnet import ByobNet, ByoModelCfg, _rep_vgg_bcfg

    return ByobNet(ByoModelCfg(blocks=_rep_vgg_bcfg(wf=(2., 2., 2., 4.), groups=2), stem_type="rep", stem_chs=64))


def is_timm(name: str) -> bool:
    return name in TIMM or name.startswith(("repvgg", "mobilenetv3_"))


def reference_model(name: str) -> torch.nn.Module:
    """The reference module, random weights, nothing downloaded."""
    if name == "repvgg_b1g2":
        return _timm_repvgg_b1g2()
    if name in ULTRALYTICS:
        import os

        os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics.nn.tasks import DetectionModel

        model = DetectionModel(f"{name}.yaml", verbose=False)
        model.model[-1].export = True  # eval returns the decoded detections alone, not (detections, raw maps)
        return model
    if is_timm(name):
        import timm

        return timm.create_model(name, pretrained=False)
    import torchvision

    if name in SEGMENTATION:
        return getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, aux_loss=True)
    return getattr(torchvision.models, BUILDER.get(name, name))(weights=None, **TORCHVISION_KWARGS.get(name, {}))


def describe(name: str) -> dict:
    # shapes only: no weights are made, so the largest networks cost nothing (Ultralytics' constructor runs a
    # forward pass and reads the strides it finds as numbers, so it gets real ones)
    with torch.device("cpu" if name in ULTRALYTICS else "meta"):
        model = reference_model(name).eval()
        out = model(torch.randn(1, *INPUT.get(name, (3, 224, 224))))
        train = _train_outputs(name, model) if name in WITH_TRAIN_OUTPUTS else None
    outputs = {k: list(v.shape) for k, v in out.items()} if isinstance(out, dict) else None
    where = {"spec": VARIANTS[name], "network": name} if name in VARIANTS else RECORDED_AS.get(name, {})
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        **where,
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
    everything = TORCHVISION + SEGMENTATION + TIMM + list(VARIANTS) + ["googlenet_aux", "inception_v3"] + ULTRALYTICS
    for name in sys.argv[1:] or everything:
        info = describe(name)
        (HERE / f"{name}.json").write_text(json.dumps(info) + "\n")
        print(f"{name}: {info['params']:,} parameters, {len(info['state_dict'])} state_dict entries")
