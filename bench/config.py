"""Benchmark settings: the full run, and the `--quick` run for CI (small models, batch 1, small inputs)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .models import MODELS

GROUPS = ["eager", "deploy", "reparam", "check", "sweep", "build", "scaling", "memory", "graphs", "cuda"]


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    threads: int = 1
    device: str = "cpu"
    prefer: str = "auto"  # reference: auto (torchvision/timm, else hand-written), torchvision, handwritten
    models: tuple[str, ...] = tuple(MODELS)
    rounds: int = 7
    warmup: int = 2
    size: int = 224
    batches: tuple[int, ...] = (1, 8)
    small_size: int = 32  # the per-call overhead rows: eval, batch 1, this input size
    train_batch: int = 8
    process_rounds: int = 3  # rounds of whole-process timings (check vs torchinfo)
    build_rounds: int = 5
    build_every_spec: bool = True  # build rows for every spec with a reference, not only `models`
    # the sweep row: EfficientNet-B0's compound-scaling grid, archdsl.sweep against torchinfo per variant
    sweep_widths: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25)
    sweep_depths: tuple[float, ...] = (1.0, 1.2, 1.4)
    sweep_sizes: tuple[int, ...] = (192, 224, 256)
    repvgg: tuple[str, ...] = ("repvgg_a0", "repvgg_b1g4")  # the reparameterization rows
    scaling_lines: tuple[int, ...] = (1_000, 10_000, 100_000)
    scaling_rounds: int = 3
    memory_batch: int = 32
    memory_size: int = 224
    cuda_batches: tuple[int, ...] = (64, 256)


QUICK = dict(quick=True, models=("resnet18", "mobilenet_v2"), rounds=3, warmup=1, size=64, batches=(1,),
             train_batch=2, process_rounds=1, build_rounds=3,
             build_every_spec=False, sweep_widths=(0.5, 1.0), sweep_depths=(1.0,), sweep_sizes=(64, 96),
             repvgg=("repvgg_a0",), scaling_lines=(500, 2_000), scaling_rounds=3,
             memory_batch=2, memory_size=64, cuda_batches=(8,))


def settings(quick: bool, **overrides) -> Settings:
    base = replace(Settings(), **QUICK) if quick else Settings()
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
