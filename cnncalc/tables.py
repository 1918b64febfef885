"""Plain-text and GitHub-markdown tables, streamed in two passes over the rows.

The layout is tabulate's ``simple`` and ``github`` formats with every column left-aligned
(what ``disable_numparse=True`` gives), byte for byte on text that needs no escaping and
whose characters are one column each (ASCII, ``×``, Latin letters); tabulate itself builds
the whole table as one string from every row at once, which for 250,000 rows costs seconds
and hundreds of MiB. Here the first pass measures the columns and the second writes the
lines, so memory does not grow with the rows. Each cell goes through ``printable``, and in
markdown a ``|`` in a cell is escaped as ``\\|``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .printable import printable

CHUNK = 2000  # lines joined into one piece of output


def width(text: str) -> int:
    """Terminal columns of ``text``: wide East Asian characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


class Cells:
    """Cell texts and their widths, the widths of repeated non-ASCII texts (``3×3``,
    shapes) remembered, since measuring them is most of the cost of a large table."""

    LIMIT = 65536  # texts remembered before starting afresh

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.widths: dict[str, int] = {}

    def text(self, value: Any) -> str:
        text = printable(value if type(value) is str else str(value))
        return text.replace("|", "\\|") if self.markdown and "|" in text else text

    def width(self, text: str) -> int:
        if text.isascii():
            return len(text)
        known = self.widths.get(text)
        if known is None:
            if len(self.widths) >= self.LIMIT:
                self.widths.clear()
            known = self.widths[text] = width(text)
        return known

    def pad(self, text: str, size: int) -> str:
        if text.isascii():
            return text.ljust(size)
        return text.ljust(size + len(text) - self.width(text))


# A character that may not be one column: from the first combining mark (U+0300) up, except
# those cnncalc itself writes, each one column (the tree's lines, ×, –, …).
NOT_NARROW = re.compile("[^\u0000-\u02ff│├└─×–…]")


def format_table(
    headers: Sequence[str], rows: Callable[[], Iterable[Sequence[Any]]], markdown: bool
) -> Iterator[str]:
    """The table as pieces of text, each a run of whole lines, the last without its final
    newline (as tabulate returns it). ``rows`` is called twice and must give the same rows
    each time. Column width: the widest cell, at least the header plus two.

    Most rows need no escaping and are one column a character; one test on the row's
    joined text finds those, whose widths are their lengths (the fast path)."""
    cells = Cells(markdown)
    text, measure, pad = cells.text, cells.width, cells.pad

    def plain(row: Sequence[Any]) -> list[str] | None:
        """The row's texts where they print as they are, one column a character."""
        texts = [v if type(v) is str else str(v) for v in row]
        joined = "".join(texts)
        if not joined.isprintable() or (markdown and "|" in joined):
            return None
        return texts if joined.isascii() or NOT_NARROW.search(joined) is None else None

    heads = [text(h) for h in headers]
    widths = [measure(h) + 2 for h in heads]
    for row in rows():
        texts = plain(row)
        sizes = map(len, texts) if texts is not None else (measure(text(v)) for v in row)
        widths = list(map(max, widths, sizes))
    if markdown:
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"

        def line(row: Sequence[Any]) -> str:
            texts = plain(row)
            if texts is not None:
                return "| " + " | ".join(map(str.ljust, texts, widths)) + " |"
            return "| " + " | ".join([pad(text(v), w) for v, w in zip(row, widths)]) + " |"
    else:
        rule = "  ".join("-" * w for w in widths)

        def line(row: Sequence[Any]) -> str:
            texts = plain(row)
            if texts is not None:
                return "  ".join(map(str.ljust, texts, widths)).rstrip()
            return "  ".join([pad(text(v), w) for v, w in zip(row, widths)]).rstrip()

    lines = [line(headers), rule]
    lead = ""  # a piece after the first starts the line after the previous piece's last
    for row in rows():
        lines.append(line(row))
        if len(lines) >= CHUNK:
            yield lead + "\n".join(lines)
            lines, lead = [], "\n"
    if lines:
        yield lead + "\n".join(lines)
