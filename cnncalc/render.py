"""Reports as text: table, JSON, CSV and markdown. Each renderer yields the output in
pieces so large models stream instead of being built as one string; only ``cli.py``
writes them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .report import Report, Row

if TYPE_CHECKING:  # pragma: no cover - execute imports torch
    from .execute import Check, Execution

FORMATS = ("table", "json", "csv", "markdown")
UNITS = ("", " K", " M", " G", " T", " P", " E")


def human(n: int | float) -> str:
    """Three significant figures with a unit: ``25.6 M``, ``4.09 G``, ``138 M``, ``950``."""
    value = float(n)
    unit = 0
    while abs(value) >= 999.5 and unit < len(UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{int(n):,}" if float(n).is_integer() else f"{n:.3g}"
    decimals = max(0, 3 - len(str(int(abs(value)))))
    return f"{value:.{decimals}f}{UNITS[unit]}"


def with_human(n: int) -> str:
    """``25,557,032 (25.6 M)``; small numbers need no second spelling."""
    return f"{n:,} ({human(n)})" if abs(n) >= 1000 else f"{n:,}"


def human_bytes(n: int) -> str:
    value, unit = float(n), 0
    names = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    while value >= 1023.5 and unit < len(names) - 1:
        value /= 1024
        unit += 1
    return f"{int(value)} B" if unit == 0 else f"{value:.3g} {names[unit]}"


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "-" if shape is None else "[" + ", ".join(str(d) for d in shape) + "]"


def dims_text(values: tuple[int, ...] | None, joiner: str = "×") -> str:
    return "" if values is None else joiner.join(str(v) for v in values)


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
        "activation_bytes": t.activation_bytes,
    }  # fmt: skip


RowExtra = Callable[[Row], dict[str, Any]] | None


def render_json(
    report: Report, extra: RowExtra = None, top: dict[str, Any] | None = None,
    objects: Iterable[dict[str, Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    """The report as JSON; ``objects`` replaces the rows' objects (folded views)."""
    head = {
        "model": report.model,
        "input_shape": list(report.input_shape),
        "output_shape": None if report.output_shape is None else list(report.output_shape),
        "dtype": report.dtype,
    }
    if top:
        head.update(top)
    yield json.dumps(head)[:-1] + ', "layers": ['
    if objects is None:
        objects = (row_object(row, extra(row) if extra else None) for row in report.rows)
    for i, obj in enumerate(objects):
        yield ("\n  " if i == 0 else ",\n  ") + json.dumps(obj)
    tail: dict[str, Any] = {"totals": totals_object(report)}
    if report.error is not None:
        tail["error"] = str(report.error)
    yield "\n], " + json.dumps(tail)[1:] + "\n"


# ---- tables -------------------------------------------------------------------------------
SHAPES_COLUMNS = (
    "#",
    "name",
    "type",
    "input",
    "output",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "receptive field",
    "jump",
    "rf start",
)
PARAMS_COLUMNS = ("#", "name", "type", "output", "params", "MACs", "FLOPs", "params %", "FLOPs %")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def shapes_cells(row: Row, report: Report) -> list[Any]:
    w = row.window
    return [
        row.index, row.name, row.type, input_text(row), shape_text(row.output_shape),
        dims_text(w.kernel) if w else "", dims_text(w.stride) if w else "", padding_text(row),
        dims_text(w.dilation) if w else "", field_text(row), dims_text(row.jump),
        dims_text(row.rf_start, ", "),
    ]  # fmt: skip


def params_cells(row: Row, report: Report) -> list[Any]:
    t = report.totals
    params = f"{row.params:,}" + ("" if row.trainable or not row.params else " (frozen)")
    return [
        row.index, row.name, row.type, shape_text(row.output_shape), params,
        f"{row.macs:,}", f"{row.flops:,}", percent(row.params, t.params), percent(row.flops, t.flops),
    ]  # fmt: skip


EXECUTE_COLUMNS = ("#", "name", "type", "input", "output", "params")


def execute_cells(row: Row, report: Report) -> list[Any]:
    return [
        row.index, row.name, row.type, input_text(row), shape_text(row.output_shape),
        f"{row.params:,}",
    ]  # fmt: skip


VIEWS = {
    "shapes": (SHAPES_COLUMNS, shapes_cells),
    "params": (PARAMS_COLUMNS, params_cells),
    "execute": (EXECUTE_COLUMNS, execute_cells),
}


def summary_lines(report: Report, view: str) -> list[str]:
    t = report.totals
    if report.error is not None:
        lines = [f"stopped before layer {len(report.rows) + 1}: see the error on stderr"]
    else:
        lines = [f"output: {shape_text(report.output_shape)}"]
    if view == "params":
        lines += [
            f"params: {with_human(t.params)}",
            f"  trainable: {t.trainable_params:,}  non-trainable: {t.non_trainable_params:,}  buffers: {t.buffers:,}",
            f"MACs: {with_human(t.macs)}",
            f"FLOPs: {with_human(t.flops)}",
            f"memory ({report.dtype}): params {human_bytes(t.param_bytes)}, activations {human_bytes(t.activation_bytes)}",
        ]
    return lines


def table_rows(
    report: Report, view: str, extra_cells: Callable[[Row], list[Any]] | None
) -> list[list[Any]]:
    cells = VIEWS[view][1]
    return [cells(row, report) + (extra_cells(row) if extra_cells else []) for row in report.rows]


def render_table(
    report: Report, view: str, markdown: bool = False,
    extra_columns: tuple[str, ...] = (), extra_cells: Callable[[Row], list[Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    from tabulate import tabulate

    columns = VIEWS[view][0] + extra_columns
    title = report.model or report.source
    if markdown:
        yield f"### {title}\n\n" if title else ""
    else:
        yield f"{title}: input {shape_text(report.input_shape)}\n"
    body = tabulate(
        table_rows(report, view, extra_cells), headers=columns,
        tablefmt="github" if markdown else "simple", disable_numparse=True,
    )  # fmt: skip
    yield body + "\n"
    summary = summary_lines(report, view)
    yield (
        "\n" + "\n".join(f"- {line}" for line in summary) if markdown else "\n".join(summary)
    ) + "\n"


def csv_dims(values: tuple[int, ...] | None) -> str:
    """Per-dimension values for scripts: ``3x3``, ASCII only."""
    return dims_text(values, "x")


def render_csv(
    report: Report, view: str, extra_columns: tuple[str, ...] = (),
    extra_cells: Callable[[Row], list[Any]] | None = None,
) -> Iterator[str]:  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["index", "name", "type", "input_shape", "output_shape", "params", "trainable", "buffers", "macs", "flops",
               "kernel_size", "stride", "padding", "dilation", "receptive_field", "jump", "rf_start"]  # fmt: skip
    writer.writerow(columns + [c.replace(" ", "_") for c in extra_columns])
    yield buffer.getvalue()
    for row in report.rows:
        buffer.seek(0)
        buffer.truncate()
        w = row.window
        writer.writerow([
            row.index, row.name, row.type, input_text(row), shape_text(row.output_shape), row.params,
            str(row.trainable).lower(), row.buffers, row.macs, row.flops,
            csv_dims(w.kernel if w else None), csv_dims(w.stride if w else None),
            padding_text(row).replace("×", "x"), csv_dims(w.dilation if w else None),
            csv_dims(row.receptive_field), csv_dims(row.jump), csv_dims(row.rf_start),
            *(extra_cells(row) if extra_cells else []),
        ])  # fmt: skip
        yield buffer.getvalue()


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
        top |= {"verdict": execution.verdict, "device": execution.device, "seed": execution.seed}
    return {
        "extra_columns": columns,
        "extra_cells": lambda row: confirmation_cells(execution, row, view, timings, plain),
        "extra_json": lambda row: confirmation_json(execution, row, timings),
        "top_json": top,
    }
