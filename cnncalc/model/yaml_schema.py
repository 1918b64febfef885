"""YAML 1.1's safe schema, as cnncalc reads it: which type a plain scalar is, and its value.

The rules are written out here rather than taken from PyYAML's resolver and constructor at
run time, so that a model means the same with every PyYAML release (PyYAML supplies only
the parser's events). They are the YAML 1.1 types, as PyYAML 6.0 resolves them:

* null: ``~``, ``null``, ``Null``, ``NULL`` and the empty scalar;
* bool: ``yes``/``no``, ``true``/``false``, ``on``/``off`` in lower, Title or UPPER case;
* int: decimal, ``0b`` binary, ``0`` octal, ``0x`` hexadecimal and base-60 (``1:30`` is
  90), ``_`` allowed between digits, signed;
* float: a number with a ``.`` (``1.5``, ``1.``, ``.5``, ``1.0e+3``; an exponent needs its
  sign and a ``.`` before it, so ``1e3`` and ``1e-5`` are text), base 60 with a fraction,
  ``.inf``, ``-.inf``, ``.nan``;
* timestamp: ``2001-12-14`` (a date) or a date and time with an optional zone;
* anything else, and every quoted scalar, is text. An explicit ``!!binary`` is base64.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
from collections.abc import Callable
from typing import Any

TAG = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (TAG + n for n in ("null", "bool", "int", "float", "str"))
TIMESTAMP, BINARY, MERGE, VALUE, YAML = (
    TAG + n for n in ("timestamp", "binary", "merge", "value", "yaml")
)

PATTERNS = (  # (tag, pattern, the characters a match can start with), tried in this order
    (BOOL, r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
     "yYnNtTfFoO"),
    (FLOAT, r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
            r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
            r"|[-+]?\.(?:inf|Inf|INF)"
            r"|\.(?:nan|NaN|NAN)",
     "-+0123456789."),
    (INT, r"[-+]?0b[0-1_]+"
          r"|[-+]?0[0-7_]+"
          r"|[-+]?(?:0|[1-9][0-9_]*)"
          r"|[-+]?0x[0-9a-fA-F_]+"
          r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
     "-+0123456789"),
    (MERGE, r"<<", "<"),
    (NULL, r"~|null|Null|NULL|", "~nN"),
    (TIMESTAMP, r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                r"(?:[Tt]|[ \t]+)[0-9][0-9]?"
                r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
                r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
     "0123456789"),
    (VALUE, r"=", "="),
    (YAML, r"!|&|\*", "!&*"),
)  # fmt: skip
# Whole-scalar patterns by first character, compiled (and kept by ``re``) the first time a
# scalar needs one.
BY_FIRST: dict[str, list[tuple[str, str]]] = {"": [(NULL, r"\Z")]}
for _tag, _pattern, _firsts in PATTERNS:
    for _first in _firsts:
        BY_FIRST.setdefault(_first, []).append((_tag, f"(?:{_pattern})\\Z"))
# The bool and null patterns are lists of words. A name (``relu``, ``same``) matches no other
# pattern, and digits without a leading zero only the decimal int, so most scalars are
# resolved without a pattern (and a model file compiles only those its other scalars need).
WORDS = {
    word: tag for tag, pattern, _ in PATTERNS if tag in (BOOL, NULL) for word in pattern.split("|")
}

TIMESTAMP_PARTS = (
    r"(?P<year>[0-9]{4})-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)"
    r"(?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])"
    r"(?:\.(?P<fraction>[0-9]*))?"
    r"(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)(?::(?P<tz_minute>[0-9][0-9]))?))?)?\Z"
)


def resolve(value: str, plain: bool) -> str:
    """The tag of a scalar without an explicit one; a quoted scalar (``plain`` False) is text."""
    if not plain:
        return STR
    if value.isidentifier():
        return WORDS.get(value, STR)
    if value.isdecimal() and value.isascii() and (value[0] != "0" or value == "0"):
        return INT
    for tag, pattern in BY_FIRST.get(value[:1], ()):
        if re.match(pattern, value):
            return tag
    return STR


def _sexagesimal(text: str, number: Callable[[str], Any]) -> Any:
    total = number("0")
    for part in text.split(":"):
        total = total * 60 + number(part)
    return total


def construct_int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text[:1] == "-" else 1
    text = text[1:] if text[:1] in "+-" else text
    if text == "0":
        return 0
    if text.startswith("0b"):
        return sign * int(text[2:], 2)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    if text.startswith("0"):
        return sign * int(text, 8)
    if ":" in text:
        return sign * _sexagesimal(text, int)
    return sign * int(text)


def construct_float(value: str) -> float:
    text = value.replace("_", "").lower()
    sign = -1.0 if text[:1] == "-" else 1.0
    text = text[1:] if text[:1] in "+-" else text
    if text == ".inf":
        return sign * math.inf
    if text == ".nan":
        return math.nan
    if ":" in text:
        return sign * _sexagesimal(text, float)
    return sign * float(text)


def construct_bool(value: str) -> bool:
    word = value.lower()
    if word not in ("yes", "true", "on", "no", "false", "off"):
        raise ValueError("a boolean is yes/no, true/false or on/off")
    return word in ("yes", "true", "on")


def construct_timestamp(value: str) -> datetime.date | datetime.datetime:
    match = re.match(TIMESTAMP_PARTS, value)
    if match is None:
        raise ValueError("not a timestamp")
    part = match.groupdict()
    year, month, day = int(part["year"]), int(part["month"]), int(part["day"])
    if not part["hour"]:
        return datetime.date(year, month, day)
    fraction = int((part["fraction"] or "")[:6].ljust(6, "0"))
    zone = None
    if part["tz_sign"]:
        delta = datetime.timedelta(hours=int(part["tz_hour"]), minutes=int(part["tz_minute"] or 0))
        zone = datetime.timezone(-delta if part["tz_sign"] == "-" else delta)
    elif part["tz"]:
        zone = datetime.UTC
    return datetime.datetime(
        year, month, day, int(part["hour"]), int(part["minute"]), int(part["second"]), fraction,
        tzinfo=zone,
    )  # fmt: skip


def construct_binary(value: str) -> bytes:
    try:
        data = value.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError(f"failed to convert base64 data into ascii: {exc}") from None
    try:
        return base64.decodebytes(data)
    except binascii.Error as exc:
        raise ValueError(f"failed to decode base64 data: {exc}") from None


CONSTRUCTORS: dict[str, Callable[[str], Any]] = {
    NULL: lambda value: None, BOOL: construct_bool, INT: construct_int, FLOAT: construct_float,
    STR: lambda value: value, TIMESTAMP: construct_timestamp, BINARY: construct_binary,
}  # fmt: skip
