"""The `--input CxHxW` option shared by commands that take an input size."""

from __future__ import annotations

from typing import Callable

import click

from ..passes.input_size import is_symbolic, parse_dims


def _convert(symbolic: bool):
    def convert(ctx, param, value: str | None):
        if value is None:
            return None
        try:
            dims = parse_dims(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        if is_symbolic(dims) and not symbolic:
            raise click.BadParameter(f"{value!r}: give every size as a number here, e.g. 3x224x224")
        return dims

    return convert


def input_option(f: Callable | None = None, *, symbolic: bool = False):
    """`--input 3x224x224` (overrides the network's `input`); with `symbolic`, also `3xHxW` or `3x?x?`."""
    help_text = "Input size CxHxW (or F), e.g. 3x64x64; overrides the network's `input`."
    if symbolic:
        help_text = ("Check at this input size (3x224x224), or, with symbols for sizes (3xHxW, 3x?x?), find the "
                     "smallest input each network accepts and which sizes fit.")
    option = click.option("--input", "input_dims", metavar="CxHxW", callback=_convert(symbolic), help=help_text)
    return option(f) if f is not None else option
