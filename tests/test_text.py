"""The leaf formatters: the table printer gives, cell for cell, what tabulate's ``simple``
and ``github`` formats give, on every shipped config and on awkward cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from tabulate import tabulate

from cnncalc import analyse, load_model
from cnncalc.render import flat_headers, table_rows
from cnncalc.text import display_width, human_bytes, shape_text, table, with_human

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
@pytest.mark.parametrize("view", ["shapes", "params"])
def test_tables_are_what_tabulate_prints(path: Path, view: str) -> None:
    report = analyse(load_model(str(path)))
    rows = list(table_rows(report, view, None))
    columns = flat_headers(view)
    for markdown, tablefmt in ((False, "simple"), (True, "github")):
        expected = tabulate(rows, headers=columns, tablefmt=tablefmt, disable_numparse=True)
        assert table(columns, rows, markdown) == expected


def test_wide_and_empty_cells_align_by_their_terminal_columns() -> None:
    """A wide character takes two columns and a combining mark none (tabulate does the
    same only where the optional wcwidth package is installed, so the expected tables are
    written out)."""
    rows = [["名前", "", "x"], ["a", "×3", ""], ["e\u0301", "b", "long cell"]]
    headers = ("n", "middle", "last")
    assert table(headers, rows) == (
        "n     middle    last\n"
        "----  --------  ---------\n"
        "名前            x\n"
        "a     ×3\n"
        "e\u0301     b         long cell"
    )
    assert table(headers, rows, True) == (
        "| n    | middle   | last      |\n"
        "|------|----------|-----------|\n"
        "| 名前 |          | x         |\n"
        "| a    | ×3       |           |\n"
        "| e\u0301    | b        | long cell |"
    )
    assert table(headers, []) == "n    middle    last\n---  --------  ------"
    assert (display_width("名前"), display_width("e\u0301"), display_width("3×3")) == (4, 1, 3)


def test_shapes_counts_and_bytes() -> None:
    assert shape_text((1, 6, 28, 28)) == "[1, 6, 28, 28]" and shape_text(None) == "-"
    assert with_human(25_557_032) == "25,557,032 (25.6 M)" and with_human(999) == "999"
    assert human_bytes(512) == "512 B" and human_bytes(97 * 1024**2 + 512 * 1024) == "97.5 MiB"
