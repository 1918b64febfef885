"""Fuzzing the parsers: whatever the input, the result is a report or a clean refusal.

Random and mutated inline specs, YAML files (with ``define`` and ``${...}``), ``${...}``
expressions and ``--input`` values go through the library and through the CLI. Each must
end in a result or in a ``CnncalcError`` (exit status 2 with a message), never another
exception, a traceback, a hang or runaway memory. The YAML loader is also checked against
``yaml.safe_load``: where both accept a document they build the same value.

``CNNCALC_FUZZ=long`` (see conftest.py) runs the long campaign, 20,000 examples a test;
``CNNCALC_FUZZ_EXAMPLES=N`` sets another count. What a campaign found is kept at the end of
this file as regression tests.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from conftest import invoke as invoke_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc import CnncalcError, analyse, load_model
from cnncalc.layers import ALL_TYPES
from cnncalc.limits import MAX_NESTING
from cnncalc.model import parse_dims
from cnncalc.model.document import build_model
from cnncalc.model.expressions import evaluate, substitute
from cnncalc.model.inline import parse_inline
from cnncalc.model.yaml_loader import load_yaml
from cnncalc.render import render

CONFIGS = sorted(Path(__file__).resolve().parent.parent.joinpath("configs").glob("*.yaml"))
CONFIG_TEXTS = [path.read_text() for path in CONFIGS]
SECONDS_PER_CASE = 10.0  # far above any real case; a slower one is a hang
FORMATS = ("table", "json", "csv", "markdown")


def examples(cap: int) -> int:
    """Examples a test runs: ``CNNCALC_FUZZ_EXAMPLES`` where set, else the profile's
    (conftest.py), capped in a short run (CI) so that this file stays quick."""
    if os.environ.get("CNNCALC_FUZZ_EXAMPLES"):
        return int(os.environ["CNNCALC_FUZZ_EXAMPLES"])
    configured = settings.default.max_examples
    return configured if configured > 1000 else min(configured, cap)


QUICK = settings(max_examples=examples(150))
SLOW = settings(
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- how every case must end --------------------------------------------------------------
class Hang(Exception):
    """A case ran past SECONDS_PER_CASE."""


@contextmanager
def time_limit(seconds: float = SECONDS_PER_CASE) -> Iterator[None]:
    """Interrupt a case that runs too long, so a hang fails the test instead of the run."""

    def interrupt(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def analyse_cleanly(source: str, input_shape: tuple[int, ...] | None = None) -> None:
    """Load, analyse and render ``source``; only a CnncalcError may stop it."""
    with time_limit():
        try:
            report = analyse(load_model(source, input_shape))
        except CnncalcError as exc:
            assert str(exc)
            return
        for fmt in FORMATS:
            for piece in render(report, "params", fmt):
                assert isinstance(piece, str)
        if report.error is not None:
            assert str(report.error)


def invoke(args: list[str], stdin: str | bytes | None = None) -> Result:
    with time_limit():
        return invoke_cli(*args, stdin=stdin)


def assert_clean_exit(result: Result) -> None:
    """Exit 0, or 2 with one message on stderr; never an exception out of a command."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        # Ours start "error: "; click's own usage errors end in "Error: ...".
        assert result.stderr.startswith("error: ") or "Error: " in result.stderr, result.stderr


# ---- inline specs -----------------------------------------------------------------------------
LAYER_NAMES = sorted({name for cls in ALL_TYPES for name in (cls.type_name, *cls.aliases)})
ARGUMENT_NAMES = sorted(
    {name for cls in ALL_TYPES for name in cls.fields} | {"name", "repeat", "trainable"}
)
WORDS = ["same", "valid", "full", "zeros", "reflect", "circular", "add", "concat", "mul",
         "nearest", "bilinear", "true", "false", "none", "relu", "nan", "inf"]  # fmt: skip

small_ints = st.integers(-2, 12) | st.integers(13, 300) | st.sampled_from([0, 1, 2, 3, 10**18])
scalars = (
    small_ints.map(str)
    | st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr)
    | st.sampled_from(WORDS)
    | st.sampled_from(WORDS).map(lambda w: f'"{w}"')
)
inline_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "(" + ", ".join(xs) + ")")
    | st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=6,
)


@st.composite
def inline_call(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(LAYER_NAMES))
    if draw(st.booleans()):
        return name
    positional = draw(st.lists(inline_values, max_size=3))
    keywords = draw(
        st.lists(st.tuples(st.sampled_from(ARGUMENT_NAMES), inline_values), max_size=3)
    )
    parts = positional + [f"{key}={value}" for key, value in keywords]
    return f"{name}({', '.join(parts)})"


def chain_of(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(items, min_size=1, max_size=4).map(" -> ".join)


def blocks(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    body = chain_of(inner)
    merges = st.sampled_from(["", ', merge="add"', ', merge="concat"', ', merge="mul"', ", merge=7"])
    return (
        st.tuples(st.integers(0, 4), body).map(lambda t: f"{t[0]} * ({t[1]})")
        | st.tuples(body, st.none() | body, merges).map(
            lambda t: f"residual({t[0]}{'' if t[1] is None else f', shortcut={t[1]}'}{t[2]})"
        )
        | st.tuples(st.lists(body, min_size=1, max_size=3), merges).map(
            lambda t: f"parallel({', '.join(t[0])}{t[1]})"
        )
        | body.map(lambda b: f"({b})")
        | body.map(lambda b: f"sequential({b}, name=blk, repeat=2)")
    )


inline_specs = chain_of(st.recursive(inline_call(), blocks, max_leaves=8))
input_shapes = st.lists(st.integers(1, 40), min_size=1, max_size=4).map(tuple)

INLINE_TOKENS = ["->", "(", ")", "[", "]", ",", "=", "*", '"', "'", " ", "2 *", "relu",
                 "conv2d(", "residual(", "shortcut=", "merge=", "99999999999999999999",
                 "-", ".", "e9", "\\", "\n", "\x00", "é", "${x}",
                 "\udcff"]  # fmt: skip  # a byte of argv that is not UTF-8


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str], tokens: list[str]) -> str:
    """``base`` with a few random edits: cut, duplicate, insert a token, replace a character."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["cut", "dup", "insert", "char"]))
        if edit == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif edit == "dup":
            text = text[:at] + text[at : at + draw(st.integers(1, 40))] * 2 + text[at:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(tokens)) + text[at:]
        else:
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
    return text


@QUICK
@given(spec=inline_specs, shape=input_shapes)
def test_generated_inline_specs(spec: str, shape: tuple[int, ...]) -> None:
    analyse_cleanly(spec, shape)


@QUICK
@given(spec=mutated(inline_specs, INLINE_TOKENS), shape=input_shapes)
def test_mutated_inline_specs(spec: str, shape: tuple[int, ...]) -> None:
    analyse_cleanly(spec, shape)


@QUICK
@given(text=st.text(alphabet=st.sampled_from("()[],=*->\"'0123456789 .relu_xE+") | st.characters()))
def test_random_text_as_inline_spec(text: str) -> None:
    try:
        parse_inline(text)
    except CnncalcError:
        pass
    analyse_cleanly(text, (3, 8, 8))


# ---- ${...} expressions -------------------------------------------------------------------------
PARAMS = {"w": 64, "s": 2, "big": 10**17, "neg": -3, "zero": 0, "text": "x", "flag": True,
          "lst": [1, 2]}  # fmt: skip
atoms = (
    st.sampled_from(sorted(PARAMS)) | st.integers(0, 10**19).map(str) | st.sampled_from(["x", "1.5"])
)
expressions = st.recursive(
    atoms,
    lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*", "//", "/", "%", "**"]), inner).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    )
    | inner.map(lambda e: f"({e})")
    | inner.map(lambda e: f"-{e}"),
    max_leaves=12,
)


@QUICK
@given(expression=expressions | mutated(expressions, ["(", ")", "-", "+", "*", "//", " ", "$", "{"]))
def test_expressions(expression: str) -> None:
    try:
        value = evaluate(expression, PARAMS)
    except CnncalcError:
        return
    if isinstance(value, int) and not isinstance(value, bool) and expression.strip() not in PARAMS:
        assert abs(value) < 10**18


@QUICK
@given(text=st.text(alphabet=st.sampled_from("${}w+-*/() 0123456789s") | st.characters()))
def test_substitution_in_text(text: str) -> None:
    try:
        substitute(text, PARAMS)
    except CnncalcError:
        pass


# ---- YAML files ----------------------------------------------------------------------------------
yaml_scalars = (
    small_ints
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.sampled_from(WORDS + ["${w}", "${w * 2}", "${w // 0}", "${s + nope}", "${(w"])
)
yaml_args = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(ARGUMENT_NAMES), inner, max_size=4),
    max_leaves=8,
)
yaml_layer = st.sampled_from(LAYER_NAMES) | st.builds(
    lambda name, args: {name: args}, st.sampled_from(LAYER_NAMES + ["blk", "Activation"]), yaml_args
)


def yaml_blocks(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    body = st.lists(inner, max_size=4)
    return (
        st.builds(lambda b, n: {"sequential": b, "repeat": n}, body, st.integers(0, 3))
        | st.builds(
            lambda b, s, m: {"residual": {"body": b, "shortcut": s, "merge": m}},
            body, body, st.sampled_from(["add", "concat", "mul", "sub"]),
        )
        | st.builds(lambda bs: {"parallel": {"branches": bs}}, st.lists(body, max_size=3))
        | st.builds(lambda w: {"blk": {"w": w}}, yaml_scalars)
    )  # fmt: skip


yaml_entries = st.lists(st.recursive(yaml_layer, yaml_blocks, max_leaves=10), max_size=6)


@st.composite
def yaml_models(draw: st.DrawFn) -> str:
    document: dict[str, Any] = {
        "input": draw(input_shapes.map(list) | yaml_scalars),
        "define": {
            "blk": {
                "params": {"w": draw(yaml_scalars)},
                "layers": draw(yaml_entries),
            }
        },
        "layers": draw(yaml_entries),
    }
    if draw(st.booleans()):
        del document["define"]
    return yaml.safe_dump(document, default_flow_style=draw(st.sampled_from([None, True, False])))


YAML_TOKENS = ["{", "}", "[", "]", ": ", "- ", "&a ", "*a", "!!str ", "!!python/object ", "<<: ",
               "${w}", "${", "}", "\n", "  ", "'", '"', "#", "|", ">", "? ", "repeat: 250000",
               "99999999999999999999", "---\n", "\t", "%YAML 1.1\n", "!!binary ", "\x00",
               "define:", "params:", "residual:", "body:"]  # fmt: skip


@SLOW
@given(text=yaml_models())
def test_generated_yaml_models(text: str) -> None:
    analyse_yaml_cleanly(text)


@SLOW
@given(text=mutated(yaml_models(), YAML_TOKENS))
def test_mutated_yaml_models(text: str) -> None:
    analyse_yaml_cleanly(text)


@SLOW
@given(text=mutated(st.sampled_from(CONFIG_TEXTS), YAML_TOKENS))
def test_mutated_configs(text: str) -> None:
    analyse_yaml_cleanly(text)


def analyse_yaml_cleanly(text: str) -> None:
    with time_limit():
        try:
            model = build_model(load_yaml(text), "fuzz.yaml")
            if model.input_shape is None:
                model.input_shape = (3, 16, 16)
            report = analyse(model)
        except CnncalcError:
            return
        for fmt in FORMATS:
            "".join(render(report, "shapes", fmt))


def plain(value: Any) -> Any:
    """A loaded document as plain dicts and lists, NaN made comparable."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def pyyaml_load(text: str) -> Any:
    """What PyYAML's own safe loader makes of ``text`` on the parser cnncalc uses (libyaml
    and the pure-Python parser differ in corners: ``!`` alone is "" to one, None to the
    other)."""
    from cnncalc.model import yaml_loader

    loader = yaml.CSafeLoader if yaml_loader.EventLoader is yaml.CSafeLoader else yaml.SafeLoader
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


SCHEMA_CORNERS = ["=: 1\n", "!\n"]  # YAML's value key as plain text; a lone tag


@QUICK
@given(text=yaml_models() | mutated(yaml_models(), YAML_TOKENS) | st.text() | st.sampled_from(SCHEMA_CORNERS))
def test_loader_agrees_with_pyyaml(text: str) -> None:
    """A cross-check of cnncalc's written-out schema (tests/test_yaml_schema.py holds its
    rules as literal values) against PyYAML 6's, which it was written from. Merge keys
    are cnncalc's own rule, so documents with ``<<`` are not compared; nor is a PyYAML
    release whose schema has moved on."""
    if "<<" in text or not yaml.__version__.startswith("6."):
        return
    try:
        ours = load_yaml(text)
    except CnncalcError:
        return
    try:
        theirs = pyyaml_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return  # PyYAML refuses (or crashes on) what we read: nothing to compare
    assert plain(ours) == plain(theirs)


MERGES = [  # (document, the value of its key "c"): the rule of yaml_loader's docstring
    ("a: &a {x: 1, y: 1}\nc: {<<: *a}\n", {"x": 1, "y": 1}),
    ("a: &a {x: 1, y: 1}\nc: {<<: *a, x: 3}\n", {"x": 3, "y": 1}),  # its own key wins
    ("a: &a {x: 1, y: 1}\nc: {x: 3, <<: *a}\n", {"x": 3, "y": 1}),  # wherever it stands
    ("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b]}\n", {"x": 1, "y": 1, "z": 2}),
    ("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*b, *a]}\n", {"x": 2, "y": 1, "z": 2}),
    ("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n", {"x": 1, "y": 2, "z": 3}),
    ("c:\n  <<: {x: 1}\n  y: 2\n", {"x": 1, "y": 2}),
]


@pytest.mark.parametrize(("text", "expected"), MERGES)
@pytest.mark.parametrize("loader", ["c", "python"])
def test_merge_keys(
    text: str, expected: dict[str, int], loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cnncalc.model import yaml_loader

    if loader == "python":
        monkeypatch.setattr(yaml_loader, "EventLoader", yaml.SafeLoader)
    assert load_yaml(text)["c"] == expected


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: *a, <<: *b}\n", 3,
         "duplicate key '<<'; merge several mappings with one '<<: [*a, *b]' (the first listed wins)"),
        ("c:\n  <<: {x: 1}\n  <<: {y: 2}\n", 3,
         "duplicate key '<<'; merge several mappings with one '<<: [*a, *b]' (the first listed wins)"),
        ("c: {<<: 5}\n", 1, "'<<' merges a mapping or a list of mappings"),
        ("c: {<<: []}\n", 1, "'<<' merges a mapping or a list of mappings"),
        ("c: [<<]\n", 1, "'<<' is only allowed as a mapping key"),
    ],
)  # fmt: skip
def test_merge_key_refusals(text: str, line: int, message: str) -> None:
    with pytest.raises(CnncalcError) as caught:
        load_yaml(text)
    assert caught.value.message == message
    assert caught.value.location.line == line


def test_repeated_merge_key_in_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "define:\n  a: &a {layers: [relu]}\n  b: &b {layers: [tanh]}\n"
        "input: [3, 8, 8]\nlayers:\n  - {<<: *a, <<: *b}\n"
    )
    result = invoke_cli("shapes", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:6: duplicate key '<<'; merge several mappings with one "
        "'<<: [*a, *b]' (the first listed wins)\n"
    )


@pytest.fixture
def pure_python_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML without libyaml: the loader falls back to the pure-Python parser."""
    from cnncalc.model import yaml_loader

    monkeypatch.setattr(yaml_loader, "EventLoader", yaml.SafeLoader)


def test_the_c_parser_is_used_where_present() -> None:
    from cnncalc.model import yaml_loader

    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert yaml_loader.EventLoader is expected


@pytest.mark.parametrize("text", CONFIG_TEXTS, ids=[p.stem for p in CONFIGS])
def test_fallback_loader_reads_the_configs_alike(text: str, pure_python_loader: None) -> None:
    assert plain(load_yaml(text)) == plain(yaml.safe_load(text))


@pytest.mark.parametrize("depth", [MAX_NESTING, MAX_NESTING + 1])
def test_fallback_loader_keeps_the_limits(depth: int, pure_python_loader: None) -> None:
    text = "[" * depth + "]" * depth
    if depth == MAX_NESTING:
        assert load_yaml(text) == plain(yaml.safe_load(text))
    else:
        with pytest.raises(CnncalcError, match="limit MAX_NESTING"):
            load_yaml(text)


# ---- the CLI ---------------------------------------------------------------------------------------
dims_text = st.text(alphabet=st.sampled_from("0123456789x×,X -+.²٣") | st.characters(), max_size=30)


@QUICK
@given(text=dims_text | input_shapes.map(lambda s: "x".join(map(str, s))))
def test_input_option(text: str) -> None:
    try:
        dims = parse_dims(text, "--input")
    except CnncalcError:
        dims = None
    if dims is not None:
        assert all(isinstance(d, int) and d >= 1 for d in dims)
    assert_clean_exit(invoke(["shapes", "--input", text, "conv2d(4, 3) -> relu"]))


@SLOW
@given(
    spec=inline_specs | mutated(inline_specs, INLINE_TOKENS),
    dims=dims_text | input_shapes.map(lambda s: "x".join(map(str, s))),
    batch=st.sampled_from(["1", "2", "0", "-1", "x", str(10**13), "9" * 5000]),
    fmt=st.sampled_from(FORMATS),
    command=st.sampled_from(["shapes", "params"]),
)
def test_cli_inline(spec: str, dims: str, batch: str, fmt: str, command: str) -> None:
    assert_clean_exit(invoke([command, "--input", dims, "--batch", batch, "--format", fmt, spec]))


@SLOW
@given(
    text=yaml_models() | mutated(st.sampled_from(CONFIG_TEXTS), YAML_TOKENS),
    fmt=st.sampled_from(FORMATS),
)
def test_cli_stdin(text: str, fmt: str) -> None:
    # Standard input is bytes: text that is not UTF-8 arrives as it is.
    stdin = text.encode("utf-8", "surrogatepass")
    assert_clean_exit(invoke(["params", "--format", fmt, "-"], stdin=stdin))


@QUICK
@given(data=st.binary(max_size=200))
def test_cli_stdin_bytes(data: bytes) -> None:
    assert_clean_exit(invoke(["shapes", "--input", "3x8x8", "-"], stdin=data))


# ---- findings of the long campaign, kept as regressions --------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["shapes", "--input", "3x²", "relu"],  # a digit that int() does not read
        ["shapes", "--input", "9" * 5000, "relu"],  # past int()'s digit limit
        ["shapes", "--input", "3x8x8", "relu\x00.yaml"],  # a NUL in a path
        ["params", "--input", "3x8x8", "--batch", str(10**13), "relu"],  # batch past the limit
    ],
)
def test_cli_regressions(args: list[str]) -> None:
    result = invoke(args)
    assert_clean_exit(result)
    assert result.exit_code == 2


def test_undecodable_command_line_bytes() -> None:
    # Python keeps argv bytes that are not UTF-8 as lone surrogates, which no strict
    # stdout can print: the spec is refused instead of crashing the output.
    with pytest.raises(CnncalcError, match="not valid UTF-8"):
        load_model('relu(name="\udcff\udcfe")', (3, 8, 8))
    result = invoke(["shapes", "--input", "3x8x8", 'relu(name="\udcff")'])
    assert result.exit_code == 2 and "not valid UTF-8" in result.stderr


def test_undecodable_file_name(tmp_path: Path) -> None:
    path = tmp_path / "le\udcffnet.yaml"
    path.write_text("input: [4]\nlayers: [relu]\n")
    report = analyse(load_model(str(path)))
    assert report.source.endswith("le\ufffdnet.yaml")
    "".join(render(report, "shapes", "table")).encode("utf-8")


def test_inline_spec_too_long_to_be_a_path() -> None:
    result = invoke(["shapes", "--input", "3x8x8", "relu -> " * 2000 + "relu"])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    "spec",
    [
        "2 * " * 5000 + "relu",  # nested repeats without parentheses
        "(" * 70 + "relu" + ")" * 70,
        "conv2d(" + "[" * 70 + "1" + "]" * 70 + ")",
    ],
)
def test_inline_regressions(spec: str) -> None:
    with pytest.raises(CnncalcError, match="limit MAX_NESTING"):
        load_model(spec, (3, 8, 8))


def test_expression_regressions() -> None:
    assert evaluate("-" * 5001 + "1", PARAMS) == -1  # a long run of signs, no recursion
    with pytest.raises(CnncalcError, match="limit MAX_INT_DIGITS"):
        evaluate("w" + " * w" * 40, PARAMS)


YAML_REGRESSIONS = [
    "\ud800efine: {}\ninput: [4]\nlayers: []\n",  # a lone surrogate, which libyaml refuses
    "input: [3, 8, 8]\nlayers: &a [{sequential: *a}]\n",  # a recursive alias
    "input: [3, 8, 8]\nlayers: [{linear: 1" + "0" * 5000 + "}]\n",  # past int()'s digit limit
    "input: [3, 8, 8]\nlayers: [{relu: !!int abc}]\n",
    "input: [3, 8, 8]\nlayers: [relu]\n--- 2\n",
]


@pytest.mark.parametrize("text", YAML_REGRESSIONS)
def test_yaml_regressions(text: str) -> None:
    with pytest.raises(CnncalcError):
        load_yaml(text)
    assert_clean_exit(invoke(["shapes", "-"], stdin=text.encode("utf-8", "surrogatepass")))


def alias_fanout(levels: int, fanout: int, leaf: str) -> str:
    """Each level a list of ``fanout`` aliases of the one below: fanout**levels entries."""
    lines = ["input: [3, 8, 8]", "define:", f"  l0: [{leaf}]"]
    for level in range(1, levels + 1):
        lines.append(f"  l{level}: [" + ", ".join([f"l{level - 1}"] * fanout) + "]")
    lines.append(f"layers: [l{levels}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("leaf", ["relu", "{sequential: [relu]}"])
def test_defined_blocks_that_multiply_entries(tmp_path: Path, leaf: str) -> None:
    # 10**9 entries by design: refused by MAX_ENTRIES (or MAX_LAYERS), quickly.
    path = tmp_path / "fanout.yaml"
    path.write_text(alias_fanout(9, 10, leaf))
    started = time.monotonic()
    with pytest.raises(CnncalcError, match="limit MAX_(ENTRIES|LAYERS)"):
        analyse(load_model(str(path)))
    assert time.monotonic() - started < SECONDS_PER_CASE


def test_empty_blocks_repeated_past_any_count() -> None:
    # An empty block is refused; repeated past any count, the expansion limit answers first,
    # at once, before anything is expanded.
    spec = "250000 * (250000 * (250000 * sequential())) -> relu"
    started = time.monotonic()
    with pytest.raises(CnncalcError) as caught:
        load_model(spec, (3, 8, 8))
    assert str(caught.value) == (
        "inline spec: the model expands to more than 250,000 layers after repeat "
        "(limit MAX_LAYERS)"
    )
    assert time.monotonic() - started < SECONDS_PER_CASE
    report = analyse(load_model("2 * (3 * sequential()) -> relu", (3, 8, 8)))
    assert str(report.error) == (
        "inline spec: layer 1 (sequential1.0.0.0.0): "
        "sequential needs at least one layer"
    )
