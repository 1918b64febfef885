"""Writing a picture to a file whole or not at all: into a temporary file beside it, then
renamed over it, so an interrupted or failed run never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

KINDS = {".svg": "svg", ".html": "html", ".htm": "html"}


def output_kind(path: str) -> str:
    """``svg`` or ``html`` from the file name (``-`` is SVG on standard output); raises
    ValueError naming the extension and the ones accepted."""
    if path == "-":
        return "svg"
    suffix = Path(path).suffix.lower()
    if suffix not in KINDS:
        shown = f"extension {suffix!r}" if suffix else "no extension"
        raise ValueError(f"-o {path}: {shown}; use .svg or .html (or - for SVG on standard output)")
    return KINDS[suffix]


def write_atomically(path: str, pieces: Iterable[str]) -> None:
    """Write ``pieces`` to ``path`` through a temporary file in the same directory and a
    rename; raises OSError (the temporary file removed) where that fails."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise IsADirectoryError(21, "is a directory", str(target))
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            for piece in pieces:
                out.write(piece)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
