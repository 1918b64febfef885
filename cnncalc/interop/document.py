"""From the flat list of entries an importer makes to a model document (the model-file format), and to
YAML text.

An importer walks its source graph in execution order and makes one ``Entry`` per row,
named with the source's own dotted path (``layer1.0.conv1``) and reading the full names of
the tensors it takes (``None`` for the previous entry's output). ``document`` then
recovers the blocks the names show: consecutive entries that share a first path segment
become a ``sequential`` block of that name, recursively, so the rows come out with the
same dotted names. A reference is written relative to the list it sits in: the name of an
earlier entry of the same or an enclosing list, or a dotted path into an earlier block.
Where blocks with the same layers follow each other (``layer1.1``, ``layer1.2``), their
layers become one ``define`` and each copy a use of it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

INPUT = "input"
SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
MIN_BODY = 2  # a block of fewer entries is not worth a define


@dataclass
class Entry:
    """One row to be: a layer type with its arguments, its full dotted name and the full
    names of its inputs (``None``: the previous entry's output)."""

    type: str
    args: dict[str, Any] | list[Any] | None
    name: str
    inputs: list[str] | None = None
    share: str | None = None  # the full name of the entry whose weights it uses again


@dataclass
class Graph:
    """What an importer returns: the entries in execution order, the model input(s) and
    the output names."""

    name: str | None
    inputs: dict[str, tuple[int, ...]]  # per-sample shapes, in order
    entries: list[Entry]
    outputs: list[str] = field(default_factory=list)


# ---- nesting by name ------------------------------------------------------------------
@dataclass
class Group:
    """A recovered block: a path prefix and what is inside, in order."""

    name: str  # the full path of the block
    items: list[Entry | Group]

    def last(self) -> str:
        item = self.items[-1]
        return item.last() if isinstance(item, Group) else item.name


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_1``, ``base_2``, … where it is taken; the name is then taken."""
    name, count = base, 0
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    taken.add(name)
    return name


def nest(entries: list[Entry], prefix: str = "") -> list[Entry | Group]:
    """Consecutive entries under ``prefix`` that share their next path segment, grouped."""
    items: list[Entry | Group] = []
    used: set[str] = set()
    i = 0
    while i < len(entries):
        rest = entries[i].name[len(prefix) :]
        head = rest.split(".", 1)[0]
        j = i + 1
        if "." in rest and head not in used:
            while j < len(entries) and entries[j].name[len(prefix) :].startswith(head + "."):
                j += 1
        if j - i > 1 or ("." in rest and head not in used):
            items.append(Group(prefix + head, nest(entries[i:j], prefix + head + ".")))
        else:
            items.append(entries[i])
        used.add(head)
        i = j
    return items


# ---- references -----------------------------------------------------------------------
class Ref(str):
    """A reference as written (relative to its list), remembering the full name it means."""

    target: str = ""


class Writer:
    """Turns nested items into document entries, writing references relative to their
    lists."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.ends: dict[str, list[str]] = {}  # a tensor's name -> groups ending in it, outermost first
        self.lists: dict[str, dict[str, int]] = {}  # a list's prefix ("" or "layer1.") -> its names, in order

    def index(self, items: list[Entry | Group], prefix: str = "") -> None:
        names = self.lists.setdefault(prefix, {})
        for item in items:
            names.setdefault(item.name[len(prefix) :], len(names))
            if isinstance(item, Group):
                self.ends.setdefault(item.last(), []).append(item.name)
                self.index(item.items, item.name + ".")

    def earlier(self, scope: str, reader: str, prefix: str) -> set[str]:
        """The names of list ``scope`` that come before the item holding ``reader``: what
        the loader finds there (an entry sees earlier entries, not the block it is in).
        ``prefix`` is the list the reader sits in: there the reader's whole name is its
        item's (an entry left out of a block, ``head.0_1``, keeps its dots)."""
        names = self.lists.get(scope, {})
        rest = reader[len(scope) :]
        holder = rest if scope == prefix else rest.split(".")[0]
        limit = names.get(holder, len(names))
        return {name for name, position in names.items() if position < limit}

    def reference(self, target: str, reader: str, prefix: str = "", share: bool = False) -> Ref:
        """``target`` (a full name) as seen from the entry ``reader`` of the list
        ``prefix``, as the loader resolves it: the name is looked up in the reader's
        lists from the innermost out, whole or by its first segment, each list offering
        the entries before the reader, so the written path starts in the innermost list
        where it or its first name is such an entry. A tensor a block ends in is named by
        the block, except for ``share`` (a block's name there means all its weights)."""
        if target in self.graph.inputs:
            ref = Ref(target if len(self.graph.inputs) > 1 or target == INPUT else INPUT)
            ref.target = INPUT if ref == INPUT else target
            return ref
        # The outermost block that ends in the tensor and does not contain the reader.
        for group in [] if share else self.ends.get(target, []):
            if not prefix.startswith(group + "."):
                target = group
                break
        parts = prefix.split(".")[:-1]
        scopes = [".".join(parts[:i]) + "." for i in range(len(parts), 0, -1)] + [""]
        text = target
        for depth, scope in enumerate(scopes):
            if not target.startswith(scope) or target == scope[:-1]:
                continue
            rest = target[len(scope) :]
            seen = self.earlier(scope, reader, prefix)
            first = rest if rest in seen else rest.split(".")[0]
            if first in seen and not any(
                first in self.earlier(inner, reader, prefix) for inner in scopes[:depth]
            ):
                text = rest
                break
        ref = Ref(text)
        ref.target = target
        return ref

    def entries(self, items: list[Entry | Group], prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, Group):
                out.append(
                    {"sequential": self.entries(item.items, item.name + "."),
                     "name": item.name[len(prefix):]}
                )  # fmt: skip
                continue
            out.append(self.entry(item, prefix))
        return out

    def entry(self, item: Entry, prefix: str) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if item.share is not None:
            entry["share"] = self.reference(item.share, item.name, prefix, share=True)
        else:
            args = item.args
            if isinstance(args, dict) and "size_of" in args:  # upsample: {size_of: NAME}
                args = {**args, "size_of": self.reference(args["size_of"], item.name, prefix)}
            entry[item.type] = args if args not in ({}, []) else None
        entry["name"] = item.name[len(prefix) :]
        if item.inputs is not None:
            refs = [self.reference(t, item.name, prefix) for t in item.inputs]
            entry["from"] = refs[0] if len(refs) == 1 else refs
        return entry


def document(graph: Graph) -> dict[str, Any]:
    """The model document (the model-file format) of an imported graph, blocks recovered from names."""
    items = nest(graph.entries)
    writer = Writer(graph)
    writer.index(items)
    doc: dict[str, Any] = {}
    if graph.name:
        doc["name"] = graph.name
    if len(graph.inputs) == 1 and INPUT in graph.inputs:
        doc["input"] = list(graph.inputs[INPUT])
    else:
        doc["inputs"] = {k: list(v) for k, v in graph.inputs.items()}
    layers = writer.entries(items, "")
    defines = share_bodies(layers)
    if defines:
        doc["define"] = defines
    doc["layers"] = layers
    last = graph.entries[-1].name if graph.entries else None
    if graph.outputs and graph.outputs != [last]:
        doc["outputs"] = [writer.reference(o, "") for o in graph.outputs]
    return doc


# ---- identical blocks -> define -------------------------------------------------------
def refs_of(entry: dict[str, Any]) -> list[str]:
    refs = entry.get("from")
    return [refs] if isinstance(refs, str) else list(refs or [])


def as_body(body: list[dict[str, Any]], block_input: str) -> list[dict[str, Any]] | None:
    """A block's entries as a defined block's layers: references to the tensor that flows
    into the block (``block_input``, a full name) become ``input``. None where an entry
    reads anything else from outside (a defined block sees only its own entries) or shares
    weights."""

    def rewrite(entries: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]] | None:
        out = []
        seen = set(seen)
        for entry in entries:
            if "share" in entry or any(isinstance(v, dict) and "size_of" in v for v in entry.values()):
                return None
            entry = dict(entry)
            refs = [
                "input" if getattr(r, "target", None) == block_input else str(r)
                for r in refs_of(entry)
            ]
            if any(r != "input" and r.split(".")[0] not in seen for r in refs):
                return None
            if "from" in entry:
                entry["from"] = refs[0] if isinstance(entry["from"], str) else refs
            if isinstance(entry.get("sequential"), list):
                inner = rewrite(entry["sequential"], seen)
                if inner is None:
                    return None
                entry["sequential"] = inner
            out.append(entry)
            seen.add(str(entry.get("name")))
        return out

    return rewrite(body, set())


def share_bodies(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Blocks with the same layers (names and arguments alike) become one defined block,
    and each of them a use of it, named as before. Returns the definitions; rewrites
    ``layers`` in place."""
    counts: dict[str, int] = {}

    def candidates(entries: list[dict[str, Any]], outer_input: str, prefix: str):  # type: ignore[no-untyped-def]
        for position, entry in enumerate(entries):
            body = entry.get("sequential")
            if not isinstance(body, list):
                continue
            block_input = f"{prefix}{entries[position - 1]['name']}" if position else outer_input
            made = as_body(body, block_input) if len(body) >= MIN_BODY else None
            key = None if made is None else json.dumps(made, sort_keys=True)
            yield position, key, made, block_input, f"{prefix}{entry['name']}"

    def count(entries: list[dict[str, Any]], outer_input: str, prefix: str) -> None:
        for position, key, _, block_input, path in candidates(entries, outer_input, prefix):
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
            count(entries[position]["sequential"], block_input, path + ".")

    defines: dict[str, Any] = {}
    names: dict[str, str] = {}

    def replace(entries: list[dict[str, Any]], outer_input: str, prefix: str) -> None:
        for position, key, made, block_input, path in list(candidates(entries, outer_input, prefix)):
            entry = entries[position]
            if key is not None and counts[key] > 1:
                if key not in names:
                    name = "block_" + re.sub(r"\W", "_", path)
                    while name in defines:
                        name += "_"
                    names[key] = name
                    defines[name] = {"layers": made}
                entries[position] = {names[key]: None, "name": entry["name"]}
            else:
                replace(entry["sequential"], block_input, path + ".")

    count(layers, INPUT, "")
    replace(layers, INPUT, "")
    return defines


# ---- YAML text ------------------------------------------------------------------------
def scalar(value: Any) -> str:
    """A YAML flow scalar: JSON's spelling, quotes only where YAML would misread."""
    if isinstance(value, str):
        if SIMPLE.match(value) and value.lower() not in ("null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"):
            return value
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}[repr(value)]
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:  # YAML 1.1 reads 1e-05 as text
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    return str(value)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def entry_lines(entry: dict[str, Any], indent: str) -> list[str]:
    lines: list[str] = []
    first = True
    for key, value in entry.items():
        lead = f"{indent}- " if first else f"{indent}  "
        first = False
        if key == "sequential":
            lines.append(f"{lead}sequential:")
            for inner in value:
                lines.extend(entry_lines(inner, indent + "    "))
        elif key in ("name", "share"):
            lines.append(f"{lead}{key}: {scalar(str(value))}")
        elif value is None:
            lines.append(f"{lead}{key}:")
        else:
            lines.append(f"{lead}{key}: {flow(value)}")
    return lines


def to_yaml(doc: dict[str, Any], header: str = "") -> str:
    """The document as a readable model file: one line per layer, arguments in flow style."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for key in ("name", "input", "inputs"):
        if key in doc:
            lines.append(f"{key}: {flow(doc[key])}")
    if "define" in doc:
        lines.append("define:")
        for name, body in doc["define"].items():
            lines.append(f"  {name}:")
            lines.append("    layers:")
            for entry in body["layers"]:
                lines.extend(entry_lines(entry, "      "))
    lines.append("layers:")
    for entry in doc["layers"]:
        lines.extend(entry_lines(entry, "  "))
    if "outputs" in doc:
        lines.append(f"outputs: {flow(doc['outputs'])}")
    return "\n".join(lines) + "\n"


def imported_yaml(
    source: str, input_shape: tuple[int, ...] | None, model_args: dict[str, Any] | None
) -> str:
    """``cnncalc import``: the model file (YAML text) of an ONNX file or PyTorch module."""
    from ..errors import SpecError
    from . import foreign_graph

    graph = foreign_graph(source, input_shape, model_args)
    if graph is None:
        raise SpecError(
            f"import reads an .onnx file or a PyTorch module (file.py:Name, package.module:Name), "
            f"got {source!r}"
        )
    return to_yaml(document(graph), f"Imported from {source} by cnncalc import.")
