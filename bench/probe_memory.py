"""Subprocess for the memory row: peak resident memory of one DenseNet-121 training step.

    python -m bench.probe_memory ours|reference|reference-efficient [--batch 32] [--size 224] [--prefer auto]

Prints one JSON line: `peak_mib` is how far the resident set size rises above its level once the model and the
batch exist, at its highest during one forward+backward step: activations, gradients and temporaries. On Linux the
kernel's high-water mark is reset first (`5` into /proc/self/clear_refs) and read back as VmHWM, so no earlier peak
(imports, model construction) hides this one; elsewhere the rise of getrusage's ru_maxrss is used (it can read low
when an earlier peak was higher). Large tensors are mmap'ed by glibc and unmapped when freed, so the resident set
follows live tensors closely. A fresh process per measurement.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import sys
from pathlib import Path

import torch

from .models import load_ours, reference
from .suites.common import train_step

NAME = "densenet121"


STATUS = Path("/proc/self/status")


def _status_mib(field: str) -> float:
    match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024


def reset_peak() -> str:
    """Start a fresh high-water mark; returns the method the peak is measured with."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "VmHWM after resetting it (clear_refs)"
    except OSError:
        return "ru_maxrss rise"


def current_mib(method: str) -> float:
    return _status_mib("VmRSS") if method.startswith("VmHWM") else _maxrss_mib()


def peak_mib(method: str) -> float:
    return _status_mib("VmHWM") if method.startswith("VmHWM") else _maxrss_mib()


def _maxrss_mib() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["ours", "ours-efficient", "reference", "reference-efficient"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--prefer", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ref = reference(NAME, args.prefer)
    if args.which in ("ours", "ours-efficient"):
        efficient = args.which == "ours-efficient"
        model = load_ours(NAME, input=(3, args.size, args.size), memory_efficient=efficient)
        label = "ours" + (" memory_efficient=true" if efficient else "")
    else:
        model = ref.make(memory_efficient=args.which == "reference-efficient")
        label = ref.label + (" memory_efficient=True" if args.which == "reference-efficient" else "")
    model.train()
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 1000, (args.batch,))
    gc.collect()
    method = reset_peak()
    baseline = current_mib(method)
    train_step(model, x, y)
    peak = peak_mib(method)
    print(json.dumps({"which": args.which, "label": label, "method": method, "baseline_mib": baseline,
                      "peak_mib": peak - baseline}))


if __name__ == "__main__":
    main()
