"""Row 2: deploy forward (archdsl.reparameterize) / reference eager, and deploy / training form for RepVGG-A0
and ResNet-18. Deploy rows come twice: the default deploy graph (weights channels_last) and the algebra alone
(BN folded, branches fused, layout unchanged), so the two effects are measured apart."""

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
    if reparameterize is not None and spec_path("resnet18") is not None:
        rows.extend(_deploy_vs_training_form("resnet18", reparameterize, settings))
    return rows


def _deploy_vs_training_form(name: str, reparameterize, settings) -> list[Row]:
    """Our deploy graph against our own training form in eval mode, at every batch size."""
    import torch

    ours = load_ours(name, input=(3, settings.size, settings.size)).eval()
    deployed = reparameterize(ours)
    rows = []
    for batch in settings.batches:
        x = torch.randn(batch, 3, settings.size, settings.size)
        with torch.inference_mode():
            c = compare(lambda: deployed(x), lambda: ours(x), rounds=settings.rounds, warmup=settings.warmup)
        rows.append(from_comparison("deploy", f"{name} deploy/train-form b{batch}", c, target=None,
                                    reference_used="ours, training form (eval mode)", ratio_label="deploy/train"))
    return rows


def _deploy_vs_reference(name: str, reparameterize, settings) -> list[Row]:
    import torch

    pair = model_pair("deploy", name, f"{name} deploy", settings)
    if isinstance(pair, Row):
        return [pair]
    ours, theirs, label = pair
    try:
        variants = {"deploy": reparameterize(ours.eval()),
                    "deploy algebra only": reparameterize(ours.eval(), memory_format=torch.contiguous_format)}
    except Exception as exc:
        return [failed("deploy", f"{name} deploy", exc, label)]
    theirs.eval()
    rows = []
    for variant, deployed in variants.items():
        for batch in settings.batches:
            x = torch.randn(batch, 3, settings.size, settings.size)
            with torch.inference_mode():
                c = compare(lambda: deployed(x), lambda: theirs(x), rounds=settings.rounds, warmup=settings.warmup)
            rows.append(from_comparison("deploy", f"{name} {variant} b{batch}", c,
                                        reference_used=f"{label} (eager, not fused)",
                                        target=DEPLOY_TARGET if variant == "deploy" else None,
                                        note="weights channels_last" if variant == "deploy" else "contiguous"))
    return rows


def _repvgg(reparameterize, settings) -> list[Row]:
    """RepVGG-A0: what reparameterization buys (deploy / training form), ours and timm's own fused model."""
    import torch

    rows: list[Row] = []
    ref = reference(REPVGG, settings.prefer)
    timm_train_form = timm_fused = None
    if ref is not None:
        from timm.utils.model import reparameterize_model

        torch.manual_seed(0)
        timm_train_form = ref.make().eval()
        timm_fused = reparameterize_model(timm_train_form)
    if spec_path(REPVGG) is None or reparameterize is None:
        why = "spec missing" if spec_path(REPVGG) is None else "reparam missing"
        return [not_available("deploy", f"{REPVGG} deploy/train-form", why)]
    ours = load_ours(REPVGG, like=timm_train_form, input=(3, settings.size, settings.size)).eval()
    try:
        deployed = reparameterize(ours)
        deployed_contiguous = reparameterize(ours, memory_format=torch.contiguous_format)
    except Exception as exc:
        return [failed("deploy", f"{REPVGG} deploy/train-form", exc)]
    for batch in settings.batches:
        x = torch.randn(batch, 3, settings.size, settings.size)
        with torch.inference_mode():
            c = compare(lambda: deployed(x), lambda: ours(x), rounds=settings.rounds, warmup=settings.warmup)
            rows.append(from_comparison("deploy", f"{REPVGG} deploy/train-form b{batch}", c, target=("<=", 0.8),
                                        reference_used="ours, training form (eval mode)", ratio_label="deploy/train"))
            c = compare(lambda: deployed_contiguous(x), lambda: ours(x), rounds=settings.rounds,
                        warmup=settings.warmup)
            rows.append(from_comparison("deploy", f"{REPVGG} deploy algebra only/train-form b{batch}", c,
                                        target=("<=", 0.8), reference_used="ours, training form (eval mode)",
                                        ratio_label="deploy/train", note="contiguous"))
            if timm_fused is None:
                rows.append(not_available("deploy", f"{REPVGG} deploy ours/timm b{batch}", missing_reference(REPVGG)))
                continue
            c = compare(lambda: timm_fused(x), lambda: timm_train_form(x), rounds=settings.rounds,
                        warmup=settings.warmup)
            rows.append(from_comparison("deploy", f"{REPVGG} timm fused/unfused b{batch}", c, target=None,
                                        reference_used=f"{ref.label} (reparameterize_model)",
                                        ratio_label="fused/unfused", note="timm's own deploy speed-up"))
            c = compare(lambda: deployed_contiguous(x), lambda: timm_fused(x), rounds=settings.rounds,
                        warmup=settings.warmup)
            rows.append(from_comparison("deploy", f"{REPVGG} deploy ours/timm b{batch}", c, target=("<=", 1.05),
                                        reference_used=f"{ref.label} (reparameterize_model)",
                                        note="both contiguous: the same fused graph"))
    return rows
