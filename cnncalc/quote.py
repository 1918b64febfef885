"""Bounded quotes of what the user wrote, for error messages.

An error repeats the offending text so the user can find it, but never all of it: a
megabyte-long type name must not become a two-megabyte message. Every error that echoes
user text goes through ``quote`` (a value as Python's ``repr`` writes it) or ``excerpt``
(text as it is): at most ``EXCERPT_CHARS`` characters of it, then ``…`` and the full length.
"""

from __future__ import annotations

from typing import Any

EXCERPT_CHARS = 60
PATH_CHARS = 200
"""A layer's dotted path is made of names the user gave and of generated ones, and deep
models have long ones (``encoder.stage3.block2.conv2.activation``): it keeps more."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` itself when it has at most ``limit`` characters; else its first ``limit``
    characters, ``…`` and its length: ``conv2dconv2d… (1,000,000 characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quote(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)``, bounded: a long string keeps its quotes around the excerpt
    (``'aaaa…' (1,000,000 characters)``); any other long value is cut at ``limit``
    characters of its repr."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit] + '…'!r} ({len(value):,} characters)"
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"
