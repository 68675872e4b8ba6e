"""Running graphviz's `dot` program on DOT source: `.svg`, `.png`, `.pdf`; `.dot` needs no program at all."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

#: file suffix -> graphviz output format; `None` means the DOT source itself
FORMATS: dict[str, str | None] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}

INSTALL_HELP = ("install graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`, "
                "conda: `conda install graphviz`), or write DOT source with `-o FILE.dot`, which needs no graphviz")

PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) ?)\(D:\d{14}")
PNG_DPI = "144"  # graphviz's default 96 dpi makes 8-point edge labels blurry


class GraphvizMissing(Exception):
    """graphviz's `dot` program is not on PATH."""

    def __init__(self) -> None:
        super().__init__(f"graphviz's `dot` program was not found on PATH; {INSTALL_HELP}")


class GraphvizFailed(Exception):
    """`dot` ran but failed (a bug in the DOT we generate, or a broken graphviz install)."""


def output_format(path: Path) -> str | None:
    """The graphviz format for an output file name; raises ValueError for a suffix we cannot write."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"cannot tell the diagram format from `{path.name}`: use one of {known}")
    return FORMATS[suffix]


def render(source: str, fmt: str | None) -> bytes:
    """The bytes of the diagram in `fmt` (`None`: the DOT source)."""
    if fmt is None:
        return source.encode()
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    command = [dot, f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    # same spec, same file: newer cairo takes PDF dates from SOURCE_DATE_EPOCH; older cairo stamps the time
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    result = subprocess.run(command, input=source.encode(), capture_output=True, env=env, timeout=300)
    if result.returncode != 0:
        raise GraphvizFailed(f"`dot -T{fmt}` failed: {result.stderr.decode(errors='replace').strip()}")
    return _fixed_pdf_dates(result.stdout) if fmt == "pdf" else result.stdout


def _fixed_pdf_dates(pdf: bytes) -> bytes:
    """Sets the PDF's creation/modification times to 1970, digit for digit, so every byte offset stays valid."""
    return PDF_DATE.sub(rb"\1(D:19700101000000", pdf)
