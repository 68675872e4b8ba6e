"""`archdsl export`: a spec as an ONNX file, checked against torch with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline
from ..report import EXIT_INTERNAL, EXIT_USAGE
from ..safe_io import output_target
from .app import (atomic_write, compile_spec, guarded, main, max_params_option, network_option, parse_assignments,
                  set_option)
from .dims import input_option
from .progress import status

#: the largest relative difference (over the largest output) an export may show against torch, in float32
TOLERANCE = 1e-4


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The .onnx file to write (replaced atomically: a failed export leaves it untouched).")
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Load a torchvision/timm-style state_dict file into the model first.")
@click.option("--deploy", is_flag=True, help="Export the reparameterized inference graph (BN folded, branches fused).")
@input_option
@click.option("--opset", type=click.IntRange(min=7), default=17, show_default=True, help="ONNX opset version.")
@click.option("--exporter", type=click.Choice(["auto", "dynamo", "torchscript"]), default="auto", show_default=True,
              help="torch's ONNX exporter: auto takes dynamo where onnxscript is installed, else torchscript.")
@click.option("--check/--no-check", "verify", default=True, show_default=True,
              help="Run the file with onnxruntime (when installed) and compare with torch before keeping it.")
@set_option
@network_option
@max_params_option
@guarded
def export(file: Path, output: Path, weights: Path | None, deploy: bool, input_dims, opset: int, exporter: str,
           verify: bool, assignments: tuple[str, ...], network: str | None, max_params: int) -> int:
    """Export FILE to ONNX (batch axis dynamic), in eval mode.

    The model gets fresh random weights unless --weights is given. With --check (the default, when onnxruntime
    is installed), the file is run on a random batch and compared with torch before it replaces OUTPUT.

    \b
    Examples:
      archdsl export specs/resnet18.arch -o resnet18.onnx
      archdsl export specs/mobilenet_v2.arch --weights mobilenet_v2.pth -o mobilenet_v2.onnx
      archdsl export specs/repvgg_a0.arch --deploy -o repvgg_a0.onnx
      archdsl export specs/resnet18.arch --input 3x64x64 --set classes=10 -o small.onnx
    """
    overrides = parse_assignments(assignments)
    if input_dims is not None:
        overrides["input"] = input_dims
    output_target(output)  # a FIFO, device or directory at -o is refused before any work (safe_io.py)
    net = compile_spec(file, network, overrides, max_params).network
    import importlib.util

    from ..export import ExportError, compare_with_onnxruntime

    with status(f"building {net.name}"):
        model = pipeline.lower(net)
        if weights is not None:
            from ..weights import WeightsError, load_weights

            try:
                load_weights(model, weights)
            except WeightsError as exc:
                click.echo(f"error: --weights {exc}", err=True)
                return EXIT_USAGE
        model.eval()
        if deploy:
            model = pipeline.reparameterize(model)
    verify = verify and importlib.util.find_spec("onnxruntime") is not None
    dims = net.input.dims
    outcome: dict = {}

    def write(tmp: Path) -> None:
        outcome["exporter"] = pipeline.export(model, dims, tmp, opset=opset, exporter=exporter)
        if verify:
            outcome["diff"] = compare_with_onnxruntime(model, tmp, dims)
            if outcome["diff"][1] > TOLERANCE:
                raise _Mismatch()

    try:
        with status(f"exporting {net.name} to {output}"):
            atomic_write(output, write)
    except ExportError as exc:  # one line, exit 2: an option the exporter refuses, a missing package
        click.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    except _Mismatch:
        max_abs, max_rel = outcome["diff"]
        click.echo(f"internal error: onnxruntime's output differs from torch's (max abs diff {max_abs:.3g}, "
                   f"relative {max_rel:.3g}); {output} was not written, please report this with the spec", err=True)
        return EXIT_INTERNAL
    params = sum(p.numel() for p in model.parameters())
    click.echo(f"exported {net.name}{' (deploy)' if deploy else ''}: {params:,} parameters, input "
               f"[batch, {', '.join(map(str, dims))}], opset {opset}, {outcome['exporter']} exporter -> {output}")
    if verify:
        max_abs, max_rel = outcome["diff"]
        click.echo(f"checked with onnxruntime: max abs diff {max_abs:.3g}, relative {max_rel:.3g}")
    else:
        click.echo("not checked (onnxruntime is not installed)" if importlib.util.find_spec("onnxruntime") is None
                   else "not checked (--no-check)")
    return 0


class _Mismatch(Exception):
    pass
