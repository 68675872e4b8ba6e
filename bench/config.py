"""Benchmark settings: the full run, and the `--quick` run for CI (small models, batch 1, small inputs)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .models import MODELS

GROUPS = ["eager", "deploy", "check", "build", "scaling", "memory", "cuda"]


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
    train_batch: int = 8
    process_rounds: int = 3  # rounds of whole-process timings (check vs torchinfo)
    build_rounds: int = 5
    scaling_lines: tuple[int, ...] = (1_000, 10_000, 100_000)
    scaling_rounds: int = 3
    memory_batch: int = 32
    memory_size: int = 224
    cuda_batches: tuple[int, ...] = (64, 256)


QUICK = dict(quick=True, models=("resnet18", "mobilenet_v2"), rounds=3, warmup=1, size=64, batches=(1,),
             train_batch=2, process_rounds=1, build_rounds=3, scaling_lines=(500, 2_000), scaling_rounds=3,
             memory_batch=2, memory_size=64, cuda_batches=(8,))


def settings(quick: bool, **overrides) -> Settings:
    base = replace(Settings(), **QUICK) if quick else Settings()
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
