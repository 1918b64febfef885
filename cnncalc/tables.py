"""Plain-text and GitHub-markdown tables, streamed in two passes over the rows.

The layout is tabulate's ``simple`` and ``github`` formats with every column left-aligned
(what ``disable_numparse=True`` gives), byte for byte on ASCII text; tabulate itself builds
the whole table as one string from every row at once, which for 250,000 rows costs seconds
and hundreds of MiB. Here the first pass measures the columns and the second writes the
lines, so memory does not grow with the rows. Each cell goes through ``printable``, and in
markdown a ``|`` in a cell is escaped as ``\\|``.
"""

from __future__ import annotations

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


def cell_text(value: Any, markdown: bool) -> str:
    text = printable(str(value))
    return text.replace("|", "\\|") if markdown else text


def pad(text: str, size: int) -> str:
    return text.ljust(size + len(text) - width(text)) if not text.isascii() else text.ljust(size)


def format_table(
    headers: Sequence[str], rows: Callable[[], Iterable[Sequence[Any]]], markdown: bool
) -> Iterator[str]:
    """The table as pieces of text, each a run of whole lines, the last without its final
    newline (as tabulate returns it). ``rows`` is called twice and must give the same rows
    each time. Column width: the widest cell, at least the header plus two."""
    heads = [cell_text(h, markdown) for h in headers]
    widths = [width(h) + 2 for h in heads]
    for cells in rows():
        for i, value in enumerate(cells):
            size = width(cell_text(value, markdown))
            if size > widths[i]:
                widths[i] = size
    line = markdown_line if markdown else simple_line
    rule = (
        "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        if markdown
        else "  ".join("-" * w for w in widths)
    )
    lines = [line(heads, widths), rule]
    lead = ""  # a piece after the first starts the line after the previous piece's last
    for cells in rows():
        lines.append(line([cell_text(v, markdown) for v in cells], widths))
        if len(lines) >= CHUNK:
            yield lead + "\n".join(lines)
            lines, lead = [], "\n"
    if lines:
        yield lead + "\n".join(lines)


def simple_line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(pad(c, w) for c, w in zip(cells, widths)).rstrip()


def markdown_line(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(pad(c, w) for c, w in zip(cells, widths)) + " |"
