"""Subprocess for the `check` row: torchinfo.summary on each named reference model, as a user would run it.

    python -m bench.probe_torchinfo [--prefer auto|torchvision|handwritten] [--size 224] NAME...
"""

from __future__ import annotations

import argparse

import torch
import torchinfo

from .models import reference


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="+")
    parser.add_argument("--prefer", default="auto")
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    for name in args.names:
        model = reference(name, args.prefer).make()
        torchinfo.summary(model, input_size=(1, 3, args.size, args.size), verbose=0, device=torch.device("cpu"))


if __name__ == "__main__":
    main()
