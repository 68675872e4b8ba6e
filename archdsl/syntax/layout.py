"""The output lines of the formatter, and where the author's comments and blank lines go among them.

`Layout` writes lines; the printers (`print_expr.py`, `printer.py`) decide what goes on them. Each time a
printer starts a line for a node, the comments that stood before the node in the source are emitted first: one
that had a line of its own gets a line of its own, at the node's indentation; one that followed code goes back
to the end of the line printed before it. One blank line is kept where the source had one or more.

To decide whether something fits on one line, a printer renders it in measuring mode (`measure`, `fits`):
everything is written onto the current line, and starting a new line raises `MustBreak`.
"""

from __future__ import annotations

from bisect import bisect_right

from .trivia import Trivia

INDENT = 4
WIDTH = 120  # longer lines are broken at their outermost bracket, where there is one


class MustBreak(Exception):
    """Raised while measuring a one-line rendering of something that cannot be on one line."""


class Layout:
    def __init__(self, trivia: Trivia):
        self.trivia = trivia
        self.comments = trivia.comments
        self.comment_offsets = [c.offset for c in trivia.comments]
        self.commented: set[int] = set()  # indices of output lines that end in a comment
        self.next_comment = 0
        self.out: list[str] = []
        self.cur: str | None = None  # the output line being written
        self.cur_indent = 0
        self.consumed = 0  # source offset up to which everything has been printed
        self.measuring = False  # rendering on one line only, to measure it (see `measure`)

    # --- positions of nodes ----------------------------------------------------------------------------------
    def at(self, span) -> int:
        """The offset where `span` starts."""
        return self.trivia.offset(span.line, span.col)

    def start(self, node) -> int:
        label_span = getattr(node, "label_span", None)
        return self.at(label_span if label_span is not None else node.span)

    def end(self, node) -> int:
        """Where `node` ends: its span's end, extended over closing brackets whose opening one is inside it
        (`-(x)`: the span of `x` leaves out the brackets, so the unary's span stops before the `)`)."""
        start = self.at(node.span)
        end = self.trivia.offset(node.span.end_line, node.span.end_col)
        while True:
            after = self.trivia.skip(end)
            if self.trivia.opener.get(after, -1) < start:
                return end
            end = after + 1

    def has_comment(self, lo: int, hi: int) -> bool:
        """Whether a comment not printed yet lies between the offsets."""
        index = max(bisect_right(self.comment_offsets, lo), self.next_comment)
        return index < len(self.comments) and self.comments[index].offset < hi

    def exploded(self, open_at: int, close_at: int, first: int | None, last: int | None) -> bool:
        """Whether a bracketed list was broken after its opening or before its closing bracket."""
        line_of = self.trivia.line_of
        if first is None:
            return self.has_comment(open_at, close_at)
        return (line_of(open_at) != line_of(first) or line_of(last) != line_of(close_at)
                or self.has_comment(open_at, close_at))

    # --- output lines and comments -------------------------------------------------------------------------
    def begin(self, indent: int, offset: int, blank: str = "keep", prefix: str = "") -> None:
        """Start an output line for what the source has at `offset`, after the comments that precede it.

        blank: "keep" one blank line where the source had some, "none" (just inside a brace), "force" one.
        prefix: written into the indentation (`| ` of a combinator branch); comments are not shifted by it.
        """
        if self.measuring:
            raise MustBreak
        if self.cur is not None:
            self.end_line()
        want_blank = blank == "force"
        blank_between = self.trivia.blank_line_between
        while self.next_comment < len(self.comments) and self.comments[self.next_comment].offset < offset:
            comment = self.comments[self.next_comment]
            self.next_comment += 1
            # a comment that followed code goes back to that line, unless the line has a comment already
            if comment.own_line or not self.out or len(self.out) - 1 in self.commented:
                if blank != "none" and blank_between(self.consumed, comment.offset):
                    want_blank = True
                if want_blank and self.out and self.out[-1]:
                    self.out.append("")
                want_blank = False
                self.out.append(" " * indent + comment.text)
                self.commented.add(len(self.out) - 1)
                blank = "keep"
            else:
                self.out[-1] = self.out[-1] + "  " + comment.text
                self.commented.add(len(self.out) - 1)
            self.consumed = comment.offset + len(comment.text)
        if blank == "keep" and blank_between(self.consumed, offset):
            want_blank = True
        if want_blank and self.out and self.out[-1]:
            self.out.append("")
        self.cur, self.cur_indent = " " * (indent - len(prefix)) + prefix, indent
        self.consumed = max(self.consumed, offset)

    def close(self, indent: int, offset: int) -> None:
        """Start the line of a closing bracket; comments just before it stay at the indentation inside."""
        if self.cur is not None:
            self.end_line()
        lines = len(self.out)
        self.begin(indent + INDENT, offset, "none")
        self.cur = None
        if len(self.out) > lines and not self.out[-1]:
            self.out.pop()  # no blank line just before the bracket
        self.begin(indent, offset, "none")

    def write(self, text: str) -> None:
        self.cur += text

    def end_line(self) -> None:
        self.out.append(self.cur.rstrip())
        self.cur = None

    def done(self, offset: int) -> None:
        self.consumed = max(self.consumed, offset)

    def finish(self) -> str:
        """The text: the comments after the last node, then no trailing blank lines."""
        self.begin(0, self.trivia.end)
        self.cur = None
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(self.out) + "\n" if self.out else ""

    # --- measuring -----------------------------------------------------------------------------------------
    def measure(self, render) -> str | None:
        """What `render()` writes when everything stays on one line, or None when something must break."""
        saved = (self.cur, self.cur_indent, len(self.out), self.next_comment, self.consumed, self.measuring)
        self.cur, self.measuring = "", True
        try:
            render()
            return self.cur
        except MustBreak:
            return None
        finally:
            self.cur, self.cur_indent, lines, self.next_comment, self.consumed, self.measuring = saved
            del self.out[lines:]

    def fits(self, render, reserve: int = 0) -> bool:
        """Whether `render()` fits on one line after what the current line holds, keeping `reserve` columns."""
        text = self.measure(render)
        return text is not None and len(self.cur) + len(text) + reserve <= WIDTH
