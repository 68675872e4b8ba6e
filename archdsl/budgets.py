"""Budgets: how much work and memory archdsl lets one input cost, so that a hostile or mistaken input fails in
seconds with a clear error instead of exhausting the machine.

Defaults are sized to the machine archdsl runs on (its memory, as the cgroup or the kernel reports it) and can
be raised per run: with the command's options where there is one, else with the environment variables named
below (`ARCHDSL_DOT_TIMEOUT=120 archdsl draw ...`). README, "Limits and import policy", lists them all.

Three kinds:

- **values** (`ValueBudget`): what the expressions of one spec may build. A list or tuple holds at most
  `max_elements` elements, nested ones counted in full (a list of a shared list counts every copy: printing or
  dumping it would), nests at most `max_depth` deep, and all expressions of one elaboration create at most
  `max_work` elements. Checked as each value is made, before anything larger is.
- **tensors** (`default_max_params`, `default_max_activation`, `default_max_activations`): what a network may
  need at run time, from its static shapes at batch 1, checked by elaboration so that `check` refuses what
  `build` could not allocate: parameters (float32 weights, gradients and two Adam moments fit in the machine's
  memory), the elements of one activation, and of all activations together (what training keeps).
- **tools and files** (`Budgets`): graphviz's time and memory, how much a weights file may inflate to.

This module raises `BudgetExceeded`; the stages turn it into a diagnostic at the place it happened.

>>> budgets = Budgets()
>>> budgets.dot_seconds > 0 and budgets.dot_memory > 0
True
>>> ValueBudget(ValueLimits(max_elements=10)).admit(tuple(range(20)))
Traceback (most recent call last):
...
archdsl.budgets.BudgetExceeded: this value would hold 20 elements (nested lists counted in full); a value may hold at most 10
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

#: where the memory of a machine is unknown (no sysconf, no cgroup): a small laptop's
FALLBACK_MEMORY = 8 * 2**30


def machine_memory() -> int:
    """Bytes of memory this process may use: physical memory, or the container's (cgroup) limit if lower."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 2**60:  # "max" or a huge number: no limit
            sizes.append(int(text))
    sizes = [s for s in sizes if s > 0]
    return min(sizes) if sizes else FALLBACK_MEMORY


def env_number(name: str, default: float) -> float:
    """A positive number from the environment, or `default` when unset or not a positive number."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Budgets:
    """Limits for the external tools and files archdsl handles; each field says what it bounds."""

    #: seconds graphviz's `dot` may run before the diagram fails (ARCHDSL_DOT_TIMEOUT)
    dot_seconds: float = field(default_factory=lambda: env_number("ARCHDSL_DOT_TIMEOUT", 30.0))
    #: bytes of address space `dot` may map: half the machine (ARCHDSL_DOT_MEMORY)
    dot_memory: int = field(default_factory=lambda: int(env_number("ARCHDSL_DOT_MEMORY", machine_memory() // 2)))
    #: a weights file may hold at most this many times the bytes of the model's own state_dict, plus
    #: `weights_extra_bytes` (float64 copies, optimizer state, metadata); anything larger cannot be the model's
    #: and is refused before torch inflates it (ARCHDSL_WEIGHTS_RATIO)
    weights_ratio: float = field(default_factory=lambda: env_number("ARCHDSL_WEIGHTS_RATIO", 8.0))
    weights_extra_bytes: int = 64 * 2**20


class BudgetExceeded(Exception):
    """A budget was exceeded; `help` says how to raise it."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message = message
        self.help = help


# --- tensors: what a network may need at run time (elaboration checks them)

#: bytes a parameter needs to train: float32 weight, gradient and Adam's two moments
BYTES_PER_PARAMETER = 16
#: float32 activations: one may take an eighth of the memory, all together (what training keeps) half
BYTES_PER_ELEMENT = 4


def default_max_ops() -> int:
    """Ops after unrolling (ARCHDSL_MAX_OPS): ten times the largest bundled network (efficientnet_v2_s, ~800),
    so that check, build and draw of any accepted network take seconds, not minutes."""
    return int(env_number("ARCHDSL_MAX_OPS", 10_000))


def default_max_params() -> int:
    """Parameters whose training state (16 bytes each) fits in this machine's memory (ARCHDSL_MAX_PARAMS)."""
    return int(env_number("ARCHDSL_MAX_PARAMS", machine_memory() // BYTES_PER_PARAMETER))


def default_max_activation() -> int:
    """Elements of one activation at batch 1: an eighth of the memory in float32 (ARCHDSL_MAX_ACTIVATION)."""
    return int(env_number("ARCHDSL_MAX_ACTIVATION", machine_memory() // 8 // BYTES_PER_ELEMENT))


def default_max_activations() -> int:
    """Elements of all activations at batch 1 together: half the memory (ARCHDSL_MAX_ACTIVATIONS)."""
    return int(env_number("ARCHDSL_MAX_ACTIVATIONS", machine_memory() // 2 // BYTES_PER_ELEMENT))


# --- values: what the expressions of one spec may build

@dataclass(frozen=True)
class ValueLimits:
    #: elements of one list or tuple, nested ones counted in full (ARCHDSL_MAX_VALUE_ELEMENTS)
    max_elements: int = field(default_factory=lambda: int(env_number("ARCHDSL_MAX_VALUE_ELEMENTS", 100_000)))
    #: levels of lists within lists
    max_depth: int = 32
    #: elements created by all the expressions of one elaboration (ARCHDSL_MAX_EXPRESSION_WORK)
    max_work: int = field(default_factory=lambda: int(env_number("ARCHDSL_MAX_EXPRESSION_WORK", 2_000_000)))


class ValueBudget:
    """Measures each list/tuple value once (nested ones shared by identity are measured once too) and refuses
    one that is too large or too deep, and the elaboration that creates too many elements in all."""

    def __init__(self, limits: ValueLimits | None = None):
        self.limits = limits or ValueLimits()
        self.work = 0
        # id -> (the value, kept alive so that its id stays its own; elements; depth)
        self._known: dict[int, tuple[tuple, int, int]] = {}

    def admit(self, value: Any) -> None:
        """Raise BudgetExceeded if `value` (a tuple) is over a limit; other values pass."""
        if isinstance(value, tuple):
            self._measure(value)

    def _measure(self, value: tuple) -> tuple[int, int]:
        known = self._known.get(id(value))
        if known is not None and known[0] is value:
            return known[1], known[2]
        limits = self.limits
        # iterative post-order over the tuples not measured yet: [tuple, next child index, elements, depth]
        stack: list[list] = [[value, 0, len(value), 1]]
        while stack:
            frame = stack[-1]
            t, index = frame[0], frame[1]
            if index < len(t):
                frame[1] += 1
                child = t[index]
                if not isinstance(child, tuple):
                    continue
                known = self._known.get(id(child))
                if known is None or known[0] is not child:
                    if len(stack) >= limits.max_depth:
                        raise BudgetExceeded(f"lists nest more than {limits.max_depth} levels deep here",
                                             help="no network needs lists this deep")
                    stack.append([child, 0, len(child), 1])
                    continue
                elements, depth = known[1], known[2]
            else:
                stack.pop()
                elements, depth = frame[2], frame[3]
                self.work += len(t)
                if self.work > limits.max_work:
                    raise BudgetExceeded(f"the expressions of this spec create more than {limits.max_work:,} list "
                                         f"elements in all", help="set ARCHDSL_MAX_EXPRESSION_WORK to raise the limit")
                if depth > limits.max_depth:
                    raise BudgetExceeded(f"lists nest more than {limits.max_depth} levels deep here",
                                         help="no network needs lists this deep")
                if elements > limits.max_elements:
                    raise BudgetExceeded(f"this value would hold {elements:,} elements (nested lists counted in "
                                         f"full); a value may hold at most {limits.max_elements:,}",
                                         help="set ARCHDSL_MAX_VALUE_ELEMENTS to raise the limit")
                self._known[id(t)] = (t, elements, depth)
                if not stack:
                    return elements, depth
            parent = stack[-1]
            parent[2] += elements
            parent[3] = max(parent[3], depth + 1)
            if parent[2] > limits.max_elements:  # stop early: the rest cannot bring it back under
                raise BudgetExceeded(f"this value would hold more than {limits.max_elements:,} elements (nested "
                                     f"lists counted in full)", help="set ARCHDSL_MAX_VALUE_ELEMENTS to raise the limit")
        raise AssertionError("unreachable")


_CURRENT: ContextVar[ValueBudget | None] = ContextVar("archdsl_value_budget", default=None)


@contextmanager
def value_budget(limits: ValueLimits | None = None) -> Iterator[ValueBudget]:
    """One budget for every expression evaluated inside the block (one elaboration)."""
    budget = ValueBudget(limits)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def current_value_budget() -> ValueBudget:
    """The budget of the elaboration running now, or a fresh one (a value evaluated on its own, `--set`)."""
    budget = _CURRENT.get()
    return budget if budget is not None else ValueBudget()


__all__ = ["BudgetExceeded", "Budgets", "FALLBACK_MEMORY", "ValueBudget", "ValueLimits", "current_value_budget",
           "default_max_activation", "default_max_activations", "default_max_ops", "default_max_params", "env_number",
           "machine_memory", "value_budget"]
