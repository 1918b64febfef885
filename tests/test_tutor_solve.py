"""``cnncalc solve``: every listed combination gives the size (arithmetic and torch), and the
search finds every combination within its bounds."""

from __future__ import annotations

import itertools

import pytest
from conftest import invoke_json, outcome

from cnncalc import arithmetic
from cnncalc.tutor.solve import Combination


def run(*args: str) -> tuple[int, str, str]:
    return outcome("solve", *args)


def run_json(*args: str) -> dict:
    return invoke_json("solve", *args)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def conv_gives(size: int, target: int, c: dict) -> bool:
    k, s, p, d = c["kernel_size"], c["stride"], c["padding"], c["dilation"]
    fits = size + 2 * p >= arithmetic.effective_kernel(k, d)
    return fits and arithmetic.conv_output_size(size, k, s, p, p, d) == target


def transposed_gives(size: int, target: int, c: dict) -> bool:
    k, s, p, d, op = c["kernel_size"], c["stride"], c["padding"], c["dilation"], c["output_padding"]
    allowed = op < max(s, d)
    return allowed and arithmetic.transposed_output_size(size, k, s, p, op, d) == target


# --------------------------------------------------------------------------- answers


def test_224_to_112_lists_the_stride_2_kernels_simplest_first() -> None:
    data = run_json("--input", "224", "--output", "112")
    # stride 2 and padding (k − 1) // 2 for every kernel up to 7: floor((224 + 2p − k) / 2) + 1 = 112
    assert data["solutions"] == [
        {"kernel_size": k, "stride": 2, "padding": (k - 1) // 2, "dilation": 1} for k in range(1, 8)
    ]
    assert data["count"] == 7
    assert data["bounds"] == {
        "kernel_size": [1, 7],
        "stride": [1, 4],
        "dilation": [1, 1],
        "padding": "0..dilation·(kernel_size − 1)",
    }


def test_table_shows_each_combination_with_its_check() -> None:
    code, out, err = run("--input", "224", "--output", "112", "--limit", "3")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "convolutions taking 224 → 112, kernel ≤ 7, stride ≤ 4, dilation 1, padding ≤ d·(k − 1); simplest first"
    )
    assert lines[3].split() == [
        "1",
        "2",
        "0",
        "1",
        *"floor((224 + 2·0 − 1·(1 − 1) − 1) / 2) + 1 = floor(111.5) + 1 = 112".split(),
    ]
    assert lines[5].split() == [
        "3",
        "2",
        "1",
        "1",
        *"floor((224 + 2·1 − 1·(3 − 1) − 1) / 2) + 1 = floor(111.5) + 1 = 112".split(),
    ]
    assert lines[-1] == "3 of 7 combinations shown; --limit 0 shows all"


def test_transposed_lists_the_output_padding_that_hits_the_target() -> None:
    data = run_json("--input", "7", "--output", "14", "--transposed", "--limit", "4")
    assert data["solutions"] == [
        {
            "kernel_size": 1,
            "stride": 2,
            "padding": 0,
            "dilation": 1,
            "output_padding": 1,
        },  # 6·2 + 0 + 1 + 1
        {
            "kernel_size": 2,
            "stride": 2,
            "padding": 0,
            "dilation": 1,
            "output_padding": 0,
        },  # 6·2 + 1 + 0 + 1
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "dilation": 1,
            "output_padding": 1,
        },  # 6·2 − 2 + 2 + 1 + 1
        {
            "kernel_size": 4,
            "stride": 2,
            "padding": 1,
            "dilation": 1,
            "output_padding": 0,
        },  # 6·2 − 2 + 3 + 0 + 1
    ]


def test_same_lists_the_padding_that_keeps_the_size() -> None:
    data = run_json("--input", "10", "--same", "--kernel", "3", "--stride", "2")
    assert data["output"] == [-(-10 // 2)]
    assert data["solutions"] == [{"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1}]
    # TensorFlow's split: total (5 − 1)·2 + 3 − 10 = 1, the odd pad at the end
    assert data["dimensions"][0]["same_padding"] == [
        {"kernel_size": 3, "stride": 2, "dilation": 1, "padding_left": 0, "padding_right": 1}
    ]


def test_same_with_stride_1_gives_half_the_dilated_kernel() -> None:
    data = run_json("--input", "32", "--same", "--max-kernel", "5", "--limit", "0")
    assert data["solutions"] == [
        {"kernel_size": k, "stride": 1, "padding": (k - 1) // 2, "dilation": 1} for k in (1, 3, 5)
    ]
    assert [
        (s["padding_left"], s["padding_right"]) for s in data["dimensions"][0]["same_padding"]
    ] == [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in range(1, 6)]
    code, out, _ = run("--input", "32", "--same", "--kernel", "4")
    assert code == 0
    assert (
        "no combination with kernel 4, stride 1, dilation 1, padding ≤ d·(k − 1) gives 32 → 32"
        in out
    )
    assert out.endswith("padding='same' with kernel 4, stride 1, dilation 1: left 1, right 2\n")


def test_no_combination_is_a_sentence_and_an_empty_list_with_exit_0() -> None:
    code, out, err = run("--input", "10", "--output", "50")
    assert (code, err) == (0, "")
    assert out == (
        "convolutions taking 10 → 50, kernel ≤ 7, stride ≤ 4, dilation 1, padding ≤ d·(k − 1); simplest first\n"
        "no combination with kernel ≤ 7, stride ≤ 4, dilation 1, padding ≤ d·(k − 1) gives 10 → 50; "
        "a larger output needs more padding (--max-padding) or --transposed\n"
    )
    data = run_json("--input", "10", "--output", "50")
    assert (data["solutions"], data["count"]) == ([], 0)


def test_several_dimensions_are_solved_one_at_a_time() -> None:
    data = run_json("--input", "224x100", "--output", "112x50", "--limit", "0")
    first, second = data["dimensions"]
    assert (first["input"], first["output"], second["input"], second["output"]) == (
        224,
        112,
        100,
        50,
    )
    assert all(conv_gives(224, 112, c) for c in first["solutions"])
    assert all(conv_gives(100, 50, c) for c in second["solutions"])
    assert data["solutions"] == [c for c in first["solutions"] if c in second["solutions"]]
    code, out, _ = run("--input", "224x100", "--output", "112x50")
    assert "each dimension is solved on its own; give the values per dimension (e.g. 3x5)" in out
    assert "dimension 2: 100 → 50" in out

    code, out, _ = run("--input", "224x224", "--output", "112x112")
    assert out.splitlines()[1] == "every dimension is 224 → 112, so one list serves them all"


def test_solutions_are_ordered_by_simplicity() -> None:
    data = run_json(
        "--input",
        "31",
        "--output",
        "16",
        "--max-dilation",
        "3",
        "--max-padding",
        "6",
        "--limit",
        "0",
    )
    combos = [Combination(**c) for c in data["solutions"]]
    assert combos == sorted(combos, key=Combination.simplicity)
    assert combos[0] == Combination(1, 2, 0, 1)
    assert combos[-1].dilation == 3


# --------------------------------------------------------------------------- brute force

BOUNDS = {"max_kernel": 5, "max_stride": 3, "max_dilation": 2, "max_padding": 4}


def brute_force(size: int, target: int, transposed: bool) -> set[tuple[int, ...]]:
    found = set()
    for k, s, d, p in itertools.product(
        range(1, BOUNDS["max_kernel"] + 1),
        range(1, BOUNDS["max_stride"] + 1),
        range(1, BOUNDS["max_dilation"] + 1),
        range(0, BOUNDS["max_padding"] + 1),
    ):
        if transposed:
            for op in range(max(s, d)):
                if arithmetic.transposed_output_size(size, k, s, p, op, d) == target:
                    found.add((k, s, p, d, op))
        elif size + 2 * p >= arithmetic.effective_kernel(k, d):
            if arithmetic.conv_output_size(size, k, s, p, p, d) == target:
                found.add((k, s, p, d))
    return found


def bounded_args() -> list[str]:
    return [
        arg for name, value in BOUNDS.items() for arg in (f"--{name.replace('_', '-')}", str(value))
    ]


@pytest.mark.parametrize("transposed", [False, True])
def test_solve_finds_every_combination_within_the_bounds(transposed: bool) -> None:
    flags = ["--transposed"] if transposed else []
    for size in range(1, 13):
        for target in range(1, 13 if not transposed else 25):
            data = run_json(
                "--input",
                str(size),
                "--output",
                str(target),
                *bounded_args(),
                *flags,
                "--limit",
                "0",
            )
            listed = [tuple(c.values()) for c in data["solutions"]]
            assert len(listed) == len(set(listed))
            assert set(listed) == brute_force(size, target, transposed), (size, target)


def test_default_padding_bound_is_the_dilated_kernel_minus_one() -> None:
    data = run_json("--input", "5", "--output", "5", "--max-dilation", "2", "--limit", "0")
    assert data["solutions"]
    assert all(c["padding"] <= c["dilation"] * (c["kernel_size"] - 1) for c in data["solutions"])
    assert {(c["kernel_size"], c["dilation"], c["padding"]) for c in data["solutions"]} >= {
        (3, 1, 1),
        (3, 2, 2),
        (5, 1, 2),
    }


# --------------------------------------------------------------------------- torch

TORCH_QUESTIONS = [
    ("224", "112", []),
    ("32", "16", ["--max-dilation", "2"]),
    ("28", "28", ["--max-dilation", "3", "--max-stride", "1"]),
    ("15", "4", ["--max-padding", "2"]),
]


@pytest.mark.parametrize("size, target, extra", TORCH_QUESTIONS)
def test_every_conv_solution_gives_the_size_in_torch(
    torch, size: str, target: str, extra: list[str]
) -> None:
    data = run_json(
        "--input", f"{size}x{size}", "--output", f"{target}x{target}", *extra, "--limit", "0"
    )
    assert data["solutions"]
    x = torch.randn(1, 1, int(size), int(size))
    with torch.no_grad():
        for c in data["solutions"]:
            assert conv_gives(int(size), int(target), c)
            layer = torch.nn.Conv2d(
                1, 1, c["kernel_size"], c["stride"], c["padding"], c["dilation"]
            )
            assert list(layer(x).shape[2:]) == [int(target)] * 2, c


@pytest.mark.parametrize(
    "size, target, extra", [("7", "14", []), ("4", "9", ["--max-dilation", "3"]), ("1", "7", [])]
)
def test_every_transposed_solution_gives_the_size_in_torch(
    torch, size: str, target: str, extra: list[str]
) -> None:
    data = run_json("--input", size, "--output", target, "--transposed", *extra, "--limit", "0")
    assert data["solutions"]
    x = torch.randn(1, 1, int(size), int(size))
    with torch.no_grad():
        for c in data["solutions"]:
            assert transposed_gives(int(size), int(target), c)
            layer = torch.nn.ConvTranspose2d(
                1,
                1,
                c["kernel_size"],
                c["stride"],
                c["padding"],
                c["output_padding"],
                dilation=c["dilation"],
            )
            assert list(layer(x).shape[2:]) == [int(target)] * 2, c


def test_same_padding_split_gives_ceil_in_over_stride_in_torch(torch) -> None:
    import torch.nn.functional as F

    data = run_json(
        "--input", "11", "--same", "--stride", "3", "--max-kernel", "6", "--max-dilation", "2"
    )
    x = torch.randn(1, 1, 11)
    for same in data["dimensions"][0]["same_padding"]:
        padded = F.pad(x, (same["padding_left"], same["padding_right"]))
        w = torch.randn(1, 1, same["kernel_size"])
        out = F.conv1d(padded, w, stride=same["stride"], dilation=same["dilation"])
        assert out.shape[-1] == -(-11 // 3), same


# --------------------------------------------------------------------------- refusals

# Library refusals are the layer type's own words where a layer refuses; option
# mistakes are click's usage errors.
REFUSALS = [
    (["--input", "224"], "Error: give the wanted size with --output SIZES, or ask for --same"),
    (
        ["--input", "224", "--same", "--output", "3"],
        "Error: --same chooses the output size itself (ceil(input / stride)); drop --output",
    ),
    (
        ["--input", "224", "--same", "--transposed"],
        "Error: --same is for convolutions; drop --transposed",
    ),
    (
        ["--input", "224x224", "--output", "112"],
        "error: input has 2 dimensions but output has 1; give one size per dimension",
    ),
    (
        ["--input", "224", "--output", "0"],
        "Error: Invalid value for '--output': --output sizes must be integers >= 1, got 0 in [0]",
    ),
    (
        ["--input", "224", "--output", "112", "--max-kernel", "0"],
        "Error: Invalid value for '--max-kernel': 0 is not in the range x>=1.",
    ),
    (
        ["--input", "224", "--output", "112", "--max-kernel", "2000", "--max-stride", "1000"],
        "error: the search would try 2,000,000 (kernel, stride, dilation) triples, more than 1,000,000; lower --max-kernel, --max-stride or --max-dilation",
    ),
    (
        ["--input", "224", "--output", "x"],
        "Error: Invalid value for '--output': --output must look like 3x224x224 or 3,224,224, got 'x'",
    ),
]


@pytest.mark.parametrize("args, message", REFUSALS)
def test_refusals_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.endswith(f"{message}\n")
