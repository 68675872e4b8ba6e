"""Loading reference (torchvision/timm-style) state_dicts into compiled specs: by name, else by order.

Nothing is downloaded: weights come from a file the user has.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Mapping

import torch
from torch import nn


class WeightsError(ValueError):
    """The state_dict does not fit the model; the message names the first mismatch."""


def read_state_dict(source: str | Path | Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    if isinstance(source, Mapping):
        state = source
    else:
        state = torch.load(Path(source), map_location="cpu", weights_only=True)
    if isinstance(state, nn.Module):
        state = state.state_dict()
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{source} does not hold a state_dict (a mapping of names to tensors)")
    return OrderedDict((k.removeprefix("module."), v) for k, v in state.items())


def match_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    """Map `state` onto the model's own keys: by name when every name matches, else by order, shapes checked."""
    ours = model.state_dict()
    if set(ours) == set(state):
        mapping = OrderedDict((k, state[k]) for k in ours)
    else:
        if len(ours) != len(state):
            raise WeightsError(f"the file has {len(state)} entries, the model {len(ours)}; names differ too, "
                               f"so they cannot be matched by order (first model key `{next(iter(ours))}`, "
                               f"first file key `{next(iter(state), '')}`)")
        mapping = OrderedDict(zip(ours, state.values()))
        names = dict(zip(ours, state))
    for key, value in mapping.items():
        if value.shape != ours[key].shape:
            source = key if set(ours) == set(state) else f"`{names[key]}` (entry {list(ours).index(key)})"
            raise WeightsError(f"shape mismatch: model `{key}` is {tuple(ours[key].shape)}, file {source} is "
                               f"{tuple(value.shape)}")
    return mapping


def load_weights(model: nn.Module, source: str | Path | Mapping[str, torch.Tensor]) -> nn.Module:
    """Load `source` into `model` in place and return it."""
    model.load_state_dict(match_state_dict(model, read_state_dict(source)))
    return model
