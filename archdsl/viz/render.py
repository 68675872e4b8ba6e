"""Running graphviz's `dot` program on DOT source: `.svg`, `.png`, `.pdf`; `.dot` needs no program at all.

`dot` is an external program, so it can be missing, fail, hang or run out of memory. Each of these is a
`GraphvizError`, an `OSError` (the CLI's usage/I-O class: exit 2, one line), never an internal error: `dot`
runs with a time-out (`Budgets.dot_seconds`, `ARCHDSL_DOT_TIMEOUT`) and a cap on its memory
(`Budgets.dot_memory`), and what it prints on failure is cut to one clean line.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from ..budgets import Budgets

#: file suffix -> graphviz output format; `None` means the DOT source itself
FORMATS: dict[str, str | None] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}

INSTALL_HELP = ("install graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`, "
                "conda: `conda install graphviz`), or write DOT source with `-o FILE.dot`, which needs no graphviz")

PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) ?)\(D:\d{14}")
PNG_DPI = "144"  # graphviz's default 96 dpi makes 8-point edge labels blurry
MAX_QUOTED = 200  # characters of dot's own message quoted in ours
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class GraphvizError(OSError):
    """graphviz's `dot` could not make the diagram: an environment problem (exit 2), not a bug in the spec."""

    def __init__(self, message: str):
        super().__init__(errno.EIO, message)

    def __str__(self) -> str:
        return self.strerror


class GraphvizMissing(GraphvizError):
    """graphviz's `dot` program is not on PATH."""

    def __init__(self) -> None:
        super().__init__(f"graphviz's `dot` program was not found on PATH; {INSTALL_HELP}")


class GraphvizFailed(GraphvizError):
    """`dot` ran but failed (a bug in the DOT we generate, a broken graphviz install, not enough memory)."""


class GraphvizTimeout(GraphvizFailed):
    """`dot` ran longer than the budget allows."""


def output_format(path: Path) -> str | None:
    """The graphviz format for an output file name; raises ValueError for a suffix we cannot write."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"cannot tell the diagram format from `{path.name}`: use one of {known}")
    return FORMATS[suffix]


def render(source: str, fmt: str | None, *, timeout: float | None = None, budgets: Budgets | None = None) -> bytes:
    """The bytes of the diagram in `fmt` (`None`: the DOT source). Raises a GraphvizError when `dot` fails."""
    if fmt is None:
        return source.encode()
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    budgets = budgets or Budgets()
    seconds = budgets.dot_seconds if timeout is None else timeout
    command = [dot, f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    # same spec, same file: newer cairo takes PDF dates from SOURCE_DATE_EPOCH; older cairo stamps the time
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    try:
        result = subprocess.run(command, input=source.encode(), capture_output=True, env=env, timeout=seconds,
                                preexec_fn=_memory_cap(budgets.dot_memory))
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        raise GraphvizTimeout(f"`dot -T{fmt}` did not finish in {seconds:g} s and was stopped; draw fewer nodes "
                              f"(a smaller --depth, no --expand-repeats), write `.dot` instead, or allow more "
                              f"time with ARCHDSL_DOT_TIMEOUT=SECONDS") from None
    except OSError as exc:  # found on PATH but cannot run: permissions, not a program, a broken interpreter line
        raise GraphvizFailed(f"cannot run `{dot}`: {exc.strerror or exc}") from None
    if result.returncode != 0:
        raise GraphvizFailed(f"`dot -T{fmt}` failed ({_how(result.returncode)}){_quoted(result.stderr)}")
    return _fixed_pdf_dates(result.stdout) if fmt == "pdf" else result.stdout


def _memory_cap(limit: int):
    """Applied in the child before `dot` starts: an address-space limit, where the platform has one."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    if not hasattr(resource, "RLIMIT_AS"):
        return None

    def apply() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    return apply


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}" + (", out of memory?" if -returncode in (signal.SIGKILL, signal.SIGSEGV) else "")
    return f"exit status {returncode}"


def _quoted(stderr: bytes) -> str:
    """dot's first message line, printable and short: `: Error: syntax error in line 3`."""
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        line = _UNPRINTABLE.sub("?", line).strip()
        if line:
            return ": " + (line if len(line) <= MAX_QUOTED else line[:MAX_QUOTED] + "...")
    return ""


def _fixed_pdf_dates(pdf: bytes) -> bytes:
    """Sets the PDF's creation/modification times to 1970, digit for digit, so every byte offset stays valid."""
    return PDF_DATE.sub(rb"\1(D:19700101000000", pdf)
