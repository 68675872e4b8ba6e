"""Renderers of diagnostics, one per output format: text, github, json."""

from .github import render_github
from .json import render_json
from .text import render_text

RENDERERS = {"text": render_text, "github": render_github, "json": render_json}

__all__ = ["RENDERERS", "render_github", "render_json", "render_text"]
