"""Helpers for the language-server tests: a real `archdsl lsp` process, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the language server needs the lsp extra: pip install 'archdsl[lsp]'")
pytest.importorskip("pytest_lsp", reason="the language-server tests need pytest-lsp")

import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from conftest import ROOT  # noqa: E402

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "archdsl", "lsp"])


def capabilities() -> types.ClientCapabilities:
    return client_capabilities("visual-studio-code")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    """A client connected to a fresh server, initialized as VS Code would."""

    @lsp_client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def _inlay_refresh(params):
        return None

    @lsp_client.feature(types.WORKSPACE_SEMANTIC_TOKENS_REFRESH)
    def _tokens_refresh(params):
        return None

    listen(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(capabilities=capabilities(),
                                                               root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


def listen(client: LanguageClient) -> None:
    """Keep every publishDiagnostics (with its version) in `client.published`, none missed between waits."""
    client.published = []

    def received(future) -> None:
        if future.cancelled() or future.exception() is not None:  # the server has exited
            return
        client.published.append(future.result())
        wait()

    def wait() -> None:
        client.protocol.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS).add_done_callback(received)

    wait()


class Document:
    """An open document: edits bump the version, and each waits for that version's diagnostics."""

    def __init__(self, client: LanguageClient, path: Path, text: str | None = None):
        self.client, self.path = client, Path(path)
        self.uri = self.path.resolve().as_uri()
        self.text = text if text is not None else self.path.read_text()
        self.version = 1

    async def open(self) -> list[types.Diagnostic]:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=self.uri, language_id="archdsl", version=self.version, text=self.text)))
        return await self.diagnostics()

    async def replace(self, text: str) -> list[types.Diagnostic]:
        """Replace the whole text (as one full-document change)."""
        self.version += 1
        self.text = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return await self.diagnostics()

    async def diagnostics(self, timeout: float = 60) -> list[types.Diagnostic]:
        """The diagnostics published for the current version."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for params in reversed(self.client.published):
                if params.uri == self.uri and params.version == self.version:
                    return list(params.diagnostics)
            await asyncio.sleep(0.01)
        raise TimeoutError(f"no diagnostics for {self.path.name} version {self.version} in {timeout} s")

    def position(self, needle: str, offset: int = 0, occurrence: int = 0) -> types.Position:
        """The position of the `occurrence`-th `needle` in the text, plus `offset` characters."""
        index = -1
        for _ in range(occurrence + 1):
            index = self.text.index(needle, index + 1)
        index += offset
        line = self.text.count("\n", 0, index)
        return types.Position(line=line, character=index - (self.text.rfind("\n", 0, index) + 1))

    async def hints(self, first: int = 0, last: int | None = None) -> list[types.InlayHint]:
        last = self.text.count("\n") + 1 if last is None else last
        return await self.client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            range=types.Range(start=types.Position(line=first, character=0),
                              end=types.Position(line=last, character=0)))) or []

    async def hover(self, position: types.Position) -> str:
        result = await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri), position=position))
        return result.contents.value if result is not None else ""

    def identifier(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri)


def hint_lines(document: Document, hints: list[types.InlayHint]) -> dict[int, list[str]]:
    """Hint labels by 1-based line."""
    found: dict[int, list[str]] = {}
    for hint in hints:
        found.setdefault(hint.position.line + 1, []).append(hint.label if isinstance(hint.label, str) else
                                                            "".join(p.value for p in hint.label))
    return found
