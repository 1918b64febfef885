"""The single-layer results as text: table, JSON and CSV for ``conv``, ``solve`` and
``explain``. Each renderer yields the output in pieces; only ``cli.py`` writes them.

CSV has one row per spatial dimension for ``conv``, one per combination (every dimension's
list, a ``dimension`` column first) for ``solve``, and one per output element for
``explain``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..text import shape_text
from .formula import COVERAGE_LIMIT, PLURALS, DimensionWork, LayerWork, describe_ranges, work_out
from .formula import show_fraction as fraction

if TYPE_CHECKING:  # pragma: no cover - each command imports only its own module
    from .explain import Explanation
    from .solve import Bounds, Combination, DimensionSolutions, SolveResult

FORMATS = ("table", "json", "csv")


def as_json(data: dict[str, object]) -> Iterator[str]:
    yield json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def as_csv(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_value(value: object) -> object:
    """A JSON value as one CSV cell: an index range ``[a, b]`` as ``a..b``, a list of them
    joined by ``;``, booleans as ``true``/``false``, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list) and (not value or isinstance(value[0], list)):
        return ";".join(str(csv_value(v)) for v in value)
    if isinstance(value, list):
        return f"{value[0]}..{value[1]}"
    return value


# --------------------------------------------------------------------------- conv


def render_conv(work: LayerWork, fmt: str) -> Iterator[str]:
    if fmt == "json":
        return as_json(conv_json(work))
    if fmt == "csv":
        dimensions = [dimension_json(d) for d in work.dimensions]
        header = [k for k in dimensions[0] if k != "notes"]
        return as_csv(header, ([csv_value(d[k]) for k in header] for d in dimensions))
    return iter([conv_text(work) + "\n"])


def conv_text(work: LayerWork) -> str:
    """The worked formulas: per dimension the parameters, the formula with the numbers,
    the notes and what is left uncovered; then the output size."""
    ndim = len(work.dimensions)
    lines = [f"{work.layer.family}, {ndim} spatial dimension{'s' if ndim > 1 else ''}"]
    for dim in work.dimensions:
        lines.extend(dimension_lines(dim, ndim))
    lines.append("output size: " + "×".join(str(n) for n in work.output_size))
    return "\n".join(lines)


def dimension_lines(dim: DimensionWork, ndim: int) -> list[str]:
    g = dim.geometry
    label = f"dimension {dim.dimension} ({PLURALS[dim.noun]})" if ndim > 1 else "length"
    pads = str(g.pad_left) if g.pad_left == g.pad_right else f"{g.pad_left}+{g.pad_right}"
    if g.padding_word:
        pads = f"'{g.padding_word}' = {pads}"
    parameters = [
        f"input {g.size}", f"kernel {g.kernel}", f"stride {g.stride}", f"padding {pads}",
        f"dilation {g.dilation}",
    ]  # fmt: skip
    if g.output_padding is not None:
        parameters.append(f"output_padding {g.output_padding}")
    if g.ceil_mode:
        parameters.append("ceil_mode")
    lines = [
        f"{label}: " + ", ".join(parameters),
        f"  out = {dim.general}",
        f"      = {dim.formula}",
    ]
    lines.extend(f"  {note}" for note in dim.notes)
    if dim.rounding == "none":  # transposed: every input position is read
        return lines
    if dim.uncovered is None:
        lines.append(
            f"  uncovered input {PLURALS[dim.noun]} not worked out: more than "
            f"{COVERAGE_LIMIT:,} positions or kernel taps to walk"
        )
    else:
        lines.append(f"  {describe_ranges(dim.uncovered, dim.uncovered_count or 0, dim.noun)}")
    return lines


def conv_json(work: LayerWork) -> dict[str, object]:
    """``output_size`` has one entry per dimension; ``operation`` is the layer type."""
    return {
        "operation": work.layer.type_name,
        "input_size": list(work.input_size),
        "output_size": list(work.output_size),
        "dimensions": [dimension_json(d) for d in work.dimensions],
    }


def dimension_json(dim: DimensionWork) -> dict[str, object]:
    """One dimension's details; keys that do not apply to the layer are null."""
    g = dim.geometry
    return {
        "dimension": dim.dimension, "input": g.size, "kernel_size": g.kernel,
        "stride": g.stride, "padding": g.padding_word or g.pad_left,
        "padding_left": g.pad_left, "padding_right": g.pad_right, "dilation": g.dilation,
        "output_padding": g.output_padding, "ceil_mode": g.ceil_mode,
        "formula": dim.formula, "general_formula": dim.general, "numerator": dim.numerator,
        "quotient": None if dim.quotient is None else str(dim.quotient),
        "rounding": dim.rounding, "remainder": dim.remainder,
        "dropped_last_window": dim.dropped_last_window, "output": dim.output,
        "first_window": None if dim.first_window is None else list(dim.first_window),
        "last_window": None if dim.last_window is None else list(dim.last_window),
        "uncovered": None if dim.uncovered is None else [list(r) for r in dim.uncovered],
        "uncovered_count": dim.uncovered_count, "notes": list(dim.notes),
    }  # fmt: skip


# --------------------------------------------------------------------------- solve


def render_solve(result: SolveResult, fmt: str, limit: int) -> Iterator[str]:
    """``limit`` combinations a list (0: all)."""
    if fmt == "json":
        return as_json(solve_json(result, limit))
    if fmt == "csv":
        header = ["dimension", "input", "output", *solution_columns(result)]
        rows = (
            [dim.dimension, dim.size, dim.target, *c.as_dict().values()]
            for dim in result.dimensions
            for c in cut(dim.solutions, limit)
        )
        return as_csv(header, rows)
    return iter([solve_text(result, limit) + "\n"])


def cut(solutions: tuple[Combination, ...], limit: int) -> tuple[Combination, ...]:
    return solutions if limit == 0 else solutions[:limit]


def solution_columns(result: SolveResult) -> list[str]:
    columns = ["kernel_size", "stride", "padding", "dilation"]
    return columns + ["output_padding"] if result.transposed else columns


def solve_text(result: SolveResult, limit: int) -> str:
    lines = [headline(result)]
    if result.uniform:
        dim = result.dimensions[0]
        if len(result.dimensions) > 1:
            lines.append(
                f"every dimension is {dim.size} → {dim.target}, so one list serves them all"
            )
        lines.extend(solutions_block(result, dim, limit))
    else:
        lines.append(
            "each dimension is solved on its own; give the values per dimension (e.g. 3x5)"
        )
        for dim in result.dimensions:
            lines += ["", f"dimension {dim.dimension}: {dim.size} → {dim.target}"]
            lines.extend(solutions_block(result, dim, limit))
        lines.append("")
        if result.common:
            lines.append(f"{len(result.common)} of them serve every dimension with single values")
        else:
            lines.append("no single combination serves every dimension")
    return "\n".join(lines)


def headline(result: SolveResult) -> str:
    sizes = "×".join(map(str, result.sizes))
    targets = "×".join(map(str, result.targets))
    what = "transposed convolutions" if result.transposed else "convolutions"
    bounds = bounds_text(result.bounds)
    if result.same:
        return (
            f"{what} keeping the size, {sizes} → {targets} (out = ceil(in / stride)), {bounds}; "
            "simplest first"
        )
    return f"{what} taking {sizes} → {targets}, {bounds}; simplest first"


def solutions_block(result: SolveResult, dim: DimensionSolutions, limit: int) -> list[str]:
    """One dimension's table with each row's worked size, or the sentence saying there is none."""
    lines: list[str] = []
    if not dim.solutions:
        lines.append(no_solution_sentence(result, dim))
    else:
        from tabulate import tabulate

        shown = cut(dim.solutions, limit)
        rows = [[*c.as_dict().values(), check_text(result, c, dim.size)] for c in shown]
        headers = [*solution_columns(result), "check"]
        lines.append(tabulate(rows, headers=headers, tablefmt="simple"))
        count = len(dim.solutions)
        if len(shown) < count:
            lines.append(f"{len(shown)} of {count} combinations shown; --limit 0 shows all")
        else:
            lines.append(f"{count} combination{'s' if count != 1 else ''}")
    for same in dim.same_paddings:
        lines.append(
            f"padding='same' with kernel {same.kernel_size}, stride {same.stride}, dilation "
            f"{same.dilation}: left {same.left}, right {same.right}"
        )
    return lines


def check_text(result: SolveResult, combination: Combination, size: int) -> str:
    """The combination's size worked out as ``conv`` works it out."""
    return work_out(combination.spec(result.op), (size,)).dimensions[0].formula


def bounds_text(bounds: Bounds) -> str:
    """``kernel ≤ 7, stride ≤ 4, dilation 1, padding ≤ d·(k − 1)``."""

    def one(name: str, fixed: int | None, most: int) -> str:
        if fixed is not None:
            return f"{name} {fixed}"
        return f"{name} 1" if most == 1 else f"{name} ≤ {most}"

    padding = "d·(k − 1)" if bounds.max_padding is None else str(bounds.max_padding)
    return ", ".join((
        one("kernel", bounds.kernel, bounds.max_kernel),
        one("stride", bounds.stride, bounds.max_stride),
        one("dilation", bounds.dilation, bounds.max_dilation),
        f"padding ≤ {padding}",
    ))  # fmt: skip


def no_solution_sentence(result: SolveResult, dim: DimensionSolutions) -> str:
    text = f"no combination with {bounds_text(result.bounds)} gives {dim.size} → {dim.target}"
    if not result.transposed and dim.target > dim.size:
        return text + "; a larger output needs more padding (--max-padding) or --transposed"
    return text + "; raise the bounds (--max-kernel, --max-stride, --max-padding, --max-dilation)"


def solve_json(result: SolveResult, limit: int) -> dict[str, object]:
    """``solutions`` holds the combinations that serve every dimension (simplest first, at
    most ``limit``; 0: all); ``dimensions`` holds each dimension's own list."""
    from .solve import ORDER

    mode = "same" if result.same else "transposed" if result.transposed else "conv"
    return {
        "mode": mode,
        "input": list(result.sizes),
        "output": list(result.targets),
        "bounds": result.bounds.as_dict(),
        "order": ORDER,
        "count": len(result.common),
        "solutions": [c.as_dict() for c in cut(result.common, limit)],
        "dimensions": [
            {
                "dimension": dim.dimension,
                "input": dim.size,
                "output": dim.target,
                "count": len(dim.solutions),
                "solutions": [c.as_dict() for c in cut(dim.solutions, limit)],
                **(
                    {"same_padding": [s.as_dict() for s in dim.same_paddings]}
                    if result.same
                    else {}
                ),
            }  # fmt: skip
            for dim in result.dimensions
        ],
    }


# --------------------------------------------------------------------------- explain


def render_explain(result: Explanation, fmt: str) -> Iterator[str]:
    if fmt == "json":
        return as_json(explain_json(result))
    if fmt == "csv":
        rows = ([shape_text(t.index), t.expression, json_number(t.value)] for t in result.terms)
        return as_csv(["index", "expression", "value"], rows)
    return iter([explain_text(result) + "\n"])


def explain_text(result: Explanation) -> str:
    """The layer, its inputs, every worked output, the output."""
    from .explain import approximate

    lines = [f"{result.name}: {describe_geometry(result)}"]
    lines.append(f"input {shape_text(result.input_shape)}:")
    lines.append(format_nested([fraction(v) for v in result.input_values], result.input_shape))
    if result.weight_shape is not None and result.weight_values is not None:
        lines.append(f"weight {shape_text(result.weight_shape)}:")
        lines.append(
            format_nested([fraction(v) for v in result.weight_values], result.weight_shape)
        )
    for term in result.terms:
        lines.append(f"out[{', '.join(map(str, term.index))}] = {term.expression}")
    lines.append(f"output {shape_text(result.output_shape)}:")
    lines.append(format_nested([approximate(v) for v in result.output_values], result.output_shape))
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)


def describe_geometry(result: Explanation) -> str:
    """``kernel 3, stride 1, padding 0, dilation 1, no bias``, per dimension where they differ."""

    def one(values: tuple[object, ...]) -> str:
        return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"

    dims = [d.geometry for d in result.work.dimensions]
    pads = tuple(
        g.pad_left if g.pad_left == g.pad_right else f"{g.pad_left}+{g.pad_right}" for g in dims
    )
    parts = [
        f"kernel {'×'.join(str(g.kernel) for g in dims)}",
        f"stride {one(tuple(g.stride for g in dims))}",
        f"padding {one(pads)}",
    ]
    if "dilation" in result.layer.fields:
        parts.append(f"dilation {one(tuple(g.dilation for g in dims))}")
    if result.weight_shape is not None:
        parts.append(
            "no bias" if result.bias is None else f"bias {', '.join(map(fraction, result.bias))}"
        )
    return ", ".join(parts)


def nest(values: list[object], shape: tuple[int, ...]) -> object:
    """A flat row-major list as nested lists of ``shape``."""
    if len(shape) <= 1:
        return list(values)
    step = len(values) // shape[0]
    return [nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def format_nested(values: list[str], shape: tuple[int, ...], depth: int = 0) -> str:
    """Nested lists with the innermost rows on their own lines and the numbers right-aligned,
    as NumPy prints arrays."""
    if depth == 0:
        width = max(map(len, values), default=0)
        values = [v.rjust(width) for v in values]
    if len(shape) <= 1:
        return "[" + ", ".join(values) + "]"
    step = len(values) // shape[0]
    rows = [
        format_nested(values[i * step : (i + 1) * step], shape[1:], depth + 1)
        for i in range(shape[0])
    ]
    separator = "," + "\n" * (len(shape) - 1) + " " * (depth + 1)
    return "[" + separator.join(rows) + "]"


def json_number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def explain_json(result: Explanation) -> dict[str, object]:
    """``output`` nested as ``output_shape``; ``terms`` one per output element, row-major,
    each ``{"index", "expression", "value"}``; numbers exact where they are integers."""
    dims = [d.geometry for d in result.work.dimensions]
    weight = None
    if result.weight_shape is not None and result.weight_values is not None:
        weight = nest([json_number(v) for v in result.weight_values], result.weight_shape)
    return {
        "op": result.name,
        "input_shape": list(result.input_shape),
        "input": nest([json_number(v) for v in result.input_values], result.input_shape),
        "weight_shape": None if result.weight_shape is None else list(result.weight_shape),
        "weight": weight,
        "bias": None if result.bias is None else [json_number(b) for b in result.bias],
        "kernel_size": [g.kernel for g in dims],
        "stride": [g.stride for g in dims],
        "padding": [[g.pad_left, g.pad_right] for g in dims],
        "dilation": [g.dilation for g in dims],
        "output_shape": list(result.output_shape),
        "output": nest([json_number(v) for v in result.output_values], result.output_shape),
        "terms": [
            {"index": list(t.index), "expression": t.expression, "value": json_number(t.value)}
            for t in result.terms
        ],
        "notes": list(result.notes),
    }
