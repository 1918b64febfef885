"""``cnncalc explain``: the worked sums of the seed examples, exactly, and torch's values."""

from __future__ import annotations

from fractions import Fraction
from math import prod

import pytest
from conftest import invoke_json, outcome

FIVE_BY_FIVE = "3,4,5,6,5, 4,2,2,1,5, 4,5,6,7,8, 5,6,7,8,9, 1,2,4,5,6"
FOUR_BY_FOUR = "3,4,5,6, 2,4,5,6, 1,6,5,7, 6,7,9,5"


def run(*args: str) -> tuple[int, str, str]:
    return outcome("explain", *args)


def run_json(*args: str) -> dict:
    return invoke_json("explain", *args)


def exact(value: float | int) -> Fraction:
    """A JSON number as the decimal it prints as (0.8 is 8/10)."""
    return Fraction(str(value))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- the seed examples


def test_conv1d_on_0_to_15_with_three_weights() -> None:
    code, out, err = run("--values", "0..15", "--view", "1x1x16", "--weight", "[0.1, 0.2, 0.3]")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:5] == [
        "conv1d: kernel 3, stride 1, padding 0, dilation 1, no bias",
        "input [1, 1, 16]:",
        "[[[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15]]]",
        "weight [1, 1, 3]:",
        "[[[0.1, 0.2, 0.3]]]",
    ]
    assert lines[5] == "out[0, 0, 0] = 0·0.1 + 1·0.2 + 2·0.3 = 0.8"
    assert lines[6] == "out[0, 0, 1] = 1·0.1 + 2·0.2 + 3·0.3 = 1.4"
    assert lines[18] == "out[0, 0, 13] = 13·0.1 + 14·0.2 + 15·0.3 = 8.6"
    assert lines[19:] == [
        "output [1, 1, 14]:",
        "[[[0.8, 1.4,   2, 2.6, 3.2, 3.8, 4.4,   5, 5.6, 6.2, 6.8, 7.4,   8, 8.6]]]",
    ]
    data = run_json("--values", "0..15", "--view", "1x1x16", "--weight", "[0.1, 0.2, 0.3]")
    assert data["output_shape"] == [1, 1, 16 - 3 + 1]
    # out[i] = 0.1·i + 0.2·(i + 1) + 0.3·(i + 2) = 0.8 + 0.6·i, exactly
    assert [exact(v) for v in data["output"][0][0]] == [
        Fraction(8, 10) + Fraction(6, 10) * i for i in range(14)
    ]


def test_conv1d_on_two_channels_sums_over_the_channels() -> None:
    args = ("--values", "0..15", "--view", "1x2x8", "--weight", "[[0.1,0.2,0.3],[1,1,1]]")
    code, out, _ = run(*args)
    assert code == 0
    assert "out[0, 0, 0] = 0·0.1 + 1·0.2 + 2·0.3 + 8·1 + 9·1 + 10·1 = 27.8\n" in out
    assert "out[0, 0, 1] = 1·0.1 + 2·0.2 + 3·0.3 + 9·1 + 10·1 + 11·1 = 31.4\n" in out
    data = run_json(*args)
    assert data["weight_shape"] == [1, 2, 3]
    assert data["output_shape"] == [1, 1, 8 - 3 + 1]
    assert data["output"][0][0][:2] == [27.8, 31.4]  # 0.8 + 8 + 9 + 10, 1.4 + 9 + 10 + 11


def test_max_pool_on_0_to_19_leaves_the_last_column_uncovered() -> None:
    code, out, err = run(
        "--op", "maxpool", "--kernel", "2", "--values", "0..19", "--view", "1x1x4x5"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[-6:] == [
        "out[0, 0, 1, 0] = max(10, 11, 15, 16) = 16",
        "out[0, 0, 1, 1] = max(12, 13, 17, 18) = 18",
        "output [1, 1, 2, 2]:",
        "[[[[ 6,  8],",
        "   [16, 18]]]]",
        "note: input column 4 is never covered",
    ]
    data = run_json("--op", "maxpool", "--kernel", "2", "--values", "0..19", "--view", "1x1x4x5")
    assert data["output"] == [[[[6, 8], [16, 18]]]]
    assert data["notes"] == ["input column 4 is never covered"]


def test_max_pool_on_the_four_by_four_tutorial_input() -> None:
    code, out, err = run(
        "--op", "maxpool", "--kernel", "2", "--values", FOUR_BY_FOUR, "--view", "4x4"
    )
    assert (code, err) == (0, "")
    assert out == (
        "maxpool2d: kernel 2×2, stride 2, padding 0, dilation 1\n"
        "input [4, 4]:\n"
        "[[3, 4, 5, 6],\n"
        " [2, 4, 5, 6],\n"
        " [1, 6, 5, 7],\n"
        " [6, 7, 9, 5]]\n"
        "out[0, 0] = max(3, 4, 2, 4) = 4\n"
        "out[0, 1] = max(5, 6, 5, 6) = 6\n"
        "out[1, 0] = max(1, 6, 6, 7) = 7\n"
        "out[1, 1] = max(5, 7, 9, 5) = 9\n"
        "output [2, 2]:\n"
        "[[4, 6],\n"
        " [7, 9]]\n"
    )


def test_five_by_five_conv_with_kernel_1_to_9_and_padding_1() -> None:
    args = (
        "--values",
        FIVE_BY_FIVE,
        "--view",
        "5x5",
        "--weight",
        "1..9",
        "--kernel",
        "3x3",
        "--padding",
        "1",
    )
    code, out, _ = run(*args)
    assert code == 0
    # the corner reads four real inputs: 3·5 + 4·6 + 4·8 + 2·9
    assert "out[0, 0] = 0·1 + 0·2 + 0·3 + 0·4 + 3·5 + 4·6 + 0·7 + 4·8 + 2·9 = 89\n" in out
    data = run_json(*args)
    assert data["output_shape"] == [5, 5]
    assert data["weight_shape"] == [1, 1, 3, 3]
    assert (
        data["output"][2][2]
        == 2 * 1 + 2 * 2 + 1 * 3 + 5 * 4 + 6 * 5 + 7 * 6 + 6 * 7 + 7 * 8 + 8 * 9
    )
    nested = run_json(*args[:4], "--weight", "[[1,2,3],[4,5,6],[7,8,9]]", "--padding", "1")
    assert nested["output"] == data["output"]


def test_max_pool_1d_keeps_the_channels() -> None:
    data = run_json("--op", "maxpool", "--kernel", "2", "--values", "0..15", "--view", "1x1x16")
    assert data["output"] == [[list(range(1, 16, 2))]]
    data = run_json("--op", "maxpool", "--kernel", "2", "--values", "0..15", "--view", "1x2x8")
    assert data["output_shape"] == [1, 2, 4]


# --------------------------------------------------------------------------- numbers and shapes


def test_decimals_stay_exact_and_negatives_are_parenthesised() -> None:
    code, out, _ = run("--values", "-1.5,2,3.25,-4", "--weight", "1,-2,0.5", "--bias", "0.5")
    assert code == 0
    assert "out[0] = (-1.5)·1 + 2·(-2) + 3.25·0.5 + 0.5 = -3.375\n" in out
    assert "out[1] = 2·1 + 3.25·(-2) + (-4)·0.5 + 0.5 = -6\n" in out


def test_average_pool_counts_padding_and_shows_a_fraction_that_does_not_end() -> None:
    code, out, _ = run(
        "--op", "avgpool", "--kernel", "3", "--padding", "1", "--values", "0..3", "--view", "2x2"
    )
    assert code == 0
    assert "out[0, 0] = (0 + 0 + 0 + 0 + 0 + 1 + 0 + 2 + 3) / 9 = 2/3 ≈ 0.666667\n" in out


def test_several_output_channels_and_a_bias_each() -> None:
    data = run_json(
        "--values",
        "0..7",
        "--view",
        "1x1x8",
        "--weight",
        "[[[1, 1]], [[1, -1]]]",
        "--bias",
        "10,20",
    )
    assert data["output_shape"] == [1, 2, 7]
    assert data["output"][0][0][0] == 0 + 1 + 10
    assert data["output"][0][1][0] == 0 - 1 + 20
    assert data["terms"][0] == {
        "index": [0, 0, 0],
        "expression": "0·1 + 1·1 + 10 = 11",
        "value": 11,
    }


def test_random_values_and_weights_are_reproducible_and_said_to_be_random() -> None:
    first = run_json("--view", "1x2x6", "--kernel", "3", "--seed", "5")
    assert first == run_json("--view", "1x2x6", "--kernel", "3", "--seed", "5")
    assert first["notes"] == [
        "input: random integers 0..9 (seed 5)",
        "weight: random integers -2..2 (seed 5)",
    ]
    assert all(0 <= v <= 9 for row in first["input"][0] for v in row)
    assert first["weight_shape"] == [1, 2, 3]


def test_dims_settles_an_ambiguous_view() -> None:
    one = run_json(
        "--values", "0..15", "--view", "2x8", "--kernel", "3", "--weight", "1..6", "--dims", "1"
    )
    assert (one["op"], one["weight_shape"], one["output_shape"]) == ("conv1d", [1, 2, 3], [1, 6])
    two = run_json(
        "--values", "0..15", "--view", "2x8", "--kernel", "3", "--weight", "1..9", "--padding", "1"
    )
    assert (two["op"], two["weight_shape"], two["output_shape"]) == ("conv2d", [1, 1, 3, 3], [2, 8])


# --------------------------------------------------------------------------- against torch

TORCH_CASES = [
    # (op, view, kernel or weight, stride, padding, dilation)
    ("conv", "1x3x11", ["--kernel", "3"], "2", "1", "2"),
    (
        "conv",
        "2x2x9",
        ["--weight", "[[[0.5,-1.25],[2,0.1]],[[-3,1],[1,1]],[[0,2],[0.5,0.5]]]"],
        "1",
        "0",
        "3",
    ),
    ("conv", "1x2x6x7", ["--kernel", "3x2"], "2x1", "1x0", "1x2"),
    (
        "conv",
        "3x5x5",
        ["--weight", "[[[1,0],[0,-1]],[[0.25,0.5],[0.75,1]],[[2,2],[2,2]]]", "--dims", "2"],
        "1",
        "same",
        "2",
    ),
    ("maxpool", "1x2x7x6", ["--kernel", "3x2"], "2", "1", "1"),
    ("maxpool", "1x1x9x9", ["--kernel", "3"], "2", "1", "2"),
    ("avgpool", "2x1x6x5", ["--kernel", "2x3"], "1x2", "1", "1"),
    ("avgpool", "1x3x10", ["--kernel", "4"], "3", "2", "1"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("op, view, kernel_args, stride, padding, dilation", TORCH_CASES)
def test_values_match_torch(torch, op, view, kernel_args, stride, padding, dilation) -> None:
    import torch.nn.functional as F

    count = prod(int(v) for v in view.split("x"))
    values = ",".join(str(v / 4) for v in range(-20, count - 20))  # -5, -4.75, ...
    data = run_json(
        "--op",
        op,
        "--view",
        view,
        *kernel_args,
        "--stride",
        stride,
        "--padding",
        padding,
        *([] if op == "avgpool" else ["--dilation", dilation]),
        "--values",
        values,
        *(["--bias", "0.75"] if op == "conv" else []),
        "--seed",
        "3",
    )
    nd = len(data["kernel_size"])
    x = torch.tensor(data["input"], dtype=torch.float64)
    unbatched = x.dim() == nd + 1
    if unbatched:
        x = x.unsqueeze(0)

    def per_dim(text: str) -> list[int]:
        numbers = [int(v) for v in text.split("x")]
        return numbers * nd if len(numbers) == 1 else numbers

    with torch.no_grad():
        if op == "conv":
            w = torch.tensor(data["weight"], dtype=torch.float64)
            bias = torch.tensor(data["bias"], dtype=torch.float64)
            pad = padding if padding == "same" else per_dim(padding)
            expected = getattr(F, f"conv{nd}d")(x, w, bias, per_dim(stride), pad, per_dim(dilation))
        elif op == "maxpool":
            expected = getattr(F, f"max_pool{nd}d")(
                x, data["kernel_size"], per_dim(stride), per_dim(padding), per_dim(dilation)
            )
        else:
            expected = getattr(F, f"avg_pool{nd}d")(
                x, data["kernel_size"], per_dim(stride), per_dim(padding)
            )
    if unbatched:
        expected = expected.squeeze(0)
    got = torch.tensor(data["output"], dtype=torch.float64)
    assert list(got.shape) == list(expected.shape)
    assert torch.allclose(got, expected, atol=1e-9)


# --------------------------------------------------------------------------- refusals

# Library refusals are the layer type's own words where a layer refuses; option
# mistakes are click's usage errors.
REFUSALS = [
    (
        ["--view", "1", "--weight", "0..0", "--kernel", "0"],
        "error: conv1d kernel_size must be >= 1, got 0",  # before the weight is read
    ),
    (["--values", "0..15"], "error: conv needs --weight, or --kernel for a random weight"),
    (
        ["--values", "0..15", "--view", "1x3x5", "--weight", "[1,2,3]"],
        "error: --view [1, 3, 5] holds 15 numbers but the values are 16",
    ),
    (["--kernel", "3"], "error: give --values, or --view for random values"),
    (
        ["--values", "0..15", "--view", "4x4", "--weight", "[1,2,3]", "--dims", "1"],
        "error: conv1d in_channels 1 but the input has 4 channels",
    ),
    (
        ["--values", "0..15", "--view", "4x4", "--weight", "[[[[1]]], [[[1]]]]", "--bias", "1,2,3"],
        "error: bias has 3 numbers but there are 2 output channels",
    ),
    (
        ["--values", "0..15", "--view", "4x4", "--weight", "1,2,3", "--kernel", "2x2"],
        "error: weight has 3 numbers, not a multiple of in_channels × kernel = 1 × 2×2 = 4",
    ),
    (
        ["--values", "0..99999"],
        "error: --values range 0..99999 holds 100,000 numbers, more than 10,000",
    ),
    (["--values", "5..1"], "error: --values range 5..1 is empty: 1 < 5"),
    (
        ["--values", "1,a"],
        "error: --values: 'a' is not a number; give a range like 0..15, numbers separated by commas, or a JSON nested list",
    ),
    (
        ["--values", "__import__('os')"],
        "error: --values: \"__import__('os')\" is not a number; give a range like 0..15, numbers separated by commas, or a JSON nested list",
    ),
    (["--values", "[[1,2],[3]]"], "error: --values is not rectangular: its rows differ in shape"),
    (["--values", "[1, NaN]"], "error: --values: NaN is not a number cnncalc takes"),
    (
        ["--values", "[1, 2"],
        "error: --values is not a valid JSON list: Expecting ',' delimiter at character 6",
    ),
    (
        ["--values", "0..5000", "--view", "1x1x5001", "--kernel", "3"],
        "error: explain writes out at most 10,000 products; this conv1d needs 14,997 (4,999 outputs × 3 each); use a smaller input or kernel",
    ),
    (["--op", "maxpool", "--values", "0..15"], "error: maxpool1d needs kernel_size"),
    (
        ["--op", "maxpool", "--values", "0..15", "--kernel", "2", "--bias", "1"],
        "error: maxpool has no weight or bias",
    ),
    (
        ["--op", "avgpool", "--values", "0..15", "--kernel", "3", "--dilation", "2"],
        "error: avgpool1d has no argument 'dilation'; it takes ceil_mode, count_include_pad, kernel_size, padding, stride",
    ),
    (
        ["--op", "maxpool", "--values", "0..15", "--kernel", "2", "--padding", "2"],
        "error: maxpool1d padding 2 must be at most half the kernel size 2 (kernel_size // 2 = 1)",
    ),
    (
        ["--values", "0..3", "--weight", "1..5"],
        "error: conv1d kernel is larger than the padded input: padded input 4, kernel 5 (kernel_size 5, dilation 1) on input [1, 1, 4]",
    ),
    (
        ["--values", "0..15", "--view", "1x2x2x2x2", "--kernel", "2"],
        "error: a 1-D view is (L), (C, L) or (N, C, L), got [1, 2, 2, 2, 2]; use --dims to choose",
    ),
]


@pytest.mark.parametrize("args, message", REFUSALS)
def test_refusals_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.endswith(f"{message}\n")
