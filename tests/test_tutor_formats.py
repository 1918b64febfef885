"""The single-layer commands' CSV, and ``layers --format csv``: whole outputs, read back."""

from __future__ import annotations

import csv
import io

from conftest import outcome


def rows(*args: str) -> list[dict[str, str]]:
    code, out, err = outcome(*args, "--format", "csv")
    assert (code, err) == (0, ""), err
    return list(csv.DictReader(io.StringIO(out)))


def test_conv_csv_is_one_row_a_dimension() -> None:
    table = rows("conv", "--input", "6x5", "--kernel", "3", "--stride", "2")
    assert [(r["dimension"], r["output"], r["first_window"], r["last_window"], r["uncovered"])
            for r in table] == [("1", str((6 - 3) // 2 + 1), "0..2", "2..4", "5..5"),
                                ("2", str((5 - 3) // 2 + 1), "0..2", "2..4", "")]  # fmt: skip
    assert table[0]["formula"] == "floor((6 + 2·0 − 1·(3 − 1) − 1) / 2) + 1 = floor(1.5) + 1 = 2"
    assert (table[0]["ceil_mode"], table[0]["output_padding"], table[1]["rounding"]) == (
        "false",
        "",
        "exact",
    )


def test_solve_csv_lists_each_dimension_s_combinations() -> None:
    table = rows("solve", "--input", "8x6", "--output", "4x3", "--max-kernel", "2")
    assert [tuple(r.values()) for r in table] == [
        ("1", "8", "4", "1", "2", "0", "1"),  # (8 - 1) // 2 + 1 = 4
        ("1", "8", "4", "2", "2", "0", "1"),  # (8 - 2) // 2 + 1 = 4
        ("2", "6", "3", "1", "2", "0", "1"),  # (6 - 1) // 2 + 1 = 3
        ("2", "6", "3", "2", "2", "0", "1"),  # (6 - 2) // 2 + 1 = 3
        ("2", "6", "3", "2", "3", "1", "1"),  # (6 + 2 - 2) // 3 + 1 = 3
    ]
    assert list(table[0]) == [
        "dimension",
        "input",
        "output",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
    ]


def test_explain_csv_is_one_row_an_output_element() -> None:
    table = rows("explain", "--values", "0..4", "--weight", "1,2")
    assert [tuple(r.values()) for r in table] == [
        ("[0]", "0·1 + 1·2 = 2", "2"), ("[1]", "1·1 + 2·2 = 5", "5"),
        ("[2]", "2·1 + 3·2 = 8", "8"), ("[3]", "3·1 + 4·2 = 11", "11"),
    ]  # fmt: skip


def test_layers_csv_has_every_type() -> None:
    table = rows("layers")
    conv = next(r for r in table if r["type"] == "conv2d")
    assert conv["positional"].split(";")[:2] == ["out_channels", "kernel_size"]
    assert "[in_channels: inferred]" in conv["arguments"].split(";")
    assert {r["type"] for r in table} >= {"conv1d", "maxpool3d", "layernorm", "prelu"}
    assert (conv["flops"], next(r for r in table if r["type"] == "tanh")["flops"]) == (
        "1 per output element with a bias", "1 per output element",
    )
