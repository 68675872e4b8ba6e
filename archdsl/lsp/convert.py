"""Between the language's positions (1-based lines, code-point columns, `Span`) and the protocol's (0-based
lines, columns in the encoding negotiated with the client, UTF-16 by default), and between files and URIs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..source import Span
from .analysis import path_of


class Positions:
    """Conversions for one file's lines under the client's position encoding."""

    def __init__(self, lines: list[str], codec: PositionCodec):
        self.lines, self.codec = lines, codec

    def position(self, line: int, col: int) -> types.Position:
        """1-based line and code-point column -> protocol position."""
        line0 = max(line - 1, 0)
        if line0 >= len(self.lines):
            return types.Position(line=max(len(self.lines) - 1, 0), character=0)
        text = self.lines[line0]
        return types.Position(line=line0, character=self.codec.client_num_units(text[:max(col - 1, 0)]))

    def range(self, span: Span) -> types.Range:
        return types.Range(start=self.position(span.line, span.col), end=self.position(span.end_line, span.end_col))

    def from_client(self, position: types.Position) -> tuple[int, int]:
        """Protocol position -> 1-based line and code-point column."""
        if position.line >= len(self.lines):
            return position.line + 1, 1
        server = self.codec.position_from_client_units(self.lines, types.Position(line=position.line,
                                                                                   character=position.character))
        return server.line + 1, server.character + 1


def uri_of(file: str, analysis=None) -> str | None:
    """The URI of the file behind a span's display name."""
    path = path_of(file, analysis)
    return path.resolve().as_uri() if path is not None else None


def path_of_uri(uri: str) -> Path:
    """A `file:` URI -> its path; another scheme (an unsaved `untitled:` buffer) -> a name in the current folder."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path.cwd() / (Path(unquote(parsed.path)).name or "untitled.arch")


class Context:
    """An analysis with the client's position encoding: positions and locations in any file."""

    def __init__(self, analysis, codec: PositionCodec):
        from .analysis import read_lines

        self.analysis, self.codec = analysis, codec
        self.here = Positions(analysis.lines, codec)
        self._positions: dict[str, Positions] = {analysis.name: self.here}
        self._read = read_lines

    def positions(self, file: str) -> Positions:
        if file not in self._positions:
            self._positions[file] = Positions(self._read(file, self.analysis), self.codec)
        return self._positions[file]

    def location(self, span: Span) -> types.Location | None:
        uri = self.analysis.uri if span.file == self.analysis.name and self.analysis.uri else \
            uri_of(span.file, self.analysis)
        return types.Location(uri=uri, range=self.positions(span.file).range(span)) if uri else None

    def at(self, position: types.Position) -> tuple[int, int]:
        return self.here.from_client(position)
