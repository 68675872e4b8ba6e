"""The `archdsl` command line. Each command lives in its own module and registers itself on `main`."""

from .app import main
from . import build, check, draw, export, fmt, lsp, schema, summary, sweep  # noqa: F401  (command registration)

__all__ = ["main"]
