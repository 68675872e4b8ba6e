"""`archdsl check`: static shape checking of specs, without torch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..diagnostics import ArchError, Diagnostic
from ..passes.elaborate import Elaborator
from ..passes.resolve import display_name, load_file
from ..report import Report
from .app import format_option, guarded, main, parse_assignments, set_option


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@set_option
@format_option
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and the summary.")
@guarded
def check(files: tuple[Path, ...], assignments: tuple[str, ...], fmt: str, quiet: bool) -> int:
    """Check every channel count and tensor shape of FILES, statically (torch is never imported).

    Every network in every file is elaborated with its default parameters; --set overrides those of the
    networks that declare the parameter. Exit status: 0 clean, 1 errors in specs, 2 usage or I/O errors.

    \b
    Examples:
      archdsl check specs/*.arch
      archdsl check specs/resnet18.arch --set input=[3,64,64]
      archdsl check specs/ --format github
    """
    overrides = parse_assignments(assignments)
    report = Report(format=fmt)
    out = sys.stdout
    for path in _expand(files):
        report.files_checked += 1
        problems, lines = _check_file(path, overrides)
        if problems:
            report.files_failed += 1
            report.add(problems)
        elif fmt == "text" and not quiet:
            for line in lines:
                out.write(line + "\n")
    report.emit(sys.stderr if fmt == "text" else out)
    if fmt == "text":
        click.echo(report.summary(), err=bool(report.diagnostics))
    return report.exit_code


def _expand(files: tuple[Path, ...]) -> list[Path]:
    paths: list[Path] = []
    for f in files:
        if f.is_dir():
            found = sorted(f.rglob("*.arch"))
            if not found:
                raise FileNotFoundError(f"no .arch files under {f}")
            paths.extend(found)
        else:
            if not f.exists():
                raise FileNotFoundError(2, "no such file", str(f))
            paths.append(f)
    return paths


def _check_file(path: Path, overrides: dict) -> tuple[list[Diagnostic], list[str]]:
    try:
        scope = load_file(path)
    except ArchError as exc:
        return exc.diagnostics, []
    problems: list[Diagnostic] = []
    lines: list[str] = []
    for definition in scope.module.networks:
        declared = {p.name for p in definition.params}
        params = {k: v for k, v in overrides.items() if k in declared}
        try:
            net = Elaborator().network(definition, scope, params)
        except ArchError as exc:
            problems.extend(exc.diagnostics)
            continue
        lines.append(f"{display_name(path)}: {net.name} {net.input} -> {net.output}, "
                     f"{net.param_count:,} parameters, {net.macs / 1e9:.3f} GMACs")
    if not scope.module.networks:
        lines.append(f"{display_name(path)}: {len(scope.module.blocks)} blocks, no network")
    return problems, lines
