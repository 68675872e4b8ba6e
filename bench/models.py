"""What each row compares: our spec (specs/<name>.arch) and its reference (torchvision/timm, else hand-written)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from . import ROOT

SPECS = ROOT / "specs"
BENCH_SPECS = ROOT / "bench" / "specs"  # specs only the bench uses (e.g. RepVGG-B1g4 for the reparameterize rows)

#: the models of rows 1, 2 and 4, in the issue's order
MODELS = ["resnet18", "mobilenet_v2", "densenet121", "googlenet", "efficientnet_b0", "shufflenet_v2_x1_0"]
TIMM_MODELS = {"repvgg_a0", "repvgg_b1g4"}
#: torchvision constructor arguments that match the specs (see tests/reference/generate.py)
TORCHVISION_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False}, "inception_v3": {"init_weights": False}}
#: spec arguments that match those constructors: the googlenet rows keep measuring the network without aux heads
SPEC_ARGS = {"googlenet": {"aux_logits": False}}
#: torchvision.models.segmentation builders, with the auxiliary FCN head as the specs have it
SEGMENTATION = {"fcn_resnet50", "deeplabv3_resnet50"}
#: built by Ultralytics from the YAML it ships (`DetectionModel("yolov8n.yaml")`), nothing downloaded
ULTRALYTICS_MODELS = {"yolov8n"}


def spec_path(name: str) -> Path | None:
    for folder in (SPECS, BENCH_SPECS):
        if (folder / f"{name}.arch").is_file():
            return folder / f"{name}.arch"
    return next(iter(sorted(SPECS.rglob(f"{name}.arch"))), None)


def reference_specs() -> list[str]:
    """Every spec with a recorded reference (tests/reference/*.json: a torchvision or timm counterpart)."""
    return sorted(p.stem for p in (ROOT / "tests" / "reference").glob("*.json") if spec_path(p.stem) is not None)


@dataclass(frozen=True)
class Reference:
    label: str  # what the row reports as its reference
    make: Callable[..., "object"]  # keyword arguments as torchvision's constructor takes them


def reference(name: str, prefer: str = "auto") -> Reference | None:
    """The reference module for `name`: torchvision/timm when installed (unless prefer="handwritten"), else the
    hand-written one in bench.reference_models, else None."""
    if prefer != "handwritten":
        if name in ULTRALYTICS_MODELS:
            return _ultralytics(name) if _installed("ultralytics") else None
        if name in SEGMENTATION and _installed("torchvision"):
            from torchvision.models import segmentation

            return Reference(f"torchvision {_version('torchvision')} {name}", lambda **kw: getattr(segmentation, name)(
                weights=None, weights_backbone=None, aux_loss=True, **kw))
        if name in TIMM_MODELS and _installed("timm"):
            import timm

            return Reference(f"timm {timm.__version__} {name}",
                             lambda **kw: timm.create_model(name, pretrained=False, **kw))
        if name not in TIMM_MODELS and _installed("torchvision"):
            import torchvision

            kwargs = TORCHVISION_KWARGS.get(name, {})
            return Reference(f"torchvision {torchvision.__version__} {name}",
                             lambda **kw: getattr(torchvision.models, name)(weights=None, **kwargs, **kw))
    if prefer == "torchvision":
        return None
    from .reference_models import HANDWRITTEN

    if name in HANDWRITTEN:
        return Reference(f"bench.reference_models.{HANDWRITTEN[name].__name__}", HANDWRITTEN[name])
    return None


def _ultralytics(name: str) -> Reference:
    """Ultralytics' DetectionModel in export mode: eval returns the decoded detections alone, as the spec does."""
    import os

    os.environ.setdefault("YOLO_OFFLINE", "1")

    def make(**kw):
        from ultralytics.nn.tasks import DetectionModel

        model = DetectionModel(f"{name}.yaml", verbose=False, **kw)
        model.model[-1].export = True
        return model

    return Reference(f"ultralytics {_version('ultralytics')} {name}", make)


def _version(package: str) -> str:
    return __import__(package).__version__


def missing_reference(name: str) -> str:
    package = "timm" if name in TIMM_MODELS else "ultralytics" if name in ULTRALYTICS_MODELS else "torchvision"
    return f"no reference ({package} not installed, no hand-written {name})"


@lru_cache(maxsize=None)
def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def reparameterize_function():
    """archdsl's reparameterization pass, or None while it has not landed."""
    import archdsl

    found = getattr(archdsl, "reparameterize", None)
    if found is not None:
        return found
    try:
        from archdsl.reparam import reparameterize
    except ImportError:
        return None
    return reparameterize


def load_ours(name: str, like=None, **params):
    """Compile the spec; with `like` (a reference module), copy its weights in so both compute the same thing."""
    import archdsl
    from archdsl.weights import load_weights

    model = archdsl.load(spec_path(name), **{**SPEC_ARGS.get(name, {}), **params})
    if like is not None:
        load_weights(model, like.state_dict())
    return model
