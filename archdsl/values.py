"""Values of the language written as a spec writes them: `true`, `"same"`, `(3, 3)`, `0.25`.

At the bottom of the layers, so that elaboration's messages, a diagram's block arguments (read off the IR) and
the editor's hovers print a value the same way without importing the interpreter.

A value is written out up to `MAX_SHOWN` characters and elided after that, with the work bounded by what is
shown: a list of a shared list (elaboration allows 100,000 elements, counted in full) never becomes megabytes of
message (issue 14).

>>> repr_value((3, True, "same", 0.5)), repr_value((1,))
('(3, true, "same", 0.5)', '(1,)')
>>> repr_value(tuple(range(100000)), limit=30)
'(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (100,000 items)'
"""

from __future__ import annotations

from typing import Any

MAX_SHOWN = 300  # characters of one value in a message, a note or a label


def repr_value(v: Any, limit: int | None = MAX_SHOWN) -> str:
    """`v` as a spec writes it, elided after about `limit` characters (`None`: in full)."""
    if not isinstance(v, tuple):
        text = _scalar(v)
        return text if limit is None or len(text) <= limit else text[:limit] + "..."
    parts: list[str] = ["("]
    size = 1
    stack: list[tuple[Any, int]] = [(iter(v), len(v))]  # iterative: nesting never meets Python's recursion limit
    first = True
    while stack:
        items, length = stack[-1]
        item = next(items, _END)
        if item is _END:
            stack.pop()
            parts.append(",)" if length == 1 else ")")
            size += 2
            first = False
            continue
        if not first:
            parts.append(", ")
            size += 2
        first = False
        if isinstance(item, tuple):
            parts.append("(")
            size += 1
            stack.append((iter(item), len(item)))
            first = True
        else:
            text = _scalar(item)
            parts.append(text)
            size += len(text)
        if limit is not None and size > limit:
            shown = "".join(parts)[:limit]
            return shown[:shown.rfind(",") + 1 or len(shown)] + f" ... ({len(v):,} item{'s' if len(v) != 1 else ''})"
    return "".join(parts)


_END = object()


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
