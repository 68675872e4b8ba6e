"""Row 1: eager forward (eval, batch 1 and 8) and one training step, ours / reference, on the CPU."""

from __future__ import annotations

from ..rows import Row, from_comparison
from ..timing import compare
from .common import failed, model_pair, train_step

FORWARD_TARGET = ("<=", 1.05)


def run(settings) -> list[Row]:
    import torch

    rows: list[Row] = []
    for name in settings.models:
        pair = model_pair("eager", name, name, settings)
        if isinstance(pair, Row):
            rows.append(pair)
            continue
        ours, theirs, label = pair
        ours.eval()
        theirs.eval()
        for batch in settings.batches:
            row_name = f"{name} eval b{batch}"
            x = torch.randn(batch, 3, settings.size, settings.size)
            try:
                with torch.inference_mode():
                    c = compare(lambda: ours(x), lambda: theirs(x), rounds=settings.rounds, warmup=settings.warmup)
            except Exception as exc:  # one broken model must not hide the other rows
                rows.append(failed("eager", row_name, exc, label))
                continue
            rows.append(from_comparison("eager", row_name, c, reference_used=label, target=FORWARD_TARGET))
        row_name = f"{name} train b{settings.train_batch}"
        ours.train()
        theirs.train()
        x = torch.randn(settings.train_batch, 3, settings.size, settings.size)
        y = torch.randint(0, 1000, (settings.train_batch,))
        try:
            c = compare(lambda: train_step(ours, x, y), lambda: train_step(theirs, x, y), rounds=settings.rounds,
                        warmup=settings.warmup)
        except Exception as exc:
            rows.append(failed("eager", row_name, exc, label))
            continue
        rows.append(from_comparison("eager", row_name, c, reference_used=label, target=FORWARD_TARGET,
                                    note="forward+backward"))
    return rows
