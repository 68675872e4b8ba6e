"""Loading a reference state_dict file into a spec's model: by key, by order, and the errors when it cannot fit."""

from __future__ import annotations

import socket

import pytest
import torch

import archdsl
from archdsl.weights import WeightsError, load_weights, read_state_dict

from conftest import run_cli

TINY = """
network tiny(classes=10, input=[3, 16, 16]) {
    stem: { conv(8, 3, pad=1, bias=false) bn relu }
    body: basic(16, stride=2)
    head: { gap flatten fc: linear(classes) }
}
"""

# The same network with other labels: its state_dict has the same shapes in the same order, under other names.
RENAMED = """
network tiny_renamed(classes=10, input=[3, 16, 16]) {
    features: { conv(8, 3, pad=1, bias=false) bn relu }
    residual: basic(16, stride=2)
    classifier: { gap flatten linear(classes) }
}
"""


@pytest.fixture
def spec(write):
    return write("tiny.arch", TINY)


@pytest.fixture
def trained(write, tmp_path):
    """A model of the renamed spec with non-default weights and BN statistics, saved with torch.save."""
    torch.manual_seed(1)
    model = archdsl.load(write("renamed.arch", RENAMED))
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5)
    path = tmp_path / "renamed.pt"
    torch.save(model.state_dict(), path)
    return model.eval(), path


def _outputs(model):
    torch.manual_seed(0)
    with torch.no_grad():
        return model.eval()(torch.randn(2, 3, 16, 16))


def test_load_by_order_when_names_differ(spec, trained):
    source, path = trained
    assert list(source.state_dict())[0] == "features.0.weight"
    model = archdsl.load(spec, weights=path)
    assert list(model.state_dict())[0] == "stem.0.weight"
    for ours, theirs in zip(model.state_dict().values(), source.state_dict().values()):
        assert torch.equal(ours, theirs)
    torch.testing.assert_close(_outputs(model), _outputs(source), rtol=0, atol=0)


def test_load_by_key_in_any_order(spec, tmp_path):
    source = archdsl.load(spec)
    shuffled = dict(reversed(list(source.state_dict().items())))
    torch.save(shuffled, tmp_path / "shuffled.pt")
    model = archdsl.load(spec, weights=tmp_path / "shuffled.pt")
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_checkpoint_wrappers_prefixes_and_missing_batch_counters(spec, trained, tmp_path):
    """Older and DDP checkpoints: {"state_dict": ...}, `module.` prefixes, no BatchNorm `num_batches_tracked`."""
    source, _ = trained
    state = {f"module.{k}": v for k, v in source.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save({"epoch": 3, "state_dict": state}, tmp_path / "checkpoint.pt")
    model = archdsl.load(spec, weights=tmp_path / "checkpoint.pt")
    torch.testing.assert_close(_outputs(model), _outputs(source), rtol=0, atol=0)


def test_wrong_shape_names_the_first_mismatch(write, spec, tmp_path):
    wider = archdsl.load(write("wide.arch", RENAMED.replace("basic(16", "basic(24")))
    torch.save(wider.state_dict(), tmp_path / "wide.pt")
    with pytest.raises(WeightsError) as info:
        archdsl.load(spec, weights=tmp_path / "wide.pt")
    message = str(info.value)
    assert "wide.pt" in message and "by order" in message
    # entries 0-5 are the stem (conv + 5 BN entries); entry 6 is the block's first conv, 16 vs 24 channels
    assert "entry 6" in message and "`body.conv1.weight` is (16, 8, 3, 3)" in message
    assert "`residual.conv1.weight` is (24, 8, 3, 3)" in message


def test_wrong_shape_by_key(spec, tmp_path):
    state = archdsl.load(spec).state_dict()
    state["head.fc.weight"] = torch.zeros(5, 16)
    with pytest.raises(WeightsError, match=r"`head.fc.weight` \(matched by name\): the model's is \(10, 16\), "
                                           r"the file's \(5, 16\)"):
        load_weights(archdsl.load(spec), state)


def test_entry_count_mismatch_names_the_first_entry_left_over(spec, tmp_path):
    state = dict(list(archdsl.load(spec).state_dict().items())[:-1])
    state = {f"other.{k}": v for k, v in state.items()}
    with pytest.raises(WeightsError, match=r"the model's entry \d+ `head.fc.bias` has no counterpart in the file"):
        load_weights(archdsl.load(spec), state)


@pytest.mark.parametrize("content, expected", [
    (b"not a checkpoint", "not a file written by torch.save"),
    (b"\x80\x02}q\x00(X\x01\x00\x00\x00", "not a file written by torch.save"),
    ([1, 2, 3], "it holds a list, not a state_dict"),
    ({"weight": 3}, "entry `weight` is a Python int, not a tensor"),
    ({}, "empty state_dict"),
], ids=["text", "truncated-pickle", "list", "non-tensor", "empty"])
def test_a_file_that_is_not_a_state_dict(tmp_path, content, expected):
    path = tmp_path / "bad.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(WeightsError, match=expected):
        read_state_dict(path)


def test_a_pickled_model_is_refused_without_running_its_code(spec, tmp_path):
    torch.save(archdsl.load(spec), tmp_path / "model.pt")
    pickled = r"pickled Python objects \(`archdsl\.lower\.classes\.restore`\).*save `model.state_dict\(\)`"
    with pytest.raises(WeightsError, match=pickled):
        read_state_dict(tmp_path / "model.pt")


def test_nothing_is_downloaded(spec, trained, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise AssertionError("archdsl tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", offline)
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    archdsl.load(spec, weights=trained[1])
    assert not (tmp_path / "torch_home").exists()


# --- the CLI, as a user runs it

@pytest.mark.slow
def test_cli_build_with_weights(spec, trained):
    result = run_cli("build", str(spec), "--weights", str(trained[1]))
    assert result.returncode == 0, result.stderr.decode()
    assert f"loaded weights from {trained[1]}" in result.stdout.decode()


@pytest.mark.slow
def test_cli_saved_weights_load_back_by_key(spec, tmp_path):
    saved = tmp_path / "saved.pt"
    assert run_cli("build", str(spec), "-o", str(saved)).returncode == 0
    result = run_cli("build", str(spec), "--weights", str(saved))
    assert result.returncode == 0, result.stderr.decode()
    assert torch.load(saved, weights_only=True).keys() == archdsl.load(spec).state_dict().keys()


@pytest.mark.slow
def test_cli_wrong_shape_exits_2_naming_the_mismatch(write, spec, tmp_path):
    other = archdsl.load(write("wide.arch", RENAMED.replace("basic(16", "basic(24")))
    torch.save(other.state_dict(), tmp_path / "wide.pt")
    result = run_cli("build", str(spec), "--weights", str(tmp_path / "wide.pt"))
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.startswith("error: --weights ") and "entry 6" in stderr and "`body.conv1.weight`" in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["text", "model"])
def test_cli_file_that_is_not_a_state_dict_exits_2(spec, tmp_path, kind):
    path = tmp_path / "bad.pt"
    if kind == "text":
        path.write_text("hello")
    else:
        torch.save(archdsl.load(spec), path)
    result = run_cli("build", str(spec), "--weights", str(path))
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.startswith(f"error: --weights {path}: ") and "Traceback" not in stderr


def test_by_order_refuses_entries_of_equal_shape_but_another_kind(write):
    from collections import OrderedDict

    from archdsl.weights import WeightsError, load_weights

    model = archdsl.load(write("n.arch", "network n(input=[4, 8, 8]) { bn }"))
    entries = list(model.state_dict().items())  # weight, bias, running_mean, running_var, num_batches_tracked
    swapped = OrderedDict(
        (f"other.{k}", v) for k, v in [entries[2], entries[1], entries[0], entries[3], entries[4]])
    with pytest.raises(WeightsError, match=r"kind mismatch at entry 0 .*`weight`.*`running_mean`"):
        load_weights(model, swapped)


def test_torch_compile_prefix_is_stripped(write):
    from archdsl.weights import load_weights

    path = write("n.arch", "network n(input=[4, 8, 8]) { conv(2, 1) }")
    model = archdsl.load(path)
    compiled_state = {f"_orig_mod.{k}": v + 1 for k, v in model.state_dict().items()}
    loaded = load_weights(archdsl.load(path), compiled_state)
    assert torch.equal(loaded.state_dict()["0.weight"], compiled_state["_orig_mod.0.weight"])
