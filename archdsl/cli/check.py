"""`archdsl check`: static shape checking of specs, without torch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import pipeline
from ..diagnostics import ArchError, Diagnostics
from ..passes.elaborate import Limits
from ..passes.resolve import suggest
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
    lines_wanted = not (quiet or report.output_format.for_tools)  # standard output belongs to the tool then
    limits = Limits(max_params=max_params)
    paths = _expand(files, report)
    declared: set[str] = set()  # the parameters of the networks checked: --set names no other is a typo
    for path in paths:
        report.files_checked += 1
        try:
            problems, lines = check_file(path, overrides, network=network, limits=limits, declared=declared,
                                         strict=len(paths) == 1)
        except OSError as exc:  # unreadable: reported, and the other files are still checked
            report.add_io_error(describe_os_error(exc))
            continue
        if problems:
            report.files_failed += 1
            report.add(problems)
        elif lines_wanted:
            for line in lines:
                sys.stdout.write(line + "\n")
    unknown = [name for name in overrides if name not in declared]
    if unknown and declared and len(paths) > 1:  # one file: reported as build reports it, with its source line
        hint = suggest(unknown[0], sorted(declared))
        click.echo(f"error: --set {unknown[0]}: no network of the files checked has this parameter"
                   + (f"; {hint}" if hint else ""), err=True)
        report.usage_error = True
    report.print()
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


def check_file(path: Path, overrides: dict, network: str | None = None, limits: Limits = Limits(), *,
               declared: set[str] | None = None, strict: bool = False) -> tuple[Diagnostics, list[str]]:
    """Every problem of one file (syntax, imports, each network), and a line per network that checks out.

    `declared` gathers the parameter names of the networks checked. `strict`: an override that no network of the
    file declares is an error, as `build` reports it (a file checked alone); otherwise each network takes the
    overrides it declares. The problems carry the file's sources (`Diagnostics.sources`). Raises OSError when
    the file cannot be read.
    """
    c = pipeline.Compilation(path, limits)
    try:
        pipeline.resolve(c)
        definitions = pipeline.networks(c, network)
        names = {p.name for d in definitions for p in d.params}
        if declared is not None:
            declared.update(names)
        if strict and definitions and not set(overrides) <= names:
            pipeline.elaborate(c, overrides, definitions[0])  # raises E0104 naming the parameter, as build does
        checked = pipeline.elaborate_each(c, overrides, network)
    except ArchError as exc:
        return exc.diagnostics, []
    lines = [f"{c.name}: {net.name} {_inputs(net)} -> {_outputs(net)}, {net.param_count:,} parameters, "
             f"{net.macs / 1e9:.3f} GMACs" for net in checked]
    if not c.scope.module.networks:
        count = len(c.scope.module.blocks)
        lines.append(f"{c.name}: {count} block{'' if count == 1 else 's'}, no network")
    return c.diagnostics, lines


def _inputs(net) -> str:
    """`3x224x224`, or with a network's extra inputs `(3x64x64, depth 1x64x64)`."""
    extra = net.graph.extra_inputs()
    return f"({net.input}, " + ", ".join(f"{n.name} {n.out}" for n in extra) + ")" if extra else str(net.input)


def _outputs(net) -> str:
    """`1000`, or a network's several outputs: `(logits 1000, aux2 1000 train)`, `{out: 21x520x520, ...}`."""
    graph = net.graph
    if not graph.outputs:
        return str(net.output)
    items = [f"{o.name}{':' if graph.output_kind == 'dict' else ''} {graph.type_of(o.node)}"
             f"{' train' if o.train_only else ''}" for o in graph.outputs]
    brackets = {"dict": "{}", "list": "[]"}.get(graph.output_kind, "()")
    return brackets[0] + ", ".join(items) + brackets[1]
