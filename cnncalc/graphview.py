"""The graph facts that folding and drawing read from a report, in one place.

Everything the views need beyond a row's own figures is here: which tensors a row reads,
the model's inputs and outputs, and a row's depth and parent. Depth and parent come from
the dotted name alone (SPEC §8): ``layer1.0.conv1`` has depth 2 and parent ``layer1.0``.
The tensors a row reads are derived from ``Report.plan`` (a row reads the previous row's
output, a branch starts from its block's input, a merge reads the last tensor of every
branch); a report whose rows carry their own sources replaces ``row_sources`` with a read
of that field, and nothing else changes.
"""

from __future__ import annotations

from typing import Any

from .report import Merge, Report, Row, Shape

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
    name, or ``INPUT``. Rows the plan does not reach (an analysis that stopped) read the
    row before them."""
    found: dict[int, tuple[str, ...]] = {}

    def walk(steps: list[Any], current: str) -> str:
        for step in steps:
            if isinstance(step, Merge):
                ends = tuple(walk(branch, current) for branch in step.branches)
                found[step.row.index] = ends
                current = step.row.name
            else:
                found[step.index] = (current,)
                current = step.name
        return current

    walk(report.plan, INPUT)
    sources = []
    previous = INPUT
    for row in report.rows:
        sources.append(found.get(row.index, (previous,)))
        previous = row.name
    return sources


def model_inputs(report: Report) -> list[tuple[str, Shape]]:
    """The model's input tensors: (name, shape) each."""
    return [(INPUT, report.input_shape)]


def model_outputs(report: Report) -> list[tuple[str, Shape]]:
    """The model's output tensors: (the row that makes it, shape) each."""
    if not report.rows or report.output_shape is None:
        return []
    last: Row = report.rows[-1]
    return [(last.name, report.output_shape)]
