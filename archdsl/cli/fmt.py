"""`archdsl fmt`: rewrite .arch files in the canonical layout (archdsl/syntax/format.py)."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from .. import pipeline
from ..diagnostics import ArchError
from ..report import EXIT_INTERNAL, Report
from ..syntax.parser import MAX_SOURCE_BYTES
from .app import atomic_write, guarded, main


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print what would change as a unified diff.")
@guarded
def fmt(paths: tuple[Path, ...], check: bool, show_diff: bool) -> int:
    """Format .arch files (or every .arch file under a directory) in place.

    The layout is canonical: formatting twice changes nothing, comments are kept, and the program parses
    to the same syntax tree as before (checked before anything is written). `-` formats standard input to
    standard output. Exit status: 0 done (or, with --check, nothing to change), 1 a file would change or
    does not parse, 2 usage or I/O errors.

    \b
    Examples:
      archdsl fmt specs/ archdsl/stdlib/
      archdsl fmt --check specs/          # in CI or a pre-commit hook
      archdsl fmt --diff specs/resnet18.arch
      archdsl fmt - < net.arch > formatted.arch
    """
    report = Report()
    changed = unchanged = 0
    for path in _expand(paths):
        report.files_checked += 1
        stdin = str(path) == "-"
        c = pipeline.Compilation(path)
        name = "<stdin>" if stdin else c.name
        try:
            # one byte past the limit is enough to refuse a huge input (`fmt - < /dev/zero`) without reading it all
            data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1) if stdin else None
            source = pipeline.read(c, data, name) if stdin else pipeline.read(c)
            formatted = pipeline.format_checked(c, source)
        except ArchError as exc:
            report.files_failed += 1
            report.add(exc.diagnostics)
            continue
        except pipeline.UnsafeFormat as exc:
            click.echo(f"internal error: {exc}; {name} was left untouched, please report this", err=True)
            return EXIT_INTERNAL
        if stdin and not (check or show_diff):
            sys.stdout.write(formatted)
            continue
        if formatted == source.text:
            unchanged += 1
            continue
        changed += 1
        if show_diff:
            sys.stdout.writelines(difflib.unified_diff(source.text.splitlines(True), formatted.splitlines(True),
                                                       f"{name} (original)", f"{name} (formatted)"))
        if check or show_diff:
            click.echo(f"would reformat {name}", err=True)
        else:
            _write(path, formatted)
            click.echo(f"reformatted {name}", err=True)
    report.emit(sys.stderr)
    if report.files_checked > 1 or changed:
        verb = "would be reformatted" if check or show_diff else "reformatted"
        click.echo(f"{changed} file{'s' if changed != 1 else ''} {verb}, {unchanged} left unchanged"
                   + (f", {report.files_failed} could not be parsed" if report.files_failed else ""), err=True)
    if report.diagnostics:
        return report.exit_code
    return 1 if check and changed else 0


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if str(path) != "-" and path.is_dir():
            found = sorted(path.rglob("*.arch"))
            if not found:
                raise FileNotFoundError(f"no .arch files under {path}")
            files.extend(found)
        elif str(path) != "-" and not path.exists():
            raise FileNotFoundError(2, "no such file", str(path))
        else:
            files.append(path)
    return files


def _write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o7777

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, mode)  # keep the file's permissions: the temporary file was created private

    atomic_write(path, write)
