"""``cnncalc conv``: the worked output-size formula of one layer, checked against torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke_json, outcome

from cnncalc import arithmetic
from cnncalc.tutor.formula import Geometry, uncovered_ranges

REPOSITORY = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    return outcome("conv", *args)


def run_json(*args: str) -> dict:
    return invoke_json("conv", *args)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- the seed example


def test_seed_example_table_is_the_whole_worked_formula() -> None:
    code, out, err = run("--input", "6", "--kernel", "3", "--stride", "2")
    assert (code, err) == (0, "")
    assert out == (
        "convolution, 1 spatial dimension\n"
        "length: input 6, kernel 3, stride 2, padding 0, dilation 1\n"
        "  out = floor((L + 2·p − d·(k − 1) − 1) / s) + 1\n"
        "      = floor((6 + 2·0 − 1·(3 − 1) − 1) / 2) + 1 = floor(1.5) + 1 = 2\n"
        "  3/2 = 1.5 is not whole: floor drops the remainder 1: the last position of the padded"
        " input fits no window\n"
        "  windows: 2; the first covers input 0..2, the last 2..4\n"
        "  input index 5 is never covered\n"
        "output size: 2\n"
    )


def test_seed_example_json() -> None:
    assert run_json("--input", "6", "--kernel", "3", "--stride", "2") == {
        "operation": "conv1d",
        "input_size": [6],
        "output_size": [(6 - 3) // 2 + 1],
        "dimensions": [
            {
                "dimension": 1,
                "input": 6,
                "kernel_size": 3,
                "stride": 2,
                "padding": 0,
                "padding_left": 0,
                "padding_right": 0,
                "dilation": 1,
                "output_padding": None,
                "ceil_mode": False,
                "formula": "floor((6 + 2·0 − 1·(3 − 1) − 1) / 2) + 1 = floor(1.5) + 1 = 2",
                "general_formula": "floor((L + 2·p − d·(k − 1) − 1) / s) + 1",
                "numerator": 6 - 3,
                "quotient": "3/2",
                "rounding": "floor",
                "remainder": (6 - 3) % 2,
                "dropped_last_window": False,
                "output": 2,
                "first_window": [0, 2],
                "last_window": [2, 4],
                "uncovered": [[5, 5]],
                "uncovered_count": 1,
                "notes": [
                    "3/2 = 1.5 is not whole: floor drops the remainder 1: the last position of "
                    "the padded input fits no window",
                    "windows: 2; the first covers input 0..2, the last 2..4",
                ],
            }
        ],
    }


def test_tutorial_six_by_six_with_64_filters_gives_two_by_two() -> None:
    """(3, 6, 6), 3×3, stride 2: (6 − 3)/2 + 1 = 2.5 → 2 in both dimensions."""
    data = run_json("--input", "6x6", "--kernel", "3", "--stride", "2")
    assert data["output_size"] == [2, 2]
    assert [d["quotient"] for d in data["dimensions"]] == ["3/2", "3/2"]


def test_per_dimension_values_and_commas() -> None:
    data = run_json("--input", "224,224", "--kernel", "7x7", "--stride", "2", "--padding", "3")
    assert data["output_size"] == [(224 + 2 * 3 - 7) // 2 + 1] * 2
    assert data["dimensions"][1]["formula"] == (
        "floor((224 + 2·3 − 1·(7 − 1) − 1) / 2) + 1 = floor(111.5) + 1 = 112"
    )
    data = run_json("--input", "8x8", "--kernel", "3", "--stride", "2", "--padding", "1,0")
    assert data["output_size"] == [(8 + 2 - 3) // 2 + 1, (8 - 3) // 2 + 1]


def test_a_quotient_without_an_ending_decimal_is_shown_as_a_fraction() -> None:
    data = run_json("--input", "10", "--kernel", "3", "--stride", "3")
    assert data["dimensions"][0]["formula"] == (
        "floor((10 + 2·0 − 1·(3 − 1) − 1) / 3) + 1 = floor(7/3) + 1 = 3"
    )
    assert data["dimensions"][0]["quotient"] == "7/3"
    assert data["dimensions"][0]["uncovered"] == [[9, 9]]


# --------------------------------------------------------------------------- ceil, transposed, same


def test_ceil_mode_drops_a_last_window_that_starts_in_the_right_padding() -> None:
    """L=5, k=2, s=2, p=1: ceil gives 4 windows, the 4th starts at (4 − 1)·2 − 1 = 5 = L."""
    code, out, err = run(
        "--input", "5", "--kernel", "2", "--stride", "2", "--padding", "1", "--pool", "--ceil"
    )
    assert (code, err) == (0, "")
    assert (
        "= ceil((5 + 2·1 − 1·(2 − 1) − 1) / 2) + 1 = ceil(2.5) + 1 = 4, less the last window = 3\n"
        in out
    )
    assert (
        "  ceil_mode: the last window would start at input index (4 − 1)·2 − 1 = 5, in the right "
        "padding (the input ends at 4); PyTorch drops it: out = 4 − 1 = 3\n"
    ) in out
    assert out.endswith("output size: 3\n")


def test_ceil_mode_keeps_a_last_window_that_starts_inside_the_input() -> None:
    data = run_json(
        "--input", "6", "--kernel", "3", "--stride", "2", "--padding", "1", "--pool", "--ceil"
    )
    dim = data["dimensions"][0]
    assert data["output_size"] == [-(-(6 + 2 - 3) // 2) + 1]
    assert (dim["rounding"], dim["dropped_last_window"]) == ("ceil", False)
    assert dim["notes"][1] == (
        "ceil_mode: the last window starts at input index (4 − 1)·2 − 1 = 5 ≤ 5, inside the "
        "input, so PyTorch keeps it"
    )


def test_transposed_formula_and_the_sizes_output_padding_chooses_between() -> None:
    code, out, err = run(
        "--input",
        "7",
        "--kernel",
        "3",
        "--stride",
        "2",
        "--padding",
        "1",
        "--transposed",
        "--output-padding",
        "1",
    )
    assert (code, err) == (0, "")
    assert "      = (7 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 14\n" in out
    assert "maps every size 13..14 to 7; output_padding (0..1 allowed here) picks one" in out


def test_pool_stride_defaults_to_the_kernel() -> None:
    data = run_json("--input", "4x5", "--kernel", "2", "--pool")
    assert data["output_size"] == [4 // 2, 5 // 2]
    assert data["dimensions"][1]["stride"] == 2
    assert data["dimensions"][1]["uncovered"] == [[4, 4]]


def test_same_padding_with_stride_follows_tensorflow_and_puts_the_odd_pad_last() -> None:
    data = run_json("--input", "224", "--kernel", "3", "--stride", "2", "--padding", "same")
    dim = data["dimensions"][0]
    assert data["output_size"] == [-(-224 // 2)]
    total = (112 - 1) * 2 + 3 - 224
    assert (dim["padding"], dim["padding_left"], dim["padding_right"]) == (
        "same",
        total // 2,
        total - total // 2,
    )


def test_full_and_valid_padding() -> None:
    assert run_json("--input", "5", "--kernel", "3", "--dilation", "2", "--padding", "full")[
        "output_size"
    ] == [5 + 2 * 2 * (3 - 1) - 2 * (3 - 1)]
    assert run_json("--input", "7", "--kernel", "3", "--stride", "2", "--padding", "valid")[
        "output_size"
    ] == [3]


# --------------------------------------------------------------------------- against torch

# (flags, input, kernel, stride, padding, dilation, output_padding, expected output size)
CASES = [
    ("", "6", "3", "2", "0", "1", "0", [(6 - 3) // 2 + 1]),
    ("", "100x100", "3", "1", "0", "1", "0", [100 - 3 + 1] * 2),
    ("", "224x224", "7", "2", "3", "1", "0", [(224 + 6 - 7) // 2 + 1] * 2),
    ("", "8x8", "3", "2", "1,0", "1", "0", [(8 + 2 - 3) // 2 + 1, (8 - 3) // 2 + 1]),
    ("", "10x10", "3", "1", "1", "2", "0", [(10 + 2 - 2 * 2 - 1) // 1 + 1] * 2),
    ("", "5x5", "5", "1", "1", "1", "0", [5 + 2 - 5 + 1] * 2),
    (
        "",
        "2x5x5",
        "1x3x3",
        "1x2x2",
        "0x1x1",
        "1",
        "0",
        [2, (5 + 2 - 3) // 2 + 1, (5 + 2 - 3) // 2 + 1],
    ),
    ("", "5x5", "4x2", "1", "same", "1x3", "0", [5, 5]),
    ("", "9", "2", "1", "same", "3", "0", [9]),
    ("--pool", "8x8", "3", "", "0", "1", "0", [(8 - 3) // 3 + 1] * 2),
    ("--pool", "112x112", "3", "2", "1", "1", "0", [(112 + 2 - 3) // 2 + 1] * 2),
    ("--pool", "10x10", "3", "1", "0", "2", "0", [10 - 2 * 2] * 2),
    ("--pool --ceil", "9x9", "3", "2", "1", "2", "0", [-(-(9 + 2 - 2 * 2 - 1) // 2) + 1] * 2),
    ("--pool --ceil", "5", "2", "2", "1", "1", "0", [3]),  # the 4th window starts in the padding
    ("--pool --ceil", "6", "3", "2", "1", "1", "0", [-(-(6 + 2 - 3) // 2) + 1]),
    ("--pool --ceil", "8", "3", "3", "0", "1", "0", [-(-(8 - 3) // 3) + 1]),
    ("--pool --ceil", "7", "4", "4", "2", "1", "0", [-(-(7 + 4 - 4) // 4) + 1]),
    ("--pool --ceil", "6", "4", "4", "2", "1", "0", [2]),  # (3 − 1)·4 = 8 ≥ 6 + 2: dropped
    ("--pool --ceil", "2", "3", "3", "0", "1", "0", [1]),  # kernel larger than the input
    ("--pool --ceil", "10", "4", "3", "2", "1", "0", [4]),
    ("--transposed", "3", "3", "2", "0", "1", "0", [(3 - 1) * 2 + 3]),
    ("--transposed", "7x7", "3", "2", "1", "1", "1", [(7 - 1) * 2 - 2 + 2 + 1 + 1] * 2),
    ("--transposed", "7x7", "4", "2", "1", "1", "0", [(7 - 1) * 2 - 2 + 3 + 1] * 2),
    ("--transposed", "1x1", "7", "1", "0", "1", "0", [7, 7]),
    ("--transposed", "3", "3", "1", "0", "2", "1", [(3 - 1) + 2 * 2 + 1 + 1]),
    ("--transposed", "3x3x3", "2x3x4", "1x2x3", "0x1x1", "1", "0x1x2", [4, 6, 10]),
]


def case_args(
    flags: str, size: str, kernel: str, stride: str, padding: str, dilation: str, op: str
) -> list[str]:
    args = [
        *flags.split(),
        "--input",
        size,
        "--kernel",
        kernel,
        "--padding",
        padding,
        "--dilation",
        dilation,
    ]
    if stride:
        args += ["--stride", stride]
    if flags == "--transposed":
        args += ["--output-padding", op]
    return args


def torch_output_size(
    torch, flags: str, size: str, kernel: str, stride: str, padding: str, dilation: str, op: str
) -> list[int]:
    """Run the layer in torch on zeros and return its spatial output size."""
    import torch.nn.functional as F

    def ints(text: str, ndim: int) -> tuple[int, ...]:
        values = tuple(int(v) for v in text.replace(",", "x").split("x"))
        return values * ndim if len(values) == 1 else values

    sizes = ints(size, 1)
    nd = len(sizes)
    k = ints(kernel, nd)
    x = torch.zeros(1, 1, *sizes)
    with torch.no_grad():
        if flags.startswith("--pool"):
            pool = getattr(F, f"max_pool{nd}d")
            s = ints(stride, nd) if stride else k
            out = pool(x, k, s, ints(padding, nd), ints(dilation, nd), ceil_mode="--ceil" in flags)
        elif flags == "--transposed":
            w = torch.zeros(1, 1, *k)
            transposed = getattr(F, f"conv_transpose{nd}d")
            out = transposed(
                x, w, None, ints(stride, nd), ints(padding, nd), ints(op, nd), 1, ints(dilation, nd)
            )
        else:
            w = torch.zeros(1, 1, *k)
            pad = padding if padding in ("same", "valid") else ints(padding, nd)
            out = getattr(F, f"conv{nd}d")(x, w, None, ints(stride, nd), pad, ints(dilation, nd))
    return list(out.shape[2:])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("flags, size, kernel, stride, padding, dilation, op, expected", CASES)
def test_output_size_matches_torch(
    torch, flags, size, kernel, stride, padding, dilation, op, expected
) -> None:
    data = run_json(*case_args(flags, size, kernel, stride, padding, dilation, op))
    assert data["output_size"] == expected
    assert torch_output_size(torch, flags, size, kernel, stride, padding, dilation, op) == expected


def test_same_padding_with_stride_matches_explicit_padding_in_torch(torch) -> None:
    import torch.nn.functional as F

    data = run_json(
        "--input",
        "10x7",
        "--kernel",
        "4x3",
        "--stride",
        "3x2",
        "--dilation",
        "2x1",
        "--padding",
        "same",
    )
    dims = data["dimensions"]
    pads = (
        dims[1]["padding_left"],
        dims[1]["padding_right"],
        dims[0]["padding_left"],
        dims[0]["padding_right"],
    )
    with torch.no_grad():
        out = F.conv2d(
            F.pad(torch.zeros(1, 1, 10, 7), pads),
            torch.zeros(1, 1, 4, 3),
            stride=(3, 2),
            dilation=(2, 1),
        )
    assert data["output_size"] == list(out.shape[2:]) == [-(-10 // 3), -(-7 // 2)]


# --------------------------------------------------------------------------- refusals

# Library refusals are the layer type's own words (``shapes`` says the same: see
# test_one_source.py); option mistakes are click's usage errors.
REFUSALS = [
    (
        ["--input", "3", "--kernel", "5"],
        "error: conv1d kernel is larger than the padded input: padded input 3, kernel 5 (kernel_size 5, dilation 1) on input [1, 1, 3]",
    ),
    (
        ["--input", "4x4", "--kernel", "3", "--dilation", "2"],
        "error: conv2d kernel is larger than the padded input: padded input 4×4, kernel 5×5 (kernel_size 3×3, dilation 2×2) on input [1, 1, 4, 4]",
    ),
    (
        ["--input", "2", "--kernel", "3", "--pool"],
        "error: maxpool1d output size 0 is too small: kernel 3 (dilation 1, padding 0) does not fit the input [1, 1, 2]",
    ),
    (
        ["--input", "8", "--kernel", "2", "--stride", "2", "--padding", "2", "--pool"],
        "error: maxpool1d padding 2 must be at most half the kernel size 2 (kernel_size // 2 = 1)",
    ),
    (
        [
            "--input",
            "8x8",
            "--kernel",
            "2",
            "--stride",
            "1",
            "--padding",
            "2",
            "--dilation",
            "3",
            "--pool",
        ],
        "error: maxpool2d padding 2 must be at most half the kernel size 2 (kernel_size // 2 = 1)",
    ),
    (
        ["--input", "3", "--kernel", "3", "--stride", "2", "--transposed", "--output-padding", "2"],
        "error: conv_transpose1d output_padding 2 must be smaller than either stride 2 or dilation 1",
    ),
    (
        ["--input", "3", "--kernel", "3", "--transposed", "--output-padding", "1"],
        "error: conv_transpose1d output_padding 1 must be smaller than either stride 1 or dilation 1",
    ),
    (
        ["--input", "2x2", "--kernel", "3", "--padding", "3", "--transposed"],
        "error: conv_transpose2d output size -2×-2 is too small for input [1, 1, 2, 2]: (L − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1 must be at least 1",
    ),
    (
        ["--input", "2", "--kernel", "3", "--padding", "2", "--transposed"],
        "error: conv_transpose1d output size 0 is too small for input [1, 1, 2]: (L − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1 must be at least 1",
    ),
    (["--input", "6", "--kernel", "0"], "error: conv1d kernel_size must be >= 1, got 0"),
    (
        ["--input", "6", "--kernel", "3", "--stride", "0"],
        "error: conv1d stride must be >= 1, got 0",
    ),
    (
        ["--input", "6", "--kernel", "3", "--dilation", "0"],
        "error: conv1d dilation must be >= 1, got 0",
    ),
    (
        ["--input", "6", "--kernel", "3", "--padding", "-1"],
        "error: conv1d negative padding -1 is only supported with a padding_mode other than zeros",
    ),
    (
        ["--input", "0", "--kernel", "1"],
        "Error: Invalid value for '--input': --input sizes must be integers >= 1, got 0 in [0]",
    ),
    (
        ["--input", "6", "--kernel", "3x3"],
        "error: conv1d kernel_size must be one integer or a list of 1, got [3, 3]",
    ),
    (
        ["--input", "6x6x6", "--kernel", "3x3"],
        "error: conv3d kernel_size must be one integer or a list of 3, got [3, 3]",
    ),
    (
        ["--input", "1x2x3x4", "--kernel", "1"],
        "error: input must have 1 to 3 spatial dimensions, got 4",
    ),
    (
        ["--input", "6", "--kernel", "3", "--ceil"],
        "error: conv1d has no argument 'ceil_mode'; it takes bias, dilation, groups, in_channels, kernel_size, out_channels, padding, padding_mode, stride",
    ),
    (
        ["--input", "6", "--kernel", "3", "--output-padding", "1"],
        "error: conv1d has no argument 'output_padding' (did you mean padding?); it takes bias, dilation, groups, in_channels, kernel_size, out_channels, padding, padding_mode, stride",
    ),
    (
        ["--input", "6", "--kernel", "3", "--pool", "--transposed"],
        "Error: --pool and --transposed exclude each other",
    ),
    (
        ["--input", "6", "--kernel", "3", "--padding", "same", "--transposed"],
        "error: conv_transpose1d padding must be an integer, got 'same'",
    ),
    (
        ["--input", "6", "--kernel", "2", "--padding", "same", "--pool", "--ceil"],
        "error: maxpool1d ceil_mode cannot be combined with padding 'same'",
    ),
    (
        ["--input", "6", "--kernel", "a"],
        "Error: Invalid value for '--kernel': --kernel must be integers separated by 'x' or ',', got 'a'",
    ),
    (
        ["--input", "6", "--kernel", "3", "--padding", "half"],
        "error: conv1d padding must be an integer, a list of 1 integers or one of valid, same, full, got 'half'",
    ),
]


@pytest.mark.parametrize("args, message", REFUSALS)
def test_refusals_exit_2_with_the_numbers(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.endswith(f"{message}\n")
    assert "Traceback" not in err


TORCH_REFUSALS = [
    ("conv1d", [1, 1, 3], {"kernel_size": 5}),
    ("conv2d", [1, 1, 4, 4], {"kernel_size": 3, "dilation": 2}),
    ("max_pool1d", [1, 1, 2], {"kernel_size": 3}),
    ("max_pool1d", [1, 1, 8], {"kernel_size": 2, "stride": 2, "padding": 2}),
    ("max_pool2d", [1, 1, 8, 8], {"kernel_size": 2, "stride": 1, "padding": 2, "dilation": 3}),
    ("conv_transpose1d", [1, 1, 3], {"kernel_size": 3, "stride": 2, "output_padding": 2}),
    ("conv_transpose1d", [1, 1, 3], {"kernel_size": 3, "output_padding": 1}),
    ("conv_transpose2d", [1, 1, 2, 2], {"kernel_size": 3, "padding": 3}),
]


@pytest.mark.parametrize("op, shape, kwargs", TORCH_REFUSALS)
def test_torch_refuses_the_same_layers(torch, op, shape, kwargs) -> None:
    """The refusals above are PyTorch's own."""
    import torch.nn.functional as F

    x = torch.zeros(*shape)
    kernel = kwargs.pop("kernel_size")
    nd = len(shape) - 2
    with pytest.raises(RuntimeError), torch.no_grad():
        if op.startswith("max_pool"):
            getattr(F, op)(x, kernel, **kwargs)
        else:
            getattr(F, op)(x, torch.zeros(1, 1, *([kernel] * nd)), **kwargs)


# --------------------------------------------------------------------------- coverage


def brute_force_uncovered(
    size: int, kernel: int, stride: int, pad: int, dilation: int, out: int
) -> list[int]:
    read = {i * stride - pad + j * dilation for i in range(out) for j in range(kernel)}
    return [x for x in range(size) if x not in read]


@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_uncovered_indices_match_a_brute_force_walk(dilation: int) -> None:
    for size in range(1, 14):
        for kernel in range(1, 5):
            for stride in range(1, 6):
                for pad in range(0, 3):
                    out = arithmetic.conv_output_size(size, kernel, stride, pad, pad, dilation)
                    if out < 1:
                        continue
                    geometry = Geometry(size, kernel, stride, pad, pad, dilation, None, False, None)
                    ranges, count = uncovered_ranges(geometry, out)
                    listed = [x for a, b in ranges for x in range(a, b + 1)]
                    expected = brute_force_uncovered(size, kernel, stride, pad, dilation, out)
                    assert (listed, count) == (expected, len(expected)), (size, kernel, stride, pad)


def test_uncovered_rows_and_columns_are_named() -> None:
    code, out, _ = run("--input", "9x20", "--kernel", "2", "--stride", "4")
    assert code == 0
    assert "  input rows 2..3 and 6..8 are never covered\n" in out
    assert "  input columns 2..3, 6..7, 10..11, 14..15 and 18..19 are never covered\n" in out
    code, out, _ = run("--input", "24", "--kernel", "2", "--stride", "4")
    assert (
        "  input indices 2..3, 6..7, 10..11, 14..15, 18..19, ... (12 in all) are never covered\n"
        in out
    )


# --------------------------------------------------------------------------- every command


def test_the_tutor_package_imports_neither_torch_nor_tabulate() -> None:
    code = (
        "import sys, cnncalc.tutor.formula, cnncalc.tutor.solve, cnncalc.tutor.explain\n"
        "assert 'torch' not in sys.modules and 'tabulate' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPOSITORY)
