"""The benchmark (bench/): its quick mode runs end to end and records every row; its parts are sound.

No timing threshold is asserted here: the numbers depend on the machine. Only that rows exist and hold positive
measurements, and that the pieces the numbers rest on (paired timing, hand-written references, generated specs)
do what they claim.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

import archdsl

from conftest import ROOT, reference

sys.path.insert(0, str(ROOT))  # bench/ is a top-level folder of the checkout, not part of the package

from bench.config import GROUPS  # noqa: E402
from bench.reference_models import HANDWRITTEN  # noqa: E402
from bench.specgen import generate_spec  # noqa: E402
from bench.timing import compare  # noqa: E402


def run_bench(*args: str):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.mark.slow
def test_quick_benchmark_records_every_group_with_positive_numbers(tmp_path):
    out = tmp_path / "quick.json"
    result = run_bench("--quick", "--json", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert data["mode"] == "quick"
    assert data["machine"]["threads"] == 1 and data["machine"]["torch"] == torch.__version__
    assert {r["group"] for r in rows} == {g for g in GROUPS if g != "cuda"}
    for row in rows:
        assert row["status"] == "ok" or row["status"].startswith("n/a: "), row
        if row["status"] == "ok":
            values = [row[k] for k in ("ours", "reference", "ratio") if row[k] is not None]
            assert values and all(v > 0 for v in values), row
    measured = {r["name"] for r in rows if r["status"] == "ok"}
    # these rows need nothing but this checkout and torch
    for name in ("resnet18 eval b1", "resnet18 train b2", "resnet18 eval b1 32x32", "resnet18 build",
                 "repvgg_a0 build --deploy/build", "parse+check 500 lines", "parse+check 2k lines",
                 "per-line time 2k/500"):
        assert name in measured, name
    assert any(n.startswith("check ") and "torchinfo" in n for n in measured)
    sweep = [r for r in rows if r["group"] == "sweep" and r["status"] == "ok"]
    assert len(sweep) == 2 and all(r["ratio_label"] == "torchinfo/ours" and r["extra"]["variants"] == 4
                                   for r in sweep)
    for row in rows:
        if row["name"].startswith("resnet18 eval"):
            assert row["reference_used"], row  # every ratio says what it was measured against
    assert "ratio" in result.stdout and "resnet18 eval b1" in result.stdout  # the printed table


@pytest.mark.slow
def test_cuda_rows_say_no_cuda_on_a_machine_without_one(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the rows are measured, not skipped")
    out = tmp_path / "cuda.json"
    result = run_bench("--quick", "--device", "cuda", "--only", "cuda", "--json", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["group"] for r in rows] == ["cuda"]
    assert "no CUDA" in rows[0]["status"] and "no CUDA" in result.stdout


def test_compare_interleaves_and_alternates_the_order():
    calls = []
    result = compare(lambda: calls.append("ours"), lambda: calls.append("ref"), rounds=4, warmup=2,
                     min_sample_s=0)
    assert calls[:4] == ["ours", "ours", "ref", "ref"]  # warm-up first
    timed = calls[4:]
    assert timed == ["ours", "ref", "ref", "ours", "ours", "ref", "ref", "ours"]
    assert len(result.ratios) == 4 and result.calls_per_sample == 1
    assert min(result.ratios) <= result.ratio <= max(result.ratios)


@pytest.mark.parametrize("name", sorted(HANDWRITTEN))
def test_handwritten_reference_has_torchvisions_state_dict(name):
    expected = reference(name)
    model = HANDWRITTEN[name]()
    assert [[k, list(v.shape)] for k, v in model.state_dict().items()] == expected["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == expected["params"]
    model.eval()
    with torch.no_grad():
        assert list(model(torch.randn(1, 3, 64, 64)).shape) == [1, 1000]


def test_handwritten_densenet_memory_efficient_computes_the_same_gradients():
    torch.manual_seed(0)
    plain = HANDWRITTEN["densenet121"]()
    efficient = HANDWRITTEN["densenet121"](memory_efficient=True)
    efficient.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64)
    for model in (plain, efficient):
        model.train()
        model(x).sum().backward()
    grad = dict(efficient.named_parameters())
    for key, param in plain.named_parameters():
        torch.testing.assert_close(grad[key].grad, param.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("lines", [16, 200, 1000])
def test_generated_spec_has_the_requested_length_and_checks_clean(tmp_path, lines):
    path = tmp_path / "generated.arch"
    path.write_text(generate_spec(lines))
    assert path.read_text().count("\n") == lines
    net = archdsl.check(path)
    assert net.output.dims[1:] == (8, 8) and net.param_count > 0


# --- the performance fix the scaling row led to: the cyclic collector is paused while a spec is checked ---------

def test_checking_leaves_the_garbage_collector_as_it_found_it(tmp_path, write):
    import gc

    good = write("good.arch", generate_spec(16))
    bad = write("bad.arch", "network n(input=[3, 8, 8]) { conv(4, 3) undefined_thing }")
    assert gc.isenabled()
    archdsl.check(good)
    assert gc.isenabled()
    with pytest.raises(archdsl.ArchError):
        archdsl.check(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        archdsl.check(good)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


# --- the bench's own specs --------------------------------------------------------------------------------------

def test_repvgg_b1g4_spec_has_timms_parameters_and_layout():
    """bench/specs/repvgg_b1g4.arch against timm 1.0's `repvgg_b1g4` (39,966,056 parameters, training form)."""
    from bench.models import spec_path

    path = spec_path("repvgg_b1g4")
    net = archdsl.check(path)
    assert net.param_count == 39_966_056 and net.output.dims == (1000,)
    timm = pytest.importorskip("timm")
    theirs = timm.create_model("repvgg_b1g4", pretrained=False)
    ours = archdsl.load(path)
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]


def test_repvgg_b1g4_deploy_form_computes_the_training_forms_outputs():
    from archdsl.reparam.verify import randomize_batchnorm
    from bench.models import spec_path

    torch.manual_seed(0)
    model = archdsl.load(spec_path("repvgg_b1g4"), input=[3, 32, 32], widths=[16, 32, 64, 128], stem=16).eval()
    randomize_batchnorm(model)
    deployed = archdsl.reparameterize(model)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(deployed(x), model(x), rtol=1e-4, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in deployed.modules())
    assert {m.groups for m in deployed.modules() if isinstance(m, torch.nn.Conv2d)} == {1, 4}
