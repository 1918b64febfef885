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
            "doc": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        })  # fmt: skip
    return entries


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
    from tabulate import tabulate

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
    yield tabulate(
        rows, headers=("type", "family", "aliases / keyword aliases", "arguments"),
        tablefmt="github" if fmt == "markdown" else "simple",
    ) + "\n"  # fmt: skip
    yield (
        "\nNames are case-insensitive and ignore '_' (MaxPool2d = max_pool2d = maxpool2d).\n"
        "Keras spellings are aliases (Conv2D, Dense, MaxPooling2D, ...); Keras keyword names\n"
        "(filters, units, strides, pool_size, use_bias, rate, epsilon) are accepted too,\n"
        "and activation= on convolutions and Dense adds the activation as a row of its own.\n"
        "A PyTorch constructor pasted with its nn. prefix takes PyTorch's own signature, the\n"
        "inferred size included and checked: nn.Conv2d(3, 16, 3), nn.Linear(4096, 10),\n"
        "nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU()).\n"
    )
