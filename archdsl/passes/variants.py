"""Network variants: `network resnet101 = resnet(layers=[3, 4, 23, 3])` is the network `resnet` with other
defaults, named `resnet101`.

A variant is a whole network: its parameters are the base's, in the base's order, with the variant's arguments as
their new defaults (positional arguments in parameter order, then keywords), so `--set` and `archdsl.load(...,
classes=10)` still override any of them. The arguments are expressions evaluated where defaults are: a later
default may use an earlier parameter (`width=64 * k`). The base is a network of the same file or of an imported
one, or another variant; its body is elaborated in the file that defines it (lexical scoping, as for blocks).
`FileScope.network` (resolve.py) finds the base and caches the result; this module only rewrites one definition.

>>> from archdsl.source import Source
>>> from archdsl.syntax.parser import parse
>>> module = parse(Source("a.arch", "network a(k=1, input=[3, 8, 8]) { conv(k, 1) }\\nnetwork b = a(k=4)"))
>>> base, variant = module.networks
>>> [(p.name, p.default.value if p.name == "k" else "...") for p in specialize(variant, base).params]
[('k', 4), ('input', '...')]
"""

from __future__ import annotations

import difflib

from .. import ast
from ..diagnostics import ArchError, Diagnostic


def specialize(variant: ast.NetworkDef, base: ast.NetworkDef) -> ast.NetworkDef:
    """`base` named as `variant`, the variant's arguments replacing its parameters' defaults."""
    call = variant.base
    params = list(base.params)
    names = [p.name for p in params]
    given: dict[str, ast.Expr] = {}
    problems: list[Diagnostic] = []
    for i, arg in enumerate(call.args):
        if i >= len(params):
            problems.append(Diagnostic(code="E0103", message=f"network `{base.name}` takes {len(params)} parameters, "
                                       f"{len(call.args)} given", span=arg.span, label="one too many",
                                       help=_signature(base)))
            break
        given[params[i].name] = arg
    for kwarg in call.kwargs:
        if kwarg.name not in names:
            problems.append(Diagnostic(code="E0104", message=f"network `{base.name}` has no parameter `{kwarg.name}`",
                                       span=kwarg.span, help=_did_you_mean(kwarg.name, names) or _signature(base)))
        elif kwarg.name in given:
            problems.append(Diagnostic(code="E0106", message=f"parameter `{kwarg.name}` is given twice",
                                       span=kwarg.span, label="again"))
        else:
            given[kwarg.name] = kwarg.value
    if problems:
        raise ArchError(problems)
    new_params = tuple(p.model_copy(update={"default": given[p.name]}) if p.name in given else p for p in params)
    return base.model_copy(update={"name": variant.name, "name_span": variant.name_span, "span": variant.span,
                                   "params": new_params, "base": None})


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _signature(base: ast.NetworkDef) -> str:
    shown = ", ".join(("@" if p.tensor else "") + p.name for p in base.params)
    return f"`{base.name}({shown})`"
