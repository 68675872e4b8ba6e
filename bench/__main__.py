"""`python -m bench`: run the groups of rows, print the table, write the JSON."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from . import ROOT
from .config import GROUPS, settings as make_settings
from .models import MODELS
from .report import machine, table, write_json
from .rows import Row
from .suites.common import failed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="CI mode: few rounds, resnet18 and mobilenet_v2, batch 1, 64x64 inputs")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda adds the GPU throughput rows (they say 'no CUDA' where there is none)")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/latest.json, "
                                                  "latest-quick.json with --quick)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, metavar="GROUP",
                        help=f"run only these groups: {', '.join(GROUPS)}")
    parser.add_argument("--models", nargs="+", metavar="NAME", help=f"models of the per-model rows ({', '.join(MODELS)})")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for every measurement")
    parser.add_argument("--rounds", type=int, help="timed rounds per row (median reported)")
    parser.add_argument("--reference", choices=["auto", "torchvision", "handwritten"], default="auto",
                        help="auto: torchvision/timm when installed, else bench/reference_models.py")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    settings = make_settings(args.quick, threads=args.threads, device=args.device, prefer=args.reference,
                             rounds=args.rounds, models=tuple(args.models) if args.models else None,
                             build_every_spec=False if args.models else None)
    groups = [g for g in GROUPS if (args.only is None or g in args.only) and (g != "cuda" or args.device == "cuda")]
    info = machine(settings)
    print(f"archdsl benchmark ({'quick' if settings.quick else 'full'}): {info['cpu']}, {info['cores']} cores, "
          f"torch {info['torch']} with {settings.threads} thread(s), torchvision {info['torchvision'] or '-'}, "
          f"timm {info['timm'] or '-'}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    for group in groups:
        group_start = time.perf_counter()
        module = importlib.import_module(f".suites.{group}", __package__)
        try:
            new = module.run(settings)
        except Exception as exc:  # report the broken group and go on with the others
            new = [failed(group, f"{group} (whole group)", exc)]
        rows.extend(new)
        print(f"[{group}: {len(new)} rows, {time.perf_counter() - group_start:.1f} s]", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(table(rows))
    out = args.json or ROOT / "bench" / "results" / ("latest-quick.json" if settings.quick else "latest.json")
    write_json(out, rows, settings, seconds)
    print(f"\n{len(rows)} rows in {seconds:.0f} s; ratios are ours / reference (lower is better) unless labelled; "
          f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
