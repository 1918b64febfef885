"""The graph facts that folding and drawing read from a report, in one place.

Everything the views need beyond a row's own figures is here: which tensors a row reads,
the model's inputs and outputs, and a row's depth and parent. Depth and parent come from
the dotted name alone (SPEC §8): ``layer1.0.conv1`` has depth 2 and parent ``layer1.0``.
The tensors a row reads are the row's own ``sources`` (its ``from``).
"""

from __future__ import annotations

from .report import Report, Shape

INPUT = "input"
"""The tensor name of the model's input, as rows' sources name it."""


def row_depth(name: str) -> int:
    """The number of block segments in a dotted name: ``a.b.c`` -> 2."""
    return name.count(".")


def row_parent(name: str) -> str | None:
    """The dotted prefix of a name, None at the top level."""
    head, dot, _ = name.rpartition(".")
    return head if dot else None


def row_sources(report: Report) -> list[tuple[str, ...]]:
    """For each row of ``report.rows``, in order, the names of the tensors it reads: a row
    name, or a model input's name. A piece of a split (``split1.0``) is read from its row."""
    rows = {row.name for row in report.rows}
    inputs = {t.name for t in report.inputs} or {INPUT}

    def producer(source: str) -> str:
        if source in rows or source in inputs:
            return source
        head, dot, tail = source.rpartition(".")
        return head if dot and tail.isdigit() and head in rows else source

    return [tuple(producer(s) for s in row.sources) for row in report.rows]


def model_inputs(report: Report) -> list[tuple[str, Shape]]:
    """The model's input tensors: (name, shape) each."""
    if not report.inputs:
        return [(INPUT, report.input_shape)]
    return [(t.name, t.shape) for t in report.inputs]


def model_outputs(report: Report) -> list[tuple[str, Shape]]:
    """The model's output tensors: (the row that makes it, shape) each."""
    if report.graph is None or report.error is not None:
        if not report.rows or report.output_shape is None:
            return []
        return [(report.rows[-1].name, report.output_shape)]
    maker = {t: step.row.name for step in report.graph.steps for t in step.outputs}
    maker.update({t.id: t.name for t in report.graph.inputs})
    return [(maker.get(t.id, t.name), t.shape) for t in report.outputs]
