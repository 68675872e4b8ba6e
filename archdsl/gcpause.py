"""Pausing Python's cyclic garbage collector while a spec is parsed and elaborated.

Parsing and elaboration allocate hundreds of thousands of small objects (tokens, parse-tree nodes, AST and IR
nodes) that all stay alive until the pass ends, and make no reference cycles worth collecting. The collector
still traverses them again and again as they accumulate, which made checking a 100k-line spec several times
slower and its time grow faster than linearly (bench/: "parse+check" rows). Reference counting frees everything
as usual while the collector is paused; it resumes, in its previous state, as soon as the pass ends.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
