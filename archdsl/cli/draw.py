"""`archdsl draw`: a diagram of a spec, rendered by graphviz (or its DOT source, which needs no graphviz)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline
from ..report import EXIT_USAGE
from ..safe_io import output_target
from .app import (atomic_write, compile_spec, format_option, guarded, main, max_params_option, network_option,
                  parse_assignments, set_option)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The diagram file; its extension picks the format: .svg, .png, .pdf, or .dot (DOT source).")
@click.option("--depth", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="How many levels of block calls to open into clusters (0: one node per block call).")
@click.option("--expand-repeats", is_flag=True,
              help="Draw every copy of a repeated unit instead of one copy marked xN.")
@click.option("--deploy", is_flag=True,
              help="Draw the inference form: BatchNorms folded, parallel linear branches fused (RepVGG).")
@set_option
@network_option
@max_params_option
@format_option
@guarded
def draw(file: Path, output: Path, depth: int, expand_repeats: bool, deploy: bool, assignments: tuple[str, ...],
         network: str | None, max_params: int, fmt: str) -> int:
    """Draw FILE top to bottom: ops with their key parameters, blocks with their parameter counts, tensor
    shapes on the edges. Repeated blocks are folded into one node marked xN.

    .svg, .png and .pdf need graphviz's `dot` program; .dot writes the DOT source without it.

    \b
    Examples:
      archdsl draw specs/resnet18.arch -o resnet18.svg
      archdsl draw specs/densenet121.arch -o densenet121.png --depth 1
      archdsl draw specs/mobilenet_v2.arch -o mobilenet_v2.dot --set width=0.5
      archdsl draw specs/repvgg_a0.arch -o repvgg_a0.svg --depth 2 --deploy
    """
    from ..viz import GraphvizMissing, output_format

    try:
        graphviz_format = output_format(output)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="-o/--output") from None
    overrides = parse_assignments(assignments)
    output_target(output)  # a FIFO, device or directory at -o is refused before any work (safe_io.py)
    net = compile_spec(file, network, overrides, max_params).network
    if deploy:
        net = pipeline.deploy(net)
    try:
        data = pipeline.draw(net, graphviz_format, depth=depth, expand_repeats=expand_repeats,
                             variant="deploy" if deploy else "")
    except GraphvizMissing as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    atomic_write(output, lambda tmp: tmp.write_bytes(data))
    click.echo(f"wrote {output}")
    return 0
