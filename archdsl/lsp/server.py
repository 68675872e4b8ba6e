"""The language server: pygls wiring, debouncing, and analysis off the event loop.

Each change of a document schedules an analysis after a short pause (`DEBOUNCE_SECONDS`), cancelling the one
scheduled before; opening and saving analyze at once. Analyses run one at a time on a worker thread, so the
server keeps answering while a large file is elaborated; a result that a newer edit has overtaken is dropped.
Requests (hover, hints...) wait for the analysis of the version they ask about, for at most `WAIT_SECONDS`,
and otherwise answer from the latest analysis they have.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .. import __version__
from .analysis import Analysis, analyze
from .convert import Context, path_of_uri
from .features.completion import completions
from .features.diagnostics import diagnostics
from .features.formatting import formatting
from .features.hints import inlay_hints
from .features.hover import hover
from .features.navigation import definition, references
from .features.symbols import document_symbols
from .features.tokens import LEGEND, semantic_tokens

DEBOUNCE_SECONDS = 0.25
WAIT_SECONDS = 5.0

log = logging.getLogger(__name__)


class ArchServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("archdsl", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.analyses: dict[str, Analysis] = {}
        self.scheduled: dict[str, asyncio.Task] = {}
        self.analyzer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archdsl-analysis")

    # --- analysis
    def schedule(self, uri: str, delay: float) -> None:
        previous = self.scheduled.get(uri)
        if previous is not None and not previous.done():
            previous.cancel()
        self.scheduled[uri] = asyncio.get_running_loop().create_task(self._analyze(uri, delay))

    async def _analyze(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.analyzer, analyze, path_of_uri(uri), text, version, None, uri)
        except Exception:  # a bug in the server must not take the editor's session down with it
            log.exception("analysis of %s failed", uri)
            return
        if uri not in self.workspace.text_documents or self.workspace.get_text_document(uri).version != version:
            return  # overtaken by a newer edit, or closed: its own analysis is on the way
        self.analyses[uri] = result
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diagnostics(self.context(result))))
        self._refresh()

    def _refresh(self) -> None:
        """Ask the client to pull hints and tokens again: they depend on the analysis, not only on the text."""
        workspace = self.client_capabilities.workspace
        if workspace is not None and workspace.inlay_hint is not None and workspace.inlay_hint.refresh_support:
            self.workspace_inlay_hint_refresh(None)
        if workspace is not None and workspace.semantic_tokens is not None and \
                workspace.semantic_tokens.refresh_support:
            self.workspace_semantic_tokens_refresh(None)

    async def current(self, uri: str) -> Context | None:
        """The analysis of the document as it is now (waiting for it briefly), else the latest one."""
        if uri not in self.workspace.text_documents:
            return None
        version = self.workspace.get_text_document(uri).version
        known = self.analyses.get(uri)
        if known is None or known.version != version:
            task = self.scheduled.get(uri)
            if task is None:
                self.schedule(uri, 0)
                task = self.scheduled[uri]
            await _settle(task)
            known = self.analyses.get(uri)
            if known is None or known.version != version:  # the pending task was replaced by a newer one
                task = self.scheduled.get(uri)
                if task is not None:
                    await _settle(task)
                known = self.analyses.get(uri)
        return self.context(known) if known is not None else None

    def context(self, analysis: Analysis) -> Context:
        return Context(analysis, self.workspace.position_codec)


async def _settle(task: asyncio.Task) -> None:
    """Wait up to WAIT_SECONDS for an analysis. Its running late, or being cancelled because a newer edit
    replaced it, is no error (the caller takes the latest analysis); the cancellation of the request that
    waits ($/cancelRequest) is, and goes on up."""
    try:
        await asyncio.wait_for(asyncio.shield(task), WAIT_SECONDS)
    except asyncio.TimeoutError:
        pass
    except asyncio.CancelledError:
        waiting = asyncio.current_task()
        if waiting is not None and getattr(waiting, "cancelling", lambda: 0)():  # Task.cancelling: Python 3.11+
            raise


server = ArchServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: ArchServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: ArchServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: ArchServer, params: types.DidSaveTextDocumentParams) -> None:
    """The saved document at once; the other open ones after it, since they may import what was saved."""
    ls.schedule(params.text_document.uri, 0)
    for uri in ls.workspace.text_documents:
        if uri != params.text_document.uri:
            ls.schedule(uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: ArchServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.scheduled.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.analyses.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
async def inlay_hint(ls: ArchServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    context = await ls.current(params.text_document.uri)
    if context is None:
        return []
    first, _ = context.at(params.range.start)
    last, _ = context.at(params.range.end)
    return inlay_hints(context, first, last)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: ArchServer, params: types.HoverParams) -> types.Hover | None:
    context = await ls.current(params.text_document.uri)
    return hover(context, *context.at(params.position)) if context is not None else None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def on_definition(ls: ArchServer, params: types.DefinitionParams) -> list[types.Location]:
    context = await ls.current(params.text_document.uri)
    return definition(context, *context.at(params.position)) if context is not None else []


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def on_references(ls: ArchServer, params: types.ReferenceParams) -> list[types.Location]:
    context = await ls.current(params.text_document.uri)
    if context is None:
        return []
    others = [ls.context(a) for uri, a in ls.analyses.items() if uri != params.text_document.uri]
    return references(context, others, *context.at(params.position), params.context.include_declaration)


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=["(", ",", ".", " ", '"']))
async def on_completion(ls: ArchServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    context = ls.analyses.get(uri)  # completion must not wait: the latest analysis, on the current text
    if context is None:
        current = await ls.current(uri)
        if current is None:
            return types.CompletionList(is_incomplete=False, items=[])
        context = current.analysis
    document = ls.workspace.get_text_document(uri)
    fresh = Context(_with_text(context, document.source), ls.workspace.position_codec)
    return completions(fresh, *fresh.at(params.position))


def _with_text(analysis: Analysis, text: str) -> Analysis:
    """The latest analysis, seen over the text as it is now (completion reads the line being typed)."""
    if analysis.text == text:
        return analysis
    from dataclasses import replace

    return replace(analysis, text=text)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def on_document_symbol(ls: ArchServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    context = await ls.current(params.text_document.uri)
    return document_symbols(context) if context is not None else []


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
async def on_formatting(ls: ArchServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    context = await ls.current(params.text_document.uri)
    return formatting(context) if context is not None else None


@server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
async def on_semantic_tokens(ls: ArchServer, params: types.SemanticTokensParams) -> types.SemanticTokens:
    context = await ls.current(params.text_document.uri)
    return semantic_tokens(context) if context is not None else types.SemanticTokens(data=[])


def serve() -> None:
    """Serve over stdin/stdout until the client says exit."""
    server.start_io()
