"""The click group, shared options, and the guard that turns any failure into a clean exit code."""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import click

from .. import __version__
from ..diagnostics import ArchError
from ..report import EXIT_INTERNAL, EXIT_USAGE, Report


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="archdsl")
def main() -> None:
    """archdsl: describe a CNN in a short .arch file; check its shapes, build it for torch, draw it.

    \b
    Examples:
      archdsl check specs/*.arch
      archdsl build specs/resnet18.arch --device cuda
      archdsl build specs/resnet18.arch --set classes=10 -o resnet18.pt
    """


def parse_assignments(assignments: tuple[str, ...]) -> dict[str, Any]:
    """`--set name=value` values are expressions of the language: `classes=10`, `input=[1,28,28]`, `width=0.5`."""
    from ..passes.evaluate import Evaluator
    from ..source import Source
    from ..syntax.parser import parse_expression

    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        values[name] = Evaluator({}, None)(parse_expression(Source(f"--set {name}", text)))
    return values


def set_option(f: Callable) -> Callable:
    return click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
                        help="Override a network parameter (repeatable), e.g. --set classes=10.")(f)


def network_option(f: Callable) -> Callable:
    return click.option("--network", "network", metavar="NAME",
                        help="Which network of the file, when it defines several.")(f)


def format_option(f: Callable) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text",
                        show_default=True, help="How diagnostics are printed.")(f)


def guarded(command: Callable) -> Callable:
    """Run a command: spec errors exit 1, usage and I/O errors exit 2, anything else is an internal error (3)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("fmt", "text")
        try:
            code = command(*args, **kwargs)
        except ArchError as exc:
            report = Report(format=fmt)
            report.add(exc.diagnostics)
            report.emit(sys.stderr if fmt == "text" else sys.stdout)
            code = report.exit_code
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (OSError, UnicodeError) as exc:
            click.echo(f"error: {_describe_os_error(exc)}", err=True)
            code = EXIT_USAGE
        except KeyboardInterrupt:
            code = 130
        except Exception:  # an internal error must never pass silently, nor as a raw traceback
            click.echo("internal error: archdsl failed unexpectedly; please report this with the spec that caused it",
                       err=True)
            click.echo(traceback.format_exc(limit=-3), err=True)
            code = EXIT_INTERNAL
        sys.exit(code or 0)

    return wrapper


def _describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return str(exc) if not exc.filename else f"{exc.filename} is a directory, not an .arch file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}"
    return str(exc)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename: a failure leaves `path` untouched."""
    import os
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
