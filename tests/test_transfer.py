"""Issue 13 item 6: transfer learning as the seed notes describe it (note 003). A 1000-class checkpoint loads
into a 10-class spec on request, saying exactly which tensors were loaded and which were left at their
initialization; parameters freeze by label pattern, with the count reported. Defaults stay strict."""

from __future__ import annotations

import doctest

import pytest
import torch

import archdsl
from archdsl import transfer
from archdsl.transfer import FreezeError, freeze, load_partial
from archdsl.weights import WeightsError

from conftest import SPECS, run_cli

SPEC = SPECS / "resnet18.arch"
SMALL = {"input": [3, 32, 32]}


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A '1000-class ImageNet' checkpoint: resnet18's own state_dict, saved as torchvision saves one."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.save(archdsl.load(SPEC, **SMALL).state_dict(), path)
    return path


def test_the_default_stays_strict(pretrained):
    with pytest.raises(WeightsError, match=r"shape mismatch at `fc.weight`"):
        archdsl.load(SPEC, classes=10, weights=pretrained, **SMALL)


def test_a_1000_class_checkpoint_loads_partially_into_a_10_class_spec(pretrained):
    model = archdsl.load(SPEC, classes=10, weights=pretrained, partial=True, **SMALL)
    report = model.transfer_report
    state = torch.load(pretrained)
    assert report.left == ["fc.weight", "fc.bias"]
    assert [(m.key, m.model_shape, m.file_shape) for m in report.mismatched] == [
        ("fc.weight", (10, 512), (1000, 512)), ("fc.bias", (10,), (1000,))]
    assert report.loaded == [k for k in model.state_dict() if not k.startswith("fc.")] and not report.unused
    for key in report.loaded:
        assert torch.equal(model.state_dict()[key], state[key]), key
    assert report.lines()[0] == (f"loaded 120 of 122 tensors from {pretrained} (11,186,132 of 11,191,262 values)")
    assert "left at initialization: fc.weight (the model's [10, 512], the file's [1000, 512])" in str(report)


def test_entries_the_model_lacks_or_the_file_lacks_are_named(pretrained):
    state = torch.load(pretrained)
    state.pop("layer1.0.conv1.weight")
    state["extra.weight"] = torch.zeros(3)
    model = archdsl.load(SPEC, weights=state, partial=True, **SMALL)
    report = model.transfer_report
    assert report.left == ["layer1.0.conv1.weight"] and report.mismatched == [] and report.unused == ["extra.weight"]
    assert "  left at initialization: layer1.0.conv1.weight (not in the file)" in report.lines()
    assert "  not used from the file: extra.weight" in report.lines()


def test_partial_loading_matches_names_never_order(pretrained):
    renamed = {f"net.{k}": v for k, v in torch.load(pretrained).items()}
    with pytest.raises(WeightsError, match="no entry matches the model by name"):
        load_partial(archdsl.load(SPEC, **SMALL), renamed)


def test_partial_loading_still_refuses_broken_values(pretrained):
    state = torch.load(pretrained)
    state["conv1.weight"] = torch.full_like(state["conv1.weight"], float("nan"))
    with pytest.raises(WeightsError, match="NaN"):
        load_partial(archdsl.load(SPEC, classes=10, **SMALL), state)


def test_freeze_by_label_pattern_counts_the_parameters(pretrained):
    model = archdsl.load(SPEC, classes=10, weights=pretrained, partial=True, freeze=["conv1", "bn1", "layer*"],
                         **SMALL)
    frozen = model.transfer_report.frozen
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    assert frozen.parameters == 11_181_642 - 5_130 and frozen.trainable == 5_130 and len(frozen.names) == 60
    out = model(torch.randn(2, 3, 32, 32))
    out.sum().backward()
    assert model.conv1.weight.grad is None and model.fc.weight.grad is not None


@pytest.mark.parametrize("patterns, first, count", [
    (["layer4.*"], "layer4.0.conv1.weight", 8_393_728),
    (["layer[12]"], "layer1.0.conv1.weight", 147_968 + 525_568),
    (["*.bn*"], "layer1.0.bn1.weight", None),
    (["fc.weight"], "fc.weight", 512_000),
])
def test_patterns_name_modules_or_parameters(patterns, first, count):
    report = freeze(archdsl.load(SPEC, **SMALL), patterns)
    assert report.names[0] == first
    if count is not None:
        assert report.parameters == count
    assert all(".bn" in n for n in report.names) if patterns == ["*.bn*"] else True


def test_a_pattern_that_matches_nothing_is_an_error():
    with pytest.raises(FreezeError, match=r"`layr\*` matches no parameter of the model; its top-level modules: bn1"):
        freeze(archdsl.load(SPEC, **SMALL), ["layr*"])


def test_freezing_alone_reports_without_weights():
    model = archdsl.load(SPEC, freeze=["layer1"], **SMALL)
    assert model.transfer_report.parameters == 147_968 and not hasattr(model.transfer_report, "loaded")


def test_partial_needs_weights():
    with pytest.raises(ValueError, match="partial=True needs weights="):
        archdsl.load(SPEC, partial=True, freeze=["fc"], **SMALL)


def test_module_docstring_example_runs():
    assert doctest.testmod(transfer).failed == 0


@pytest.mark.slow
def test_cli_partial_and_freeze(pretrained):
    common = ["build", str(SPEC), "--set", "classes=10", "--set", "input=[3,32,32]", "--weights", str(pretrained)]
    strict = run_cli(*common)
    assert strict.returncode == 2 and b"--partial loads only" in strict.stderr
    result = run_cli(*common, "--partial", "--freeze", "layer*", "--freeze", "conv1", "--freeze", "bn1")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "loaded 120 of 122 tensors" in out and "left at initialization: fc.weight" in out
    assert "froze 11,176,512 parameters in 60 tensors (layer*, conv1, bn1); 5,130 still train" in out
    typo = run_cli("build", str(SPEC), "--set", "input=[3,32,32]", "--freeze", "layr*")
    assert typo.returncode == 2 and b"`layr*` matches no parameter" in typo.stderr
    alone = run_cli("build", str(SPEC), "--partial")
    assert alone.returncode == 2 and b"--partial needs --weights" in alone.stderr


def test_partial_without_weights_is_refused_before_any_work(tmp_path):
    """A usage error, told before the spec is read (here it does not even exist) or torch is imported."""
    result = run_cli("build", str(tmp_path / "missing.arch"), "--partial")
    assert result.returncode == 2 and b"--partial needs --weights" in result.stderr
