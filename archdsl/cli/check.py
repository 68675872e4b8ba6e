"""`archdsl check`: static shape checking of specs, without torch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..api import choose_network
from ..diagnostics import ArchError, Diagnostic
from ..passes.elaborate import Elaborator, Limits
from ..passes.resolve import display_name, load_file
from ..report import Report
from .app import (describe_os_error, format_option, guarded, main, max_params_option, network_option,
                  parse_assignments, set_option)
from .dims import input_option


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@set_option
@network_option
@max_params_option
@format_option
@click.option("-q", "--quiet", is_flag=True, help="Print only problems and the summary.")
@input_option(symbolic=True)
@guarded
def check(files: tuple[Path, ...], assignments: tuple[str, ...], network: str | None, max_params: int, fmt: str,
          quiet: bool, input_dims: tuple | None) -> int:
    """Check every channel count and tensor shape of FILES, statically (torch is never imported).

    Every network in every file is elaborated with its default parameters; --set overrides those of the
    networks that declare the parameter. Every error in every file is reported (at most 50 are printed),
    then a summary line. Exit status: 0 clean, 1 errors in specs, 2 usage or I/O errors.

    \b
    Examples:
      archdsl check specs/*.arch
      archdsl check specs/resnet18.arch --set input=[3,64,64]
      archdsl check specs/ --format github
      archdsl check specs/alexnet.arch --input 3xHxW    # smallest input it accepts
    """
    overrides = parse_assignments(assignments)
    if input_dims is not None and any(isinstance(d, str) for d in input_dims):
        from .input_sizes import report_input_sizes

        return report_input_sizes(_expand(files), overrides, input_dims, fmt)
    if input_dims is not None:
        overrides["input"] = input_dims
    report = Report(format=fmt)
    out = sys.stdout
    limits = Limits(max_params=max_params)
    for path in _expand(files, report):
        report.files_checked += 1
        try:
            problems, lines = check_file(path, overrides, network=network, limits=limits)
        except OSError as exc:  # unreadable: reported, and the other files are still checked
            report.add_io_error(describe_os_error(exc))
            continue
        if problems:
            report.files_failed += 1
            report.add(problems)
        elif fmt == "text" and not quiet:
            for line in lines:
                out.write(line + "\n")
    report.emit(out if fmt == "json" else sys.stderr if fmt == "text" else out)
    if fmt != "json":
        click.echo(report.summary(), err=bool(report.diagnostics or report.io_errors) or fmt == "github")
    return report.exit_code


def _expand(files: tuple[Path, ...], report: Report | None = None) -> list[Path]:
    """Files and folders (searched for `*.arch`) -> the files to check, each once.

    A missing file is added to `report` (the others are still checked), or raised without one.
    """
    paths: dict[Path, Path] = {}

    def problem(message: str) -> None:
        if report is None:
            raise FileNotFoundError(message)
        report.add_io_error(message)

    for f in files:
        if f.is_dir():
            found = sorted(f.rglob("*.arch"))
            if not found:
                problem(f"no .arch files under {f}")
            for path in found:
                paths.setdefault(path.resolve(), path)
        elif not f.exists():
            problem(f"no such file: {f}")
        else:
            paths.setdefault(f.resolve(), f)
    return list(paths.values())


def check_file(path: Path, overrides: dict, network: str | None = None,
               limits: Limits = Limits()) -> tuple[list[Diagnostic], list[str]]:
    """Every problem of one file (syntax, imports, each network), and a line per network that checks out.

    Raises OSError when the file cannot be read.
    """
    try:
        scope = load_file(path)
    except ArchError as exc:
        return exc.diagnostics, []
    problems: list[Diagnostic] = []
    lines: list[str] = []
    definitions = scope.module.networks
    if network is not None:
        try:
            definitions = (choose_network(scope, network),)
        except ArchError as exc:
            return exc.diagnostics, []
    for definition in definitions:
        declared = {p.name for p in definition.params}
        params = {k: v for k, v in overrides.items() if k in declared}
        try:  # each network on its own: an error in one does not hide those in the others
            net = Elaborator(limits).network(definition, scope, params)
        except ArchError as exc:
            problems.extend(exc.diagnostics)
            continue
        lines.append(f"{display_name(path)}: {net.name} {net.input} -> {net.output}, "
                     f"{net.param_count:,} parameters, {net.macs / 1e9:.3f} GMACs")
    if not scope.module.networks:
        lines.append(f"{display_name(path)}: {len(scope.module.blocks)} blocks, no network")
    return problems, lines
