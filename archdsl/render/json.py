"""Machine-readable diagnostics: one JSON document with every diagnostic's fields."""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic


def render_json(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    return json.dumps({"diagnostics": [d.model_dump(mode="json") for d in diagnostics]}, indent=2) + "\n"
