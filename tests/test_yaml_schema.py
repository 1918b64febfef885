"""cnncalc's YAML schema as literal values: what each scalar is, whatever PyYAML release is
installed (PyYAML only parses; ``cnncalc.model.yaml_schema`` resolves and builds)."""

from __future__ import annotations

import datetime
import math

import pytest

from cnncalc import CnncalcError
from cnncalc.model.yaml_loader import load_yaml

UTC = datetime.UTC
SCALARS = [
    # null
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("", None), ("nULL", "nULL"),
    # bool: YAML 1.1's words, in three cases only
    ("yes", True), ("Yes", True), ("YES", True), ("no", False), ("on", True), ("Off", False),
    ("true", True), ("FALSE", False), ("yEs", "yEs"), ("y", "y"), ("n", "n"),
    # int
    ("0", 0), ("7", 7), ("-7", -7), ("+7", 7), ("1_000", 1000), ("0b101", 5), ("-0b101", -5),
    ("017", 15), ("0x1F", 31), ("0x_1f", 31), ("1:30", 90), ("-1:30:00", -5400), ("08", "08"),
    ("0o17", "0o17"), ("1:60", "1:60"), ("00", 0), ("09", "09"), ("123", 123),
    ("١٢", "١٢"),  # Arabic-Indic digits: decimal to Python, text to YAML
    # names: text unless a null or bool word
    ("_1", "_1"), ("same", "same"), ("Nullx", "Nullx"), ("ON", True), ("名前", "名前"),
    # float: a "." is needed, and an exponent needs its sign
    ("1.5", 1.5), ("1.", 1.0), (".5", 0.5), ("-1.5e+3", -1500.0), ("1.0e-5", 1e-5),
    ("1_000.5", 1000.5), ("1:30.5", 90.5), (".inf", math.inf), ("-.Inf", -math.inf),
    ("+.INF", math.inf), ("1e3", "1e3"), ("1e-5", "1e-5"), ("1.0e5", "1.0e5"), ("inf", "inf"),
    # timestamps
    ("2001-12-14", datetime.date(2001, 12, 14)),
    ("2001-12-14t21:59:43.10-05:00", datetime.datetime(
        2001, 12, 14, 21, 59, 43, 100000, tzinfo=datetime.timezone(-datetime.timedelta(hours=5)))),
    ("2001-12-14 21:59:43Z", datetime.datetime(2001, 12, 14, 21, 59, 43, tzinfo=UTC)),
    ("2001-12-14 21:59:43", datetime.datetime(2001, 12, 14, 21, 59, 43)),
    # text: quoted scalars are never resolved
    ("'7'", "7"), ('"yes"', "yes"), ("'~'", "~"), ("relu", "relu"),
    ("! 7", 7),  # a bare ! leaves a plain scalar resolved, as PyYAML 6 reads it
    # explicit tags
    ("!!str 7", "7"), ("!!int '0x10'", 16), ("!!float 1e3", 1000.0), ("!!bool 'on'", True),
    ("!!null whatever", None), ("!!binary aGk=", b"hi"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value"), SCALARS, ids=[t for t, _ in SCALARS])
def test_scalars(text: str, value: object) -> None:
    loaded = load_yaml(f"v: {text}\n")["v"]
    assert type(loaded) is type(value)
    assert loaded == value


def test_not_a_number() -> None:
    assert math.isnan(load_yaml("v: .nan\n")["v"])
    assert math.isnan(load_yaml("v: .NaN\n")["v"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!int abc", "cannot read 'abc' as int: invalid literal for int() with base 10: 'abc'"),
        ("!!bool maybe", "cannot read 'maybe' as bool: a boolean is yes/no, true/false or on/off"),
        ("!!timestamp soon", "cannot read 'soon' as timestamp: not a timestamp"),
        ("!!binary é", "cannot read 'é' as binary: failed to convert base64 data into ascii: "
                       "'ascii' codec can't encode character '\\xe9' in position 0: ordinal not "
                       "in range(128)"),
        ("!!set {}", "unsupported YAML tag tag:yaml.org,2002:set"),
    ],
)  # fmt: skip
def test_scalars_that_are_refused(text: str, message: str) -> None:
    with pytest.raises(CnncalcError) as caught:
        load_yaml(f"v: {text}\n")
    assert caught.value.message == message
