"""``shapes`` and ``params`` as folded trees: the table (and markdown) with its tree drawing
and chosen columns, CSV and JSON rows with ``kind``. The rows come from ``views``; the
cells are formatted here, with the formatters of ``render``."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .graphview import INPUT, model_inputs, row_depth, row_parent
from .render import (
    COLUMNS,
    ROW_CELLS,
    compute_text,
    flat_columns,
    graph_like,
    input_text,
    layer_kind,
    output_text,
    params_text,
    percent,
    render_json,
    row_object,
    share_of,
    summary_lines,
)  # fmt: skip
from .report import Report, Row
from .text import human_bytes, shape_text
from .views import (
    Line,
    Node,
    Tree,
    activation_bytes,
    external_sources,
    input_shapes,
    iter_tree_lines,
    output_shape,
    param_bytes,
    visible,
)  # fmt: skip

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
    """The text of one table cell: a leaf shown alone has its row's cells (``ROW_CELLS``);
    an open block shows its input and output shapes; a folded block or ``×N`` line sums
    its copies, with the first copy's input and the last copy's output."""
    if key == "name":
        return line.prefix + line.short
    node = line.node
    if line.open:
        return BLOCK_CELLS[key](line, tree) if key in OPEN_KEYS else ""
    if len(line.copies) == 1 and node.row is not None:
        return ROW_CELLS[key](node.row, tree.report)
    return BLOCK_CELLS[key](line, tree)


OPEN_KEYS = ("input", "output")
"""The cells an open block's header fills besides its name."""


def end_row(line: Line, tree: Tree) -> Row:
    """The last row of a line: its output is the line's, its field the line's."""
    return tree.report.rows[line.copies[-1].last]


def index_cell(line: Line, tree: Tree) -> str:
    rows = tree.report.rows
    first, end = rows[line.node.first].index, end_row(line, tree).index
    return str(first) if first == end else f"{first}–{end}"


def type_cell(line: Line, tree: Tree) -> str:
    node = line.node
    if node.row is not None:
        return node.row.type
    count = line.total("layers")
    return f"{count} layer" + ("" if count == 1 else "s")


def input_cell(line: Line, tree: Tree) -> str:
    node = line.node
    if node.row is not None:
        return input_text(node.row)
    return " & ".join(shape_text(s) for s in input_shapes(tree, node)) or "-"


def field_cell(key: str) -> Callable[[Line, Tree], str]:
    """A block's receptive field, jump and start are its last row's."""
    return lambda line, tree: ROW_CELLS[key](end_row(line, tree), tree.report)


def compute_cell(key: str) -> Callable[[Line, Tree], str]:
    def cell(line: Line, _: Tree) -> str:
        used = line.total("used_layers") > 0
        return compute_text(line.total(key), line.total(f"idle_{key}"), used, partly=True)

    return cell


def share_cell(key: str) -> Callable[[Line, Tree], str]:
    what = key.removesuffix("_pct")
    return lambda line, tree: share_of(line.total(what), getattr(tree.report.totals, what), tree.report)


BLOCK_CELLS: dict[str, Callable[[Line, Tree], str]] = {
    "index": index_cell,
    "type": type_cell,
    "input": input_cell,
    "output": lambda line, tree: output_text(end_row(line, tree)),
    "kernel": lambda line, tree: "",
    "stride": lambda line, tree: "",
    "padding": lambda line, tree: "",
    "dilation": lambda line, tree: "",
    "receptive_field": field_cell("receptive_field"),
    "jump": field_cell("jump"),
    "rf_start": field_cell("rf_start"),
    "params": lambda line, tree: params_text(line.total("params"), line.total("trainable_params"), None),
    "buffers": lambda line, tree: f"{line.total('buffers'):,}",
    "macs": compute_cell("macs"),
    "flops": compute_cell("flops"),
    "params_pct": share_cell("params_pct"),
    "macs_pct": share_cell("macs_pct"),
    "flops_pct": share_cell("flops_pct"),
    "memory": lambda line, tree: human_bytes(sum(activation_bytes(tree, c) for c in line.copies)),
    "param_bytes": lambda line, tree: human_bytes(sum(param_bytes(tree, c) for c in line.copies)),
    "layers": lambda line, tree: f"{line.total('layers'):,}",
}


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
    from .printable import printable
    from .render import markdown_item
    from .tables import format_table

    report = tree.report
    keys = columns or default_columns(report, view)
    headers = [COLUMNS[k][0] for k in keys]
    owner = owners(tree, visible(tree, depth)) if "from" in keys else None

    def lines() -> Iterator[tuple[Line, str]]:  # made again for each pass over the table
        made = iter_tree_lines(tree, depth)
        return with_reads(tree, made, owner) if owner is not None else ((line, "") for line in made)

    # the row's own cell for each key; None where the line writes it (name, from)
    row_cells = [None if key in ("name", "from") else ROW_CELLS[key] for key in keys]
    shown_open = [(at, key) for at, key in enumerate(keys) if key == "name" or key in OPEN_KEYS]

    def cells(line: Line, reads: str) -> list[str]:
        if line.open:  # a header: its name, input and output
            texts = [""] * len(keys)
            for at, key in shown_open:
                texts[at] = line_cell(key, line, tree)
            return texts
        row = line.node.row
        if row is None or len(line.copies) > 1:
            return [reads if key == "from" else line_cell(key, line, tree) for key in keys]
        # a leaf shown alone, most lines of a large table: its row's cells
        return [
            cell(row, report) if cell is not None else reads if key == "from" else line.prefix + line.short
            for key, cell in zip(keys, row_cells)
        ]

    title = printable(report.model or report.source or "")
    if markdown:
        yield f"### {title}\n\n" if title else ""
    else:
        yield f"{title}: input {shape_text(report.input_shape)}\n"
    if width is None:  # streamed: nothing to fit, and the rows may be many
        yield from format_table(headers, lambda: (cells(*pair) for pair in lines()), markdown)
        yield "\n"
    else:
        shown = [[printable(cell) for cell in cells(*pair)] for pair in lines()]
        while True:
            body = "".join(format_table(headers, lambda: shown, markdown))
            excess = max(map(len, body.splitlines()), default=0) - width
            if excess <= 0 or "name" not in keys or not fit_names(shown, keys.index("name"), excess):
                break
        yield body + "\n"
    summary = summary_lines(report, view)
    yield (
        "\n" + "\n".join(markdown_item(line) for line in summary) if markdown else "\n".join(summary)
    ) + "\n"


def default_columns(report: Report, view: str) -> tuple[str, ...]:
    """The view's columns, with ``from`` after ``type`` where some row reads other than
    the row above (as the flat table does)."""
    return flat_columns(view, graph_like(report))


def with_reads(
    tree: Tree, lines: Iterable[Line], owner: Callable[[int], str]
) -> Iterator[tuple[Line, str]]:
    """Each line with its ``from`` text: for a closed line that reads other than the
    closed line above it, the names it reads, each relative to the line's parent where it
    lies inside it; else empty. ``owner`` names the visible row holding each row."""
    inputs = model_inputs(tree.report)
    previous = inputs[0][0] if len(inputs) == 1 else None  # several: say which it reads
    for line in lines:
        if line.open:
            yield line, ""
            continue
        node = line.node
        names = source_names(tree, node, owner)
        text = ""
        if names != [previous]:
            parent = node.parent.name + "." if node.parent is not None and node.parent.name else ""
            text = ", ".join(n[len(parent):] if parent and n.startswith(parent) else n for n in names)
        yield line, text
        previous = line.copies[-1].name


def source_names(tree: Tree, node: Node, owner: Callable[[int], str]) -> list[str]:
    """What a visible row reads, named as the visible rows: a leaf's own ``from`` where
    its producers are shown (a split's piece keeps its ``.i``), else the folded block
    that holds the producer; a block's tensors from outside, once each."""
    if node.row is None:
        return [s if isinstance(s, str) else owner(s) for s in external_sources(tree, node)]
    rows = tree.report.rows
    names = []
    for raw, source in zip(node.row.sources, tree.sources[node.first]):
        shown = raw if isinstance(source, str) or owner(source) == rows[source].name else owner(source)
        names.append(shown)
    return names


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
        "used": node.used, "layers": node.layers, "first_index": report.rows[node.first].index,
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
        obj = row_object(row, layer_kind(row))
        obj.setdefault("depth", row_depth(row.name))
        obj.setdefault("parent", row_parent(row.name))
        obj["from"] = source_names(tree, node, owner)
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
