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
from ..extras import missing_extra
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
        name, text = split_assignment(item)
        if name in values:  # `--set classes=10 --set classes=100`: which one was meant? (sweep refuses it too)
            raise click.BadParameter(f"`{name}` is given twice", param_hint="--set")
        try:
            values[name] = Evaluator({}, None)(parse_expression(Source(f"--set {name}", text)))
        except ArchError as exc:  # a bad value on the command line is a usage error (exit 2), not a spec error
            raise click.BadParameter(f"{item!r}: {exc.diagnostics[0].message}", param_hint="--set") from None
    return values


def split_assignment(item: str, form: str = "NAME=VALUE") -> tuple[str, str]:
    """The name and the value text of one `--set` item, or a usage error that shows the expected `form`."""
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise click.BadParameter(f"expected {form}, got {item!r}", param_hint="--set")
    return name, text


class _Count(click.ParamType):
    """A positive count written as `25000000`, `25_000_000`, `2.5e7` or `10**8`."""

    name = "N"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().replace("_", "")
        try:
            if "**" in text:
                base, _, exponent = text.partition("**")
                number = int(base) ** int(exponent) if len(exponent) <= 3 else -1
            else:
                number = int(text) if text.isdigit() else int(float(text)) if float(text).is_integer() else -1
        except (ValueError, OverflowError):
            number = -1
        if number <= 0:
            self.fail(f"{value!r} is not a positive whole number (e.g. 25000000, 25_000_000, 2.5e7, 10**8)",
                      param, ctx)
        return number


def max_params_option(f: Callable) -> Callable:
    from ..passes.elaborate import Limits

    return click.option("--max-params", "max_params", type=_Count(), default=Limits.max_params, show_default=True,
                        help="Refuse a network with more parameters than N; checked statically, before torch "
                             "allocates anything.")(f)


def set_option(f: Callable) -> Callable:
    return click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
                        help="Override a network parameter (repeatable), e.g. --set classes=10.")(f)


def network_option(f: Callable) -> Callable:
    return click.option("--network", "network", metavar="NAME",
                        help="Which network of the file, when it defines several.")(f)


def format_option(f: Callable) -> Callable:
    """`--format NAME`, one of the registered output formats (archdsl/render/)."""
    from ..render import FORMATS

    return click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
                        help="How diagnostics (and results, in a document format) are printed.")(f)


def guarded(command: Callable) -> Callable:
    """Run a command: spec errors exit 1, usage and I/O errors exit 2, anything else is an internal error (3)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("fmt", "text")
        try:
            code = command(*args, **kwargs)
        except ArchError as exc:
            report = Report(format=fmt, files_checked=1, files_failed=1)  # commands other than check take one file
            report.add(exc.diagnostics)  # with the sources they point into
            report.print(summary_line=False)
            code = report.exit_code
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (OSError, UnicodeError) as exc:
            click.echo(f"error: {describe_os_error(exc)}", err=True)
            code = EXIT_USAGE
        except KeyboardInterrupt:
            code = 130
        except Exception as exc:  # an internal error must never pass silently, nor as a raw traceback
            if (hint := missing_extra(exc, command.__name__)) is not None:  # torch left out of a light install
                click.echo(f"error: {hint}", err=True)
                code = EXIT_USAGE
            else:
                click.echo("internal error: archdsl failed unexpectedly; please report this with the spec that "
                           "caused it", err=True)
                click.echo(traceback.format_exc(limit=-3), err=True)
                code = EXIT_INTERNAL
        sys.exit(code or 0)

    return wrapper


def describe_os_error(exc: BaseException) -> str:
    """An I/O failure in one line, with the file it concerns (its name made printable: it may hold anything)."""
    from ..render.registry import printable

    return printable(_describe_os_error(exc), keep="")


def _describe_os_error(exc: BaseException) -> str:
    name = getattr(exc, "filename", None)
    if name is None:
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"no such {'folder' if exc.strerror == 'no such folder' else 'file'}: {name}"
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a directory, not an .arch file"
    if isinstance(exc, PermissionError):
        return f"permission denied: {name}"
    return f"{name}: {exc.strerror or exc}"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over `path` (archdsl/safe_io.py).

    Only a regular file is written: a directory, FIFO or device at `path` is refused, a symlink's target is
    written. A failure (an exception, Ctrl-C, SIGTERM, a full disk) leaves the previous `path` untouched and
    no temporary file behind; errors name `path`, never the temporary file.
    """
    from ..safe_io import atomic_write as write_atomically

    write_atomically(path, write)


def compile_spec(file: Path, network: str | None, overrides: dict[str, Any], max_params: int | None = None):
    """The pipeline's front end for FILE's chosen network: what every command that works on one spec starts with.

    Returns the `Compilation` (its `network` is the elaborated IR).
    """
    from ..passes.elaborate import Limits
    from ..pipeline import compile_network

    return compile_network(file, network, overrides, None if max_params is None else Limits(max_params=max_params))
