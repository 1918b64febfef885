"""``${...}`` in defined blocks: a parameter name, or integer arithmetic on parameters with
``+ - * //`` and parentheses. Parsed by a small recursive-descent parser, never evaluated
as code; every intermediate result is bounded by ``MAX_INT_DIGITS``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import LimitError, SpecError
from ..limits import MAX_INT_DIGITS, MAX_NESTING
from ..quote import excerpt, quote

PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
TOKEN = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*()]))")
BOUND = 10**MAX_INT_DIGITS


def _shown(text: str) -> str:
    """An expression as the error repeats it: ``${width * 2}``, bounded."""
    return "${" + excerpt(text) + "}"


class _Parser:
    def __init__(self, text: str, params: Mapping[str, Any]) -> None:
        self.text = text
        self.params = params
        self.tokens = self._tokenise(text)
        self.pos = 0
        self.depth = 0

    def _tokenise(self, text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        at = 0
        stripped = text.rstrip()
        while at < len(stripped):
            match = TOKEN.match(stripped, at)
            if not match:
                bad = stripped[at:].lstrip()[:1]
                what = (
                    f"{quote(bad)} (U+{ord(bad):04X}) is not an ASCII digit"
                    if bad.isdigit() or bad.isdecimal()
                    else f"unexpected {quote(bad)}"
                )
                raise SpecError(
                    f"{_shown(text)}: {what}; only parameter names, integers (digits 0-9), "
                    "+ - * // and parentheses are allowed"
                )
            number, name, op = match.groups()
            if number is not None:
                if len(number.lstrip("0")) > MAX_INT_DIGITS:
                    raise LimitError(
                        f"{_shown(text)}: integer {number[:20]}... has more than "
                        f"{MAX_INT_DIGITS} digits (limit MAX_INT_DIGITS)"
                    )
                tokens.append(("int", int(number)))
            elif name is not None:
                tokens.append(("name", name))
            else:
                tokens.append(("op", op))
            at = match.end()
        return tokens

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise SpecError(f"{_shown(self.text)}: the expression ends too early")
        self.pos += 1
        return token

    def bounded(self, value: int) -> int:
        if abs(value) >= BOUND:
            raise LimitError(
                f"{_shown(self.text)}: a result exceeds {MAX_INT_DIGITS} digits "
                "(limit MAX_INT_DIGITS)"
            )
        return value

    def parse(self) -> Any:
        if not self.tokens:
            raise SpecError("${}: empty expression")
        if len(self.tokens) == 1 and self.tokens[0][0] == "name":
            return self.lookup(self.tokens[0][1])  # a lone name may hold any value
        value = self.sum()
        if self.peek() is not None:
            raise SpecError(f"{_shown(self.text)}: unexpected {quote(self.peek()[1])}")  # type: ignore[index]
        return value

    def sum(self) -> int:
        value = self.product()
        while (token := self.peek()) and token[1] in ("+", "-"):
            self.take()
            right = self.product()
            value = self.bounded(value + right if token[1] == "+" else value - right)
        return value

    def product(self) -> int:
        value = self.unary()
        while (token := self.peek()) and token[1] in ("*", "//"):
            self.take()
            right = self.unary()
            if token[1] == "//":
                if right == 0:
                    raise SpecError(f"{_shown(self.text)}: division by zero")
                value = value // right
            else:
                value = self.bounded(value * right)
        return value

    def unary(self) -> int:
        negative = False
        while (token := self.peek()) and token[1] in ("-", "+"):  # a loop: `- - - 1` is flat
            self.take()
            negative ^= token[1] == "-"
        value = self.atom()
        return -value if negative else value

    def atom(self) -> int:
        kind, value = self.take()
        if kind == "int":
            return value
        if kind == "name":
            found = self.lookup(value)
            if isinstance(found, bool) or not isinstance(found, int):
                raise SpecError(
                    f"{_shown(self.text)}: parameter {value} is {quote(found)}, not an integer"
                )
            return found
        if value == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise LimitError(
                    f"${{...}}: parentheses nested deeper than {MAX_NESTING} (limit MAX_NESTING)"
                )
            inner = self.sum()
            if self.take()[1] != ")":
                raise SpecError(f"{_shown(self.text)}: expected ')'")
            self.depth -= 1
            return inner
        raise SpecError(f"{_shown(self.text)}: unexpected {quote(value)}")

    def lookup(self, name: str) -> Any:
        if name not in self.params:
            known = ", ".join(sorted(self.params)) or "none here"
            raise SpecError(f"{_shown(self.text)}: unknown parameter {quote(name)} (parameters: {known})")
        return self.params[name]


def evaluate(expression: str, params: Mapping[str, Any]) -> Any:
    """The value of one ``${expression}``."""
    return _Parser(expression, params).parse()


def substitute(text: str, params: Mapping[str, Any]) -> Any:
    """A string that is exactly ``${...}`` becomes the value itself (an int for arithmetic);
    placeholders inside longer text are replaced by their values as text."""
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return evaluate(whole.group(1), params)
    return PLACEHOLDER.sub(lambda m: str(evaluate(m.group(1), params)), text)
