"""The kinds of syntax mistake, one handler each: the words of the message, where to point, what may help.

Each kind has sample bad inputs in `error_examples.py`; `errors.classify` finds the kind and calls its handler.
"""

from __future__ import annotations

import difflib
from typing import Callable

from lark import Token, Tree

from ..combinators import names_in_words
from ..diagnostics import Label
from .error_context import (CLOSERS, OPENERS, PYTHON_WORDS, TEXT, ErrorContext, SyntaxProblem, describe,
                            opened_what)

def unclosed(c: ErrorContext) -> SyntaxProblem:
    opener = c.opener
    if c.type in CLOSERS and opener is not None and c.type != OPENERS[opener.type]:
        return _wrong_closer(c, opener)
    prev = c.previous_token
    if (c.type == "NAME" and prev is not None and prev.type == "INT" and str(c.token).startswith("x")
            and (prev.end_line, prev.end_column) == c.where):
        return SyntaxProblem(f"`{prev}{c.token}` is not a number", c.span(prev.line, prev.column, len(prev) + c.width),
                             label="not a number", help=f"write a square kernel as `{prev}`, or a pair as "
                             f"`({prev}, {str(c.token)[1:] or prev})`")
    if opener is not None and "COMMA" in c.accepts and _looks_like_next_argument(c):
        what = "list items" if opener.type == "LSQB" else "arguments"
        return SyntaxProblem(f"missing `,` before {c.found}", c.after_previous(), label="expected `,` here",
                             help=f"separate {what} with `,`")
    if opener is None:
        return fallback(c)
    return missing_closer(c, opener)


def _looks_like_next_argument(c: ErrorContext) -> bool:
    """`conv(16 3)` lacks a `,`; `conv(16, 3 relu` lacks a `)`: an argument follows on the same line."""
    if c.where[0] != c.previous_end[0]:
        return False
    if c.type in ("INT", "FLOAT", "STRING", "LSQB", "MINUS"):
        return True
    return c.type == "NAME" and c.next_type == "EQUAL"


def missing_closer(c: ErrorContext, opener: Token) -> SyntaxProblem:
    closer = TEXT[OPENERS[opener.type]]
    what = opened_what(c, opener)
    unclosed = Label(span=c.span(opener.line, opener.column), message=f"this `{opener}` is not closed")
    if c.type == "$END":
        return SyntaxProblem(f"file ended before the `{opener}` {what} was closed".replace("  ", " "), c.after_previous(),
                             label=f"expected `{closer}` here", secondary=(unclosed,),
                             help=f"add the missing `{closer}`; check that every bracket is closed")
    return SyntaxProblem(f"missing `{closer}` before {c.found}", c.after_previous(), label=f"expected `{closer}` here",
                         secondary=(unclosed,), help=f"close the `{opener}` {what} with `{closer}`".replace("  ", " "))




def _mismatched(c: ErrorContext, opener: Token) -> SyntaxProblem:
    closer = TEXT[OPENERS[opener.type]]
    return SyntaxProblem(f"{c.found} does not close the `{opener}` opened at {opener.line}:{opener.column}",
                         c.at_found(), label=f"expected `{closer}`",
                         secondary=(Label(span=c.span(opener.line, opener.column), message=f"`{opener}` opened here"),),
                         help=f"write `{closer}` here, or check the brackets in between")


def _wrong_closer(c: ErrorContext, opener: Token) -> SyntaxProblem:
    """A closer that is not the innermost one's: a missing closer if it closes an outer bracket, else a typo."""
    if any(t.type == CLOSERS[c.type] for t in c.markers):
        return missing_closer(c, opener)
    if opener.type == "LBRACE":
        return _unmatched(c)
    return _mismatched(c, opener)


def stray_closer(c: ErrorContext) -> SyntaxProblem:
    opener = c.opener
    if opener is not None and c.type in CLOSERS and c.type != OPENERS[opener.type]:
        return _wrong_closer(c, opener)
    if opener is not None and c.type not in CLOSERS:
        return missing_closer(c, opener)
    return _unmatched(c)


def _unmatched(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem(f"unmatched {c.found}", c.at_found(), label="nothing to close here",
                         help="remove it, or look for a missing opening bracket before it")


def _compare_with_eq(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`=` is not a comparison", c.at_found(), label="use `==` here",
                         help="compare with `==`; a single `=` only gives keyword arguments and `let` values")


def _chained_comparison(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("comparisons cannot be chained", c.at_found(), label="second comparison",
                         help="join them with `and`, e.g. `1 < s and s < 3`")


def _missing_body(c: ErrorContext) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "this"
    if keyword is not None and keyword.type == "IF" and c.type == "ELSE":
        return SyntaxProblem("a conditional value needs parentheses here", c.at_found(),
                             label="`else` of a conditional value",
                             help="write `let x = (a if c else b)`; without parentheses, `if` starts an `if` item")
    if keyword is not None and keyword.type in ("BLOCK", "NETWORK"):
        message = f"the body of a `{kind}` goes in braces"
        help_text = f"write `{kind} name(...) {{ items }}`"
    else:
        message = f"`{kind}` needs a body in braces"
        help_text = {"REPEAT": "write `repeat 3 { items }`", "FOR": "write `for c in [16, 32] { items }`",
                     "IF": "write `if condition { items } else { items }`",
                     "ELSE": "write `else { items }`"}.get(keyword.type if keyword else "", "write `{ items }`")
    if c.type == "COLON":
        help_text += "; a `:` does not start a body"
    return SyntaxProblem(message, c.after_previous(), label="expected `{` here", help=help_text)


def _ternary_needs_else(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("a conditional value needs `else`", c.after_previous(), label="expected `else` here",
                         help="write `a if condition else b`")


def _toplevel(c: ErrorContext) -> SyntaxProblem:
    word = str(c.token) if c.token is not None else ""
    close = difflib.get_close_matches(word, ["network", "block", "import"], n=1, cutoff=0.7)
    if close:
        help_text = f"did you mean `{close[0]}`?"
    elif word in PYTHON_WORDS:
        help_text = "define networks with `network name(input=[3, 224, 224]) { ... }` and blocks with `block name(...) { ... }`"
    else:
        help_text = "items go inside the body of a `network name(...) { ... }` or a `block name(...) { ... }`"
    return SyntaxProblem(f"expected `network`, `block` or `import`, found {c.found}", c.at_found(),
                         label="not a definition", help=help_text)


def _needs_params(c: ErrorContext) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "definition"
    return SyntaxProblem(f"a `{kind}` needs a parameter list, even an empty one", c.after_previous(),
                         label="expected `(` here", help=f"write `{kind} name() {{ ... }}`")


def _needs_name(c: ErrorContext) -> SyntaxProblem:
    keyword = c.construct
    kind = str(keyword) if keyword is not None else "definition"
    return SyntaxProblem(f"a `{kind}` needs a name", c.at_found(), label="expected a name",
                         help="names start with a letter or `_`, then letters, digits and `_`")


def _let_syntax(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`let` binds a name to a value", c.at_found(), label=f"unexpected {c.found}",
                         help="write `let name = value`")


def _assignment_without_let(c: ErrorContext) -> SyntaxProblem:
    name = c.previous_token
    before = c.stack[-2] if len(c.stack) >= 2 else None
    last = list(before.scan_values(lambda v: isinstance(v, Token)))[-1:] if isinstance(before, Tree) else [before]
    if last and isinstance(last[0], Token) and last[0].type == "NAME" and str(last[0]) == "let":
        return SyntaxProblem("a `let` cannot be labeled", c.at_found(), label="unexpected `=`",
                             help="labels name items such as `conv(...)`; write the `let` without a label")
    return SyntaxProblem("a value is bound with `let`", c.at_found(), label="unexpected `=`",
                         help=f"write `let {name or 'name'} = ...`")


def _label_without_item(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("a label must be followed by the item it names", c.at_found(), label=f"found {c.found}",
                         help="write `name: item`, e.g. `conv1: conv(64, 3)`")


def _double_label(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("an item takes one label", c.at_found(), label="second label",
                         help="remove one of the labels, or label a group: `stem: { head: relu }`")


def _param_annotation(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("parameters have no type annotations", c.at_found(), label="unexpected `:`",
                         help="write `block b(c)`, or give a default: `block b(c=64)`")


def _empty_argument(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("empty argument", c.at_found(), label="extra `,`", help="remove the extra `,`")


def _missing_value(c: ErrorContext) -> SyntaxProblem:
    prev = c.previous_token
    after = f" after `{prev}`" if prev is not None and prev.type in ("EQUAL", "ADD_OP", "MUL_OP", "POW", "COMP_OP",
                                                                     "MINUS", "COMMA", "AND", "OR", "NOT") else ""
    return SyntaxProblem(f"expected a value{after}, found {c.found}", c.at_found(), label="expected a value",
                         help=None)


def _repeat_count(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`repeat` needs a count", c.at_found(), label="expected a count",
                         help="write `repeat 3 { items }` or `repeat n as i { items }`")


def _import_path(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`import` takes a quoted path", c.at_found(), label="expected a string",
                         help='write `import "resnet.arch"` (relative to this file)')


def _bar_outside_combinator(c: ErrorContext) -> SyntaxProblem:
    in_condition = c.construct is not None and c.construct.type in ("IF", "LET", "EQUAL")
    help_text = ("in a condition, write `or`" if in_condition else
                 f"put the branches in {names_in_words(' { ... | ... }')}")
    return SyntaxProblem(f"`|` separates the branches of {names_in_words()}", c.at_found(),
                         label="not inside a combinator", help=help_text)


def _for_needs_in(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`for` needs `in`", c.after_previous(), label="expected `in` here",
                         help="write `for c in [16, 32] { items }`")


def _unsupported_expression(c: ErrorContext) -> SyntaxProblem:
    """A form of Python expression the language leaves out, named with what to write instead."""
    forms = {
        "FOR": ("generator expressions are not supported", "write a list comprehension in brackets: "
                "`sum([c for c in cs])`"),
        "COLON": ("slices are not supported", "index one item (`xs[0]`), or build the list: "
                  "`[xs[i] for i in range(1, 3)]`"),
        "LBRACE": ("dicts and sets are not expressions", "use a list `[a, b]` or a tuple `(a, b)`"),
        "ELSE": ("an `if` after `for` filters items and takes no `else`", "to choose a value, put the choice "
                 "before `for`: `[c if c > 0 else 0 for c in cs]`"),
        "MUL_OP": ("`*` unpacking is not supported", "join lists with `+`: `xs + ys`"),
        "RSQB": ("a clause of the list comprehension is incomplete", "write `for x in items` or `if condition` "
                 "after the first `for`"),
    }
    message, help_text = forms.get(c.type, (None, None))
    if message is None:
        return fallback(c)
    return SyntaxProblem(message, c.at_found(), label=f"{c.found} here", help=help_text)


def _arrow_needs_name(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`->` names the tensor an item makes", c.at_found(), label="expected a name",
                         help="write `-> name` and use it later as `@name`; `-> (a, b)` names the tensors of a "
                              "block that returns several")


def _arrow_one_in_parens(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`-> (...)` unpacks several tensors", c.at_found(), label="expected `,`",
                         help="write `-> a` to name one tensor, `-> (a, b)` for a block that returns two")


def _return_needs_tensors(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`return` takes named tensors", c.at_found(), label="expected `@name`",
                         help="write `return @out`, `return @logits, train @aux` or `return {out: @x, aux: @y}`")


def _return_dict_entry(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("an output of a dict is `key: @tensor`", c.at_found(), label=f"unexpected {c.found}",
                         help="write `return {out: @x, aux: @y}`")


def _param_syntax(c: ErrorContext) -> SyntaxProblem:
    return SyntaxProblem("`param` declares a learnable tensor", c.at_found(), label=f"unexpected {c.found}",
                         help="write `param name = (c, 1, 1) init 1e-6`, then use it as `@name`")


HANDLERS: dict[str, Callable[[ErrorContext], SyntaxProblem]] = {
    "unclosed": unclosed, "compare_with_eq": _compare_with_eq, "chained_comparison": _chained_comparison,
    "missing_body": _missing_body, "ternary_needs_else": _ternary_needs_else, "toplevel": _toplevel,
    "needs_params": _needs_params, "needs_name": _needs_name, "let_syntax": _let_syntax,
    "assignment_without_let": _assignment_without_let, "label_without_item": _label_without_item,
    "double_label": _double_label, "param_annotation": _param_annotation, "empty_argument": _empty_argument, "missing_value": _missing_value,
    "repeat_count": _repeat_count, "import_path": _import_path,
    "bar_outside_combinator": _bar_outside_combinator, "for_needs_in": _for_needs_in, "stray_closer": stray_closer,
    "arrow_needs_name": _arrow_needs_name, "arrow_one_in_parens": _arrow_one_in_parens,
    "return_needs_tensors": _return_needs_tensors, "return_dict_entry": _return_dict_entry,
    "param_syntax": _param_syntax,
    "unsupported_expression": _unsupported_expression,
}

def fallback(c: ErrorContext) -> SyntaxProblem:
    if c.type == "$END":
        keyword = c.construct
        inside = f" inside `{keyword}`" if keyword is not None else ""
        return SyntaxProblem(f"file ended in the middle of a definition{inside}", c.after_previous(),
                             label=f"expected {describe(c.accepts)}", help="the file may be truncated")
    if not c.accepts:
        return SyntaxProblem(f"unexpected {c.found}", c.at_found(), label="not valid here")
    return SyntaxProblem(f"expected {describe(c.accepts)}, found {c.found}", c.at_found(),
                         label=f"unexpected {c.found}")
