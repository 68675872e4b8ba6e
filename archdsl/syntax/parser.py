"""Text -> AST. Parsing does nothing else: names, values and shapes are elaboration's business.

The text is read once, by Lark's lexer as the parser asks for tokens (grammar.py); the formatter's comments
and token positions come from that same parse (`parse_with_trivia`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, VisitError

from .. import ast
from ..combinators import COMBINATORS
from ..diagnostics import ArchError, Diagnostic
from ..source import Source, SourceMap
from . import template
from .errors import classify
from .grammar import MAX_NESTING, TooDeep, lark_parser, lexing
from .grammar import grammar_text  # noqa: F401  (the parser's public name too)
from .trivia import Trivia

MAX_DEPTH = 200  # levels of the parse tree: real specs use fewer than 20
MAX_INT_DIGITS = 19  # 2**62 has 19 digits; the evaluator checks the exact bound
# real specs are a few kB (the largest bundled file is under 4 kB); 256 kB parses and checks in about two
# seconds, 2 MB took twenty (issue 14)
MAX_SOURCE_BYTES = 256 * 1024
MAX_SYNTAX_ERRORS = 20
MAX_CACHED_CHARS = 16 * 1024  # of a file whose AST `parse` remembers
_DEFINITION_START = re.compile(r"(block|network|import)\b")
#: rules whose NAME defines a name that expressions or calls use later (labels are free: `block:` names
#: torchvision's EfficientNet submodules, and a label is never referred to)
_NAMING_RULES = frozenset({"block_def", "network_def", "network_variant", "param", "let_stmt", "names", "loop_index"})


def read_limited(path: Path) -> bytes:
    """A file's bytes, but never more than one past the limit: a huge file (or /dev/zero) is refused unread."""
    with open(path, "rb") as f:
        return f.read(MAX_SOURCE_BYTES + 1)


def decode(name: str, data: bytes) -> Source:
    """Bytes -> Source, refusing what cannot be a spec with a clean diagnostic."""
    if len(data) > MAX_SOURCE_BYTES:
        raise _input_error(name, f"file is larger than {MAX_SOURCE_BYTES:,} bytes, the limit for a spec")
    if b"\x00" in data:
        raise _input_error(name, "file contains NUL bytes; is it a binary file?", data, data.index(b"\x00"),
                           "NUL byte")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _input_error(name, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                           data, exc.start, "not UTF-8", help="save the file as UTF-8") from None
    # Windows (\r\n) and classic Mac (\r) line ends become \n here, where every file's text is read: a file
    # with \r alone would otherwise be one long line, its first `#` commenting out the rest
    return Source(name, text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))


def parse(source: Source, *, remember: bool = True) -> ast.Module:
    """Parse one file. Every syntax error is reported: after one, parsing resumes at the next definition.

    The AST is remembered per file name and text, as Python remembers an imported module: a spec loaded again
    in one process (`archdsl.load` in a loop over variants or seeds, a sweep's runs, the language server
    re-checking a file whose imports did not change) is not parsed again. The AST is frozen, so sharing it is
    safe; a file with errors is parsed again each time, as its diagnostics are made fresh. Files of more than
    MAX_CACHED_CHARS characters are not kept: real specs are a few kB, and an AST takes ~250 bytes per character
    of a real spec (up to ~500 for dense lists of numbers), so 16 remembered ASTs hold at most ~130 MB.
    `remember=False` parses without touching that memory (the standard library, which keeps its own)."""
    if not remember or len(source.text) > MAX_CACHED_CHARS:
        return _parse(source)
    return _parse_text(source.name, source.text)


def forget_parsed() -> None:
    """Drop the remembered ASTs (the benchmarks time a first parse with it)."""
    _parse_text.cache_clear()


@lru_cache(maxsize=16)
def _parse_text(name: str, text: str) -> ast.Module:
    return _parse(Source(name, text))


def _parse(source: Source) -> ast.Module:
    tree, _ = _parse_recovering(source)
    _check_tree(source, tree)
    return _to_ast(source, tree)


def parse_with_trivia(source: Source) -> tuple[ast.Module, Trivia]:
    """Parse one file, and keep what the formatter needs besides the AST: the comments and every token."""
    tree, comments = _parse_recovering(source)
    _check_tree(source, tree)
    tokens = list(tree.scan_values(lambda value: isinstance(value, Token)))  # the parser keeps them all, in order
    return _to_ast(source, tree), Trivia(source.text, tokens, comments)


def _parse_recovering(source: Source) -> tuple[Tree, list[Token]]:
    """The parse tree, and the comments the lexer met."""
    problems: list[Diagnostic] = []
    text, start = source.text, 1
    while True:
        try:
            tree, comments = _lark_parse(source, text, "start")
        except UnexpectedInput as exc:
            problem = _syntax_diagnostic(source, exc)
            at_end = getattr(getattr(exc, "token", None), "type", None) == "$END"
            if problem in problems:  # resuming met the same error again (the end of the file, typically)
                raise ArchError(problems) from None
            problems.append(problem)
            resume = None if at_end else _next_definition(source, problem.span.line, start)
            if resume is None or len(problems) >= MAX_SYNTAX_ERRORS:
                raise ArchError(problems) from None
            # blank out what came before, keeping line numbers, and parse the rest
            text, start = "\n" * (resume - 1) + "\n".join(source.lines[resume - 1:]), resume
            continue
        if problems:
            raise ArchError(problems)
        return tree, comments


def _lark_parse(source: Source, text: str, start: str) -> tuple[Tree, list[Token]]:
    """One run of Lark over `text` (the source's text, or the part after an error) from the rule `start`."""
    try:
        with lexing() as lexed:
            return lark_parser().parse(text, start=start), lexed.comments
    except TooDeep as exc:
        # The parser itself is iterative, but every later stage recurses over the tree: refuse absurd depth.
        raise ArchError(Diagnostic(
            code="E0002", message=f"brackets are nested more than {MAX_NESTING} deep",
            span=source.span(exc.token.line, exc.token.column), label="too deep here",
            help="split the structure into named blocks")) from None


def _next_definition(source: Source, error_line: int, start: int) -> int | None:
    """The first line at or after the error that starts a top-level definition (and makes progress)."""
    for number in range(max(error_line, start + 1), len(source.lines) + 1):
        if _DEFINITION_START.match(source.line(number)):
            return number
    return None


def _check_tree(source: Source, tree: Tree) -> None:
    """Refuse trees deeper than later stages can recurse through, integers nothing could use, and keywords
    given as names (the contextual lexer lets `block add(c)` through, but `add` could never be called)."""
    pending = [(tree, 1)]
    misused: list[Diagnostic] = []
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            first = _first_token(node)
            span = source.span(first.line, first.column) if first is not None else None
            raise ArchError(Diagnostic(
                code="E0002", message=f"the spec nests more than {MAX_DEPTH} levels deep", span=span,
                label="too deep here", help="split long expressions with `let`, and deep structures into named blocks"))
        if node.data == "labeled" and getattr(node.children[0], "type", None) == "STRING":
            pending.extend((piece, depth + 1) for piece in _label_pieces(source, node.children[0], misused))
        for child in node.children:
            if isinstance(child, Tree):
                pending.append((child, depth + 1))
            elif (isinstance(child, Token) and child.type == "NAME" and node.data in _NAMING_RULES
                  and str(child) in keywords()):
                misused.append(Diagnostic(
                    code="E0001", message=f"`{child}` is a keyword and cannot be used as a name",
                    span=source.span(child.line, child.column, child.end_line, child.end_column), label="keyword",
                    help=f"choose another name, e.g. `{child}_`"))
            elif isinstance(child, Token) and child.type == "INT" and len(child.lstrip("0")) > MAX_INT_DIGITS:
                raise ArchError(Diagnostic(
                    code="E0115", message=f"number has {len(child):,} digits; integers are limited to 2**62",
                    span=source.span(child.line, child.column, child.end_line, child.end_column), label="too large"))
    if misused:
        raise ArchError(sorted(misused, key=lambda d: (d.span.line, d.span.col)))


def _label_pieces(source: Source, token: Token, problems: list[Diagnostic]) -> list[Tree]:
    """The parse trees of a string label's `{expr}` pieces (syntax/template.py); their problems go to `problems`."""
    trees = []
    for part in template.split(token):
        if isinstance(part, template.BraceProblem):
            problems.append(Diagnostic(code="E0001", message=part.message, span=source.span(part.line, part.col),
                                       help="a string label holds text and `{expr}` pieces: `\"denselayer{i + 1}\"`"))
        elif isinstance(part, template.Piece):
            try:
                trees.append(template.parse_piece(part))
            except UnexpectedInput as exc:
                if getattr(getattr(exc, "token", None), "type", None) == "$END":  # not a truncated file
                    end = part.col + len(part.text.rstrip())
                    problems.append(Diagnostic(code="E0001", message=f"`{{{part.text}}}` in a label is not a whole "
                                               "expression", span=source.span(part.line, end), label="expected more"))
                else:
                    problems.append(_syntax_diagnostic(source, exc))
            except TooDeep as exc:
                problems.append(Diagnostic(code="E0002", message=f"brackets are nested more than {MAX_NESTING} deep",
                                           span=source.span(exc.token.line, exc.token.column), label="too deep here"))
    return trees


#: words of the grammar that are keywords only where a name could not stand (`init` after a `param`'s shape,
#: `train` before an output of `return`): elsewhere they are ordinary names (`network densenet(init=64)`)
SOFT_KEYWORDS = frozenset({"init", "train"})


def keywords() -> frozenset[str]:
    """The grammar's words (`in`, `repeat`...) and the combinators' names (`add`): the contextual lexer lets them
    through where a name is defined, but the name could never be used afterwards."""
    return (_grammar_words() - SOFT_KEYWORDS) | frozenset(COMBINATORS)


@lru_cache(maxsize=1)
def _grammar_words() -> frozenset[str]:
    return frozenset(t.pattern.value for t in lark_parser().terminals
                     if t.pattern.type == "str" and t.pattern.value.isidentifier())


def _first_token(node: Tree) -> Token | None:
    while isinstance(node, Tree):
        node = next((c for c in node.children if c is not None), None)
    return node if isinstance(node, Token) else None


def _to_ast(source: Source, tree: Tree):
    from .transform import ToAst

    try:
        return ToAst(source).transform(tree)
    except (RecursionError, VisitError) as exc:  # _check_tree keeps the depth well within Python's limit
        if isinstance(exc, VisitError) and not isinstance(exc.orig_exc, RecursionError):
            raise
        raise ArchError(Diagnostic(code="E0002", message="the spec nests too deeply to be read",
                                   span=source.span(1, 1), help="split deep structures into named blocks")) from None


def _syntax_diagnostic(source: Source, exc: UnexpectedInput) -> Diagnostic:
    problem = classify(source, exc)
    return Diagnostic(code="E0001", message=problem.message, span=problem.span, label=problem.label,
                      help=problem.help, secondary=problem.secondary)


def _input_error(name: str, message: str, data: bytes = b"", offset: int | None = None, label: str | None = None,
                 help: str | None = None) -> ArchError:
    """E0002 for bytes that cannot be a spec; the offending byte is shown in its line (decoded leniently)."""
    span = Source(name, "").span(1, 1)  # the file as a whole: its text is not shown
    sources = SourceMap()
    if offset is not None:
        before = data[:offset]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        # the error carries the leniently decoded text, so the offending byte is shown in its line
        span = sources.add(Source(name, data.decode("utf-8", "replace"))).span(line, col)
    return ArchError(Diagnostic(code="E0002", message=message, span=span, label=label, help=help), sources)


def parse_expression(source: Source) -> "ast.Expr":
    """One expression (as given to `--set name=value`)."""
    try:
        tree, _ = _lark_parse(source, source.text, "expr")
    except UnexpectedInput as exc:
        raise ArchError(_syntax_diagnostic(source, exc)) from None
    _check_tree(source, tree)
    return _to_ast(source, tree)
