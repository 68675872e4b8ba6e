"""Issue 12, item 6: the graph networks. Eager forward in eval mode, ours / reference, at batch 1 and 8 for the
segmentation specs (torchvision's fcn_resnet50 and deeplabv3_resnet50 with `aux_loss=True`: both return
{out, aux}) and YOLOv8n (Ultralytics' DetectionModel in export mode: both return the decoded detections); and
YOLOv8n's deploy form (archdsl.reparameterize: every BatchNorm folded) against its own training form in eval
mode, with Ultralytics' `fuse()` beside it as the anchor: their fused / unfused ratio, and our deploy form /
their fused model.

Input sizes: YOLOv8n at its 640x640; the segmentation networks at 224x224 (torchvision's presets resize to 520,
which costs about 5x per call on one CPU thread and tells the same story). The quick run uses `settings.size`.
"""

from __future__ import annotations

from ..models import load_ours, missing_reference, reference, reparameterize_function, spec_path
from ..rows import Row, from_comparison, not_available
from ..timing import compare
from .common import failed

EAGER_TARGET = ("<=", 1.05)
DEPLOY_TARGET = ("<=", 0.8)
MODELS = ("fcn_resnet50", "deeplabv3_resnet50", "yolov8n")
SIZES = {"fcn_resnet50": 224, "deeplabv3_resnet50": 224, "yolov8n": 640}
YOLO = "yolov8n"


def run(settings) -> list[Row]:
    rows: list[Row] = []
    for name in MODELS:
        rows.extend(_eager(name, settings))
    rows.extend(_yolo_deploy(settings))
    return rows


def _size(name: str, settings) -> int:
    return settings.size if settings.quick else SIZES[name]


def _pair(name: str, row_name: str, settings):
    """(ours, theirs, label) with one set of weights and BatchNorm statistics that are not the identity, or a
    row saying why not."""
    import torch

    if spec_path(name) is None:
        return not_available("graphs", row_name, "spec missing")
    ref = reference(name, settings.prefer)
    if ref is None:
        return not_available("graphs", row_name, missing_reference(name))
    torch.manual_seed(0)
    try:
        theirs = _random_statistics(ref.make()).eval()
        size = _size(name, settings)
        ours = load_ours(name, like=theirs, input=[3, size, size]).eval()
    except Exception as exc:  # a spec that does not compile is reported in its row, the others still run
        return failed("graphs", row_name, exc, ref.label)
    return ours, theirs, ref.label


def _random_statistics(model):
    import torch

    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
    return model


def _eager(name: str, settings) -> list[Row]:
    import torch

    pair = _pair(name, f"{name} eval", settings)
    if isinstance(pair, Row):
        return [pair]
    ours, theirs, label = pair
    size = _size(name, settings)
    rows = []
    for batch in settings.batches:
        row_name = f"{name} eval b{batch} {size}x{size}"
        x = torch.randn(batch, 3, size, size)
        try:
            with torch.inference_mode():
                _same(ours(x), theirs(x))
                c = compare(lambda: ours(x), lambda: theirs(x), rounds=settings.rounds, warmup=settings.warmup)
        except Exception as exc:  # one broken model must not hide the other rows
            rows.append(failed("graphs", row_name, exc, label))
            continue
        rows.append(from_comparison("graphs", row_name, c, reference_used=label, target=EAGER_TARGET))
    return rows


def _same(actual, expected) -> None:
    """The two sides compute the same thing (a timing of different work would mean nothing)."""
    import torch

    torch.testing.assert_close(actual, expected, rtol=1e-3, atol=1e-3)


def _yolo_deploy(settings) -> list[Row]:
    """Ours deployed / ours in training form; Ultralytics fused / unfused; ours deployed / Ultralytics fused."""
    import copy

    import torch

    reparameterize = reparameterize_function()
    size = _size(YOLO, settings)
    if reparameterize is None:
        return [not_available("graphs", f"{YOLO} deploy/train-form", "reparam missing")]
    ref = reference(YOLO, settings.prefer)
    torch.manual_seed(0)
    theirs = _random_statistics(ref.make()).eval() if ref is not None else None
    try:
        ours = load_ours(YOLO, like=theirs, input=[3, size, size]).eval()
        if theirs is None:
            _random_statistics(ours)
        deployed = reparameterize(ours)
        fused = copy.deepcopy(theirs).fuse(verbose=False) if theirs is not None else None
    except Exception as exc:
        return [failed("graphs", f"{YOLO} deploy/train-form", exc)]
    rows = []
    for batch in settings.batches:
        x = torch.randn(batch, 3, size, size)
        with torch.inference_mode():
            _same(deployed(x), ours(x))
            c = compare(lambda: deployed(x), lambda: ours(x), rounds=settings.rounds, warmup=settings.warmup)
            rows.append(from_comparison("graphs", f"{YOLO} deploy/train-form b{batch} {size}x{size}", c,
                                        target=DEPLOY_TARGET, reference_used="ours, training form (eval mode)",
                                        ratio_label="deploy/train", note="every BatchNorm folded"))
            if fused is None:
                rows.append(not_available("graphs", f"{YOLO} fused/unfused b{batch}", missing_reference(YOLO)))
                continue
            _same(fused(x), theirs(x))
            c = compare(lambda: fused(x), lambda: theirs(x), rounds=settings.rounds, warmup=settings.warmup)
            rows.append(from_comparison("graphs", f"{YOLO} ultralytics fused/unfused b{batch} {size}x{size}", c,
                                        target=None, reference_used=f"{ref.label} (DetectionModel.fuse)",
                                        ratio_label="fused/unfused", note="Ultralytics' own deploy speed-up"))
            _same(deployed(x), fused(x))
            c = compare(lambda: deployed(x), lambda: fused(x), rounds=settings.rounds, warmup=settings.warmup)
            rows.append(from_comparison("graphs", f"{YOLO} deploy ours/ultralytics fused b{batch} {size}x{size}", c,
                                        target=("<=", 1.05), reference_used=f"{ref.label} (DetectionModel.fuse)",
                                        note="both BatchNorm-free"))
    return rows
