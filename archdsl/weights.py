"""Loading reference (torchvision/timm-style) state_dicts into compiled specs: by name, else by order.

Nothing is downloaded: weights come from a file the user has. Files are read with `weights_only=True`, so a
checkpoint can never run code; a pickled model is refused with a hint to save its `state_dict()` instead.

A file is inspected before torch reads it (issue 14): only a regular file is opened (a FIFO would block), and
what it would inflate to (the sizes its zip directory declares, or its length for the older uncompressed format)
must fit what the model can use (`Budgets.weights_ratio` times its state_dict's bytes, plus
`Budgets.weights_extra_bytes`), so a small compressed file cannot make torch allocate gigabytes. Values that
cannot be the model's are refused after reading: integers or booleans for floating-point entries, NaN or
infinities.
"""

from __future__ import annotations

import os
import pickle
import re
import stat
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from .budgets import Budgets, machine_memory
from .safe_io import file_kind

# BatchNorm's batch counter: older checkpoints lack it and `load_state_dict` fills it in, so it may be missing.
COUNTER = "num_batches_tracked"


class WeightsError(ValueError):
    """The file is not a state_dict, or does not fit the model; the message names the first mismatch."""


def read_state_dict(source: str | Path | Mapping[str, torch.Tensor] | nn.Module, *,
                    max_bytes: int | None = None) -> "OrderedDict[str, torch.Tensor]":
    """A state_dict from a file (plain, or wrapped as {"state_dict": ...} / {"model": ...}), a mapping or a module.

    DataParallel/DDP's `module.` prefix is removed. A file that would inflate to more than `max_bytes` (by
    default half the machine's memory) is refused before it is read.
    """
    if isinstance(source, nn.Module):
        state = source.state_dict()
    elif isinstance(source, Mapping):
        state = source
    else:
        state = _load_file(Path(source), machine_memory() // 2 if max_bytes is None else max_bytes)
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping):
        raise WeightsError(f"it holds a {type(state).__name__}, not a state_dict (a mapping of names to tensors)")
    if not state:
        raise WeightsError("it holds an empty state_dict")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"it does not hold a state_dict: entry `{key}` is a Python {type(value).__name__}, "
                               f"not a tensor")
    # wrappers' prefixes: DistributedDataParallel's `module.`, torch.compile's `_orig_mod.`
    return OrderedDict((k.removeprefix("module.").removeprefix("_orig_mod."), v) for k, v in state.items())


def _load_file(path: Path, max_bytes: int):
    """torch.load without running code, after `_inspect`; OSError naming the file (missing, permissions) passes
    through for the caller, any other failure is a WeightsError."""
    _inspect(path, max_bytes)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing a foreign pickle
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        if exc.filename is not None:
            raise
        # torch's zip reader reports a truncated file as a bare `[Errno 22] Invalid argument`
        raise WeightsError(f"the file is truncated or damaged ({exc.strerror or exc})") from None
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:  # a real pickle of something other than tensors: refused, since unpickling it would run code
            raise WeightsError(f"it holds pickled Python objects (`{found.group(1)}`), not only tensors (a whole "
                               f"model?); save `model.state_dict()` with torch.save and load that") from None
        raise WeightsError("not a file written by torch.save (it cannot be unpickled)") from None
    except Exception as exc:  # torch.load reports a foreign file as KeyError, RuntimeError, EOFError ...
        raise WeightsError(f"not a file written by torch.save ({type(exc).__name__}: {_first_line(exc)})") from None


def _inspect(path: Path, max_bytes: int) -> None:
    """Refuse, before torch reads anything, a file that is not a regular file or would inflate past `max_bytes`."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise WeightsError(f"it is {file_kind(mode)}, not a regular file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":  # the older uncompressed format, or not torch's at all: its length is its size
        size, what = os.path.getsize(path), "the file is"
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                size = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise WeightsError(f"the file is truncated or damaged (a zip archive torch.save would write, but "
                               f"{_first_line(exc)})") from None
        what = "its entries inflate to"
    if size > max_bytes:
        raise WeightsError(f"{what} {size:,} bytes, more than a state_dict of this model can take "
                           f"({max_bytes:,} bytes); refused before reading it")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "unreadable"


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def match_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    """Map `state` onto the model's own keys, every shape checked.

    By name when the names are the model's (BatchNorm counters may be missing); otherwise by order, the i-th
    tensor of the file going to the i-th of the model.
    """
    ours = model.state_dict()
    if set(_without_counters(ours)) == set(_without_counters(state)) and set(state) <= set(ours):
        for key in state:
            if state[key].shape != ours[key].shape:
                raise WeightsError(f"shape mismatch at `{key}` (matched by name): the model's is "
                                   f"{_shape(ours[key])}, the file's {_shape(state[key])}")
        return OrderedDict((k, state[k]) for k in ours if k in state)
    model_keys, file_keys = list(ours), list(state)
    why = _names_differ(model_keys, file_keys)
    if _counters_missing(model_keys, file_keys):
        model_keys, file_keys = _without_counters(model_keys), _without_counters(file_keys)
        why += f"; not counting `{COUNTER}`, which one side lacks"
    for i, (mine, theirs) in enumerate(zip(model_keys, file_keys)):
        if ours[mine].shape != state[theirs].shape:
            raise WeightsError(f"shape mismatch at entry {i} (matched by order, {why}): model `{mine}` is "
                               f"{_shape(ours[mine])}, file `{theirs}` is {_shape(state[theirs])}")
        # equal shapes are not enough: a BatchNorm's weight and running_mean are both [C]
        if mine.rsplit(".", 1)[-1] != theirs.rsplit(".", 1)[-1]:
            raise WeightsError(f"kind mismatch at entry {i} (matched by order, {why}): model `{mine}` is a "
                               f"`{mine.rsplit('.', 1)[-1]}`, file `{theirs}` a `{theirs.rsplit('.', 1)[-1]}`")
    if len(model_keys) != len(file_keys):
        n = min(len(model_keys), len(file_keys))
        left = (f"the model's entry {n} `{model_keys[n]}` has no counterpart in the file" if len(model_keys) > n
                else f"the file's entry {n} `{file_keys[n]}` has no counterpart in the model")
        raise WeightsError(f"the model has {len(model_keys)} entries, the file {len(file_keys)} (matched by order, "
                           f"{why}): the first {n} fit, then {left}")
    return OrderedDict((mine, state[theirs]) for mine, theirs in zip(model_keys, file_keys))


def _counters_missing(model_keys: list[str], file_keys: list[str]) -> bool:
    """One side (an older checkpoint, usually) has no BatchNorm counters at all while the other has some."""
    mine, theirs = len(model_keys) - len(_without_counters(model_keys)), len(file_keys) - len(_without_counters(file_keys))
    return mine != theirs and 0 in (mine, theirs)


def _without_counters(keys) -> list[str]:
    return [k for k in keys if k != COUNTER and not k.endswith("." + COUNTER)]


def _names_differ(model_keys: list[str], file_keys: list[str]) -> str:
    for mine, theirs in zip(model_keys, file_keys):
        if mine != theirs:
            return f"the names first differ at model `{mine}`, file `{theirs}`"
    return "the names differ"


def load_weights(model: nn.Module, source: str | Path | Mapping[str, torch.Tensor] | nn.Module) -> nn.Module:
    """Load `source` (a state_dict file, mapping or module) into `model` in place and return it.

    Raises WeightsError naming the source and the first mismatch, or the first entry whose values cannot be the
    model's (integers for floating-point weights, NaN or infinities).
    """
    try:
        matched = match_state_dict(model, read_state_dict(source, max_bytes=file_budget(model)))
        _check_values(model.state_dict(), matched)
        model.load_state_dict(matched)
    except WeightsError as exc:
        where = str(source) if isinstance(source, (str, Path)) else "the state_dict"
        raise WeightsError(f"{where}: {exc}") from None
    return model


def file_budget(model: nn.Module, budgets: Budgets | None = None) -> int:
    """The most bytes a weights file for `model` may inflate to: see `Budgets.weights_ratio`."""
    budgets = budgets or Budgets()
    own = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    return int(own * budgets.weights_ratio) + budgets.weights_extra_bytes


def _check_values(ours: Mapping[str, torch.Tensor], matched: Mapping[str, torch.Tensor]) -> None:
    """load_state_dict would cast integers into floats and copy NaN silently: neither is a trained model."""
    for key, value in matched.items():
        mine = ours[key]
        if mine.is_floating_point() and not value.is_floating_point():
            raise WeightsError(f"entry `{key}` holds {str(value.dtype).removeprefix('torch.')} values, the model's "
                               f"are {str(mine.dtype).removeprefix('torch.')}: is it the right file?")
        if value.is_floating_point() and value.numel():
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                nan = int(torch.isnan(value).sum())
                what = ("NaN" if nan == bad else "infinite" if nan == 0 else "NaN or infinite")
                raise WeightsError(f"entry `{key}` holds {bad:,} {what} value{'s' if bad > 1 else ''} "
                                   f"(of {value.numel():,}): the weights are broken")
