"""Issue 14, item 8: weights files that inflate, are cut short, are foreign pickles, block, or hold values that
cannot be a trained model's. Each is refused with one line naming the file, exit 2, before torch allocates.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

import archdsl
from archdsl.weights import WeightsError, file_budget, load_weights, read_state_dict
from hostile import assert_clean, run_capped, write_spec

SPEC = "network n(input=[3, 8, 8]) { conv(4, 3) }\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return archdsl.load(write_spec(tmp_path_factory.mktemp("weights"), "n.arch", SPEC))


def good_state() -> dict:
    return {"0.weight": torch.randn(4, 3, 3, 3), "0.bias": torch.randn(4)}


def deflated(state: dict, path: Path) -> Path:
    """`torch.save(state)`, with its zip entries recompressed: small on disk, large once inflated."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A 100 MB float tensor of zeros in a ~100 kB file, next to the right entries."""
    state = {**good_state(), "extra": torch.zeros(25_000_000)}
    return deflated(state, tmp_path_factory.mktemp("bomb") / "bomb.pt")


def test_a_file_that_inflates_past_what_the_model_can_take_is_refused_unread(model, bomb, monkeypatch):
    assert bomb.stat().st_size < 1_000_000

    def never(*args, **kwargs):
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", never)
    with pytest.raises(WeightsError, match=rf"^{bomb}: its entries inflate to 100,00\d,\d+ bytes, more than"):
        load_weights(model, bomb)


def test_the_budget_is_sized_by_the_model(model):
    own = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    assert own < file_budget(model) <= 64 * 2**20 + 8 * own


def test_a_compressed_file_that_fits_loads(model, tmp_path):
    state = good_state()
    load_weights(model, deflated(state, tmp_path / "small.pt"))
    assert torch.equal(model.state_dict()["0.weight"], state["0.weight"])


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> bytes:
    buffer = io.BytesIO()
    torch.save({"0.weight": torch.randn(64, 3, 3, 3), "0.bias": torch.randn(64)}, buffer)
    return buffer.getvalue()


def test_every_truncation_is_a_weights_error_naming_the_file(saved, tmp_path):
    """torch reports some as a bare `[Errno 22] Invalid argument`, naming nothing."""
    path = tmp_path / "cut.pt"
    for length in range(0, len(saved), 97):
        path.write_bytes(saved[:length])
        with pytest.raises(WeightsError):
            read_state_dict(path)


def test_a_truncated_file_on_the_command_line(saved, tmp_path):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(saved[: len(saved) - 900])
    run = run_capped(["build", str(spec), "--weights", str(cut)])
    out = assert_clean(run, (2,), max_stderr=600)
    assert f"--weights {cut}: " in out and "truncated or damaged" in out


def test_a_raw_pickle_is_refused_without_torch_warnings(tmp_path):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    path = tmp_path / "raw.pkl"
    path.write_bytes(pickle.dumps({"0.weight": [1.0, 2.0]}, protocol=4))
    run = run_capped(["build", str(spec), "--weights", str(path)])
    out = assert_clean(run, (2,), max_stderr=600)
    assert "Warning" not in out and "warn" not in out.lower()
    first = run.stderr.decode().splitlines()[0]
    assert first == f"error: --weights {path}: not a file written by torch.save (it cannot be unpickled)"


@pytest.mark.parametrize("value, expected", [
    (float("nan"), r"entry `0\.weight` holds 108 NaN values \(of 108\)"),
    (float("inf"), r"entry `0\.weight` holds 108 infinite values"),
])
def test_non_finite_weights_are_refused(model, tmp_path, value, expected):
    state = good_state()
    state["0.weight"].fill_(value)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match=expected):
        load_weights(model, tmp_path / "bad.pt")


def test_integer_weights_are_refused(model, tmp_path):
    state = good_state()
    state["0.weight"] = torch.zeros(4, 3, 3, 3, dtype=torch.int64)
    torch.save(state, tmp_path / "int.pt")
    with pytest.raises(WeightsError, match=r"entry `0\.weight` holds int64 values, the model's are float32"):
        load_weights(model, tmp_path / "int.pt")


def test_batchnorm_counters_stay_integers(tmp_path):
    """An integer entry where the model's is an integer (BatchNorm's batch counter) is not refused as a type mismatch,
    and loads as it was saved."""
    model = archdsl.load(write_spec(tmp_path, "bn.arch", "network n(input=[3, 8, 8]) { conv(4, 3) bn }\n"))
    state = model.state_dict()
    (counter,) = [k for k in state if k.endswith("num_batches_tracked")]
    state[counter] = torch.tensor(7)
    torch.save(state, tmp_path / "bn.pt")
    load_weights(model, tmp_path / "bn.pt")
    loaded = model.state_dict()[counter]
    assert loaded.dtype == torch.int64 and loaded.item() == 7


def test_nan_and_integers_on_the_command_line(tmp_path):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    state = good_state()
    state["0.bias"][1] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    out = assert_clean(run_capped(["build", str(spec), "--weights", str(tmp_path / "nan.pt")]), (2,))
    assert "entry `0.bias` holds 1 NaN value" in out


def test_a_fifo_as_weights_does_not_block(model, tmp_path):
    os.mkfifo(tmp_path / "w.pt")
    with pytest.raises(WeightsError, match="it is a FIFO, not a regular file"):
        load_weights(model, tmp_path / "w.pt")


def test_an_old_format_file_larger_than_the_budget_is_refused_unread(model, tmp_path, monkeypatch):
    torch.save(good_state(), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    monkeypatch.setattr("archdsl.weights.file_budget", lambda model: 100)
    with pytest.raises(WeightsError, match=r"the file is [\d,]+ bytes, more than"):
        load_weights(model, tmp_path / "old.pt")
