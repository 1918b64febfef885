"""What ``cnncalc layers`` lists: every type, its aliases, family and arguments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .layers import ALL_TYPES

BLOCKS = (
    ("sequential", "block", "[ENTRY, ...]; name, repeat, trainable beside it"),
    ("residual", "block", "body, shortcut (identity when absent), merge: add | concat | mul"),
    ("parallel", "block", "branches: [[ENTRY, ...], ...], merge: concat | add | mul"),
)


def describe_default(default: Any) -> str:
    if default is ...:
        return "required"
    return (
        "null"
        if default is None
        else str(default).lower()
        if isinstance(default, bool)
        else str(default)
    )


def catalogue() -> list[dict[str, Any]]:
    entries = []
    for cls in ALL_TYPES:
        arguments = [
            {"name": name, "default": describe_default(default), "inferred": name == cls.inferred}
            for name, (_, default) in cls.fields.items()
        ]
        entries.append({
            "type": cls.type_name, "family": cls.family, "aliases": list(cls.aliases),
            "positional": list((cls.variadic,) if cls.variadic else cls.positional),
            "keyword_aliases": dict(cls.keyword_aliases), "arguments": arguments,
            "flops": cls.flops_text(),
            "doc": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        })  # fmt: skip
    return entries


def flops_table() -> str:
    """The README's table of what each layer type adds to ``2 × MACs``: one row per rule,
    naming every registered type that follows it, in registry order."""
    groups: dict[str, list[str]] = {}
    for cls in ALL_TYPES:
        groups.setdefault(cls.flops_text(), []).append(cls.type_name)
    lines = ["| layer types | FLOPs added to 2 × MACs |", "|---|---|"]
    lines += [f"| {', '.join(names)} | {rule} |" for rule, names in groups.items()]
    return "\n".join(lines) + "\n"


def argument_text(entry: dict[str, Any]) -> str:
    parts = []
    for arg in entry["arguments"]:
        if arg["inferred"]:
            parts.append(f"[{arg['name']}: inferred]")
        elif arg["default"] == "required":
            parts.append(arg["name"])
        else:
            parts.append(f"{arg['name']}={arg['default']}")
    return ", ".join(parts)


def render_catalogue(entries: list[dict[str, Any]], fmt: str) -> Iterator[str]:
    if fmt == "json":
        yield json.dumps({"layers": entries, "blocks": [b[0] for b in BLOCKS]}, indent=2) + "\n"
        return
    if fmt == "csv":
        yield from catalogue_csv(entries)
        return
    from .text import table

    rows = [
        [
            e["type"],
            e["family"],
            ", ".join(e["aliases"] + list(e["keyword_aliases"])) or "",
            argument_text(e),
        ]
        for e in entries
    ]
    rows += [[name, family, "", text] for name, family, text in BLOCKS]
    headers = ("type", "family", "aliases / keyword aliases", "arguments")
    yield table(headers, rows, fmt == "markdown") + "\n"
    yield (
        "\nNames are case-insensitive and ignore '_' (MaxPool2d = max_pool2d = maxpool2d).\n"
        "Keras spellings are aliases (Conv2D, Dense, MaxPooling2D, ...); Keras keyword names\n"
        "(filters, units, strides, pool_size, use_bias, rate, epsilon) are accepted too,\n"
        "and activation= on convolutions and Dense adds the activation as a row of its own.\n"
        "A PyTorch constructor pasted with its nn. prefix takes PyTorch's own signature, the\n"
        "inferred size included and checked: nn.Conv2d(3, 16, 3), nn.Linear(4096, 10),\n"
        "nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU()).\n"
    )


def catalogue_csv(entries: list[dict[str, Any]]) -> Iterator[str]:
    """One row a layer type; lists joined by ``;``."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["type", "family", "aliases", "keyword_aliases", "positional", "arguments", "flops"]
    )
    for e in entries:
        keywords = ";".join(f"{k}={v}" for k, v in e["keyword_aliases"].items())
        writer.writerow([
            e["type"], e["family"], ";".join(e["aliases"]), keywords, ";".join(e["positional"]),
            argument_text(e).replace(", ", ";"), e["flops"],
        ])  # fmt: skip
    yield buffer.getvalue()
