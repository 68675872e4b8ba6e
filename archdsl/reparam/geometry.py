"""When parallel linear branches are one convolution: the geometry rule, torch-free.

Shared by the module pass (graph.py) and the IR pass (ir.py), so `build --deploy` and `summary --deploy`
take the same decisions. Each branch is a convolution, a BatchNorm or an identity of the same input; it
reads, along each spatial axis, the input positions `start + dilation * j` for `j < kernel` with
`start = -padding`. The branches sum to one convolution when they agree on stride and groups and one
branch's window covers all the others on the same dilation grid: then that branch's kernel size and
padding hold every other kernel, zero-padded at the right offset, and give the same output size.
A window that sticks out on one side only (padding that is not the centring one) breaks that.
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[int, int]

#: why a convolution with an even window and pad="same" is no branch: torch pads one more on the right
ASYMMETRIC_SAME = "its padding=\"same\" is asymmetric (an even kernel), which one padded kernel cannot express"


@dataclass(frozen=True)
class Branch:
    """The geometry of one linear branch; `groups=None` for a BatchNorm or identity (it fits any groups)."""

    in_channels: int
    out_channels: int
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int | None = None

    @property
    def is_conv(self) -> bool:
        return self.groups is not None


@dataclass(frozen=True)
class Fused:
    """The fused convolution, and where each branch's kernel sits inside its kernel (top, left)."""

    branch: Branch
    offsets: tuple[Pair, ...]


def fuse(branches: list[Branch]) -> Fused | str:
    """The one convolution equal to the sum of `branches`, or the reason there is none."""
    convs = [b for b in branches if b.is_conv]
    if not convs:
        return "no branch is a convolution (fusing would add one)"
    for what in ("groups", "stride", "in_channels", "out_channels"):
        values = sorted({getattr(b, what) for b in (convs if what == "groups" else branches)})
        if len(values) > 1:
            return f"branches differ in {what.replace('_', ' ')} ({', '.join(map(str, values))})"
    groups = convs[0].groups
    if any(not b.is_conv and b.in_channels % groups for b in branches):
        return f"an identity of {branches[0].in_channels} channels cannot take groups={groups}"
    axes = [_fuse_axis(branches, axis) for axis in (0, 1)]
    for axis in axes:
        if isinstance(axis, str):
            return axis
    (kh, ph, dh, top), (kw, pw, dw, left) = axes
    fused = Branch(branches[0].in_channels, branches[0].out_channels, (kh, kw), convs[0].stride, (ph, pw),
                   (dh, dw), groups)
    return Fused(fused, tuple(zip(top, left)))


def _fuse_axis(branches: list[Branch], axis: int) -> tuple[int, int, int, list[int]] | str:
    """Kernel size, padding, dilation and each branch's offset along one spatial axis, or why not."""
    name = "height" if axis == 0 else "width"
    dilations = {b.dilation[axis] for b in branches if b.kernel[axis] > 1}
    if len(dilations) > 1:
        return f"branches differ in dilation along the {name} ({', '.join(map(str, sorted(dilations)))})"
    dilation = dilations.pop() if dilations else 1
    windows = [(-b.padding[axis], -b.padding[axis] + dilation * (b.kernel[axis] - 1)) for b in branches]
    start, end = min(w[0] for w in windows), max(w[1] for w in windows)
    cover = next((b for b, w in zip(branches, windows) if w == (start, end)), None)
    if cover is None:
        return (f"no branch's window covers the others along the {name} (windows "
                f"{', '.join(f'[{a}, {b}]' for a, b in windows)}): their padding is not the centring one")
    offsets = []
    for first, _ in windows:
        offset, misaligned = divmod(first - start, dilation)
        if misaligned:
            return f"a branch is off the dilation-{dilation} grid along the {name}"
        offsets.append(offset)
    return cover.kernel[axis], cover.padding[axis], dilation, offsets
