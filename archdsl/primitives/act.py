"""Elementwise activations. Each is one registry entry naming its torch module."""

from __future__ import annotations

from typing import Literal

from .base import ParamModel, Primitive, register, register_instance


class Activation(Primitive):
    family = "act"

    def __init__(self, name: str, torch_class: str):
        self.name = name
        self.torch_class = torch_class

    def build(self, p, x, y):
        from torch import nn

        return getattr(nn, self.torch_class)()


_ACTIVATIONS = (("relu", "ReLU"), ("relu6", "ReLU6"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh"),
                ("hardswish", "Hardswish"), ("hardsigmoid", "Hardsigmoid"), ("silu", "SiLU"), ("gelu", "GELU"))

for _name, _cls in _ACTIVATIONS:
    register_instance(Activation(_name, _cls))


class LeakyReluParams(ParamModel):
    slope: float = 0.01


@register
class LeakyRelu(Primitive):
    name = "leaky_relu"
    family = "act"
    Params = LeakyReluParams

    def build(self, p, x, y):
        from torch import nn

        return nn.LeakyReLU(p.slope)


_PARAMETERLESS = tuple(name for name, _ in _ACTIVATIONS)


class ActivationByNameParams(ParamModel):
    kind: Literal[_PARAMETERLESS]  # type: ignore[valid-type]


@register
class ActivationByName(Primitive):
    """`activation("hardswish")`: the activation named by a string, for blocks that take their activation as a
    parameter (MobileNet v3 rows choose ReLU or h-swish; torchvision's `activation_layer` argument)."""

    name = "activation"
    family = "act"
    Params = ActivationByNameParams

    def build(self, p, x, y):
        from torch import nn

        return getattr(nn, dict(_ACTIVATIONS)[p.kind])()

    def label(self, p):
        return p.kind
