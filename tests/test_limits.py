"""Every safety limit of ``cnncalc.limits``: an input at the limit is read, one just past it
is refused with a message that names the limit (exit status 2 from the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke

from cnncalc import LimitError, analyse, load_model
from cnncalc.limits import (
    MAX_DEFINE_DEPTH,
    MAX_DIMENSION,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_INLINE_CHARS,
    MAX_INT_DIGITS,
    MAX_LAYERS,
    MAX_NESTING,
    MAX_REPEAT,
    MAX_YAML_ALIASES,
)
from cnncalc.model import parse_dims
from cnncalc.model.expressions import evaluate
from cnncalc.model.inline import parse_inline
from cnncalc.model.yaml_loader import load_yaml


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return str(path)


def refused(limit: str):  # noqa: ANN201 - a pytest context manager
    return pytest.raises(LimitError, match=f"limit {limit}")


# ---- file size --------------------------------------------------------------------------------
def padded_model(size: int) -> bytes:
    """A valid model file of exactly ``size`` bytes, the rest a comment."""
    head = b"input: [4]\nlayers: [relu]\n#"
    return head + b"x" * (size - len(head) - 1) + b"\n"


def test_file_at_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(padded_model(MAX_FILE_BYTES))
    assert path.stat().st_size == MAX_FILE_BYTES
    assert analyse(load_model(str(path))).output_shape == (1, 4)


def test_file_past_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(padded_model(MAX_FILE_BYTES + 1))
    with refused("MAX_FILE_BYTES"):
        load_model(str(path))


@pytest.mark.parametrize(("size", "code"), [(MAX_FILE_BYTES, 0), (MAX_FILE_BYTES + 1, 2)])
def test_standard_input_size_limit(size: int, code: int) -> None:
    result = invoke("shapes", "-", stdin=padded_model(size))
    assert result.exit_code == code, result.stderr
    if code:
        assert result.stderr.startswith("error: <stdin>: the model is larger than")
        assert "(limit MAX_FILE_BYTES)" in result.stderr


# ---- inline length ----------------------------------------------------------------------------
def inline_of_length(length: int) -> str:
    chain = "relu" + " -> relu" * ((length - 4) // 8)
    return chain + " " * (length - len(chain))


def test_inline_spec_at_the_length_limit() -> None:
    spec = inline_of_length(MAX_INLINE_CHARS)
    assert len(spec) == MAX_INLINE_CHARS
    report = analyse(load_model(spec, (3, 8, 8)))
    assert len(report.rows) == (MAX_INLINE_CHARS - 4) // 8 + 1


def test_inline_spec_past_the_length_limit() -> None:
    with refused("MAX_INLINE_CHARS"):
        load_model(inline_of_length(MAX_INLINE_CHARS + 1), (3, 8, 8))


# ---- YAML aliases ---------------------------------------------------------------------------
def aliases(count: int) -> str:
    return "input: [4]\nlayers: [&a relu" + ", *a" * count + "]\n"


def test_yaml_aliases_at_the_limit(tmp_path: Path) -> None:
    report = analyse(load_model(write(tmp_path, aliases(MAX_YAML_ALIASES))))
    assert len(report.rows) == MAX_YAML_ALIASES + 1


def test_yaml_aliases_past_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, aliases(MAX_YAML_ALIASES + 1))
    with refused("MAX_YAML_ALIASES"):
        load_model(path)


# ---- nesting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("depth", "ok"), [(MAX_NESTING, True), (MAX_NESTING + 1, False)])
def test_yaml_nesting(depth: int, ok: bool) -> None:
    text = "[" * depth + "]" * depth
    if ok:
        assert load_yaml(text) is not None
    else:
        with refused("MAX_NESTING"):
            load_yaml(text)


def test_aliases_cannot_stack_nesting() -> None:
    # Each alias names a list 40 deep inside a list 40 deep: 80 levels, though no single
    # collection in the text is nested more than 41 deep.
    deep = "[" * 40 + "]" * 40
    with refused("MAX_NESTING"):
        load_yaml(f"a: &a {deep}\nb: {'[' * 40}*a{']' * 40}\n")


@pytest.mark.parametrize(("depth", "ok"), [(MAX_NESTING, True), (MAX_NESTING + 1, False)])
def test_inline_parentheses_and_blocks(depth: int, ok: bool) -> None:
    spec = "(" * depth + "relu" + ")" * depth
    if ok:
        [row] = analyse(load_model(spec, (3, 8, 8))).rows
        # the outer group is sequential1; inside a sequential, entries are numbered from 0
        assert row.name == "sequential1" + ".0" * depth
    else:
        with refused("MAX_NESTING"):
            load_model(spec, (3, 8, 8))


@pytest.mark.parametrize(("depth", "ok"), [(MAX_NESTING, True), (MAX_NESTING + 1, False)])
def test_inline_repeats_nest_like_parentheses(depth: int, ok: bool) -> None:
    spec = "1 * " * depth + "relu"
    if ok:
        assert len(analyse(load_model(spec, (3, 8, 8))).rows) == 1
    else:
        with refused("MAX_NESTING"):
            load_model(spec, (3, 8, 8))


@pytest.mark.parametrize(("depth", "ok"), [(MAX_NESTING, True), (MAX_NESTING + 1, False)])
def test_expression_parentheses(depth: int, ok: bool) -> None:
    expression = "(" * depth + "w" + ")" * depth
    if ok:
        assert evaluate(expression, {"w": 3}) == 3
    else:
        with refused("MAX_NESTING"):
            evaluate(expression, {"w": 3})


def nested_defines(depth: int) -> str:
    """Defined blocks d1 .. d<depth>, each using the next; the last holds a ReLU."""
    lines = ["input: [4]", "define:"]
    lines += [f"  d{i}: [d{i + 1}]" for i in range(1, depth)]
    lines += [f"  d{depth}: [relu]", "layers: [d1]"]
    return "\n".join(lines) + "\n"


def test_blocks_nested_through_defined_blocks(tmp_path: Path) -> None:
    # Each use of a defined block opens three blocks (the use and two sequentials): far
    # fewer than MAX_DEFINE_DEPTH uses already nest blocks deeper than MAX_NESTING.
    lines = ["input: [4]", "define:"]
    lines += [f"  d{i}: [{{sequential: [{{sequential: [d{i + 1}]}}]}}]" for i in range(1, 30)]
    lines += ["  d30: [relu]", "layers: [d1]"]
    with refused("MAX_NESTING"):
        load_model(write(tmp_path, "\n".join(lines) + "\n"))


# ---- defined blocks ------------------------------------------------------------------------------
def test_defined_blocks_at_the_depth_limit(tmp_path: Path) -> None:
    [row] = analyse(load_model(write(tmp_path, nested_defines(MAX_DEFINE_DEPTH)))).rows
    # An unnamed use of a defined block adds no segment where the names inside stay unique.
    assert (row.name, row.depth, row.parent) == ("relu1", 0, None)


def test_defined_blocks_past_the_depth_limit(tmp_path: Path) -> None:
    with refused("MAX_DEFINE_DEPTH"):
        load_model(write(tmp_path, nested_defines(MAX_DEFINE_DEPTH + 1)))


# ---- layers, repeat and entries ------------------------------------------------------------------
def test_repeat_at_and_past_the_limit() -> None:
    assert load_model(f"{MAX_REPEAT} * relu", (4,)).rows == MAX_REPEAT
    with refused("MAX_REPEAT"):
        load_model(f"{MAX_REPEAT + 1} * relu", (4,))


def test_layers_at_and_past_the_limit(tmp_path: Path) -> None:
    half = MAX_LAYERS // 2
    assert load_model(f"{half} * relu -> {MAX_LAYERS - half} * relu", (4,)).rows == MAX_LAYERS
    with refused("MAX_LAYERS"):
        load_model(f"{half} * relu -> {MAX_LAYERS - half + 1} * relu", (4,))
    nested = "input: [4]\nlayers: [{sequential: [{relu: {}, repeat: 1000}], repeat: 251}]\n"
    with refused("MAX_LAYERS"):
        load_model(write(tmp_path, nested))


def many_entries(extra: int) -> tuple[str, int]:
    """A model of MAX_ENTRIES + extra entries, and the rows it makes: each use of `s` builds
    3 entries (the use, its sequential block, the relu) for one row, so the entries run out
    long before the rows do."""
    per_use = 1 + 3 * 333  # a use of `e` builds itself and 333 uses of `s`
    uses, rest = divmod(MAX_ENTRIES + extra, per_use)
    tail = ["s"] * (rest // 3) + ["relu"] * (rest % 3)
    lines = ["input: [4]", "define:", "  s: [{sequential: [relu]}]", "  e: [" + ", ".join(["s"] * 333) + "]"]
    lines.append("layers: [" + ", ".join(["e"] * uses + tail) + "]")
    return "\n".join(lines) + "\n", uses * 333 + len(tail)


def test_entries_at_the_limit(tmp_path: Path) -> None:
    text, rows = many_entries(0)
    model = load_model(write(tmp_path, text))
    assert model.rows == rows == 500 * 333  # blocks are work to build beyond their rows
    assert analyse(model).output_shape == (1, 4)


def test_entries_past_the_limit(tmp_path: Path) -> None:
    with refused("MAX_ENTRIES"):
        load_model(write(tmp_path, many_entries(1)[0]))


# ---- integers -------------------------------------------------------------------------------------
LARGEST = 10**MAX_INT_DIGITS - 1  # the largest integer of MAX_INT_DIGITS digits


def test_integer_digits_in_expressions() -> None:
    assert evaluate(str(LARGEST), {}) == LARGEST
    with refused("MAX_INT_DIGITS"):
        evaluate(str(LARGEST + 1), {})


def test_integer_results_in_expressions() -> None:
    assert evaluate(f"{LARGEST - 1} + 1", {}) == LARGEST
    assert evaluate("w * w", {"w": 10**9 - 1}) == (10**9 - 1) ** 2
    with refused("MAX_INT_DIGITS"):
        evaluate(f"{LARGEST} + 1", {})
    with refused("MAX_INT_DIGITS"):
        evaluate("w * w * w", {"w": 10**6})


def test_integer_digits_in_yaml() -> None:
    assert load_yaml(f"x: {LARGEST}") == {"x": LARGEST}
    assert load_yaml(f"x: -{LARGEST}") == {"x": -LARGEST}
    with refused("MAX_INT_DIGITS"):
        load_yaml(f"x: {LARGEST + 1}")
    with refused("MAX_INT_DIGITS"):
        load_yaml("x: " + "9" * 100_000)


def test_integer_digits_inline() -> None:
    assert parse_inline(f"linear({LARGEST})")[0]["linear"].positional == [LARGEST]
    with refused("MAX_INT_DIGITS"):
        parse_inline(f"linear({LARGEST + 1})")


# ---- dimensions -----------------------------------------------------------------------------------
def test_input_dimension_at_and_past_the_limit() -> None:
    assert parse_dims(f"1x{MAX_DIMENSION}", "--input") == (1, MAX_DIMENSION)
    with refused("MAX_DIMENSION"):
        parse_dims(f"1x{MAX_DIMENSION + 1}", "--input")
    with refused("MAX_DIMENSION"):
        parse_dims("9" * 10_000, "--input")


def test_batch_at_and_past_the_limit() -> None:
    model = load_model("linear(1)", (4,))
    assert analyse(model, batch=MAX_DIMENSION).output_shape == (MAX_DIMENSION, 1)
    with refused("MAX_DIMENSION"):
        analyse(model, batch=MAX_DIMENSION + 1)


def test_layer_argument_at_and_past_the_limit() -> None:
    report = analyse(load_model(f"linear({MAX_DIMENSION})", (1,)))
    assert report.error is None and report.output_shape == (1, MAX_DIMENSION)
    report = analyse(load_model(f"linear({MAX_DIMENSION + 1})", (1,)))
    assert "(limit MAX_DIMENSION)" in str(report.error)


def test_output_dimension_past_the_limit() -> None:
    doubling = "conv_transpose1d(1, 2, stride=2)"  # out = (L − 1)·2 + 2 = 2·L
    report = analyse(load_model(doubling, (1, MAX_DIMENSION // 2)))
    assert report.error is None and report.output_shape == (1, 1, MAX_DIMENSION)
    report = analyse(load_model(doubling, (1, MAX_DIMENSION // 2 + 1)))
    assert "(limit MAX_DIMENSION)" in str(report.error)


def test_cli_exit_status_for_a_limit() -> None:
    result = invoke("shapes", "--input", "4", f"{MAX_REPEAT + 1} * relu")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: inline spec")
    assert "(limit MAX_REPEAT)" in result.stderr
