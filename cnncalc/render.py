"""Reports as text: table, JSON, CSV and markdown. Each renderer yields the output in
pieces so large models stream instead of being built as one string; only ``cli.py``
writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from math import prod
from typing import TYPE_CHECKING, Any

from .printable import printable
from .report import DTYPE_BYTES, Report, Row
from .text import dims_text, human_bytes, shape_text, with_human

if TYPE_CHECKING:  # pragma: no cover - execute imports torch
    from .execute import Check, Execution

FORMATS = ("table", "json", "csv", "markdown")
def padding_text(row: Row) -> str:
    w = row.window
    if w is None:
        return ""
    if w.pad_left == w.pad_right:
        return dims_text(w.pad_left)
    return "×".join(f"({lo},{hi})" for lo, hi in zip(w.pad_left, w.pad_right))


def input_text(row: Row) -> str:
    if row.input_shapes:
        return " & ".join(shape_text(s) for s in row.input_shapes)
    return shape_text(row.input_shape)


def output_text(row: Row) -> str:
    if row.output_shapes:
        return " & ".join(shape_text(s) for s in row.output_shapes)
    return shape_text(row.output_shape)


def graph_like(report: Report) -> bool:
    """Whether some row reads other than the previous row's output (then tables show
    where each row reads from)."""
    previous = report.inputs[0].name if report.inputs else "input"
    for row in report.rows:
        if row.sources != (previous,):
            return True
        previous = row.name
    return bool(report.unused) or len(report.outputs) > 1


def field_text(row: Row) -> str:
    if row.receptive_field is None:
        return "" if not row.spatial else "n/a"
    return dims_text(row.receptive_field)


# ---- JSON ---------------------------------------------------------------------------------
def row_object(row: Row, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "index": row.index, "name": row.name, "type": row.type,
        "input_shape": list(row.input_shape), "output_shape": list(row.output_shape),
        "params": row.params, "trainable": row.trainable, "buffers": row.buffers,
        "macs": row.macs, "flops": row.flops,
    }  # fmt: skip
    if row.input_shapes:
        obj["input_shapes"] = [list(s) for s in row.input_shapes]
    if row.output_shapes:
        obj["output_shapes"] = [list(s) for s in row.output_shapes]
    obj["from"] = list(row.sources)
    obj["depth"] = row.depth
    obj["parent"] = row.parent
    obj["used"] = row.used
    if row.shares is not None:
        obj["shares"] = row.shares
    if row.window is not None:
        w = row.window
        obj["kernel_size"] = list(w.kernel)
        obj["stride"] = list(w.stride)
        obj["padding"] = [[lo, hi] for lo, hi in zip(w.pad_left, w.pad_right)]
        obj["dilation"] = list(w.dilation)
    if row.spatial:
        present = row.receptive_field is not None
        obj["receptive_field"] = list(row.receptive_field) if present else None  # type: ignore[arg-type]
        obj["jump"] = list(row.jump) if present else None  # type: ignore[arg-type]
        obj["rf_start"] = list(row.rf_start) if present else None  # type: ignore[arg-type]
    if extra:
        obj.update(extra)
    return obj


def totals_object(report: Report) -> dict[str, Any]:
    t = report.totals
    return {
        "params": t.params, "trainable_params": t.trainable_params,
        "non_trainable_params": t.non_trainable_params, "buffers": t.buffers,
        "macs": t.macs, "flops": t.flops, "param_bytes": t.param_bytes,
        "activation_bytes": t.activation_bytes, "training_flops": training_flops(report),
    }  # fmt: skip


def training_flops(report: Report) -> int:
    """Forward + backward FLOPs of one training step (see ``training_flops``)."""
    from .training_flops import training_flops as count

    return count(report)


RowExtra = Callable[[Row], dict[str, Any]] | None


def layer_kind(row: Row) -> dict[str, Any]:
    """What a layer's JSON row adds in ``shapes`` and ``params``, where folded blocks are
    ``"kind": "block"``."""
    return {"kind": "layer"}


def render_json(
    report: Report, extra: RowExtra = None, top: dict[str, Any] | None = None,
    objects: Iterable[dict[str, Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    """The report as JSON; ``objects`` replaces the rows' objects (folded views)."""
    import json

    head = {
        "model": report.model,
        "input_shape": list(report.input_shape),
        "output_shape": None if report.output_shape is None else list(report.output_shape),
        "dtype": report.dtype,
        "outputs": [{"name": t.name, "shape": list(t.shape)} for t in report.outputs],
    }
    if report.several_inputs:
        head["inputs"] = [{"name": t.name, "shape": list(t.shape)} for t in report.inputs]
    if top:
        head.update(top)
    yield json.dumps(head)[:-1] + ', "layers": ['
    if objects is None:
        objects = (row_object(row, extra(row) if extra else None) for row in report.rows)
    for i, obj in enumerate(objects):
        yield ("\n  " if i == 0 else ",\n  ") + json.dumps(obj)
    failed = report.error is not None  # then the sums cover only the rows before the failure
    tail: dict[str, Any] = {"totals": None if failed else totals_object(report)}
    if failed:
        tail["error"] = str(report.error)
    yield "\n], " + json.dumps(tail)[1:] + "\n"


# ---- tables -------------------------------------------------------------------------------
# key: (header, help); the order here is the order --help lists them.
COLUMNS: dict[str, tuple[str, str]] = {
    "index": ("#", "row number (a block: its first-last)"),
    "name": ("name", "the row's short name under its parent"),
    "type": ("type", "layer type, or a block's layer count"),
    "from": ("from", "what a row reads where not the row above (names under its parent)"),
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
    "execute": ("index", "name", "type", "input", "output", "params"),
}  # fmt: skip


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def share_of(part: int, whole: int, report: Report) -> str:
    """``part`` as a share of a total; none of a total the model never reached."""
    return "-" if report.error is not None else percent(part, whole)


def window_cell(attr: str) -> Callable[[Row, Report], str]:
    return lambda row, _: dims_text(getattr(row.window, attr)) if row.window else ""


def params_text(params: int, trainable: int, shares: str | None) -> str:
    """Params, with how many are frozen; a shared use's are its first use's."""
    if shares is not None:
        return f"0 (shares {shares})"
    if params == trainable:
        return f"{params:,}"
    return f"{params:,} (frozen)" if trainable == 0 else f"{params:,} ({params - trainable:,} frozen)"


def compute_text(counted: int, idle: int, used: bool, partly: bool = False) -> str:
    """MACs or FLOPs: where no output needs them (``used`` false), the ``idle`` ones in
    parentheses; a block of which only some rows are used (``partly``) adds theirs."""
    if not used:
        return f"({idle:,}, unused)"
    return f"{counted:,} (+{idle:,} unused)" if partly and idle else f"{counted:,}"


def row_bytes(row: Row, report: Report) -> int:
    """The bytes of a used row's outputs (each piece of a split), in the report's dtype."""
    if not row.used:
        return 0
    return sum(map(prod, row.output_shapes or (row.output_shape,))) * DTYPE_BYTES[report.dtype]


def used_compute(row: Row, what: str) -> int:
    return getattr(row, what) if row.used else 0


# The cell of one row for each column key: the flat table's cells, and a tree table's for
# a leaf shown alone (a tree table writes only the name and blocks' cells itself).
ROW_CELLS: dict[str, Callable[[Row, Report], str]] = {
    "index": lambda row, _: str(row.index),
    "name": lambda row, _: row.name,
    "type": lambda row, _: row.type,
    "from": lambda row, _: ", ".join(row.sources),
    "input": lambda row, _: input_text(row),
    "output": lambda row, _: output_text(row),
    "kernel": window_cell("kernel"),
    "stride": window_cell("stride"),
    "padding": lambda row, _: padding_text(row),
    "dilation": window_cell("dilation"),
    "receptive_field": lambda row, _: field_text(row),
    "jump": lambda row, _: dims_text(row.jump),
    "rf_start": lambda row, _: dims_text(row.rf_start),
    "params": lambda row, _: params_text(row.params, row.params if row.trainable else 0, row.shares),
    "buffers": lambda row, _: f"{row.buffers:,}",
    "macs": lambda row, _: compute_text(row.macs, row.macs, row.used),
    "flops": lambda row, _: compute_text(row.flops, row.flops, row.used),
    "params_pct": lambda row, report: share_of(row.params, report.totals.params, report),
    "macs_pct": lambda row, report: share_of(used_compute(row, "macs"), report.totals.macs, report),
    "flops_pct": lambda row, report: share_of(used_compute(row, "flops"), report.totals.flops, report),
    "memory": lambda row, report: human_bytes(row_bytes(row, report)),
    "param_bytes": lambda row, report: human_bytes(row.params * DTYPE_BYTES[report.dtype]),
    "layers": lambda row, _: "1",
}


def summary_lines(report: Report, view: str) -> list[str]:
    """The lines under the table: the output shape, and for ``params`` the totals. A failed
    analysis has no totals (sums over the rows before the failure would read as the
    model's); its one line points at the error."""
    t = report.totals
    if report.error is not None:
        return [f"stopped before layer {len(report.rows) + 1}: see the error on stderr"]
    if len(report.outputs) > 1:
        lines = ["outputs: " + ", ".join(f"{t.name} {shape_text(t.shape)}" for t in report.outputs)]
    else:
        lines = [f"output: {shape_text(report.output_shape)}"]
    if view == "params":
        lines += [
            f"params: {with_human(t.params)}",
            f"  trainable: {t.trainable_params:,}  non-trainable: {t.non_trainable_params:,}  buffers: {t.buffers:,}",
            f"MACs: {with_human(t.macs)}",
            f"FLOPs: {with_human(t.flops)}",
            f"training FLOPs per step (forward + backward): {with_human(training_flops(report))}",
            f"memory ({report.dtype}): params {human_bytes(t.param_bytes)}, activations (all outputs kept) {human_bytes(t.activation_bytes)}",
        ]
    return lines


def table_rows(
    report: Report, view: str, extra_cells: Callable[[Row], list[Any]] | None,
    sources: bool = False,
) -> Iterator[list[Any]]:  # fmt: skip
    keys = flat_columns(view, sources)
    cells = [ROW_CELLS[key] for key in keys]
    for row in report.rows:
        made = [cell(row, report) for cell in cells]
        yield made + extra_cells(row) if extra_cells else made


def flat_headers(view: str, sources: bool = False) -> tuple[str, ...]:
    """The headers of the view's flat table (``table_rows``)."""
    return tuple(COLUMNS[key][0] for key in flat_columns(view, sources))


def flat_columns(view: str, sources: bool) -> tuple[str, ...]:
    """The view's column keys, with ``from`` after ``type`` where some row reads other
    than the row above."""
    keys = DEFAULT_COLUMNS[view]
    if not sources:
        return keys
    at = keys.index("type") + 1
    return (*keys[:at], "from", *keys[at:])


def render_table(
    report: Report, view: str, markdown: bool = False,
    extra_columns: tuple[str, ...] = (), extra_cells: Callable[[Row], list[Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    from .tables import format_table

    sources = graph_like(report)
    columns = flat_headers(view, sources) + extra_columns
    title = printable(report.model or report.source or "")
    if markdown:
        yield f"### {title}\n\n" if title else ""
    else:
        yield f"{title}: input {shape_text(report.input_shape)}\n"
    yield from format_table(columns, lambda: table_rows(report, view, extra_cells, sources), markdown)
    yield "\n"
    summary = summary_lines(report, view)
    yield (
        "\n" + "\n".join(map(markdown_item, summary)) if markdown else "\n".join(summary)
    ) + "\n"


def markdown_item(line: str) -> str:
    """A summary line as a markdown list item; an indented line nests under the one above."""
    text = line.lstrip(" ")
    return f"{' ' * (len(line) - len(text))}- {text}"


def csv_dims(values: tuple[int, ...] | None) -> str:
    """Per-dimension values for scripts: ``3x3``, ASCII only."""
    return dims_text(values, "x")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's rule): text starting
    with ``= + - @``, a tab or a carriage return gets a ``'`` in front. Numbers, negative
    ones included and numbers written as text (``-1``, ``-2.5``), are kept."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value.strip() == value else "'" + value


def render_csv(
    report: Report, view: str, extra_columns: tuple[str, ...] = (),
    extra_cells: Callable[[Row], list[Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    import csv
    import io

    buffer = io.StringIO()
    # Written with "\r\n" and given out with "\n": the csv module quotes a field holding
    # a character of the line terminator, so a lone "\r" in a name is quoted too.
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = ["index", "name", "type", "input_shape", "output_shape", "params", "trainable", "buffers", "macs", "flops",
               "kernel_size", "stride", "padding", "dilation", "receptive_field", "jump", "rf_start",
               "from", "used", "shares"]  # fmt: skip
    writer.writerow(columns + [c.replace(" ", "_") for c in extra_columns])
    yield buffer.getvalue()[:-2] + "\n"
    for row in report.rows:
        buffer.seek(0)
        buffer.truncate()
        w = row.window
        writer.writerow([csv_safe(cell) for cell in (
            row.index, row.name, row.type, input_text(row), output_text(row), row.params,
            str(row.trainable).lower(), row.buffers, row.macs, row.flops,
            csv_dims(w.kernel if w else None), csv_dims(w.stride if w else None),
            padding_text(row).replace("×", "x"), csv_dims(w.dilation if w else None),
            csv_dims(row.receptive_field), csv_dims(row.jump), csv_dims(row.rf_start),
            " ".join(row.sources), str(row.used).lower(), row.shares or "",
            *(extra_cells(row) if extra_cells else []),
        )])  # fmt: skip
        yield buffer.getvalue()[:-2] + "\n"


def render(
    report: Report, view: str, fmt: str, extra_columns: tuple[str, ...] = (),
    extra_cells: Callable[[Row], list[Any]] | None = None, extra_json: RowExtra = None,
    top_json: dict[str, Any] | None = None,
) -> Iterator[str]:  # fmt: skip
    if fmt == "json":
        return render_json(report, extra_json, top_json)
    if fmt == "csv":
        return render_csv(report, view, extra_columns, extra_cells)
    return render_table(report, view, fmt == "markdown", extra_columns, extra_cells)


# ---- PyTorch's confirmation beside the computed rows (execute, --execute) -----------------
CONFIRMATION_COLUMNS = {
    "shapes": ("actual", "match"),
    "params": ("actual", "torch params", "match"),
    "execute": ("actual", "torch params", "match"),
}


def match_text(check: Check | None, plain: bool) -> str:
    """``✓``, or what differs (``✗ shape``, ``✗ raised``); ``true``/``false`` for CSV."""
    if check is None:
        return "" if plain else "not run"
    if plain:
        return str(check.match).lower()
    if check.match:
        return "✓"
    if check.error is not None:
        return "✗ raised"
    wrong = [
        what
        for what, agrees in (("shape", check.shape_matches), ("params", check.params_match))
        if not agrees
    ]
    return "✗ " + ", ".join(wrong)


def confirmation_cells(
    execution: Execution | None, row: Row, view: str, timings: bool, plain: bool
) -> list[Any]:
    check = None if execution is None else execution.check(row)
    if check is None:
        actual, params, seconds = ("", "", "") if plain else ("-", "-", "-")
    elif check.error is not None:
        name = check.error.split(":", 1)[0]
        actual, params, seconds = ("", "", "") if plain else (name, "-", "-")
    else:
        actual = shape_text(check.actual_shape)
        params = str(check.actual_params) if plain else f"{check.actual_params:,}"
        seconds = f"{check.seconds:.6f}" if plain else f"{check.seconds * 1000:.3f} ms"
    cells = [actual] + ([params] if "torch params" in CONFIRMATION_COLUMNS[view] else [])
    return cells + [match_text(check, plain)] + ([seconds] if timings else [])


def confirmation_json(execution: Execution | None, row: Row, timings: bool) -> dict[str, Any]:
    check = None if execution is None else execution.check(row)
    ran = check is not None and check.error is None
    obj: dict[str, Any] = {
        "actual_shape": list(check.actual_shape) if ran else None,
        "actual_params": check.actual_params if ran else None,
        "match": None if check is None else check.match,
    }
    if check is not None and check.error is not None:
        obj["error"] = check.error
    if timings:
        obj["seconds"] = check.seconds if ran else None
    return obj


def confirmation(
    execution: Execution | None, view: str, fmt: str, timings: bool = False
) -> dict[str, Any]:
    """The keyword arguments of ``render`` that add PyTorch's confirmation to ``view``:
    columns and cells for tables and CSV, row keys and ``ok`` for JSON. ``execution`` is an
    ``execute.Execution``, or None where the analysis stopped before anything ran."""
    plain = fmt == "csv"
    columns = CONFIRMATION_COLUMNS[view] + ((("seconds" if plain else "time"),) if timings else ())
    top: dict[str, Any] = {"ok": False if execution is None else execution.ok}
    if execution is not None:
        top |= {"verdict": verdict(execution), "device": execution.device, "seed": execution.seed}
    return {
        "extra_columns": columns,
        "extra_cells": lambda row: confirmation_cells(execution, row, view, timings, plain),
        "extra_json": lambda row: confirmation_json(execution, row, timings),
        "top_json": top,
    }


# ---- the verdict of a PyTorch run -------------------------------------------------------------
MAX_LISTED = 5  # differing rows named in the verdict


def difference(check: Check) -> str:
    """What differs at one row, in words: ``shape [1, 4, 3, 3] vs PyTorch [1, 4, 4, 4]``."""
    if check.error is not None:
        return f"PyTorch raised {check.error}"
    parts = []
    if not check.shape_matches:
        parts.append(
            f"shape {shape_text(check.row.output_shape)} vs PyTorch {shape_text(check.actual_shape)}"
        )
    if not check.params_match:
        parts.append(f"params {check.row.params:,} vs PyTorch {check.actual_params:,}")
    return ", ".join(parts)


def verdict(execution: Execution) -> str:
    """One line: ``all 53 layers confirmed``, or what differs and where."""
    total = len(execution.report.rows)
    several = len(execution.report.outputs)
    if execution.ok:
        outputs = f" and {several} outputs" if several > 1 else ""
        return f"all {total} layer{'' if total == 1 else 's'}{outputs} confirmed"
    failed = execution.failed
    confirmed = sum(1 for c in execution.checks.values() if c.match)
    if failed is not None and execution.unsupported:
        return (
            f"PyTorch has no {execution.report.dtype} kernel on {execution.device} for row "
            f"{failed.row.index} ({failed.row.name}): {failed.error}; the run stopped "
            f"there ({confirmed} rows confirmed); run with --dtype float32 to confirm "
            "the rest"
        )
    differing = [c for c in execution.differing if c.error is None]
    listed = "; ".join(
        f"row {c.row.index} ({c.row.name}): {difference(c)}" for c in differing[:MAX_LISTED]
    )
    more = f"; and {len(differing) - MAX_LISTED} more" if len(differing) > MAX_LISTED else ""
    text = (
        f"{len(differing)} of {total} layers differ from PyTorch: {listed}{more}"
        if differing
        else ""
    )
    if failed is None and not differing:
        expected = ", ".join(f"{t.name} {shape_text(t.shape)}" for t in execution.report.outputs)
        actual = ", ".join(shape_text(s) for s in execution.outputs)
        return f"the model's outputs differ: computed {expected}, PyTorch returned {actual}"
    if failed is None:
        return text
    stop = (
        f"PyTorch raised at row {failed.row.index} ({failed.row.name}) where cnncalc "
        f"computed {shape_text(failed.row.output_shape)}: {failed.error}; the run stopped "
        f"there ({confirmed} rows confirmed, {len(execution.report.rows) - len(execution.checks)} not run)"
    )
    return f"{stop}; {text}" if text else stop
