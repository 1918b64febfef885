"""How shapes, per-dimension values, counts and bytes are written, once for every command.

A leaf module: it imports nothing of cnncalc, so layers, renderers, ``execute`` and the
tutor can all use it without importing one another.
"""

from __future__ import annotations

UNITS = ("", " K", " M", " G", " T", " P", " E")
BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def shape_text(shape: tuple[int, ...] | None) -> str:
    """A shape as PyTorch prints it, ``[1, 6, 28, 28]``; ``-`` for none."""
    return "-" if shape is None else "[" + ", ".join(map(str, shape)) + "]"


def dims_text(values: tuple[int, ...] | None, joiner: str = "×") -> str:
    """Per-dimension values: ``3×3`` (``3x3`` with ``joiner="x"``); empty for none."""
    return "" if values is None else joiner.join(map(str, values))


def human(n: int | float) -> str:
    """Three significant figures with a unit: ``25.6 M``, ``4.09 G``, ``138 M``, ``950``."""
    value = float(n)
    unit = 0
    while abs(value) >= 999.5 and unit < len(UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{int(n):,}" if float(n).is_integer() else f"{n:.3g}"
    decimals = max(0, 3 - len(str(int(abs(value)))))
    return f"{value:.{decimals}f}{UNITS[unit]}"


def with_human(n: int) -> str:
    """``25,557,032 (25.6 M)``; small numbers need no second spelling."""
    return f"{n:,} ({human(n)})" if abs(n) >= 1000 else f"{n:,}"


def human_bytes(n: int) -> str:
    """Bytes in powers of 1024: ``97.5 MiB``, ``512 B``."""
    value, unit = float(n), 0
    while value >= 1023.5 and unit < len(BYTE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{int(value)} B" if unit == 0 else f"{value:.3g} {BYTE_UNITS[unit]}"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide characters take two, combining marks none."""
    from .tables import width

    return width(text)


def table(headers: tuple[str, ...], rows: list[list[object]], markdown: bool = False) -> str:
    """Left-aligned columns, each as wide as its widest cell or its header plus two: plain
    (headers over a dashed rule, two spaces between columns, no trailing blanks) or a GitHub
    markdown table, as one string; ``tables.format_table`` writes it (the one table printer,
    which streams large tables)."""
    from .tables import format_table

    return "".join(format_table(headers, lambda: rows, markdown))
