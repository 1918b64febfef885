"""The inline form and YAML are equally strict: input ranks beyond one sample's four
dimensions, empty blocks, names that are not text, digits other than 0-9 are refused the
same way in both; numbers YAML 1.1 leaves as text (``1e-5``) are read where a float is
expected; and an error quotes at most a bounded excerpt of what the user typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli
from cnncalc.layers import ALL_TYPES
from cnncalc.model import load_model
from cnncalc.quote import EXCERPT_CHARS, PATH_CHARS, excerpt, quote

RANKS = "one sample is [F], [C, L], [C, H, W] or [C, D, H, W] (the batch comes from --batch)"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def yaml_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return str(path)


def error_of(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    return result.stderr


# ---- ranks ----------------------------------------------------------------------------------
def test_no_layer_type_takes_more_than_three_spatial_dimensions() -> None:
    # Why one sample has at most four dimensions (C plus three spatial ones): no layer type
    # with a fixed rank takes more.
    assert max(getattr(cls, "nd", 0) for cls in ALL_TYPES) == 3


@pytest.mark.parametrize(
    ("sample", "text", "output"),
    [
        ("10", "linear(4)", "[1, 4]"),
        ("3x10", "conv1d(4, 3)", "[1, 4, 8]"),
        ("3x10x10", "conv2d(4, 3)", "[1, 4, 8, 8]"),
        ("3x6x6x6", "conv3d(4, 3)", "[1, 4, 4, 4, 4]"),
    ],
)
def test_every_documented_rank_is_accepted(sample: str, text: str, output: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert result.exit_code == 0
    assert result.stdout.endswith(f"output: {output}\n")


def test_five_dimensions_refused_by_input_option() -> None:
    assert error_of("shapes", "--input", "1x3x8x8x8", "relu").endswith(
        f"Error: Invalid value for '--input': --input has 5 dimensions; {RANKS}\n"
    )


def test_five_dimensions_refused_in_yaml(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, "input: [1, 3, 8, 8, 8]\nlayers: [relu]\n")
    assert error_of("shapes", path) == f"error: {path}:1: input has 5 dimensions; {RANKS}\n"
    path = yaml_file(tmp_path, "input: 1x3x8x8x8\nlayers: [relu]\n")
    assert error_of("shapes", path) == f"error: {path}: input has 5 dimensions; {RANKS}\n"


# ---- empty blocks ---------------------------------------------------------------------------
RESIDUAL_EMPTY = "residual body needs at least one layer (a shortcut left out is the identity)"
SEQUENTIAL_EMPTY = "sequential needs at least one layer"
PARALLEL_FEW = "parallel needs branches: a list of at least 2 lists of layers"
PARALLEL_EMPTY = (
    "parallel needs a branch with at least one layer (an empty branch is the identity, and a "
    "block of identities computes nothing)"
)


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("residual()", "residual1", RESIDUAL_EMPTY),
        ("residual(shortcut=relu)", "residual1", RESIDUAL_EMPTY),
        ("sequential()", "sequential1", SEQUENTIAL_EMPTY),
        ("nn.Sequential()", "sequential1", SEQUENTIAL_EMPTY),
        ("parallel()", "parallel1", PARALLEL_FEW),
        ("parallel(relu)", "parallel1", PARALLEL_FEW),
        ("relu -> 3 * (sequential())", "sequential2.0.0", SEQUENTIAL_EMPTY),
    ],
)
def test_empty_blocks_refused_inline(text: str, name: str, message: str) -> None:
    index = 2 if text.startswith("relu") else 1
    assert error_of("shapes", "--input", "3x8x8", text) == (
        f"error: inline spec: layer {index} ({name}): {message}\n"
    )


@pytest.mark.parametrize(
    ("entry", "name", "message"),
    [
        ("{residual: {body: []}}", "residual1", RESIDUAL_EMPTY),
        ("{residual: {body: null, shortcut: [relu]}}", "residual1", RESIDUAL_EMPTY),
        ("{residual: {shortcut: [relu]}}", "residual1", "residual needs a body"),
        ("{sequential: []}", "sequential1", SEQUENTIAL_EMPTY),
        ("{sequential: null}", "sequential1", SEQUENTIAL_EMPTY),
        ("{sequential: {layers: []}}", "sequential1", SEQUENTIAL_EMPTY),
        ("{parallel: {branches: []}}", "parallel1", PARALLEL_FEW),
        ("{parallel: [[relu]]}", "parallel1", PARALLEL_FEW),
        ("{parallel: {branches: [[], null]}}", "parallel1", PARALLEL_EMPTY),
    ],
)
def test_empty_blocks_refused_in_yaml(tmp_path: Path, entry: str, name: str, message: str) -> None:
    path = yaml_file(tmp_path, f"input: [3, 8, 8]\nlayers:\n  - {entry}\n")
    assert error_of("shapes", path) == f"error: {path}:3: layer 1 ({name}): {message}\n"


def test_empty_define_refused(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, "input: [3, 8, 8]\ndefine:\n  b: []\nlayers: [b]\n")
    assert error_of("shapes", path) == f"error: {path}:3: define b needs at least one layer\n"


def test_identity_shortcut_and_identity_branch_stay(tmp_path: Path) -> None:
    # A residual's shortcut left out, null or empty is the identity; so is an empty parallel
    # branch beside one with layers (concatenating the input with what the branch makes).
    path = yaml_file(tmp_path, (
        "input: [3, 8, 8]\nlayers:\n"
        "  - residual: {body: [relu], shortcut: []}\n"
        "  - residual: {body: [relu], shortcut: null}\n"
        "  - parallel: {branches: [[{conv2d: [5, 1]}], []]}\n"
    ))  # fmt: skip
    result = run("shapes", path)
    assert result.exit_code == 0
    assert result.stdout.endswith("output: [1, 8, 8, 8]\n")  # 5 + 3 channels


# ---- names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inline", "yaml", "message"),
    [
        ("5", "5", 'name must be a string, got the number 5; quote it ("5")'),
        ("1.5", "1.5", 'name must be a string, got the number 1.5; quote it ("1.5")'),
        ("true", "true", "name must be a non-empty string, got true"),
        ("null", "null", "name must be a non-empty string, got null"),
        ("''", "''", "name must be a non-empty string, got ''"),
        ("[a]", "[a]", "name must be a non-empty string, got ['a']"),
    ],
)
def test_names_must_be_text(tmp_path: Path, inline: str, yaml: str, message: str) -> None:
    assert error_of("shapes", "--input", "3x8x8", f"relu(name={inline})") == (
        f"error: inline spec: layer 1 (relu1): {message}\n"
    )
    path = yaml_file(tmp_path, f"input: [3, 8, 8]\nlayers:\n  - relu: {{}}\n    name: {yaml}\n")
    assert error_of("shapes", path) == f"error: {path}:3: layer 1 (relu1): {message}\n"


def test_model_name_must_be_text(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, "name: 5\ninput: [3, 8, 8]\nlayers: [relu]\n")
    assert error_of("shapes", path) == (
        f'error: {path}:1: name must be a string, got the number 5; quote it ("5")\n'
    )


def test_quoted_digits_are_a_name(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, 'input: [3, 8, 8]\nlayers:\n  - relu: {}\n    name: "5"\n')
    result = run("params", path, "--format", "csv")
    inline = run("params", "--input", "3x8x8", "relu(name='5')", "--format", "csv")
    assert result.exit_code == inline.exit_code == 0
    assert result.stdout.splitlines()[1].split(",")[:2] == ["1", "5"]
    assert inline.stdout.splitlines()[1:] == result.stdout.splitlines()[1:]


# ---- digits ---------------------------------------------------------------------------------
ASCII_ONLY = "numbers are written with the ASCII digits 0-9"


@pytest.mark.parametrize(
    ("text", "column", "char", "code"),
    [
        ("conv2d(٣, ٣)", 8, "٣", "0663"),  # Arabic-Indic three
        ("conv2d(４, 3)", 8, "４", "FF14"),  # full-width four
        ("conv2d(4, 3, padding=१)", 22, "१", "0967"),  # Devanagari one
        ("2 * (relu) -> ２ * (relu)", 15, "２", "FF12"),
    ],
)
def test_non_ascii_digits_refused_inline(text: str, column: int, char: str, code: str) -> None:
    assert error_of("shapes", "--input", "3x8x8", text) == (
        f"error: inline spec, column {column}: unexpected character '{char}' (U+{code}): "
        f"{ASCII_ONLY}\n"
    )


def test_non_ascii_digits_refused_in_yaml_as_inline(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, "input: [3, 8, 8]\nlayers:\n  - conv2d: [٣, 3]\n")
    assert error_of("shapes", path) == (
        f"error: {path}:3: layer 1 (conv2d1): conv2d out_channels must be an integer, got '٣'\n"
    )


def test_non_ascii_digits_refused_in_expressions(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, (
        "input: [3, 8, 8]\ndefine:\n  b: {params: {w: 2}, layers: [{conv2d: ['${w * ٣}', 1]}]}\n"
        "layers: [b]\n"
    ))  # fmt: skip
    assert error_of("shapes", path) == (
        f"error: {path}:3: layer 1 (conv2d1): ${{w * ٣}}: '٣' (U+0663) is not an ASCII "
        "digit; only parameter names, integers (digits 0-9), + - * // and parentheses are "
        "allowed\n"
    )


@pytest.mark.parametrize("dims", ["３x8x8", "3x٨x8"])
def test_non_ascii_digits_refused_in_input(tmp_path: Path, dims: str) -> None:
    message = f"must look like 3x224x224 or 3,224,224, got '{dims}'"
    assert error_of("shapes", "--input", dims, "relu").endswith(
        f"Error: Invalid value for '--input': --input {message}\n"
    )
    path = yaml_file(tmp_path, f"input: {dims}\nlayers: [relu]\n")
    assert error_of("shapes", path) == f"error: {path}: input {message}\n"


@pytest.mark.parametrize("batch", ["٣", "４"])
def test_non_ascii_digits_refused_in_batch(batch: str) -> None:
    assert error_of("shapes", "--batch", batch, "--input", "3x8x8", "relu").endswith(
        f"Error: Invalid value for '--batch': '{batch}' is not an integer written with the "
        "digits 0-9\n"
    )


# ---- numbers YAML 1.1 reads as text --------------------------------------------------------
def test_exponent_numbers_read_where_a_float_is_expected(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, (
        "input: [3, 8, 8]\nlayers:\n"
        "  - batchnorm2d: {eps: 1e-5, momentum: 1E-1}\n"
        "  - dropout: +5e-1\n"
        "  - leaky_relu: {negative_slope: 1.5e-2}\n"
        "  - upsample: {scale_factor: 2e0}\n"
    ))  # fmt: skip
    result = run("shapes", path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith("output: [1, 3, 16, 16]\n")
    layers = [node.layer for node in load_model(path).layers]
    assert (layers[0].args.eps, layers[0].args.momentum) == (1e-5, 0.1)
    assert (layers[1].args.p, layers[2].args.negative_slope) == (0.5, 0.015)
    assert layers[3].args.scale_factor == 2.0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{conv2d: {out_channels: 1e1, kernel_size: 3}}",
         "conv2d1): conv2d out_channels must be an integer, got '1e1'"),
        ("{batchnorm2d: {eps: 1e}}", "batchnorm2d1): batchnorm2d eps must be a number, got '1e'"),
        ("{batchnorm2d: {eps: '0.1'}}",
         "batchnorm2d1): batchnorm2d eps must be a number, got '0.1'"),
        ("{dropout: 2e0}", "dropout1): dropout p must be <= 1.0, got 2.0"),
    ],
)  # fmt: skip
def test_exponent_text_is_no_integer_and_no_other_text_is_a_number(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = yaml_file(tmp_path, f"input: [3, 8, 8]\nlayers:\n  - {entry}\n")
    assert error_of("shapes", path) == f"error: {path}:3: layer 1 ({message}\n"


# ---- bounded quotes of what the user typed ---------------------------------------------------
LONG = "q" * 1_000_000
SHOWN = f"'{'q' * EXCERPT_CHARS}…' (1,000,000 characters)"


def test_quote_and_excerpt() -> None:
    assert quote("conv") == "'conv'"
    assert quote(LONG) == SHOWN
    assert excerpt("x" * 61) == "x" * 60 + "… (61 characters)"
    assert excerpt("x" * 60) == "x" * 60
    assert quote(list(range(100))) == repr(list(range(100)))[:60] + "… (390 characters)"


def test_megabyte_type_name_gives_a_short_message(tmp_path: Path) -> None:
    path = yaml_file(tmp_path, f"input: [3, 8, 8]\nlayers: [{LONG}]\n")
    assert error_of("shapes", path) == (
        f"error: {path}:2: layer 1 ({'q' * PATH_CHARS}… (1,000,001 characters)): unknown "
        f"layer type {SHOWN}; `cnncalc layers` lists them\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        f"input: [3, 8, 8]\nlayers: [{{conv2d: {{out_channels: 4, kernel_size: 3, padding: {LONG}}}}}]\n",
        f"input: [3, 8, 8]\nlayers:\n  - conv2d:\n      out_channels: 4\n      kernel_size: 3\n      ? {LONG}\n      : 1\n",
        f"input: [3, 8, 8]\ndefine: {{b: {{params: {{w: 1}}, layers: [{{linear: '${{{LONG}}}'}}]}}}}\nlayers: [b]\n",
        f"? {LONG}\n: 1\n",
        f"input: [3, 8, 8]\nlayers:\n  - relu: {{}}\n    name: [{LONG}]\n",
        f"input: [{LONG}]\nlayers: [relu]\n",
        f"input: [3, 8, 8]\nlayers:\n  - residual:\n      ? {LONG}\n      : 1\n",
        f"input: [3, 8, 8]\ndefine: {{b: [relu]}}\nlayers:\n  - b:\n      ? {LONG}\n      : 1\n",
        f"input: [3, 8, 8]\nlayers: [{{activation: {LONG}}}]\n",
        f"input: [3, 8, 8]\nlayers: [nn.{LONG}]\n",
        f"input: [3, 8, 8]\nlayers: [{{conv2d: [4, 3], activation: {LONG}}}]\n",
        f"input: [3, 8, 8]\nlayers: [{{conv2d: {{out_channels: 4, kernel_size: 3, activation: {LONG}}}}}]\n",
    ],
)  # fmt: skip
def test_every_echo_of_user_text_is_bounded(tmp_path: Path, text: str) -> None:
    message = error_of("shapes", yaml_file(tmp_path, text))
    assert len(message) < 700, message[:700]
    assert "q" * (PATH_CHARS + 1) not in message


@pytest.mark.parametrize(
    "spec",
    [
        "q" * 90_000,
        "conv2d(4, 3, padding='" + "q" * 90_000 + "')",
        "relu -> " + "q" * 90_000 + "(",
        "conv2d(4, 3, " + "q" * 90_000 + "=1)",
        "relu(name=5) -> " + "1" * 18 + "q" * 90_000,
    ],
)
def test_inline_echoes_are_bounded(spec: str) -> None:
    message = error_of("shapes", "--input", "3x8x8", spec)
    assert len(message) < 700, message[:700]


def test_input_option_echo_is_bounded() -> None:
    message = error_of("shapes", "--input", "3x" + "q" * 100_000, "relu")
    assert message.endswith(
        f"--input must look like 3x224x224 or 3,224,224, got '3x{'q' * 58}…' (100,002 "
        "characters)\n"
    )
