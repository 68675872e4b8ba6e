"""Running archdsl on hostile input without endangering the machine: every run is a subprocess under a hard
cap on address space and CPU time and a wall-clock kill, and reports the peak memory it reached.

Used by tests/test_hostile_*.py (issue 14). The acceptance of each case: exit 1 or 2, no traceback, bounded
stderr, under `SECONDS` seconds of CPU time and `MEMORY` bytes of resident memory, and not killed at the
wall-clock limit.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SECONDS = 5.0  # what a hostile case may take, torch import included
MEMORY = 1 << 30  # peak resident memory a hostile case may reach
#: hard caps: a runaway case is stopped here instead of taking the machine down. Address space is set
#: above MEMORY because importing torch maps more than it touches.
ADDRESS_SPACE = 2_000_000_000
CPU_SECONDS = 20
WALL_SECONDS = 8.0
MAX_STDERR = 20_000  # bytes; every message is short, however large the input
#: commands that import torch: their time budget is SECONDS on top of what importing torch takes on this
#: machine right now (seconds on a shared 2-core machine under load)
TORCH_COMMANDS = frozenset({"build", "export"})


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float  # wall clock
    peak_rss: int  # bytes
    killed: bool  # stopped by the wall-clock limit
    args: tuple[str, ...] = ()
    cpu_seconds: float = 0.0  # user + system time of the child: what the case cost, however busy the machine

    @property
    def out(self) -> str:
        return self.stdout.decode(errors="replace") + self.stderr.decode(errors="replace")

    def describe(self) -> str:
        return (f"exit {self.returncode}{' (killed at the wall-clock limit)' if self.killed else ''}, "
                f"{self.seconds:.1f} s ({self.cpu_seconds:.1f} s CPU), {self.peak_rss / 2**20:.0f} MiB, stderr {len(self.stderr):,} bytes:\n"
                f"{self.out[:3000]}")


#: `python -m archdsl`, reporting its peak resident memory (VmHWM) at exit. The kernel's ru_maxrss of a child
#: includes the memory of the fork before it ran the program, which is this test process's size: after
#: thousands of tests it was over the cap by itself, whatever the case cost
_PEAK_REPORTING_MAIN = """
import atexit, os, resource, runpy

def report_peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # dot, which it waited for
        with open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
            out.write(str(max(kib, children) * 1024))
    except (OSError, StopIteration, KeyError):
        pass

atexit.register(report_peak)
runpy.run_module("archdsl", run_name="__main__", alter_sys=True)  # as `python -m archdsl`: argv, exit codes
"""


def _limits(address_space: int, cpu: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()  # its own process group, so the kill reaches any child (dot, ...)

    return apply


def run_capped(args: list[str], *, cwd: Path = ROOT, env: dict | None = None, input: bytes | None = None,
               wall: float | None = None, address_space: int = ADDRESS_SPACE, cpu: int = CPU_SECONDS,
               python: bool = True, clean_env: bool = False) -> Run:
    """Run `python -m archdsl ARGS` (or ARGS itself with `python=False`) under hard limits.

    The environment is this process's plus `env`; with `clean_env`, `env` alone, in its order.
    """
    peak_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"hostile-{os.getpid()}-peak"
    peak_file.unlink(missing_ok=True)
    command = [sys.executable, "-c", _PEAK_REPORTING_MAIN, *args] if python else list(args)
    if wall is None:
        wall = WALL_SECONDS + (2 * torch_startup() if python and args[:1] and args[0] in TORCH_COMMANDS else 0)
    environment = {**({} if clean_env else os.environ), **(env or {}), "PYTHONUNBUFFERED": "1"}
    environment = {k: v for k, v in environment.items() if v is not None}
    environment["HOSTILE_PEAK_FILE"] = str(peak_file)
    out_path, err_path = (Path(os.environ.get("TMPDIR", "/tmp")) / f"hostile-{os.getpid()}-{n}" for n in ("o", "e"))
    started = time.monotonic()
    with open(out_path, "w+b") as out, open(err_path, "w+b") as err:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdin=subprocess.PIPE if input else
                                   subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=_limits(address_space, cpu))
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(wall, kill)
        timer.start()
        try:
            if input:
                try:
                    process.stdin.write(input)
                    process.stdin.close()
                except BrokenPipeError:
                    pass
            # wait4 gives the peak memory of this child alone
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    try:  # the peak of the program itself; else the kernel's, which also counts the fork of this process
        peak = int(peak_file.read_text())
    except (OSError, ValueError):
        peak = usage.ru_maxrss * 1024
    peak_file.unlink(missing_ok=True)
    return Run(process.returncode, stdout, stderr, seconds, peak, killed.is_set(), tuple(args),
               usage.ru_utime + usage.ru_stime)


@lru_cache(maxsize=1)
def torch_startup() -> float:
    """CPU seconds that starting Python and importing torch take here (measured once per test session)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", "import torch, torch.nn"], capture_output=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def assert_clean(run: Run, codes: tuple[int, ...] = (1, 2), *, seconds: float | None = None,
                 memory: int = MEMORY, max_stderr: int = MAX_STDERR) -> str:
    """Exit in `codes`, no traceback, no internal error, bounded output, time and memory. Returns the output."""
    if seconds is None:
        seconds = SECONDS + (torch_startup() if run.args[:1] and run.args[0] in TORCH_COMMANDS else 0)
    text = run.out
    assert run.returncode in codes, run.describe()
    assert "Traceback" not in text and "internal error" not in text, run.describe()
    assert len(run.stderr) <= max_stderr and len(run.stdout) <= max_stderr, run.describe()
    # CPU time, not wall time: a busy machine slows the clock, not the work (a hang is the wall-clock kill's)
    assert not run.killed and run.cpu_seconds < seconds, run.describe()
    assert run.peak_rss < memory, run.describe()
    return text


def write_spec(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path
