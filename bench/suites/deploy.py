"""Row 2: deploy forward (archdsl.reparameterize) / reference eager, and RepVGG-A0 deploy / training form."""

from __future__ import annotations

from ..models import load_ours, missing_reference, reference, reparameterize_function, spec_path
from ..rows import Row, from_comparison, not_available
from ..timing import compare
from .common import failed, model_pair

DEPLOY_TARGET = ("<=", 0.8)
REPVGG = "repvgg_a0"


def run(settings) -> list[Row]:
    reparameterize = reparameterize_function()
    rows: list[Row] = []
    for name in settings.models:
        if reparameterize is None:
            rows.append(not_available("deploy", f"{name} deploy", "reparam missing"))
            continue
        rows.extend(_deploy_vs_reference(name, reparameterize, settings))
    rows.extend(_repvgg(reparameterize, settings))
    return rows


def _deploy_vs_reference(name: str, reparameterize, settings) -> list[Row]:
    import torch

    pair = model_pair("deploy", name, f"{name} deploy", settings)
    if isinstance(pair, Row):
        return [pair]
    ours, theirs, label = pair
    try:
        deployed = reparameterize(ours.eval())
    except Exception as exc:
        return [failed("deploy", f"{name} deploy", exc, label)]
    theirs.eval()
    rows = []
    for batch in settings.batches:
        row_name = f"{name} deploy b{batch}"
        x = torch.randn(batch, 3, settings.size, settings.size)
        with torch.inference_mode():
            c = compare(lambda: deployed(x), lambda: theirs(x), rounds=settings.rounds, warmup=settings.warmup)
        rows.append(from_comparison("deploy", row_name, c, reference_used=f"{label} (eager, not fused)",
                                    target=DEPLOY_TARGET))
    return rows


def _repvgg(reparameterize, settings) -> list[Row]:
    """RepVGG-A0: what reparameterization buys (deploy / training form), ours and timm's own fused model."""
    import torch

    batch = settings.batches[-1]
    x = torch.randn(batch, 3, settings.size, settings.size)
    rows: list[Row] = []
    ref = reference(REPVGG, settings.prefer)
    timm_fused = None
    if ref is not None:
        from timm.utils.model import reparameterize_model

        torch.manual_seed(0)
        timm_train_form = ref.make().eval()
        timm_fused = reparameterize_model(timm_train_form)
        with torch.inference_mode():
            c = compare(lambda: timm_fused(x), lambda: timm_train_form(x), rounds=settings.rounds,
                        warmup=settings.warmup)
        rows.append(from_comparison("deploy", f"{REPVGG} timm fused/unfused b{batch}", c,
                                    reference_used=f"{ref.label} (reparameterize_model)", target=None,
                                    ratio_label="fused/unfused", note="timm's own deploy speed-up, for comparison"))
    name = f"{REPVGG} deploy/train-form b{batch}"
    if spec_path(REPVGG) is None:
        return [not_available("deploy", name, "spec missing"), *rows]
    if reparameterize is None:
        return [not_available("deploy", name, "reparam missing"), *rows]
    ours = load_ours(REPVGG, like=timm_train_form if ref is not None else None,
                     input=(3, settings.size, settings.size)).eval()
    try:
        deployed = reparameterize(ours)
    except Exception as exc:
        return [failed("deploy", name, exc), *rows]
    with torch.inference_mode():
        c = compare(lambda: deployed(x), lambda: ours(x), rounds=settings.rounds, warmup=settings.warmup)
    rows.insert(0, from_comparison("deploy", name, c, reference_used="ours, training form (eval mode)",
                                   target=None, ratio_label="deploy/train"))
    if timm_fused is None:
        rows.append(not_available("deploy", f"{REPVGG} deploy ours/timm b{batch}", missing_reference(REPVGG)))
        return rows
    with torch.inference_mode():
        c = compare(lambda: deployed(x), lambda: timm_fused(x), rounds=settings.rounds, warmup=settings.warmup)
    rows.append(from_comparison("deploy", f"{REPVGG} deploy ours/timm b{batch}", c,
                                reference_used=f"{ref.label} (reparameterize_model)", target=("<=", 1.05)))
    return rows
