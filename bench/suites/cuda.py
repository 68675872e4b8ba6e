"""Row 7 (`--device cuda`): throughput at batch 64 and 256, ours / reference, for eager, channels_last,
torch.compile and deploy (ours reparameterized against the reference's eager model)."""

from __future__ import annotations

from ..models import reparameterize_function
from ..rows import Row, from_comparison, not_available
from ..timing import compare
from .common import failed, model_pair

VARIANTS = ("eager", "channels_last", "compile", "deploy")
TARGETS = {"eager": ("<=", 1.05), "channels_last": ("<=", 1.05), "compile": ("<=", 1.05), "deploy": ("<=", 0.8)}


def run(settings, device: str = "cuda") -> list[Row]:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return [not_available("cuda", "cuda throughput", "no CUDA (torch.cuda.is_available() is False); "
                                                           "these rows need a GPU")]
    sync = torch.cuda.synchronize if device == "cuda" else None
    reparameterize = reparameterize_function()
    rows: list[Row] = []
    for name in settings.models:
        pair = model_pair("cuda", name, f"{name} {device}", settings)
        if isinstance(pair, Row):
            rows.append(pair)
            continue
        ours, theirs, label = pair
        for variant in VARIANTS:
            for batch in settings.cuda_batches:
                row_name = f"{name} {variant} b{batch}"
                if variant == "deploy" and reparameterize is None:
                    rows.append(not_available("cuda", row_name, "reparam missing"))
                    continue
                try:
                    a, b = _prepare(variant, ours, theirs, device, reparameterize)
                    x = torch.randn(batch, 3, settings.size, settings.size, device=device)
                    if variant == "channels_last":
                        x = x.to(memory_format=torch.channels_last)
                    with torch.inference_mode():
                        c = compare(lambda: a(x), lambda: b(x), rounds=settings.rounds,
                                    warmup=max(settings.warmup, 3 if variant == "compile" else 1), sync=sync)
                except Exception as exc:
                    rows.append(failed("cuda", row_name, exc, label))
                    continue
                note = f"{batch / c.ours:,.0f} vs {batch / c.reference:,.0f} img/s"
                rows.append(from_comparison("cuda", row_name, c, reference_used=label, target=TARGETS[variant],
                                            note=note))
        del ours, theirs
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows


def _prepare(variant: str, ours, theirs, device: str, reparameterize):
    """The two eval-mode modules a variant times; the originals are left untouched."""
    import copy

    import torch

    a, b = copy.deepcopy(ours).eval().to(device), copy.deepcopy(theirs).eval().to(device)
    if variant == "channels_last":
        a, b = a.to(memory_format=torch.channels_last), b.to(memory_format=torch.channels_last)
    elif variant == "compile":
        a, b = torch.compile(a), torch.compile(b)
    elif variant == "deploy":
        a = reparameterize(a)
    return a, b
