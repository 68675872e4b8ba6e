"""`archdsl build`: compile a spec into a torch module, run it once, optionally save its weights."""

from __future__ import annotations

from pathlib import Path

import click

from ..extras import import_torch
from ..report import EXIT_INTERNAL, EXIT_USAGE
from .. import pipeline
from ..safe_io import output_target
from .app import (atomic_write, compile_spec, format_option, guarded, main, max_params_option, network_option,
                  parse_assignments, set_option)
from .progress import status


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--device", default="cpu", show_default=True, metavar="DEVICE", help="cpu, cuda, cuda:1, mps ...")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the model's state_dict (torch.save) to this file.")
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Load a torchvision/timm-style state_dict file into the model.")
@click.option("--partial", is_flag=True,
              help="With --weights: load only the entries that match the model by name and shape (a 1000-class "
                   "checkpoint into a 10-class spec) and list those left at their initialization.")
@click.option("--freeze", "freeze_patterns", multiple=True, metavar="PATTERN",
              help="Stop training the parameters under these labels (`features.*`, `layer[1-3]`; repeatable) and "
                   "report how many; a pattern that matches nothing is an error. A saved state_dict (-o) does not "
                   "record it: to train with frozen layers, use archdsl.load(..., freeze=[...]).")
@click.option("--deploy", is_flag=True,
              help="Reparameterize for inference (BatchNorm folded, linear branches fused), check that it computes "
                   "the same on a random input, and save that form with -o. Without --weights, BatchNorm "
                   "statistics are randomized first so that the check means something.")
@click.option("--verbose", is_flag=True, help="With --deploy: list each change, and each pattern kept and why. "
                                              "With --partial: list every tensor loaded.")
@click.option("--emit", type=click.Choice(["model", "ir"]), default="model", show_default=True,
              help="ir: print the elaborated IR as JSON instead (torch is not imported; with --deploy, the "
                   "reparameterized IR). Its schema: `archdsl schema`.")
@set_option
@network_option
@max_params_option
@format_option
@guarded
def build(file: Path, device: str, output: Path | None, weights: Path | None, partial: bool,
          freeze_patterns: tuple[str, ...], deploy: bool, verbose: bool,
          emit: str, assignments: tuple[str, ...], network: str | None, max_params: int, fmt: str) -> int:
    """Build FILE into a torch.nn.Module and run one forward pass on DEVICE.

    Prints the parameter count and the output shape for a batch of one.

    \b
    Examples:
      archdsl build specs/resnet18.arch
      archdsl build specs/resnet18.arch --device cuda --set classes=10
      archdsl build specs/mobilenet_v2.arch --weights mobilenet_v2.pth -o model.pt
      archdsl build specs/resnet18.arch --set classes=10 --weights resnet18.pth --partial --freeze "layer*"
      archdsl build specs/repvgg_a0.arch --deploy --verbose
      archdsl build specs/resnet18.arch --emit ir > resnet18.ir.json
    """
    overrides = parse_assignments(assignments)
    if partial and weights is None:
        raise click.UsageError("--partial needs --weights FILE")
    if output is not None:  # a FIFO, device or directory at -o is refused before any work (safe_io.py)
        output_target(output)
    net = compile_spec(file, network, overrides, max_params).network
    if emit == "ir":
        from .schema import emit_ir

        return emit_ir(net, deploy)
    with status(f"building {net.name}"):  # importing torch alone takes a second or two
        torch = import_torch()  # a light install has no torch: the guard says how to install it

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise click.UsageError(f"--device {device}: no CUDA device is available to this torch "
                               f"({torch.__version__}); install a CUDA build of torch or use --device cpu")
    try:
        torch_device = torch.device(device)
    except RuntimeError as exc:
        raise click.BadParameter(str(exc), param_hint="--device") from None
    with status(f"building {net.name}"):
        model = pipeline.lower(net)
    report = None
    if weights is not None or freeze_patterns:
        from ..transfer import FreezeError, transfer
        from ..weights import WeightsError

        try:
            report = transfer(model, weights, partial=partial, freeze_patterns=freeze_patterns)
        except WeightsError as exc:  # the message already names the file and the first mismatch
            click.echo(f"error: --weights {exc}", err=True)
            if not partial:
                click.echo("hint: --partial loads only the entries that match by name and shape", err=True)
            return EXIT_USAGE
        except FreezeError as exc:
            click.echo(f"error: --freeze: {exc}", err=True)
            return EXIT_USAGE
    model = model.to(torch_device).eval()
    inputs = (net.input, *(n.out for n in net.graph.extra_inputs()))  # a graph network may take several
    x = tuple(torch.randn(1, *t.dims, device=torch_device) for t in inputs)
    # fresh BatchNorm statistics are almost the identity, so a deploy check would prove little: with --deploy
    # and no weights, the one forward pass runs with random statistics (the model keeps its own), and the
    # check compares the deploy form with it
    probe = None
    if deploy and weights is None:
        from ..reparam.verify import randomized_batchnorm_state

        probe = randomized_batchnorm_state(model)
    with torch.no_grad():
        y = model(*x) if probe is None else torch.func.functional_call(model, probe, x)
    params = sum(p.numel() for p in model.parameters())
    click.echo(f"network {net.name}: {params:,} parameters, input {tuple([1, *net.input.dims])}, "
               f"output shape {_shapes(y)}, device {torch_device}")
    if weights is not None and not partial:
        click.echo(f"loaded weights from {weights}")
    for line in report.lines(verbose) if report is not None else ():
        click.echo(line)
    if deploy:
        # checked with the probe's statistics, the deploy module gets the model's own deploy weights where it
        # is saved (nothing is lowered twice)
        check = pipeline.deploy_and_check(model, x, probe, reference=y)
        click.echo(check.summary())
        for line in check.details() if verbose else ():
            click.echo(line)
        if not check.ok:
            click.echo(f"internal error: the deploy graph differs from the training form (max rel diff "
                       f"{check.max_rel:.3g}); please report this with the spec", err=True)
            return EXIT_INTERNAL
        if probe is not None and output is not None:
            pipeline.deploy_weights(check.result.module, model)
        model = check.result.module
    if output is not None:
        atomic_write(output, lambda tmp: torch.save(model.state_dict(), tmp))
        click.echo(f"saved state_dict to {output}")
    return 0


def _shapes(y) -> str:
    """`(1, 1000)`, or each output's shape by name for a network with several (`out (1, 21, 64, 64), ...`)."""
    if isinstance(y, dict) or hasattr(y, "_fields"):
        items = y.items() if isinstance(y, dict) else zip(y._fields, y)
        return ", ".join(f"{name} {tuple(t.shape)}" for name, t in items)
    if isinstance(y, (list, tuple)):
        return ", ".join(str(tuple(t.shape)) for t in y)
    return str(tuple(y.shape))
