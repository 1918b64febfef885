"""Safe YAML (and JSON) loading with limits, keeping the line of every mapping and list.

PyYAML's C loader is used where present (about five times faster), the pure-Python one
otherwise. Limits are checked on the event stream before anything is built, so neither a
deep nesting nor an alias bomb costs more than one linear pass.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import LimitError, Location, SpecError
from ..limits import MAX_FILE_BYTES, MAX_NESTING, MAX_YAML_ALIASES

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping from the file that remembers the line it starts on."""

    line: int | None = None


class LineList(list):  # type: ignore[type-arg]
    """A list from the file that remembers the line it starts on."""

    line: int | None = None
    lines: list[int] | None = None  # the line of each item


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    def construct_line_mapping(self, node: yaml.MappingNode) -> LineDict:
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise SpecError(
                    "mapping keys must be plain names",
                    Location(line=key_node.start_mark.line + 1),
                )
            if key in mapping:
                raise SpecError(
                    f"duplicate key {key!r}", Location(line=key_node.start_mark.line + 1)
                )
            mapping[key] = self.construct_object(value_node, deep=True)
        return mapping

    def construct_line_sequence(self, node: yaml.SequenceNode) -> LineList:
        items = LineList(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.lines = [child.start_mark.line + 1 for child in node.value]
        return items


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_line_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_line_sequence)


def check_limits(text: str) -> None:
    """Refuse deep nesting and many aliases by scanning the event stream."""
    depth = aliases = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, starts):
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(
                    f"nesting deeper than {MAX_NESTING} levels (limit MAX_NESTING)",
                    Location(line=event.start_mark.line + 1),
                )
        elif isinstance(event, ends):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise LimitError(
                    f"more than {MAX_YAML_ALIASES} YAML aliases (limit MAX_YAML_ALIASES)",
                    Location(line=event.start_mark.line + 1),
                )


def load_yaml(text: str) -> Any:
    """Parse one YAML or JSON document safely; a SpecError carries the line and column."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise LimitError(
            f"the model is larger than {MAX_FILE_BYTES:,} bytes (limit MAX_FILE_BYTES)"
        )
    try:
        check_limits(text)
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        where = Location(line=mark.line + 1, column=mark.column + 1) if mark else Location()
        raise SpecError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}") from None
    except RecursionError:
        raise LimitError(f"nesting deeper than {MAX_NESTING} levels (limit MAX_NESTING)") from None
