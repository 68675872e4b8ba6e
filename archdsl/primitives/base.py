"""The primitive registry: each primitive is a parameter model, a torch-free shape rule, a builder and a label.

Adding a primitive means writing one `Primitive` subclass decorated with `@register`; nothing else changes.
Builders import torch lazily so that shape checking never loads it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..types import TensorType

PositiveInt = Annotated[int, Field(gt=0, strict=True)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Pair = PositiveInt | tuple[PositiveInt, PositiveInt]
NonNegativePair = NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ParamModel(BaseModel):
    """Base of every primitive's parameters: frozen, strict about unknown names."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoParams(ParamModel):
    pass


class ShapeError(Exception):
    """Raised by a shape rule; elaboration turns it into a diagnostic at the call site."""

    def __init__(self, code: str, message: str, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.help = code, message, help


class Primitive:
    """One op of the language. Subclasses set `name`, `family`, `Params` and override the rules."""

    name: ClassVar[str]
    family: ClassVar[str]  # for diagrams: conv, norm, act, pool, linear, reshape, regularize
    Params: ClassVar[type[ParamModel]] = NoParams
    #: True when the op is the identity at inference time (dropout, drop_path): diagrams may fade it
    inference_identity: ClassVar[bool] = False
    #: parameters that take a named tensor (`resize(@input)`), written before the others in a call and kept out
    #: of `Params`: the op's inputs are (x, *one per name); `infer` gets their types, the module's forward them
    tensor_params: ClassVar[tuple[str, ...]] = ()

    def infer(self, p: Any, x: TensorType, *tensors: TensorType) -> TensorType:
        return x

    def build(self, p: Any, x: TensorType, y: TensorType):
        raise NotImplementedError(f"primitive `{self.name}` has no torch builder")  # every registered one does

    def inline(self, p: Any, x: Any, call: Any) -> Any:
        """The op written into its parent's generated forward as an expression instead of a submodule. A
        primitive that defines it is always inlined; the others keep their submodule (lower/codegen.py asks
        `is_inlined`). For stateless tensor plumbing that hand-written models write inline (`torch.narrow`,
        `channel_shuffle(x, g)`), where a module call would cost ~2 us of Python per forward. `x` is the input's
        expression; `call(function, *args)` writes a call of a module-level function, as it does for the
        combinators' lowerings. Such an op has no submodule, so no module hook sees it."""
        raise NotImplementedError(f"primitive `{self.name}` is a submodule, not written inline")

    def label(self, p: Any) -> str:
        return self.name

    def param_count(self, p: Any, x: TensorType, y: TensorType) -> int:
        return 0

    def macs(self, p: Any, x: TensorType, y: TensorType) -> int:
        """Multiply-accumulates of conv/linear layers, counted as torchvision's published GFLOPS count them."""
        return 0


REGISTRY: dict[str, Primitive] = {}


def register(cls: type[Primitive]) -> type[Primitive]:
    """Class decorator: registers one instance; a duplicate name is a programming error."""
    instance = cls()
    if instance.name in REGISTRY:
        raise ValueError(f"primitive `{instance.name}` is registered twice")
    REGISTRY[instance.name] = instance
    return cls


def register_instance(instance: Primitive) -> Primitive:
    if instance.name in REGISTRY:
        raise ValueError(f"primitive `{instance.name}` is registered twice")
    REGISTRY[instance.name] = instance
    return instance


def pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def require_rank(name: str, x: TensorType, rank: int) -> None:
    if x.rank != rank:
        what = {3: "a feature map (CxHxW)", 1: "flat features (F)"}[rank]
        hint = "add `flatten` before it" if rank == 1 else "it cannot follow `flatten` or `linear`"
        raise ShapeError("E0206", f"`{name}` needs {what}, got a tensor of shape {x}", help=hint)


def sliding_window(name: str, x: TensorType, kernel, stride, padding, dilation=(1, 1), ceil_mode=False) -> tuple[int, int]:
    """Output H, W of a convolution or pooling window, as torch computes them."""
    out = []
    for size, k, s, p, d in zip(x.spatial, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        n = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (n - 1) * s >= size + p:
            n -= 1
        if n < 1:
            raise ShapeError("E0205", f"`{name}` window of {span} does not fit in input size {x.h}x{x.w} (padding {p})",
                             help="the input is too small here: use less downsampling or a larger input")
        out.append(n)
    return out[0], out[1]
