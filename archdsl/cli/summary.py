"""`archdsl summary`: per-layer shapes, parameters and MACs, read off the IR (torch is never imported)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import pipeline
from ..report import Report
from ..summary import Summary
from .app import (compile_spec, format_option, guarded, main, max_params_option, network_option, parse_assignments,
                  set_option)
from .dims import input_option


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@input_option
@click.option("--depth", type=click.IntRange(min=0), metavar="N",
              help="Show blocks nested deeper than N as one row with their totals (0: top-level items only).")
@click.option("--deploy", is_flag=True, help="Summarize the reparameterized inference graph (BN folded, branches fused).")
@click.option("--features", metavar="NAMES", help="Comma-separated labels, dotted paths or @tensors (layer2,layer3.1,@c5): "
              "summarize the network cut to those feature maps, with their channels and reductions.")
@format_option
@set_option
@network_option
@max_params_option
@guarded
def summary(file: Path, input_dims: tuple[int, ...] | None, depth: int | None, deploy: bool, features: str | None,
            fmt: str, assignments: tuple[str, ...], network: str | None, max_params: int) -> int:
    """Print every layer of FILE with its output shape, parameters and MACs, and the totals.

    Everything is computed statically from the spec, without torch and without a forward pass. MACs count
    convolutions and linear layers as torchvision's published GFLOPS do. Activation memory is the sum of
    every op's and merge's output for one sample, in float32 (each tensor counted once).

    \b
    Examples:
      archdsl summary specs/resnet18.arch
      archdsl summary specs/resnet18.arch --input 3x64x64 --depth 1
      archdsl summary specs/repvgg_a0.arch --deploy
      archdsl summary specs/mobilenet_v2.arch --set width=0.5 --format json
      archdsl summary specs/resnet18.arch --features layer2,layer3,layer4
    """
    overrides = parse_assignments(assignments)
    if input_dims is not None:
        overrides["input"] = input_dims
    c = compile_spec(file, network, overrides, max_params)
    net = c.network
    if features:
        net = pipeline.elaborate(c, overrides, features=[f.strip() for f in features.split(",") if f.strip()])
    if deploy:
        net = _deploy(net)
    result = pipeline.summarize(net, depth)
    report = Report(format=fmt, files_checked=1)
    if report.output_format.document:  # the summary is the document's result (JSON for tools)
        report.results = result.to_json()
    else:
        _print_table(result)
    report.print(summary_line=False)
    return report.exit_code


def _deploy(net):
    try:
        return pipeline.deploy(net)
    except ImportError:
        raise click.UsageError("--deploy needs the reparameterization pass (archdsl.reparam), which this "
                               "installation lacks") from None


def _print_table(s: Summary) -> None:
    from rich.table import Table

    console = _console()
    table = Table(title=f"{s.network}  ({s.file})", title_justify="left", header_style="bold",
                  show_edge=False, pad_edge=False, box=_box())
    table.add_column("layer", no_wrap=True)
    table.add_column("op", no_wrap=True)
    table.add_column("output", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_row("input", "", _dims(s.input), "", "", style="cyan")
    for row in s.rows:
        indent = "  " * row.depth
        if row.kind == "group":  # totals of the rows under it: parenthesized so columns still add up
            table.add_row(indent + row.name, row.label, _dims(row.output), f"({row.params:,})", f"({_macs(row.macs)})",
                          style="dim")
        elif row.kind == "merge":
            table.add_row("", indent + row.label, _dims(row.output), "", "", style="magenta")
        else:
            table.add_row(indent + row.name, row.label, _dims(row.output), f"{row.params:,}" if row.params else "",
                          _macs(row.macs) if row.macs else "")
    console.print(table)
    if s.outputs:
        _print_outputs(console, s)
    console.print()
    console.print(f"[bold]parameters[/bold]  {s.params:,}  ({_mb(s.param_bytes)} in float32)")
    console.print(f"[bold]MACs[/bold]        {s.macs:,}  ({s.macs / 1e9:.3f} G; conv and linear, as torchvision's GFLOPS)")
    console.print(f"[bold]input[/bold]       {_dims(s.input)}  ({_mb(s.input_bytes)})")
    console.print(f"[bold]activations[/bold] {s.activation_elements:,} elements  ({_mb(s.activation_bytes)}: every op "
                  f"and merge output of one sample, float32)")


def _print_outputs(console, s: Summary) -> None:
    """One row per output of a network with several: what each needs (outputs share some, so no total)."""
    from rich.table import Table

    table = Table(title=f"outputs ({s.output_kind})", title_justify="left", header_style="bold", show_edge=False,
                  pad_edge=False, box=_box())
    for column in ("output", "shape", "mode", "MACs", "activations"):
        table.add_column(column, justify="left" if column in ("output", "mode") else "right", no_wrap=True)
    reductions = {f.name: f.reduction for f in s.features}
    if reductions:
        table.add_column("reduction", justify="right", no_wrap=True)
    for row in s.outputs:
        cells = [row.name, _dims(row.output), "train only" if row.train_only else "train, eval", _macs(row.macs),
                 _mb(row.activation_elements * 4)]
        table.add_row(*cells, *([str(reductions.get(row.name) or "")] if reductions else []))
    console.print()
    console.print(table)


def _console():
    from rich.console import Console

    # colour and the terminal's width on a terminal only; piped output is plain and never wrapped
    tty = sys.stdout.isatty()
    return Console(file=sys.stdout, width=None if tty else 200, highlight=False, soft_wrap=not tty)


def _box():
    from rich import box

    return box.SIMPLE_HEAD


def _dims(dims: tuple[int, ...]) -> str:
    return "x".join(map(str, dims))


def _macs(macs: int) -> str:
    if macs >= 10**9:
        return f"{macs / 1e9:.2f} G"
    if macs >= 10**6:
        return f"{macs / 1e6:.2f} M"
    if macs >= 10**3:
        return f"{macs / 1e3:.1f} K"
    return str(macs)


def _mb(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"
