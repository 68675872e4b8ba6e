"""Values of the language written as a spec writes them: `true`, `"same"`, `(3, 3)`, `0.25`.

At the bottom of the layers, so that elaboration's messages, a diagram's block arguments (read off the IR) and
the editor's hovers print a value the same way without importing the interpreter.

>>> repr_value((3, True, "same", 0.5)), repr_value((1,))
('(3, true, "same", 0.5)', '(1,)')
"""

from __future__ import annotations

from typing import Any


def repr_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple):
        return "(" + ", ".join(repr_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
