"""Parse errors classified into human messages, by what the parser expected and what it found.

Lark reports raw terminal names (`RPAR`, `$END`); users need to hear "missing `)`".
"""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..source import Source

_TERMINALS = {
    "RPAR": "`)`", "LPAR": "`(`", "RBRACE": "`}`", "LBRACE": "`{`", "RSQB": "`]`", "LSQB": "`[`",
    "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`", "VBAR": "`|`", "NAME": "a name", "INT": "an integer",
    "FLOAT": "a number", "STRING": "a string", "$END": "end of file", "IN": "`in`", "ELSE": "`else`",
    "AS": "`as`", "DOT": "`.`",
}


def describe(terminals) -> str:
    names = sorted({_TERMINALS.get(t, f"`{t.lower()}`") for t in terminals if not t.startswith("__")})
    if len(names) > 6:
        return "an expression or a statement"
    return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1] if names else "something else"


def classify(source: Source, exc: UnexpectedInput, found: str) -> tuple[str, str | None]:
    """(message, help) for a parse error."""
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char
        if char == "'":
            return "strings use double quotes", 'write "same" instead of \'same\''
        if char == ";":
            return "statements are not separated by `;`", "remove the `;`: items are separated by whitespace"
        return f"unexpected character `{char}`", None
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        closers = [t for t in ("RPAR", "RBRACE", "RSQB") if t in expected]
        if closers:
            return (f"file ended before a closing {_TERMINALS[closers[0]]}",
                    f"add the missing {_TERMINALS[closers[0]]}; check that every bracket is closed")
        return "file ended in the middle of a definition", None
    token = exc.token
    if token.type == "EQUAL" and "COMMA" not in expected and "RPAR" in expected:
        return "keyword arguments cannot be used here", None
    if "RPAR" in expected and token.type in ("NAME", "INT", "FLOAT", "STRING"):
        return f"missing `,` or `)` before {found}", "separate arguments with `,` and close the call with `)`"
    if token.type in ("BLOCK", "NETWORK") and "RBRACE" in expected:
        return f"{found} inside a body: a `}}` is missing before it", "close the previous definition with `}`"
    if token.type == "LBRACE" and "NAME" in expected and "LPAR" in expected:
        return f"unexpected {found}", None
    if "LPAR" in expected and token.type == "LBRACE" and len(expected) <= 2:
        return "a definition needs a parameter list", "write `block name() { ... }` even without parameters"
    return f"expected {describe(expected)}, found {found}", None
