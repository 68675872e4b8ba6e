"""IR -> torch: ordinary `nn.Module`s with generated forward code (see build.py)."""

from .build import lower

__all__ = ["lower"]
