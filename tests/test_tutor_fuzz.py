"""Random option combinations for ``conv``, ``solve`` and ``explain``: an answer (exit 0) or
one clean refusal (exit 2), never a traceback, in every format."""

from __future__ import annotations

from conftest import invoke
from hypothesis import given
from hypothesis import strategies as st

FORMATS = st.sampled_from(["table", "json", "csv"])


def sizes(low: int, high: int) -> st.SearchStrategy[str]:
    return st.lists(st.integers(low, high), min_size=1, max_size=3).map(
        lambda values: "x".join(map(str, values))
    )


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), values.map(lambda value: [name, value]))


def flag(name: str) -> st.SearchStrategy[list[str]]:
    return st.sampled_from([[], [name]])


PADDING = st.one_of(sizes(-2, 4), st.sampled_from(["same", "valid", "full", "SAME", "half", "1,-"]))


def assert_clean(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.strip() and result.stdout == "", args


@given(
    st.tuples(
        sizes(1, 12), option("--kernel", sizes(-1, 6)), option("--stride", sizes(0, 4)),
        option("--padding", PADDING), option("--dilation", sizes(0, 3)),
        st.sampled_from([[], ["--pool"], ["--pool", "avg"], ["--transposed"]]), flag("--ceil"),
        option("--output-padding", sizes(0, 3)), FORMATS,
    )
)  # fmt: skip
def test_conv_options(parts) -> None:
    size, *rest, fmt = parts
    assert_clean(["conv", "--input", size, *[a for part in rest for a in part], "--format", fmt])


@given(
    st.tuples(
        sizes(1, 40), option("--output", sizes(0, 40)), flag("--transposed"), flag("--same"),
        option("--max-kernel", st.integers(1, 9).map(str)), option("--stride", st.integers(1, 4).map(str)),
        option("--max-dilation", st.integers(1, 3).map(str)), FORMATS,
    )
)  # fmt: skip
def test_solve_options(parts) -> None:
    size, *rest, fmt = parts
    assert_clean(["solve", "--input", size, *[a for part in rest for a in part], "--format", fmt])


VALUES = st.one_of(
    st.integers(0, 40).map(lambda n: f"0..{n}"),
    st.lists(st.integers(-3, 9), min_size=1, max_size=12).map(lambda v: ",".join(map(str, v))),
    st.sampled_from(["[[1, 2], [3, 4]]", "[[1, 2], [3]]", "[0.5, -1.25]", "x", "[]"]),
)


@given(
    st.tuples(
        st.sampled_from(["conv", "maxpool", "avgpool"]), option("--values", VALUES),
        option("--view", sizes(1, 6)), option("--weight", VALUES), option("--kernel", sizes(0, 4)),
        option("--stride", sizes(0, 3)), option("--padding", PADDING), option("--dilation", sizes(0, 3)),
        option("--bias", VALUES), option("--dims", st.sampled_from(["1", "2"])), FORMATS,
    )
)  # fmt: skip
def test_explain_options(parts) -> None:
    op, *rest, fmt = parts
    assert_clean(["explain", "--op", op, *[a for part in rest for a in part], "--format", fmt])
