"""Optional dependencies, and what to say when one is missing.

`pip install archdsl` is the light install: `check`, `summary`, `fmt`, `draw` and the editor support run
without torch. Commands that build modules need the `torch` extra; `archdsl lsp` needs the `lsp` extra.

>>> missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"), "build")
"`archdsl build` needs torch, which is not installed: pip install 'archdsl[torch]' (or your CUDA build of torch)"
"""

from __future__ import annotations

import warnings
from types import ModuleType

#: top-level module -> the extra that installs it
EXTRAS: dict[str, str] = {
    "torch": "torch",
    "numpy": "torch",
    "pygls": "lsp",
    "lsprotocol": "lsp",
}

_ALTERNATIVES = {"torch": " (or your CUDA build of torch)"}


def missing_extra(exc: BaseException, command: str | None = None) -> str | None:
    """One line saying how to install the optional dependency whose import failed, or None for other errors."""
    if not isinstance(exc, ImportError):
        return None
    module = (exc.name or "").partition(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        return None
    who = f"`archdsl {command}`" if command else "this"
    return f"{who} needs {module}, which is not installed: pip install 'archdsl[{extra}]'{_ALTERNATIVES.get(module, '')}"


def import_torch() -> ModuleType:
    """`import torch`, without torch's start-up warning that numpy is missing: archdsl never hands torch a numpy
    array, and the light install leaves numpy out (it is as large as the rest of the light install)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
        import torch
    return torch
