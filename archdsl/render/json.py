"""Machine-readable output: one JSON document with a command's results, every diagnostic's fields, and the
run's summary (counts, I/O errors, exit code)."""

from __future__ import annotations

import json
import re

from ..diagnostics import Diagnostic
from .registry import Rendering, register

#: what os.fsdecode makes of bytes that are not UTF-8 (a file name), and any other lone surrogate
_SURROGATE = re.compile("[\ud800-\udfff]")


@register("json", for_tools=True, document=True)
def json_format(r: Rendering) -> str:
    return render_json(r.diagnostics, summary=r.summary, results=r.results)


def render_json(diagnostics: list[Diagnostic], colour: bool = False, summary: dict | None = None,
                results: dict | None = None) -> str:
    """`{...results, "diagnostics": [...], "summary": {...}}`; a command's results come first."""
    document: dict = {**(results or {}), "diagnostics": [d.model_dump(mode="json") for d in diagnostics]}
    if summary is not None:
        document["summary"] = summary
    return json.dumps(_utf8(document), indent=2, ensure_ascii=False) + "\n"


def _utf8(value):
    """The document with every string encodable as UTF-8: a file name's undecodable byte 0xNN becomes `\\xNN`
    (JSON escapes control characters itself)."""
    if isinstance(value, str):
        if not _SURROGATE.search(value):
            return value
        return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}" if 0xDC80 <= ord(m.group()) <= 0xDCFF
                              else "\ufffd", value)
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_utf8(v) for v in value]
    return value
