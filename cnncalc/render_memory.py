"""``cnncalc memory`` as text: table, JSON, CSV and markdown, in the style of the other
views (``render``): rows first, then the breakdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .render import percent, render_json
from .report import Row
from .text import human_bytes, shape_text
from .training_memory import TrainingMemory

TRAIN_COLUMNS = ("#", "name", "type", "output", "saved", "saved %")
INFERENCE_COLUMNS = ("#", "name", "type", "output", "alive", "alive % of peak")


def bytes_text(n: int) -> str:
    """``102,760,448 (98 MiB)``; small numbers need no second spelling."""
    return f"{n:,} ({human_bytes(n)})" if n >= 1024 else f"{n:,} B"


def setup_text(memory: TrainingMemory) -> str:
    s = memory.setup
    if not s.train:
        return f"inference, {s.precision}, {s.device}"
    return f"training, {s.optimizer}, {s.precision}, {s.device}"


def row_value(memory: TrainingMemory, row: Row) -> int:
    table = memory.saved if memory.setup.train else memory.alive
    return table.get(row.index, 0)


def peak_text(memory: TrainingMemory) -> str:
    moment = memory.peak
    if moment.row is None:
        return moment.phase
    row = memory.report.rows[moment.row - 1]
    return f"{moment.phase}, row {row.index} ({row.name})"


def breakdown(memory: TrainingMemory) -> list[str]:
    m = memory
    lines = [f"parameters: {bytes_text(m.param_bytes)}"]
    if m.buffer_bytes:
        lines.append(f"buffers: {bytes_text(m.buffer_bytes)}")
    if m.setup.train:
        lines += [
            f"gradients: {bytes_text(m.grad_bytes)}",
            f"optimizer state ({m.setup.optimizer}): {bytes_text(m.optimizer_bytes)}",
            f"saved activations: {bytes_text(m.saved_activation_bytes)}",
            f"transient (largest at any moment): {bytes_text(m.transient_bytes)}",
        ]
    else:
        activations = m.peak_bytes - m.param_bytes - m.buffer_bytes
        lines.append(f"activations alive at the peak: {bytes_text(activations)}")
    lines.append(f"peak: {bytes_text(m.peak_bytes)} at {peak_text(m)}")
    if m.budget is not None and m.max_batch is not None:
        batch = m.report.input_shape[0]
        verdict = "fits" if m.peak_bytes <= m.budget else "does not fit"
        lines.append(f"budget {human_bytes(m.budget)} ({m.budget:,} bytes): batch {batch} {verdict}")
        lines.append(
            f"largest batch that fits: {m.max_batch:,} (peak {bytes_text(m.max_batch_peak or 0)})"
        )
    return lines


def table_rows(memory: TrainingMemory) -> list[list[Any]]:
    whole = memory.saved_activation_bytes if memory.setup.train else memory.peak_bytes
    rows = []
    for row in memory.report.rows:
        value = row_value(memory, row)
        rows.append([
            row.index, row.name, row.type, shape_text(row.output_shape), f"{value:,}",
            percent(value, whole),
        ])  # fmt: skip
    return rows


def render_table(memory: TrainingMemory, markdown: bool) -> Iterator[str]:
    from tabulate import tabulate

    report = memory.report
    title = report.model or report.source
    heading = f"{title}: input {shape_text(report.input_shape)}, {setup_text(memory)}"
    yield f"### {heading}\n\n" if markdown else f"{heading}\n"
    columns = TRAIN_COLUMNS if memory.setup.train else INFERENCE_COLUMNS
    yield tabulate(
        table_rows(memory), headers=columns, tablefmt="github" if markdown else "simple",
        disable_numparse=True,
    ) + "\n"  # fmt: skip
    lines = breakdown(memory)
    yield ("\n" + "\n".join(f"- {line}" for line in lines) if markdown else "\n".join(lines)) + "\n"


def memory_object(memory: TrainingMemory) -> dict[str, Any]:
    m = memory
    top: dict[str, Any] = {
        "mode": "train" if m.setup.train else "inference",
        "optimizer": m.setup.optimizer if m.setup.train else None,
        "precision": m.setup.precision,
        "device": m.setup.device,
        "memory": {
            "param_bytes": m.param_bytes,
            "buffer_bytes": m.buffer_bytes,
            "grad_bytes": m.grad_bytes,
            "optimizer_bytes": m.optimizer_bytes,
            "saved_activation_bytes": m.saved_activation_bytes,
            "transient_bytes": m.transient_bytes,
            "peak_bytes": m.peak_bytes,
            "peak_phase": m.peak.phase,
            "peak_row": m.peak.row,
        },
    }
    if m.budget is not None:
        top["budget_bytes"] = m.budget
        top["max_batch"] = m.max_batch
        top["max_batch_peak_bytes"] = m.max_batch_peak
    return top


def render_csv(memory: TrainingMemory) -> Iterator[str]:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "name", "type", "input_shape", "output_shape", "saved_bytes", "alive_bytes"])
    yield buffer.getvalue()
    for row in memory.report.rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([
            row.index, row.name, row.type, shape_text(row.input_shape),
            shape_text(row.output_shape), memory.saved.get(row.index, 0),
            memory.alive.get(row.index, 0),
        ])  # fmt: skip
        yield buffer.getvalue()


def render_memory(memory: TrainingMemory, fmt: str) -> Iterator[str]:
    if fmt == "json":
        return render_json(
            memory.report,
            lambda row: {
                "saved_bytes": memory.saved.get(row.index, 0),
                "alive_bytes": memory.alive.get(row.index, 0),
            },
            memory_object(memory),
        )
    if fmt == "csv":
        return render_csv(memory)
    return render_table(memory, fmt == "markdown")
