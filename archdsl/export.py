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

DEFAULT_OPSET = 17
EXPORTERS = ("auto", "dynamo", "torchscript")


class ExportError(Exception):
    """The export cannot run here (a missing package, an unsupported option)."""


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


def export_onnx(model: nn.Module, input_dims: tuple[int, ...], path: Path, opset: int = DEFAULT_OPSET,
                exporter: str = "auto") -> str:
    """Write `model` (in eval mode) to `path` as ONNX with a dynamic batch axis; returns the exporter used."""
    if model.training:
        raise ExportError("the model is in training mode; call .eval() first (BatchNorm and dropout differ)")
    kind = resolve_exporter(exporter)
    x = example_input(input_dims)
    names = dict(input_names=["input"], output_names=["output"])
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter warns that it is deprecated at every call: it is chosen knowingly here
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        try:
            if kind == "dynamo":
                batch = torch.export.Dim("batch", min=1)
                torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=opset,
                                  dynamic_shapes={"x": {0: batch}}, **names)
            else:
                torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=opset,
                                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **names)
        except torch.onnx.errors.OnnxExporterError as exc:  # e.g. an op the chosen opset lacks
            raise ExportError(f"torch cannot export this model to ONNX opset {opset}: {exc}") from None
    return kind


def compare_with_onnxruntime(model: nn.Module, path: Path, input_dims: tuple[int, ...], batch: int = 2) \
        -> tuple[float, float]:
    """Run the ONNX file with onnxruntime and the model with torch on one random batch.

    Returns (max absolute difference, that difference over the largest absolute torch output).
    """
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("checking the export needs onnxruntime (pip install onnxruntime)") from None
    x = example_input(input_dims, batch=batch, seed=1)
    with torch.no_grad():
        expected = model(x).numpy()
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (actual,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    except Exception as exc:  # onnxruntime's own errors (e.g. an op form it does not implement)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"onnxruntime cannot run the exported file: {reason} "
                          "(export with --no-check to keep it unchecked)") from None
    diff = float(abs(actual - expected).max())
    scale = float(abs(expected).max())
    return diff, diff / scale if scale > 0 else diff
