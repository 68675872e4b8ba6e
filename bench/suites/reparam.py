"""The deploy-speed rows (issue 16), for each RepVGG size in `settings.repvgg`:

- `archdsl.reparameterize(model)` / timm's `reparameterize_model(model)` on the same weights, eval mode: the time
  to produce the deploy model (both return a new module and leave the training form as it was);
- `archdsl build SPEC --deploy` / `archdsl build SPEC`: whole processes, wall time (`--deploy` reparameterizes,
  and verifies the deploy graph against the training form on a random input).

RepVGG-B1g4 has no spec in specs/: bench/specs/repvgg_b1g4.arch writes its grouped block by hand until the
standard library's `repvgg_block` takes `groups`.
"""

from __future__ import annotations

import subprocess
import sys

from .. import ROOT
from ..models import load_ours, missing_reference, reference, reparameterize_function, spec_path
from ..rows import Row, from_comparison, not_available
from ..timing import compare
from .common import child_env, failed

REPARAM_TARGET = ("<=", 1.0)
DEPLOY_BUILD_TARGET = ("<=", 1.5)


def run(settings) -> list[Row]:
    rows: list[Row] = []
    for name in settings.repvgg:
        rows.append(_reparameterize_vs_timm(name, settings))
    for name in settings.repvgg:
        rows.append(_deploy_build_vs_build(name, settings))
    return rows


def _reparameterize_vs_timm(name: str, settings) -> Row:
    import torch

    row_name = f"{name} reparameterize"
    reparameterize = reparameterize_function()
    if spec_path(name) is None:
        return not_available("reparam", row_name, "spec missing")
    if reparameterize is None:
        return not_available("reparam", row_name, "reparam missing")
    ref = reference(name, settings.prefer)
    if ref is None or not ref.label.startswith("timm"):
        return not_available("reparam", row_name, missing_reference(name))
    from timm.utils.model import reparameterize_model

    try:
        torch.manual_seed(0)
        theirs = ref.make().eval()
        ours = load_ours(name, like=theirs).eval()
        c = compare(lambda: reparameterize(ours), lambda: reparameterize_model(theirs), rounds=settings.build_rounds,
                    warmup=1, min_sample_s=0)
    except Exception as exc:
        return failed("reparam", row_name, exc, ref.label)
    return from_comparison("reparam", row_name, c, reference_used=f"{ref.label} reparameterize_model",
                           target=REPARAM_TARGET, unit="s", scale=1.0,
                           note="both return a new deploy module (timm deep-copies, inplace=False)")


def _deploy_build_vs_build(name: str, settings) -> Row:
    row_name = f"{name} build --deploy/build"
    spec = spec_path(name)
    if spec is None:
        return not_available("reparam", row_name, "spec missing")
    base = [sys.executable, "-m", "archdsl", "build", str(spec)]
    try:
        c = compare(lambda: _run([*base, "--deploy"], settings.threads), lambda: _run(base, settings.threads),
                    rounds=settings.process_rounds, warmup=1, min_sample_s=0)
    except Exception as exc:
        return failed("reparam", row_name, exc)
    return from_comparison("reparam", row_name, c, reference_used="ours, `archdsl build` without --deploy",
                           target=DEPLOY_BUILD_TARGET, unit="s", scale=1.0, ratio_label="deploy/plain",
                           note="process wall time each side")


def _run(cmd: list[str], threads: int) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=child_env(threads), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:5])} ... exited {result.returncode}: {result.stderr.strip()[-300:]}")
