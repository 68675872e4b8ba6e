"""Output formats for diagnostics and command results, one module each, registered by name (registry.py).

Importing this package registers the bundled formats: text (people), github (workflow annotations), json.
"""

from .registry import FORMATS, MAX_SHOWN, Format, Rendering, register
from .text import render_text  # noqa: E402  (each import registers its format, in this order)
from .github import escape_data, render_github
from .json import render_json

__all__ = ["FORMATS", "MAX_SHOWN", "Format", "Rendering", "escape_data", "register", "render_github", "render_json",
           "render_text"]
