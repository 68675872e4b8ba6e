"""Machine-readable diagnostics: one JSON document with every diagnostic's fields, and the run's summary."""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic


def render_json(diagnostics: list[Diagnostic], colour: bool = False, summary: dict | None = None) -> str:
    document: dict = {"diagnostics": [d.model_dump(mode="json") for d in diagnostics]}
    if summary is not None:
        document["summary"] = summary
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
