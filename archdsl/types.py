"""Tensor types: the static shape of one sample (the batch dimension is implicit)."""

from __future__ import annotations

from pydantic import ConfigDict

from .frozen import Frozen

#: the aspects of a shape that a rule can find wrong; diagnostics trace back where that aspect was decided
CHANNELS, SPATIAL, SHAPE = "channels", "spatial size", "shape"


class TensorType(Frozen):
    """`dims` is (C, H, W) for feature maps or (F,) for flat features."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dims: tuple[int, ...]

    @classmethod
    def of(cls, *dims: int) -> "TensorType":
        return cls.model_construct(dims=tuple(dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def c(self) -> int:
        return self.dims[0]

    @property
    def h(self) -> int:
        return self.dims[1] if self.rank == 3 else 1

    @property
    def w(self) -> int:
        return self.dims[2] if self.rank == 3 else 1

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.dims[1:]

    @property
    def numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    def __str__(self) -> str:
        return "x".join(str(d) for d in self.dims)

    def __hash__(self) -> int:
        return hash(self.dims)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorType) and self.dims == other.dims
