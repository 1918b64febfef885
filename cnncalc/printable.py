"""Text that is safe to show on a terminal.

Names, file names and values come from the user's files and command line; printed raw, an
escape sequence in them (ESC/CSI/OSC, BEL, a bidi override such as U+202E, a newline)
would move the cursor, retitle the terminal, reorder what is shown or fake a line of
output. Every text bound for a table, markdown or an error message goes through
``printable``, which shows each such character as an escape instead.
"""

from __future__ import annotations

SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(char: str) -> str:
    """``\\n``, ``\\r``, ``\\t``; else ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` by code point."""
    short = SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable escaped.

    Not printable is Python's ``str.isprintable`` rule: Unicode's "Other" categories
    (controls C0 and C1, DEL, format characters such as the bidi overrides and zero-width
    characters, surrogates, private use, unassigned) and the separators other than the
    ASCII space (line and paragraph separators, no-break and other spaces).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else escape(char) for char in text)


def printable_lines(text: str) -> str:
    """``printable`` for each line of a message that has several, its line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))
