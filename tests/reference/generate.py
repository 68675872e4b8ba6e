"""Regenerate tests/reference/*.json from torchvision/timm (needs the `reference` extra).

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
               "shufflenet_v2_x1_0", "efficientnet_b0", "efficientnet_v2_s", "convnext_tiny"
TIMM = ["repvgg_a0"]
#: torchvision.models.segmentation, with the auxiliary head (`aux_loss=True`); they return a dict, recorded as
#: "output" (the first one's shape) and "outputs" (each one's)
SEGMENTATION = ["fcn_resnet50", "deeplabv3_resnet50"]
#: inputs other than 3x224x224, the specs' defaults: the segmentation presets of torchvision resize to 520
INPUT = {name: (3, 520, 520) for name in SEGMENTATION}


def reference_model(name: str) -> torch.nn.Module:
    """The reference module, random weights, nothing downloaded."""
    if name in TIMM:
        import timm

        return timm.create_model(name, pretrained=False)
    import torchvision

    if name in SEGMENTATION:
        return getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, aux_loss=True)
    kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    return getattr(torchvision.models, name)(weights=None, **kwargs)


def describe(model: torch.nn.Module, input: tuple[int, ...] = (3, 224, 224)) -> dict:
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, *input))
    outputs = {k: list(v.shape) for k, v in out.items()} if isinstance(out, dict) else None
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "output": next(iter(outputs.values())) if outputs else list(out.shape),
        **({"outputs": outputs} if outputs else {}),
    }


if __name__ == "__main__":
    for name in TORCHVISION + SEGMENTATION + TIMM:
        info = describe(reference_model(name), INPUT.get(name, (3, 224, 224)))
        (HERE / f"{name}.json").write_text(json.dumps(info) + "\n")
        print(f"{name}: {info['params']:,} parameters, {len(info['state_dict'])} state_dict entries")
