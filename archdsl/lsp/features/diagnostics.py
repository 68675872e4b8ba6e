"""Diagnostics: the same codes, spans, labels, notes and help as `archdsl check`, as the protocol shapes them.

A fault met inside a block of another file (an imported file, the standard library) is shown at the call in
this document that led there; its own location and every call of the stack become related locations.
"""

from __future__ import annotations

from lsprotocol import types

from ...diagnostics import Severity
from ...source import Span
from ..analysis import Problem
from ..convert import Context

SEVERITY = {Severity.error: types.DiagnosticSeverity.Error, Severity.warning: types.DiagnosticSeverity.Warning}


def diagnostics(context: Context) -> list[types.Diagnostic]:
    return [_diagnostic(problem, context) for problem in context.analysis.problems]


def _diagnostic(problem: Problem, context: Context) -> types.Diagnostic:
    d = problem.diagnostic
    span = problem.span
    where = context.here.range(span) if span is not None else types.Range(start=types.Position(line=0, character=0),
                                                                     end=types.Position(line=0, character=0))
    lines = [d.message]
    if d.span is not None and span is not d.span and d.span != span:
        lines[0] = f"{d.message} (at {d.span})"
    if d.label:
        lines.append(f"{d.label}")
    lines += [f"note: {n}" for n in d.notes]
    if d.help:
        lines.append(f"help: {d.help}")
    related: list[types.DiagnosticRelatedInformation] = []
    if d.span is not None and d.span != span:
        related.append(_related(context, d.span, d.label or d.message))
    related += [_related(context, label.span, label.message) for label in d.secondary]
    related += [_related(context, frame.span, f"in `{frame.block}({frame.args})` called here")
                for frame in reversed(problem.stack)]
    return types.Diagnostic(range=where, message="\n".join(lines), severity=SEVERITY.get(d.severity),
                            code=d.code, source="archdsl", related_information=[r for r in related if r] or None)


def _related(context: Context, span: Span, message: str) -> types.DiagnosticRelatedInformation | None:
    location = context.location(span)
    return types.DiagnosticRelatedInformation(location=location, message=message) if location else None
