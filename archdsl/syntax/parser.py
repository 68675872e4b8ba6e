"""Text -> AST. Parsing does nothing else: names, values and shapes are elaboration's business."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .. import ast
from ..diagnostics import ArchError, Diagnostic
from ..source import Source
from .errors import classify

MAX_NESTING = 100
MAX_SOURCE_BYTES = 8 * 1024 * 1024


def grammar_text() -> str:
    """The grammar, from the installed package or, in a checkout, from `grammars/`."""
    packaged = resources.files("archdsl").joinpath("grammars/archdsl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammars" / "archdsl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    # keep_all_tokens instead of propagate_positions: spans come from tokens (see transform.py), twice as fast.
    # cache=True stores the LALR tables in the temp folder, saving ~0.2 s at every start of `archdsl check`.
    return Lark(grammar_text(), parser="lalr", keep_all_tokens=True, maybe_placeholders=True,
                start=["start", "expr"], cache=True)


def decode(name: str, data: bytes) -> Source:
    """Bytes -> Source, refusing what cannot be a spec with a clean diagnostic."""
    if len(data) > MAX_SOURCE_BYTES:
        raise _input_error(name, f"file is {len(data):,} bytes; specs are limited to {MAX_SOURCE_BYTES:,}")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise _input_error(name, "file contains NUL bytes; is it a binary file?", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _input_error(name, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line)
    return Source(name, text.removeprefix("\ufeff"))


def parse(source: Source) -> ast.Module:
    _check_nesting(source)
    try:
        tree = lark_parser().parse(source.text, start="start")
    except UnexpectedInput as exc:
        raise ArchError(_syntax_diagnostic(source, exc)) from None
    from .transform import ToAst

    return ToAst(source).transform(tree)


def _check_nesting(source: Source) -> None:
    # The parser itself is iterative, but every later stage recurses over the tree: refuse absurd depth here.
    depth, line, col = 0, 1, 0
    in_comment = in_string = False
    for ch in source.text:
        col += 1
        if ch == "\n":
            line, col, in_comment, in_string = line + 1, 0, False, False
        elif in_comment:
            continue
        elif ch == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif ch == "#":
            in_comment = True
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ArchError(Diagnostic(
                    code="E0002", message=f"brackets are nested more than {MAX_NESTING} deep",
                    span=source.span(line, col), label="too deep here",
                    help="split the structure into named blocks"))
        elif ch in ")]}":
            depth = max(depth - 1, 0)


def _syntax_diagnostic(source: Source, exc: UnexpectedInput) -> Diagnostic:
    line = getattr(exc, "line", None) or 0
    col = getattr(exc, "column", None) or 0
    if isinstance(exc, UnexpectedEOF) or line <= 0:
        line = max(len(source.lines), 1)
        col = len(source.line(line)) + 1
    found = _found(exc)
    message, help_text = classify(source, exc, found)
    width = len(found) if found and found != "end of file" and not found.startswith("`") else 1
    if found.startswith("`"):
        width = max(len(found) - 2, 1)
    return Diagnostic(code="E0001", message=message, span=source.span(line, col, line, col + width),
                      label=f"unexpected {found}", help=help_text)


def _found(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return "end of file"
        return f"`{exc.token}`"
    if isinstance(exc, UnexpectedCharacters):
        return f"`{exc.char}`"
    return "end of file"


def _input_error(name: str, message: str, line: int = 1) -> ArchError:
    return ArchError(Diagnostic(code="E0002", message=message,
                                span=Source(name, "").span(line, 1)))


def parse_expression(source: Source) -> "ast.Expr":
    """One expression (as given to `--set name=value`)."""
    _check_nesting(source)
    try:
        tree = lark_parser().parse(source.text, start="expr")
    except UnexpectedInput as exc:
        raise ArchError(_syntax_diagnostic(source, exc)) from None
    from .transform import ToAst

    return ToAst(source).transform(tree)
