"""`archdsl sweep`: every combination of some network parameters, evaluated statically (torch is never imported)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..report import EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE
from .app import guarded, main, max_params_option, network_option, split_assignment
from .progress import status


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--set", "assignments", multiple=True, metavar="NAME=V1,V2,...",
              help="A parameter and its values (repeatable); every combination is evaluated. Each value is an "
                   "expression of the language: --set width=0.5,1.0 --set input=[3,192,192],[3,224,224].")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE.csv|FILE.json",
              help="Also write the rows as CSV or JSON (chosen by the suffix).")
@click.option("--plot", type=click.Path(path_type=Path), metavar="FILE.png",
              help="Draw MACs against parameters, one labelled point per valid row (needs archdsl[plot]).")
@click.option("--min-input/--no-min-input", default=True, show_default=True,
              help="Search the smallest input size each variant accepts (a few more elaborations per variant).")
@network_option
@max_params_option
@guarded
def sweep(file: Path, assignments: tuple[str, ...], output: Path | None, plot: Path | None, min_input: bool,
          network: str | None, max_params: int) -> int:
    """Evaluate every combination of the --set values of FILE statically: parameters, MACs, activation memory,
    output shape and the smallest input, from one parse.

    A combination that is not a valid network is a row with its error, not the end of the sweep. Exit status:
    0 every combination is valid, 1 some are not (or FILE itself is wrong), 2 usage or I/O errors (a parameter
    the network does not have, a malformed value, an unknown output suffix, --plot without matplotlib).

    \b
    Examples:
      archdsl sweep specs/efficientnet_b0.arch --set width=0.5,0.75,1.0 --set depth=1.0,1.2
      archdsl sweep specs/mobilenet_v2.arch --set width=0.35,0.5,0.75,1.0 --set input=[3,160,160],[3,224,224]
      archdsl sweep specs/efficientnet_b0.arch --set width=0.5,1.0 -o sweep.csv --plot sweep.png
    """
    from ..passes.elaborate import Limits
    from ..sweep import MissingPlotting, output_format, parse_values, sweep as run_sweep

    axes: dict[str, tuple] = {}
    for item in assignments:
        name, text = split_assignment(item, "NAME=V1,V2,...")
        if name in axes:
            raise click.BadParameter(f"`{name}` is given twice; list all its values in one --set", param_hint="--set")
        try:
            axes[name] = parse_values(text, f"--set {name}")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
    if output is not None:
        try:
            output_format(output)  # before the sweep runs, not after
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="-o") from None
    try:
        with status(f"sweeping {file}"):
            result = run_sweep(file, axes, network, min_input=min_input, limits=Limits(max_params=max_params))
    except ValueError as exc:  # a parameter the network does not declare: the command line is wrong
        raise click.BadParameter(str(exc), param_hint="--set") from None
    _print_table(result)
    if output is not None:
        result.write(output)
    if plot is not None:
        try:
            result.plot(plot)
        except MissingPlotting as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_USAGE
    bad = len(result.invalid)
    if bad:
        click.echo(f"{bad} of {len(result.rows)} combinations are not valid networks", err=True)
    return EXIT_SPEC_ERRORS if bad else EXIT_OK


def _print_table(result) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..sweep import short_value

    swept = [k for k, vs in result.axes.items() if len(vs) > 1]
    fixed = ", ".join(f"{k}={short_value(vs[0])}" for k, vs in result.axes.items() if len(vs) == 1)
    tty = sys.stdout.isatty()
    console = Console(file=sys.stdout, width=None if tty else 200, highlight=False, soft_wrap=not tty)
    title = f"{result.network}  ({result.file})" + (f"  {fixed}" if fixed else "")
    table = Table(title=escape(title), title_justify="left", header_style="bold", show_edge=False, pad_edge=False,
                  box=box.SIMPLE_HEAD)
    for name in swept:
        table.add_column(name, no_wrap=True)
    for name in ("params", "MACs", "activations", "output", "min input"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("status")
    for r in result.rows:
        values = [escape(short_value(r.values[k])) for k in swept]
        if r.valid:
            minimum = "x".join(map(str, r.min_input)) if r.min_input else "-"
            table.add_row(*values, f"{r.params / 1e6:.3f} M", f"{r.macs / 1e9:.3f} G",
                          f"{r.activation_bytes / 2**20:.1f} MiB", "x".join(map(str, r.output)), minimum, "ok")
        else:
            table.add_row(*values, "", "", "", "", "", f"[red]error[{r.error.code}][/red]: {escape(r.error.message)}")
    console.print(table)
    console.print(f"{len(result.rows)} combinations in {result.seconds:.2f} s (parsed once); MACs: conv and linear "
                  f"per sample; activations: every op and merge output of one sample, float32")
