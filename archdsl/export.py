"""ONNX export of a built model, and its check against torch with onnxruntime.

torch has two ONNX exporters: the `torch.export`-based one (`dynamo=True`, torch's default since 2.9) needs
the `onnxscript` package; the TorchScript-based one needs nothing more. `exporter="auto"` takes the first
where onnxscript is installed and the second otherwise. Either way the batch axis stays dynamic.

>>> import archdsl, tempfile, pathlib
>>> model = archdsl.load("specs/resnet18.arch", classes=10).eval()
>>> path = pathlib.Path(tempfile.mkdtemp()) / "resnet18.onnx"
>>> export_onnx(model, (3, 64, 64), path)
'torchscript'
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch
from torch import nn

from .nn import network_of

DEFAULT_OPSET = 17
EXPORTERS = ("auto", "dynamo", "torchscript")


class ExportError(Exception):
    """The export cannot run here (a missing package, an unsupported option, an exporter's refusal)."""


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """What an exporter says, in one short line: torch's errors can carry kilobytes of IR."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[:limit] + "..."


def check_opset(opset: int) -> None:
    """Refuse an opset that the installed onnx does not define, before torch tries (and fails at length)."""
    try:
        import onnx.defs
    except ImportError:  # torch decides alone
        return
    newest = onnx.defs.onnx_opset_version()
    if opset > newest:
        raise ExportError(f"ONNX opset {opset} does not exist: the installed onnx defines opsets up to {newest}")


def resolve_exporter(exporter: str) -> str:
    has_onnxscript = importlib.util.find_spec("onnxscript") is not None
    if exporter == "auto":
        return "dynamo" if has_onnxscript else "torchscript"
    if exporter == "dynamo" and not has_onnxscript:
        raise ExportError("the dynamo exporter needs the `onnxscript` package (pip install onnxscript); "
                          "use --exporter torchscript")
    return exporter


def example_input(input_dims: tuple[int, ...], batch: int = 1, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, *input_dims, generator=generator)


def example_inputs(model: nn.Module, input_dims: tuple[int, ...], batch: int = 1, seed: int = 0) \
        -> tuple[torch.Tensor, ...]:
    """The main input of `input_dims`, then one for each extra input of the network the model was built from."""
    network = network_of(model)
    extra = [n.out.dims for n in network.graph.extra_inputs()] if network is not None else []
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, *dims, generator=generator) for dims in (input_dims, *extra))


def io_names(model: nn.Module) -> tuple[list[str], list[str]]:
    """ONNX input and output names: `input` and the extra inputs' tensor names; `output`, or the names of the
    network's outputs in eval mode (a tuple's fields, a dict's keys, the `features=` asked for)."""
    network = network_of(model)
    if network is None:
        return ["input"], ["output"]
    graph = network.graph
    outputs = [o.name for o in graph.outputs if not o.train_only] if graph.outputs else ["output"]
    return ["input", *(n.name for n in graph.extra_inputs())], outputs


def export_onnx(model: nn.Module, input_dims: tuple[int, ...], path: Path, opset: int = DEFAULT_OPSET,
                exporter: str = "auto") -> str:
    """Write `model` (in eval mode) to `path` as ONNX with a dynamic batch axis; returns the exporter used.

    A network with several inputs or outputs keeps them, named as in the spec (`io_names`)."""
    if model.training:
        raise ExportError("the model is in training mode; call .eval() first (BatchNorm and dropout differ)")
    kind = resolve_exporter(exporter)
    check_opset(opset)
    inputs = example_inputs(model, input_dims)
    input_names, output_names = io_names(model)
    names = dict(input_names=input_names, output_names=output_names)
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter warns that it is deprecated at every call: it is chosen knowingly here
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        try:
            if kind == "dynamo":
                batch = torch.export.Dim("batch", min=1)
                dynamic = tuple({0: batch} for _ in inputs)
                torch.onnx.export(model, inputs, str(path), dynamo=True, opset_version=opset,
                                  dynamic_shapes=dynamic, **names)
            else:
                axes = {name: {0: "batch"} for name in (*input_names, *output_names)}
                torch.onnx.export(model, inputs, str(path), dynamo=False, opset_version=opset,
                                  dynamic_axes=axes, **names)
        # an op the chosen opset lacks, an opset this exporter does not support (the TorchScript exporter stops
        # at 20): the exporter is a tool at archdsl's boundary, and its refusal is one line, exit 2 (issue 14)
        except (torch.onnx.errors.OnnxExporterError, RuntimeError, ValueError) as exc:
            raise ExportError(f"torch's {kind} exporter cannot export this model to ONNX opset {opset}: "
                              f"{_first_line(exc)}") from None
    return kind


def flat_outputs(result) -> list[torch.Tensor]:
    """A forward's result as a list of tensors, in ONNX's output order (a dict by its keys' order)."""
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, dict):
        return list(result.values())
    return list(result)


def compare_with_onnxruntime(model: nn.Module, path: Path, input_dims: tuple[int, ...], batch: int = 2) \
        -> tuple[float, float]:
    """Run the ONNX file with onnxruntime and the model with torch on one random batch.

    Returns (max absolute difference, that difference over the largest absolute torch output), over every
    output of the model.
    """
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("checking the export needs onnxruntime (pip install onnxruntime)") from None
    inputs = example_inputs(model, input_dims, batch=batch, seed=1)
    with torch.no_grad():
        expected = [t.numpy() for t in flat_outputs(model(*inputs))]
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
        actual = session.run(None, feed)
    except Exception as exc:  # onnxruntime's own errors (e.g. an op form it does not implement)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"onnxruntime cannot run the exported file: {reason} "
                          "(export with --no-check to keep it unchecked)") from None
    if len(actual) != len(expected):
        raise ExportError(f"the exported file has {len(actual)} outputs where the model returns {len(expected)}")
    diff = max(float(abs(a - e).max()) for a, e in zip(actual, expected))
    scale = max(float(abs(e).max()) for e in expected)
    return diff, diff / scale if scale > 0 else diff
