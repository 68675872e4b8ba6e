"""Source files and spans: the one place where positions are represented, and the map of one compilation's
sources that renderers read their snippets from.

There is no process-wide cache of sources: a `SourceMap` belongs to whoever loaded the files (the loader of
one compilation), and travels with the errors and reports that point into it. Checking `d1/net.arch`, then
`d2/net.arch` in another folder, keeps each error with its own text even though both display as `net.arch`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from pydantic import ConfigDict

from .frozen import Frozen


class Span(Frozen):
    """A region of a source file; lines and columns are 1-based, `end_col` is exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Source:
    """The text of one `.arch` file, with its display name (what spans and diagnostics call it)."""

    def __init__(self, name: str, text: str, path: Path | None = None):
        self.name = name
        self.text = text
        self.path = path
        # split on "\n" only, as the parser counts lines (splitlines() would also split on \f, \x1c, U+2028...)
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def span(self, line: int, col: int, end_line: int | None = None, end_col: int | None = None) -> Span:
        return Span(file=self.name, line=line, col=col,
                    end_line=end_line if end_line is not None else line,
                    end_col=end_col if end_col is not None else col + 1)


def file_key(path: Path) -> str:
    """The unique key of a file: its resolved path (two display names may share one, never two files)."""
    return str(Path(path).resolve())


class SourceMap:
    """The sources one compilation read, by the display name that spans carry, each with a unique key (a
    file's resolved path) that tells whether two sources of the same name are one file or two.

    A display name stands for one source only. The loader picks names so that this holds within one
    compilation; when maps of several compilations are merged (a report over many files) and two different
    sources claim one name, that name is dropped: its diagnostics are shown without a snippet rather than
    with another file's text.

    >>> sources = SourceMap.of(Source("net.arch", "network n() { relu }"), key="/d1/net.arch")
    >>> sources.get("net.arch").line(1)
    'network n() { relu }'
    >>> sources.update(SourceMap.of(Source("net.arch", "other text"), key="/d2/net.arch"))
    >>> sources.get("net.arch") is None
    True
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, Source] | None] = {}  # name -> (key, source); None: claimed twice

    @classmethod
    def of(cls, *sources: Source, key: str | None = None) -> "SourceMap":
        """A map of the given sources (`key` only with a single source)."""
        result = cls()
        for source in sources:
            result.add(source, key)
        return result

    @staticmethod
    def key_of(source: Source) -> str:
        """A file's key (`file_key`), or the name of a source that is no file (`<stdin>`, the standard library)."""
        return file_key(source.path) if source.path is not None else source.name

    def add(self, source: Source, key: str | None = None) -> Source:
        """Record `source` (replacing an earlier text of the same key); returns it."""
        key = key or self.key_of(source)
        self._entries[source.name] = (key, source) if self.name_is_free(source.name, key) else None
        return source

    def update(self, other: "SourceMap") -> None:
        """Add every source of `other`; a name that two different sources claim is dropped (see the class)."""
        for name, entry in other._entries.items():
            mine = self._entries.get(name, entry)
            same = mine is not None and entry is not None and mine[0] == entry[0] and mine[1].text == entry[1].text
            self._entries[name] = mine if same else None

    def get(self, name: str) -> Source | None:
        """The source that spans call `name`, or None when none (or more than one) has that name."""
        entry = self._entries.get(name)
        return entry[1] if entry is not None else None

    def name_is_free(self, name: str, key: str) -> bool:
        """Whether `name` can display the source of `key` without being mistaken for another source."""
        entry = self._entries.get(name, (key, None))
        return entry is not None and entry[0] == key

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[Source]:
        return (entry[1] for entry in self._entries.values() if entry is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"SourceMap({sorted(self._entries)})"
