"""A spinner on standard error for steps that take more than a moment, shown only on a terminal."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def status(message: str):
    """`with status("exporting ..."):` shows a rich spinner on a terminal and nothing anywhere else."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(file=sys.stderr).status(message):
        yield
