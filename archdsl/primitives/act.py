"""Elementwise activations. Each is one registry entry naming its torch module."""

from __future__ import annotations

from .base import ParamModel, Primitive, register, register_instance


class Activation(Primitive):
    family = "act"

    def __init__(self, name: str, torch_class: str):
        self.name = name
        self.torch_class = torch_class

    def build(self, p, x, y):
        from torch import nn

        return getattr(nn, self.torch_class)()


for _name, _cls in (("relu", "ReLU"), ("relu6", "ReLU6"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh"),
                    ("hardswish", "Hardswish"), ("hardsigmoid", "Hardsigmoid"), ("silu", "SiLU"),
                    ("gelu", "GELU")):
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
