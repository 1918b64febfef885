"""Safe YAML (and JSON) loading with limits, keeping the line of every mapping and list.

The document is built in one pass over the parser's event stream: libyaml's C parser where
PyYAML has it (``yaml.CSafeLoader``), PyYAML's pure-Python parser otherwise. Building from
events instead of through PyYAML's composer and constructor is several times faster, since
those call Python resolver and constructor code for every node, and it checks the limits
as the events arrive, not by trusting the loader:

* nesting (``MAX_NESTING``) counts collections, and an alias counts as deep as the
  collection it names, so aliases cannot stack depth;
* aliases (``MAX_YAML_ALIASES``) are counted, and an alias to a collection that is still
  open (a recursive document) is refused;
* only the safe scalar types are built, by YAML 1.1's safe schema as ``yaml_schema``
  writes it out (not by PyYAML's resolver and constructor, so that no PyYAML release
  changes what a file means), each distinct scalar once.

Merge keys are cnncalc's own rule, built here and not by PyYAML's constructor (whose
handling of a repeated ``<<`` changed between releases): ``<<: *a`` or ``<<: [*a, *b]``
copies the keys of the named mappings that the mapping does not set itself, an earlier
mapping in the list winning over a later one; ``<<`` may appear once in a mapping, as
every other key. Beyond PyYAML's safe loader, duplicate keys (a second ``<<`` included)
and recursive aliases are refused, and so are the ``!!set``, ``!!omap`` and ``!!pairs``
collections, which no model needs.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import LimitError, Location, SpecError
from ..limits import MAX_FILE_BYTES, MAX_INT_DIGITS, MAX_NESTING, MAX_YAML_ALIASES
from ..quote import quote
from .yaml_schema import CONSTRUCTORS, resolve

try:
    from yaml import CSafeLoader as EventLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as EventLoader  # type: ignore[assignment]

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
INT_TAG = "tag:yaml.org,2002:int"
KEY_ONLY_TAGS = (MERGE_TAG, "tag:yaml.org,2002:value")
SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "str", "binary", "timestamp")
)
KEY_TYPES = (str, int, float, bool, type(None))
MERGE_KEY = object()
"""The key ``<<`` stands for while its mapping is built."""


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping from the file that remembers the line it starts on."""

    line: int | None = None


class LineList(list):  # type: ignore[type-arg]
    """A list from the file that remembers the line it starts on."""

    line: int | None = None
    lines: list[int] | None = None  # the line of each item


class Open:
    """A mapping or list being built: its items so far and how deep it reaches (``height``:
    levels of collections from this one down, itself included). A plain class: defining a
    dataclass would cost every command's start more than this one saves in writing."""

    __slots__ = ("value", "anchor", "height", "key", "key_line", "has_key", "merges")

    def __init__(self, value: LineDict | LineList, anchor: str | None) -> None:
        self.value, self.anchor = value, anchor
        self.height, self.key, self.key_line, self.has_key = 1, None, 0, False
        self.merges: list[LineDict] = []


class _Scalars:
    """Plain and tagged scalars to Python values, by ``yaml_schema``'s rules."""

    def __init__(self) -> None:
        self.known: dict[tuple[str | None, str, bool], Any] = {}

    def value(self, event: yaml.ScalarEvent) -> tuple[str, Any]:
        """(resolved tag, value) of a scalar event."""
        tag = event.tag
        key = (tag, event.value, bool(event.implicit[0]))
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self.construct(event)
        return found

    def construct(self, event: yaml.ScalarEvent) -> tuple[str, Any]:
        tag = event.tag
        if tag is None or tag == "!":
            tag = resolve(event.value, bool(event.implicit[0]))
        if tag in KEY_ONLY_TAGS:  # as a key, `<<` merges and `=` is plain text
            return tag, event.value
        if tag not in SCALAR_TAGS:
            raise SpecError(f"unsupported YAML tag {tag}", _where(event))
        if tag == INT_TAG and len(event.value) > 4 * MAX_INT_DIGITS:
            raise self.too_long(event)
        try:
            value = CONSTRUCTORS[tag](event.value)
        except (ValueError, ArithmeticError) as exc:
            kind = tag.rsplit(":", 1)[-1]
            raise SpecError(
                f"cannot read {quote(event.value)} as {kind}: {exc}".split("\n")[0], _where(event)
            ) from None
        if tag == INT_TAG and abs(value) >= 10**MAX_INT_DIGITS:
            raise self.too_long(event)
        return tag, value

    @staticmethod
    def too_long(event: yaml.ScalarEvent) -> LimitError:
        shown = event.value if len(event.value) <= 24 else event.value[:20] + "..."
        return LimitError(
            f"integer {shown} has more than {MAX_INT_DIGITS} digits (limit MAX_INT_DIGITS)",
            _where(event),
        )


def _where(event: yaml.Event) -> Location:
    return Location(line=event.start_mark.line + 1, column=event.start_mark.column + 1)


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1


class _Builder:
    """Python values from the events of one document, the limits checked on the way."""

    def __init__(self) -> None:
        self.scalars = _Scalars()
        self.stack: list[Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, height); 0: a scalar
        self.open_anchors: set[str] = set()
        self.aliases = 0
        self.documents = 0
        self.result: Any = None

    def feed(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            tag, value = self.scalars.value(event)
            if tag in KEY_ONLY_TAGS and not self.at_key():
                raise SpecError(f"{quote(event.value)} is only allowed as a mapping key", _where(event))
            self.register(event.anchor, value, 0, event)
            self.add(value, 0, event, merge=tag == MERGE_TAG)
        elif kind is yaml.MappingStartEvent:
            self.start(event, LineDict(), MAP_TAG)
        elif kind is yaml.SequenceStartEvent:
            value = LineList()
            value.lines = []
            self.start(event, value, SEQ_TAG)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self.end(event)
        elif kind is yaml.AliasEvent:
            self.alias(event)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise SpecError(
                    "expected a single document in the stream, found a second one", _where(event)
                )

    # ---- collections ----------------------------------------------------------------------
    def start(self, event: Any, value: LineDict | LineList, tag: str) -> None:
        if event.tag not in (None, "!", tag):
            raise SpecError(f"unsupported YAML tag {event.tag}", _where(event))
        if self.at_key():
            raise SpecError("mapping keys must be plain names", Location(line=_line(event)))
        if len(self.stack) >= MAX_NESTING:
            raise self.too_deep(event)
        value.line = _line(event)
        if event.anchor is not None:
            self.check_new_anchor(event.anchor, event)
            self.open_anchors.add(event.anchor)
        self.stack.append(Open(value, event.anchor))

    def end(self, event: Any) -> None:
        done = self.stack.pop()
        value = done.value
        if done.merges:
            value = self.merged(done)
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
            self.anchors[done.anchor] = (value, done.height)
        self.add(value, done.height, event, line=value.line)

    def merged(self, done: Open) -> LineDict:
        """The mapping over its ``<<`` sources: its own keys win, then in ``<<: [a, b]``
        a over b (``merges`` holds the sources last first)."""
        out = LineDict()
        out.line = done.value.line
        for source in done.merges:
            out.update(source)
        out.update(done.value)
        return out

    # ---- items ------------------------------------------------------------------------------
    def at_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and not self.stack[-1].has_key

    def add(
        self, value: Any, height: int, event: Any, merge: bool = False, line: int | None = None
    ) -> None:
        line = _line(event) if line is None else line
        if not self.stack:
            self.result = value
            return
        top = self.stack[-1]
        if height + 1 > top.height:
            top.height = height + 1
        container = top.value
        if isinstance(container, list):
            container.append(value)
            container.lines.append(line)  # type: ignore[union-attr]
        elif not top.has_key:
            if merge:
                value = MERGE_KEY
            elif not isinstance(value, KEY_TYPES):
                raise SpecError("mapping keys must be plain names", Location(line=line))
            top.key, top.key_line, top.has_key = value, line, True
        else:
            top.has_key = False
            self.put(top, value, event)

    def put(self, top: Open, value: Any, event: Any) -> None:
        key = top.key
        if key is MERGE_KEY:
            if top.merges:
                raise SpecError(
                    "duplicate key '<<'; merge several mappings with one '<<: [*a, *b]' "
                    "(the first listed wins)",
                    Location(line=top.key_line),
                )
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                raise SpecError(
                    "'<<' merges a mapping or a list of mappings", Location(line=top.key_line)
                )
            top.merges.extend(reversed(sources))
            return
        container = top.value
        if key in container:
            raise SpecError(f"duplicate key {quote(key)}", Location(line=top.key_line))
        container[key] = value

    # ---- anchors and aliases --------------------------------------------------------------
    def check_new_anchor(self, name: str, event: Any) -> None:
        if name in self.anchors or name in self.open_anchors:
            raise SpecError(f"duplicate anchor &{name}", _where(event))

    def register(self, name: str | None, value: Any, height: int, event: Any) -> None:
        if name is not None:
            self.check_new_anchor(name, event)
            self.anchors[name] = (value, height)

    def alias(self, event: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_YAML_ALIASES:
            raise LimitError(
                f"more than {MAX_YAML_ALIASES} YAML aliases (limit MAX_YAML_ALIASES)",
                Location(line=_line(event)),
            )
        name = event.anchor
        if name in self.open_anchors:
            raise SpecError(f"alias *{name} refers to a collection that contains it", _where(event))
        if name not in self.anchors:
            raise SpecError(f"alias *{name} has no anchor &{name} before it", _where(event))
        value, height = self.anchors[name]
        if len(self.stack) + height > MAX_NESTING:
            raise self.too_deep(event)
        self.add(value, height, event, line=_line(event))

    def too_deep(self, event: Any) -> LimitError:
        return LimitError(
            f"nesting deeper than {MAX_NESTING} levels (limit MAX_NESTING)",
            Location(line=_line(event)),
        )


def _too_large() -> LimitError:
    return LimitError(f"the model is larger than {MAX_FILE_BYTES:,} bytes (limit MAX_FILE_BYTES)")


def load_yaml(text: str) -> Any:
    """Parse one YAML or JSON document safely; a SpecError carries the line and column."""
    if len(text) > MAX_FILE_BYTES:  # before encoding it: each character is at least a byte
        raise _too_large()
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates, which a text from a file never has
        raise SpecError(f"not UTF-8 text (character {exc.start + 1})") from None
    if size > MAX_FILE_BYTES:
        raise _too_large()
    builder = _Builder()
    feed = builder.feed
    try:
        for event in yaml.parse(text, Loader=EventLoader):
            feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        where = Location(line=mark.line + 1, column=mark.column + 1) if mark else Location()
        raise SpecError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}".split("\n")[0]) from None
    return builder.result
