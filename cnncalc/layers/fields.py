"""Argument types of layers: plain validators that normalise a value the way torch's
``_single``/``_pair``/``_triple`` do and raise one clean message when it is wrong.

Each factory returns the validating function; ``LayerType.validator`` wraps them in a
pydantic-core schema, which reports exactly one error per bad argument with its location,
never one per union member.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..limits import MAX_DIMENSION
from ..quote import excerpt, quote

if TYPE_CHECKING:  # pragma: no cover
    from pydantic_core import PydanticCustomError

PADDING_WORDS = ("valid", "same", "full")


def _fail(message: str, **context: Any) -> PydanticCustomError:
    # Imported here: only validation needs pydantic-core, not `cnncalc --help` or `layers`.
    from pydantic_core import PydanticCustomError

    return PydanticCustomError("cnncalc", message, context)


def _show(value: Any) -> str:
    """A value as the spec would write it: ``'same'``, ``[3, 3]``, ``true``, ``null``."""
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return excerpt("[" + ", ".join(_show(v) for v in value) + "]")
    return excerpt(str(value))


def check_int(value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"must be an integer, got {_show(value)}")
    if minimum is not None and value < minimum:
        raise _fail(f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise _fail(f"must be <= {maximum}, got {value}")
    if value > MAX_DIMENSION:
        raise _fail(f"must be <= {MAX_DIMENSION:,} (limit MAX_DIMENSION), got {value}")
    if value < -MAX_DIMENSION:
        raise _fail(f"must be >= {-MAX_DIMENSION:,} (limit MAX_DIMENSION), got {value}")
    return value


def _validator(fn: Callable[[Any], Any], python_type: Any = Any) -> Callable[[Any], Any]:
    """The validating function itself; ``python_type`` documents what it returns."""
    return fn


def Int(minimum: int | None = None, maximum: int | None = None) -> Any:
    return _validator(lambda v: check_int(v, minimum, maximum), int)


def OptionalInt(minimum: int | None = None) -> Any:
    return _validator(lambda v: None if v is None else check_int(v, minimum), int | None)


def Bool() -> Any:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _fail(f"must be true or false, got {_show(value)}")
        return value

    return _validator(check, bool)


def OptionalBool() -> Any:
    def check(value: Any) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise _fail(f"must be true, false or null, got {_show(value)}")
        return value

    return _validator(check, bool | None)


EXPONENT_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+\Z")
"""A number in exponent form (``1e-5``, ``1E-5``, ``+1e5``, ``1.0e5``): YAML 1.1, which
PyYAML follows, reads these as text (its floats need a dot and a signed exponent)."""


def exponent_number(value: Any) -> Any:
    """``value`` as a float where it is text in exponent form, else ``value`` itself. Only
    where a float is expected: an integer argument never takes ``1e3``."""
    if isinstance(value, str) and len(value) <= 40 and EXPONENT_NUMBER.match(value):
        return float(value)
    return value


def Float(
    minimum: float | None = None, maximum: float | None = None, allow_none: bool = False
) -> Any:
    def check(value: Any) -> float | None:
        if value is None and allow_none:
            return None
        value = exponent_number(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"must be a number, got {_show(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise _fail(f"must be a finite number, got {value}")
        if minimum is not None and value < minimum:
            raise _fail(f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise _fail(f"must be <= {maximum}, got {value}")
        return float(value)

    return _validator(check, float | None if allow_none else float)


def Choice(*options: str) -> Any:
    def check(value: Any) -> str:
        if isinstance(value, str) and value.lower() in options:
            return value.lower()
        raise _fail(f"must be one of {', '.join(options)}, got {_show(value)}")

    return _validator(check, str)


def int_tuple(value: Any, nd: int, minimum: int | None, exact: bool = False) -> tuple[int, ...]:
    """An int broadcast to ``nd`` entries, or a list of ``nd`` (or, unless ``exact``, 1) ints."""
    if isinstance(value, list | tuple):
        allowed = (nd,) if exact else (1, nd)
        if len(value) not in allowed:
            wanted = f"{nd}" if exact or nd == 1 else f"1 or {nd}"
            raise _fail(f"must be one integer or a list of {wanted}, got {_show(value)}")
        items = tuple(check_int(v, minimum) for v in value)
        return items * nd if len(items) == 1 else items
    return (check_int(value, minimum),) * nd


def Ints(nd: int, minimum: int | None = 1, exact: bool = False) -> Any:
    return _validator(lambda v: int_tuple(v, nd, minimum, exact), tuple[int, ...])


def OptionalInts(nd: int, minimum: int | None = 1) -> Any:
    return _validator(
        lambda v: None if v is None else int_tuple(v, nd, minimum), tuple[int, ...] | None
    )


def Padding(nd: int, words: Sequence[str] = PADDING_WORDS, minimum: int | None = 0) -> Any:
    """An int, a per-dimension list, or one of ``words`` (case-insensitive)."""

    def check(value: Any) -> tuple[int, ...] | str:
        if isinstance(value, str):
            if value.lower() in words:
                return value.lower()
            raise _fail(
                f"must be an integer, a list of {nd} integers or one of "
                f"{', '.join(words)}, got {quote(value)}"
            )
        return int_tuple(value, nd, minimum)

    return _validator(check, Any)


def IntList(minimum: int | None = None, allow_none: bool = False, min_length: int = 0) -> Any:
    """A list of ints of any length (``None`` entries allowed where ``allow_none``); an int is
    a list of one."""

    def check(value: Any) -> tuple[int | None, ...]:
        items = value if isinstance(value, list | tuple) else [value]
        if len(items) < min_length:
            raise _fail(f"must have at least {min_length} entries, got {_show(value)}")
        return tuple(
            None if (allow_none and v is None) else check_int(v, minimum) for v in items
        )

    return _validator(check, tuple)


def FloatOrFloats() -> Any:
    """A positive number or a list of positive numbers (upsample's scale_factor)."""

    def check(value: Any) -> float | tuple[float, ...]:
        items = value if isinstance(value, list | tuple) else [value]
        out = []
        for v in map(exponent_number, items):
            if isinstance(v, bool) or not isinstance(v, int | float) or not v == v:
                raise _fail(f"must be a number or a list of numbers, got {_show(value)}")
            if v <= 0 or v == float("inf"):
                raise _fail(f"must be > 0 and finite, got {_show(value)}")
            out.append(float(v))
        return tuple(out) if isinstance(value, list | tuple) else out[0]

    return _validator(check, Any)
