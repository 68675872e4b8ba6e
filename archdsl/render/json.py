"""Machine-readable output: one JSON document with a command's results, every diagnostic's fields, and the
run's summary (counts, I/O errors, exit code)."""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic
from .registry import Rendering, register


@register("json", for_tools=True, document=True)
def json_format(r: Rendering) -> str:
    return render_json(r.diagnostics, summary=r.summary, results=r.results)


def render_json(diagnostics: list[Diagnostic], colour: bool = False, summary: dict | None = None,
                results: dict | None = None) -> str:
    """`{...results, "diagnostics": [...], "summary": {...}}`; a command's results come first."""
    document: dict = {**(results or {}), "diagnostics": [d.model_dump(mode="json") for d in diagnostics]}
    if summary is not None:
        document["summary"] = summary
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
