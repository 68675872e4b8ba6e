"""Row 5: parser and checker scaling on generated specs (1k, 10k, 100k lines): lines/s, and linearity."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..rows import Row
from ..specgen import generate_spec
from ..timing import median_time
from .common import forget_parsed

SPEED_TARGET = (">=", 50_000.0)
LINEAR_TARGET = ("<=", 1.5)  # per-line time of the largest spec / the smallest


def run(settings) -> list[Row]:
    import archdsl
    from archdsl.source import Source
    from archdsl.syntax.parser import parse

    archdsl.check(_write(Path(tempfile.mkdtemp()), 100))  # grammar and standard library, once per process
    lifted = _unbounded_limits()
    limits = {"limits": lifted} if lifted is not None else {}
    rows: list[Row] = []
    per_line: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lines in settings.scaling_lines:
            path = _write(Path(tmp), lines)
            text = path.read_text()
            note = _allow_size(len(text.encode()))
            check_s = median_time(lambda: forget_parsed() or archdsl.check(path, **limits),
                                  rounds=settings.scaling_rounds, warmup=0)  # each round parses, memory emptied
            parse_s = median_time(lambda: _parse_like_check(parse, Source(path.name, text)),
                                  rounds=settings.scaling_rounds, warmup=0)
            per_line[lines] = check_s / lines
            rows.append(Row(group="scaling", name=f"parse+check {_k(lines)} lines", unit="lines/s",
                            ours=lines / check_s, target=SPEED_TARGET, target_on="ours", ratio=None,
                            reference_used="-", note=f"parse alone {lines / parse_s:,.0f} lines/s; "
                                                     f"total {check_s:.2f} s{note}",
                            extra={"seconds": check_s, "parse_seconds": parse_s}))
    small, large = min(per_line), max(per_line)
    if large != small:
        rows.append(Row(group="scaling", name=f"per-line time {_k(large)}/{_k(small)}", ratio=per_line[large] /
                        per_line[small], ratio_label="large/small", target=LINEAR_TARGET, reference_used="-",
                        note="1.0 = linear"))
    return rows


def _parse_like_check(parse, source):
    """Parse alone, under the same conditions as `archdsl.check` (which pauses the cyclic GC, see gcpause.py),
    and as a first parse (nothing remembered)."""
    forget_parsed()
    try:
        from archdsl.gcpause import paused_gc
    except ImportError:
        return parse(source)
    with paused_gc():
        return parse(source)


_ORIGINAL_LIMIT: dict[str, int | None] = {}  # the parser's own limit, before a row raised it


def _allow_size(size: int) -> str:
    """The parser refuses files above a size limit (hostile input); the largest generated spec may exceed it, and
    this row measures throughput, so the limit is raised in this process only, and the row says so."""
    import importlib

    from archdsl.syntax import parser

    limit = _ORIGINAL_LIMIT.setdefault("bytes", getattr(parser, "MAX_SOURCE_BYTES", None))
    if limit is None or size <= limit:
        return ""
    for name in ("archdsl.syntax.parser", "archdsl.passes.resolve"):  # the reader holds its own copy of the name
        module = importlib.import_module(name)
        if hasattr(module, "MAX_SOURCE_BYTES"):
            module.MAX_SOURCE_BYTES = size
    return f"; {size:,} bytes, above the parser's {limit:,}-byte limit (raised for this row)"


def _unbounded_limits():
    """The elaboration limits of archdsl.check with the op and step budgets (hostile input, issue 14) lifted: the
    generated 100k-line spec unrolls past them, and this row measures throughput (None before budgets existed)."""
    try:
        from archdsl.passes.elaborate import Limits
    except ImportError:
        return None
    fields = Limits.__dataclass_fields__
    lifted = {name: 10**12 for name in ("max_ops", "max_steps") if name in fields}
    return Limits(**lifted)


def _write(folder: Path, lines: int) -> Path:
    path = folder / f"generated_{lines}.arch"
    path.write_text(generate_spec(lines))
    return path


def _k(lines: int) -> str:
    return f"{lines // 1000}k" if lines % 1000 == 0 else str(lines)
