"""Building the two sides of a model row: our compiled spec with the reference's weights, and the reference."""

from __future__ import annotations

import os

from .. import ROOT
from ..models import load_ours, missing_reference, reference, spec_path
from ..rows import Row, not_available


def model_pair(group: str, name: str, row_name: str, settings, size: int | None = None, **ref_kwargs):
    """(ours, theirs, reference label), or a "n/a" Row saying what is missing. Both share one set of weights;
    ours is compiled for `size` x `size` inputs (default: settings.size)."""
    import torch

    if spec_path(name) is None:
        return not_available(group, row_name, "spec missing")
    ref = reference(name, settings.prefer)
    if ref is None:
        return not_available(group, row_name, missing_reference(name))
    torch.manual_seed(0)
    try:
        theirs = ref.make(**ref_kwargs)
        size = size or settings.size
        ours = load_ours(name, like=theirs, input=(3, size, size))
    except Exception as exc:  # a spec that does not compile is reported in its row, the others still run
        return failed(group, row_name, exc, ref.label)
    return ours, theirs, ref.label


def train_step(model, x, y):
    """One forward and backward pass (the optimizer update costs the same on both sides and is left out)."""
    import torch.nn.functional as F

    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()


def failed(group: str, row_name: str, exc: BaseException, reference_used: str = "") -> Row:
    """A row whose measurement raised: the benchmark goes on and the table says why."""
    return Row(group=group, name=row_name, status=f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
               if str(exc) else f"error: {type(exc).__name__}", reference_used=reference_used)


def child_env(threads: int) -> dict[str, str]:
    """Environment of a measured subprocess: this checkout importable, the same thread count."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(threads)}


def forget_parsed() -> None:
    """Empty the parser's memory of ASTs, so that the next load or check parses its spec as a first one in its
    process would (archdsl versions from before that memory have nothing to empty)."""
    try:
        from archdsl.syntax.parser import forget_parsed as forget
    except ImportError:
        return
    forget()
