"""The inline form: ``conv2d(6, 5) -> relu -> 2 * (conv2d(16, 3, padding=1) -> relu)``.

A tokenizer and a recursive-descent parser turn the text into the same entry data a YAML
file holds, so one builder serves both. Values are literals only (integers, floats,
strings, booleans, null, tuples and lists); nothing is evaluated.

Grammar::

    chain  := item ("->" item)*
    item   := INT "*" (group | item) | group | call | NAME
    group  := "(" chain ")"
    call   := NAME "(" [arg ("," arg)* [","]] ")"
    arg    := NAME "=" value | value           # a chain where the block takes a body
    value  := INT | FLOAT | STRING | NAME | "(" [value ("," value)*] ")" | "[" ... "]"

``nn.Sequential(...)`` (or ``torch.nn.Sequential``) is a block like ``sequential(...)``; alone,
it is the model itself. Numbers are ASCII digits only, as in YAML.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..errors import LimitError, Location, SpecError
from ..limits import MAX_INLINE_CHARS, MAX_INT_DIGITS, MAX_NESTING
from ..quote import excerpt, quote
from .nodes import Call
from .pytorch_signatures import is_sequential

SOURCE = "inline spec"
TOKEN = re.compile(
    r"""\s*(?:
      (?P<arrow>->)
    | (?P<number>[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?)
    | (?P<string>"[^"\\\n]*"|'[^'\\\n]*')
    | (?P<name>[A-Za-z_](?:[A-Za-z0-9_.]|-(?!>))*)
    | (?P<punct>[()\[\],=*])
    )""",
    re.VERBOSE,
)
BLOCKS = ("sequential", "residual", "parallel")
META = ("name", "repeat", "trainable", "from", "share")
WORDS = {"true": True, "false": False, "none": None, "null": None}


class Token(NamedTuple):
    kind: str
    text: str
    column: int


def tokenise(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    end = len(text.rstrip())
    while at < end:
        match = TOKEN.match(text, at)
        if not match or match.end() == at:
            column = len(text) - len(text[at:].lstrip()) + 1
            raise _error(unexpected_character(text[column - 1]), column)
        kind = match.lastgroup or ""
        start = match.start(kind) + 1
        tokens.append(Token(kind, match.group(kind), start))
        at = match.end()
    return tokens


def unexpected_character(char: str) -> str:
    """The message for a character no token starts with; a digit other than 0-9 (Arabic-Indic
    ``٣``, full-width ``４``, which Python's ``int()`` would take) is named as such, since
    YAML and the inline form read numbers in ASCII digits only."""
    if char.isdigit() or char.isdecimal():
        return (
            f"unexpected character {char!r} (U+{ord(char):04X}): numbers are written with "
            "the ASCII digits 0-9"
        )
    return f"unexpected character {char!r}"


def _error(message: str, column: int | None) -> SpecError:
    return SpecError(message, Location(source=SOURCE, column=column))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenise(text)
        self.pos = 0
        self.depth = 0

    # ---- token helpers ----------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        at = self.pos + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.text == text and token.kind != "string"

    def expect(self, text: str) -> Token:
        token = self.peek()
        if token is None or token.text != text:
            found = quote(token.text) if token else "the end"
            raise _error(f"expected {text!r}, found {found}", token.column if token else len(self.text) + 1)
        self.pos += 1
        return token

    def column(self) -> int:
        token = self.peek()
        return token.column if token else len(self.text) + 1

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise LimitError(
                f"parentheses nested deeper than {MAX_NESTING} (limit MAX_NESTING)",
                Location(source=SOURCE, column=self.column()),
            )

    # ---- grammar ------------------------------------------------------------------------
    def parse(self) -> list[Any]:
        if not self.tokens:
            raise _error("the spec is empty", 1)
        chain = self.chain()
        if self.peek() is not None:
            token = self.peek()
            raise _error(f"unexpected {quote(token.text)}; layers are joined with '->'", token.column)  # type: ignore[union-attr]
        only = chain[0] if len(chain) == 1 else None
        if is_sequential(self.tokens[0].text) and isinstance(only, dict) and list(only) == ["sequential"] and only["sequential"]:
            return only["sequential"]  # a pasted nn.Sequential(...) is the model itself
        return chain

    def chain(self) -> list[Any]:
        items = [self.item()]
        while self.at("->"):
            self.pos += 1
            items.append(self.item())
        return items

    def item(self) -> Any:
        token = self.peek()
        if token is None:
            raise _error("expected a layer, found the end", len(self.text) + 1)
        if token.kind == "number" and (nxt := self.peek(1)) and nxt.text == "*":
            count = self.integer(token)
            self.pos += 2
            if self.at("("):
                body = self.group()
            else:  # `2 * 3 * relu` nests as deeply as parentheses would
                self.nest()
                body = [self.item()]
                self.depth -= 1
            return {"sequential": body, "repeat": count}
        if self.at("("):
            return {"sequential": self.group()}
        if token.kind != "name":
            raise _error(f"expected a layer name, found {quote(token.text)}", token.column)
        self.pos += 1
        if not self.at("("):
            return token.text
        return self.call(token.text)

    def group(self) -> list[Any]:
        self.expect("(")
        self.nest()
        body = self.chain()
        self.expect(")")
        self.depth -= 1
        return body

    def call(self, name: str) -> dict[str, Any]:
        self.expect("(")
        self.nest()
        is_block = name.lower() in BLOCKS or is_sequential(name)
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        while not self.at(")"):
            token = self.peek()
            if token is None:
                raise _error(f"{excerpt(name)}( is never closed", len(self.text) + 1)
            if token.kind == "name" and (nxt := self.peek(1)) and nxt.text == "=":
                self.pos += 2
                if token.text in keywords:
                    raise _error(f"{excerpt(name)} got {excerpt(token.text)} twice", token.column)
                body_keyword = is_block and token.text in ("shortcut", "body")
                keywords[token.text] = self.chain() if body_keyword else self.value()
            else:
                if keywords:
                    raise _error("a positional argument follows a keyword argument", token.column)
                positional.append(self.chain() if is_block else self.value())
            if not self.at(")"):
                self.expect_separator(name)
        self.expect(")")
        self.depth -= 1
        return self.entry(name, positional, keywords)

    def expect_separator(self, name: str) -> None:
        token = self.peek()
        if token is None:
            raise _error(f"{excerpt(name)}( is never closed: expected ')'", len(self.text) + 1)
        if token.text != ",":
            raise _error(
                f"expected ',' or ')' in the arguments of {excerpt(name)}, found {quote(token.text)}",
                token.column,
            )
        self.pos += 1

    def entry(self, name: str, positional: list[Any], keywords: dict[str, Any]) -> dict[str, Any]:
        meta = {k: keywords.pop(k) for k in META if k in keywords}
        kind = "sequential" if is_sequential(name) else name.lower()
        if kind == "share":  # share(NAME): the layer or block NAME applied again
            if len(positional) != 1 or keywords:
                raise _error("share takes one name: share(conv1, from=x, name=y)", None)
            return {"share": positional[0], **meta}
        if kind == "sequential":
            return {"sequential": [layer for body in positional for layer in body], **meta}
        if kind == "residual":
            body = positional[0] if positional else keywords.pop("body", [])
            if len(positional) > 1:
                raise _error("residual takes one body; give the shortcut as shortcut=...", None)
            return {"residual": {"body": body, **keywords}, **meta}
        if kind == "parallel":
            return {"parallel": {"branches": positional, **keywords}, **meta}
        return {name: Call(positional, keywords), **meta}

    def value(self) -> Any:
        token = self.peek()
        if token is None:
            raise _error("expected a value, found the end", len(self.text) + 1)
        if token.text in ("(", "[") and token.kind == "punct":
            closing = ")" if token.text == "(" else "]"
            self.pos += 1
            self.nest()
            items = []
            while not self.at(closing):
                items.append(self.value())
                if not self.at(closing):
                    self.expect(",")
            self.expect(closing)
            self.depth -= 1
            return items
        self.pos += 1
        if token.kind == "number":
            if any(c in token.text for c in ".eE"):
                return float(token.text)
            return self.integer(token)
        if token.kind == "string":
            return token.text[1:-1]
        if token.kind == "name":
            return WORDS.get(token.text.lower(), token.text)
        raise _error(f"expected a value, found {quote(token.text)}", token.column)

    def integer(self, token: Token) -> int:
        digits = token.text.lstrip("+-").lstrip("0")
        if len(digits) > MAX_INT_DIGITS:
            raise LimitError(
                f"integer with more than {MAX_INT_DIGITS} digits (limit MAX_INT_DIGITS)",
                Location(source=SOURCE, column=token.column),
            )
        if token.kind != "number" or any(c in token.text for c in ".eE"):
            raise _error(f"expected an integer, found {quote(token.text)}", token.column)
        return int(token.text)


def parse_inline(text: str) -> list[Any]:
    """The entries of an inline spec, in the same form as a YAML ``layers:`` list."""
    if len(text) > MAX_INLINE_CHARS:
        raise LimitError(
            f"the inline spec is longer than {MAX_INLINE_CHARS:,} characters "
            "(limit MAX_INLINE_CHARS)",
            Location(source=SOURCE),
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # undecodable bytes of the command line (surrogates)
        raise _error("the spec is not valid UTF-8 text", exc.start + 1) from None
    return _Parser(text).parse()


def looks_inline(text: str) -> bool:
    """Whether a MODEL argument is an inline spec rather than a path."""
    return "->" in text or "(" in text or not re.search(r"\.(ya?ml|json)$", text, re.I)
