"""``shapes`` and ``params`` as folded trees: the table (and markdown) with its tree drawing
and chosen columns, CSV and JSON rows with ``kind``. The rows come from ``views``; the
cells are formatted here, with the formatters of ``render``."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from .graphview import INPUT, row_depth, row_parent
from .render import (
    field_text,
    input_text,
    padding_text,
    percent,
    render_json,
    row_object,
    summary_lines,
)  # fmt: skip
from .text import dims_text, human_bytes, shape_text
from .views import (
    Line,
    Node,
    Tree,
    activation_bytes,
    external_sources,
    input_shapes,
    output_shape,
    param_bytes,
    tree_lines,
    visible,
)  # fmt: skip

# key: (header, help); the order here is the order --help lists them.
COLUMNS: dict[str, tuple[str, str]] = {
    "index": ("#", "row number (a block: its first-last)"),
    "name": ("name", "the row's short name under its parent"),
    "type": ("type", "layer type, or a block's layer count"),
    "input": ("input", "input shape(s)"),
    "output": ("output", "output shape"),
    "kernel": ("kernel", "kernel size"),
    "stride": ("stride", "stride"),
    "padding": ("padding", "padding as applied"),
    "dilation": ("dilation", "dilation"),
    "receptive_field": ("receptive field", "receptive field of the output"),
    "jump": ("jump", "input pixels between neighbouring outputs"),
    "rf_start": ("rf start", "where the first field starts"),
    "params": ("params", "parameters"),
    "buffers": ("buffers", "buffers (batch-norm statistics)"),
    "macs": ("MACs", "multiply-accumulates"),
    "flops": ("FLOPs", "floating-point operations"),
    "params_pct": ("params %", "share of the total params"),
    "macs_pct": ("MACs %", "share of the total MACs"),
    "flops_pct": ("FLOPs %", "share of the total FLOPs"),
    "memory": ("memory", "bytes of the outputs inside, in --dtype"),
    "param_bytes": ("param bytes", "bytes of the params, in --dtype"),
    "layers": ("layers", "leaf rows inside"),
}
DEFAULT_COLUMNS = {
    "shapes": ("index", "name", "type", "input", "output", "kernel", "stride", "padding",
               "dilation", "receptive_field", "jump", "rf_start"),
    "params": ("index", "name", "type", "output", "params", "macs", "flops", "params_pct",
               "flops_pct"),
}  # fmt: skip
NAME_MIN = 8  # a name is never shortened below this many characters


def parse_columns(text: str) -> tuple[str, ...]:
    """``a,b,c`` as column keys; raises ValueError naming the unknown keys and the valid
    ones."""
    keys = tuple(k.strip().lower().replace("-", "_") for k in text.split(","))
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown or not keys or "" in keys:
        listed = ", ".join(repr(k) for k in unknown) or "an empty key"
        raise ValueError(f"unknown column {listed}; valid columns: {', '.join(COLUMNS)}")
    return keys


def columns_help() -> str:
    return ", ".join(COLUMNS)


# ---- cells -------------------------------------------------------------------------------
def line_cell(key: str, line: Line, tree: Tree) -> str:
    """The text of one table cell. Figures of a ``×N`` line are the sum of its copies;
    shapes are the first copy's input and the last copy's output."""
    report = tree.report
    node, last = line.copies[0], line.copies[-1]
    row = node.row if len(line.copies) == 1 else None
    t = report.totals
    if key == "name":
        return line.prefix + line.short
    if line.open and key not in ("input", "output"):
        return ""
    if key == "index":
        first, end = report.rows[node.first].index, report.rows[last.last].index
        return str(first) if first == end else f"{first}–{end}"
    if key == "type":
        if not node.is_block:
            return node.row.type  # type: ignore[union-attr]
        count = line.total("layers")
        return f"{count} layer" + ("" if count == 1 else "s")
    if key == "input":
        if row is not None:
            return input_text(row)
        return " & ".join(shape_text(s) for s in input_shapes(tree, node)) or "-"
    if key == "output":
        return shape_text(output_shape(tree, last))
    window = row.window if row is not None else None
    if key in ("kernel", "stride", "dilation"):
        attr = {"kernel": "kernel", "stride": "stride", "dilation": "dilation"}[key]
        return dims_text(getattr(window, attr)) if window else ""
    if key == "padding":
        return padding_text(row) if row is not None else ""
    end_row = report.rows[last.last]  # a block's field is its last row's
    if key == "receptive_field":
        return field_text(end_row)
    if key == "jump":
        return dims_text(end_row.jump)
    if key == "rf_start":
        return dims_text(end_row.rf_start, ", ")
    if key == "params":
        params, trainable = line.total("params"), line.total("trainable_params")
        frozen = "" if params == trainable else (" (frozen)" if trainable == 0 else f" ({params - trainable:,} frozen)")
        return f"{params:,}{frozen}"
    if key in ("buffers", "macs", "flops", "layers"):
        return f"{line.total(key):,}"
    if key == "params_pct":
        return percent(line.total("params"), t.params)
    if key == "macs_pct":
        return percent(line.total("macs"), t.macs)
    if key == "flops_pct":
        return percent(line.total("flops"), t.flops)
    if key == "memory":
        return human_bytes(sum(activation_bytes(tree, c) for c in line.copies))
    if key == "param_bytes":
        return human_bytes(sum(param_bytes(tree, c) for c in line.copies))
    raise KeyError(key)


def shorten(name: str, limit: int) -> str:
    """``layer1.bottleneck`` -> ``layer1.b…neck``: the middle goes, both ends stay."""
    if len(name) <= limit:
        return name
    keep = max(limit - 1, 1)
    head = (keep + 1) // 2
    return name[:head] + "…" + name[len(name) - (keep - head):] if keep > head else name[:head] + "…"


def fit_names(cells: list[list[str]], name_at: int, excess: int) -> bool:
    """Shorten the name column (never a number) by ``excess`` characters; where that is
    not possible, names stop at ``NAME_MIN``. Returns whether anything changed."""
    widest = max(len(r[name_at]) for r in cells)
    changed = False
    for r in cells:
        text = r[name_at]
        lead = len(text) - len(text.lstrip("│├└─ "))
        limit = max(widest - excess - lead, NAME_MIN)
        if len(text) - lead > limit:
            r[name_at] = text[:lead] + shorten(text[lead:], limit)
            changed = True
    return changed


# ---- renderers ----------------------------------------------------------------------------
def render_tree_table(
    tree: Tree, view: str, depth: int | None, columns: tuple[str, ...] | None = None,
    markdown: bool = False, width: int | None = None,
) -> Iterator[str]:  # fmt: skip
    """The table (or markdown) at ``depth``: one line per leaf, folded block and open
    block, the nesting drawn in the name column, then the summary of ``view``."""
    from .render import markdown_item
    from .text import table

    report = tree.report
    keys = columns or DEFAULT_COLUMNS[view]
    headers = [COLUMNS[k][0] for k in keys]
    cells = [[line_cell(k, line, tree) for k in keys] for line in tree_lines(tree, depth)]
    title = report.model or report.source
    if markdown:
        yield f"### {title}\n\n" if title else ""
    else:
        yield f"{title}: input {shape_text(report.input_shape)}\n"
    while True:
        body = table(tuple(headers), cells, markdown=markdown)
        excess = max(map(len, body.splitlines()), default=0) - (width or 0)
        if width is None or excess <= 0 or "name" not in keys:
            break
        if not fit_names(cells, keys.index("name"), excess):
            break
    yield body + "\n"
    summary = summary_lines(report, view)
    yield (
        "\n" + "\n".join(markdown_item(line) for line in summary) if markdown else "\n".join(summary)
    ) + "\n"


def source_names(tree: Tree, node: Node, owner: Callable[[int], str]) -> list[str]:
    return [s if isinstance(s, str) else owner(s) for s in external_sources(tree, node)]


def owners(tree: Tree, rows: list[Node]) -> Callable[[int], str]:
    """Maps a row position to the name of the visible row that holds it."""
    names = [""] * len(tree.report.rows)
    for node in rows:
        for position in range(node.first, node.last + 1):
            names[position] = node.name
    return names.__getitem__


def block_object(tree: Tree, node: Node, owner: Callable[[int], str]) -> dict[str, Any]:
    """A folded block's JSON row: its subtotals and its input and output shapes."""
    report = tree.report
    shapes = input_shapes(tree, node)
    obj: dict[str, Any] = {
        "index": report.rows[node.first].index, "name": node.name, "type": "block",
        "kind": "block", "depth": node.depth, "parent": row_parent(node.name),
        "from": source_names(tree, node, owner),
        "input_shape": list(shapes[0]) if shapes else None,
        "output_shape": list(output_shape(tree, node)),
        "params": node.params, "trainable_params": node.trainable_params,
        "buffers": node.buffers, "macs": node.macs, "flops": node.flops,
        "param_bytes": param_bytes(tree, node), "activation_bytes": activation_bytes(tree, node),
        "layers": node.layers, "first_index": report.rows[node.first].index,
        "last_index": report.rows[node.last].index,
    }  # fmt: skip
    if len(shapes) > 1:
        obj["input_shapes"] = [list(s) for s in shapes]
    return obj


def view_pairs(tree: Tree, depth: int | None) -> Iterator[tuple[Node, dict[str, Any]]]:
    """Each visible row at ``depth`` with its JSON object: folded blocks with
    ``"kind": "block"``, leaves with ``"kind": "layer"``; one row per copy."""
    rows = visible(tree, depth)
    owner = owners(tree, rows)
    for node in rows:
        if node.is_block:
            yield node, block_object(tree, node, owner)
            continue
        row = node.row
        assert row is not None
        obj = row_object(row, {"kind": "layer"})
        obj.setdefault("depth", row_depth(row.name))
        obj.setdefault("parent", row_parent(row.name))
        obj.setdefault("from", source_names(tree, node, owner))
        yield node, obj


def view_objects(tree: Tree, depth: int | None) -> Iterator[dict[str, Any]]:
    return (obj for _, obj in view_pairs(tree, depth))


def render_tree_json(tree: Tree, depth: int | None) -> Iterator[str]:
    top = {"depth": "all" if depth is None else depth}
    return render_json(tree.report, top=top, objects=view_objects(tree, depth))


CSV_DEFAULT = ("index", "name", "kind", "type", "depth", "parent", "input_shape",
               "output_shape", "params", "trainable_params", "buffers", "macs", "flops",
               "param_bytes", "activation_bytes", "layers")  # fmt: skip


def csv_value(key: str, obj: dict[str, Any]) -> Any:
    """A CSV cell from a JSON row, ASCII only: shapes ``[1, 3, 8, 8]``, dims ``3x3``."""
    if key in ("input", "input_shape"):
        shapes = obj.get("input_shapes") or [obj.get("input_shape")]
        return " & ".join(shape_text(tuple(s)) if s is not None else "-" for s in shapes)
    if key in ("output", "output_shape"):
        return shape_text(tuple(obj["output_shape"]))
    if key in ("kernel", "stride", "dilation"):
        value = obj.get({"kernel": "kernel_size"}.get(key, key))
        return "" if value is None else "x".join(str(v) for v in value)
    if key == "padding":
        pads = obj.get("padding")
        return "" if pads is None else "x".join(str(lo) if lo == hi else f"({lo},{hi})" for lo, hi in pads)
    if key in ("receptive_field", "jump", "rf_start"):
        value = obj.get(key)
        return "" if value is None else "x".join(str(v) for v in value)
    if key == "memory":
        return obj["activation_bytes"]
    value = obj.get(key, "")
    return "" if value is None else value


def render_tree_csv(
    tree: Tree, depth: int | None, columns: tuple[str, ...] | None = None
) -> Iterator[str]:
    """CSV rows at ``depth``, as JSON has them (one per copy, full names), with the chosen
    columns or ``CSV_DEFAULT``."""
    keys = columns or CSV_DEFAULT
    buffer = io.StringIO()
    import csv

    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    t = tree.report.totals
    for node, obj in view_pairs(tree, depth):
        obj.update(
            trainable_params=node.trainable_params, layers=node.layers,
            param_bytes=param_bytes(tree, node), activation_bytes=activation_bytes(tree, node),
            params_pct=percent(node.params, t.params), macs_pct=percent(node.macs, t.macs),
            flops_pct=percent(node.flops, t.flops),
        )  # fmt: skip
        writer.writerow([csv_value(k, obj) for k in keys])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


__all__ = ["COLUMNS", "INPUT", "parse_columns", "render_tree_csv", "render_tree_json", "render_tree_table"]
