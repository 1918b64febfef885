"""The worked numbers of a small 1-D or 2-D convolution or pooling, every output written out.

Convolution (PyTorch's cross-correlation, groups 1):
    ``out[n, o, i] = bias[o] + Σ_c Σ_j x[n, c, i·s − p_left + j·d] · w[o, c, j]``
Max pooling: the largest value of the window, padding never chosen (PyTorch pads with −∞).
Average pooling: the window's sum over ``prod(kernel)``, padding counted as zeros (PyTorch's
``count_include_pad=True``).

Numbers are exact: every literal is read as a ``Fraction`` (``0.1`` is one tenth), so sums print
as ``0.8``, never ``0.8000000000000002``.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Literal

from ..errors import ShapeError, SpecError
from .formula import (
    LayerWork,
    Padding,
    broadcast,
    describe_ranges,
    show_decimal,
    show_fraction,
    work_out_layer,
)

Op = Literal["conv", "maxpool", "avgpool"]
Shape = tuple[int, ...]

MAX_TERMS = 10_000
"""Most products (or window elements, for pooling) one explanation writes out."""
MAX_VALUES = 10_000
"""Most numbers in --values, --weight or --bias."""
RANDOM_VALUES = (0, 9)
RANDOM_WEIGHTS = (-2, 2)

_NUMBER = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,2})?")
_RANGE = re.compile(r"\s*([+-]?\d{1,18})\s*\.\.\s*([+-]?\d{1,18})\s*")


@dataclass(frozen=True)
class Numbers:
    """Numbers read from the command line, row-major, with the shape their nesting gave."""

    values: tuple[Fraction, ...]
    shape: Shape


@dataclass(frozen=True)
class Term:
    """One output element: its index (as the output is shown), the worked sum, its value."""

    index: Shape
    expression: str
    value: Fraction


@dataclass(frozen=True)
class Explanation:
    """Everything ``explain`` prints. Shapes are as shown: dimensions the view left out
    (batch, or channels when there is one) are left out of the output too."""

    op: Op
    name: str  # conv1d, maxpool2d, ...
    input_shape: Shape
    input_values: tuple[Fraction, ...]
    weight_shape: Shape | None
    weight_values: tuple[Fraction, ...] | None
    bias: tuple[Fraction, ...] | None
    kernel: Shape
    stride: Shape
    padding: tuple[tuple[int, int], ...]
    dilation: Shape
    output_shape: Shape
    output_values: tuple[Fraction, ...]
    terms: tuple[Term, ...]
    notes: tuple[str, ...]


# --------------------------------------------------------------------------- parsing


def parse_numbers(text: str, what: str) -> Numbers:
    """``0..15`` (inclusive range of integers), ``0.1,0.2,0.3`` or a JSON nested list."""
    text = text.strip()
    if match := _RANGE.fullmatch(text):
        first, last = int(match[1]), int(match[2])
        if last < first:
            raise SpecError(f"{what} range {text} is empty: {last} < {first}")
        if last - first + 1 > MAX_VALUES:
            raise SpecError(
                f"{what} range {text} holds {last - first + 1:,} numbers, more than {MAX_VALUES:,}"
            )
        values = tuple(Fraction(v) for v in range(first, last + 1))
        return Numbers(values, (len(values),))
    if text.startswith("["):
        return parse_json_numbers(text, what)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_VALUES:
        raise SpecError(f"{what} holds {len(parts):,} numbers, more than {MAX_VALUES:,}")
    values = tuple(parse_literal(p, what) for p in parts)
    return Numbers(values, (len(values),))


def parse_literal(text: str, what: str) -> Fraction:
    """One decimal literal, exactly (``0.1`` is 1/10)."""
    if not _NUMBER.fullmatch(text):
        raise SpecError(
            f"{what}: {text!r} is not a number; give a range like 0..15, numbers separated by "
            "commas, or a JSON nested list"
        )
    return Fraction(text)


def parse_json_numbers(text: str, what: str) -> Numbers:
    """A JSON nested list of numbers, rectangular."""

    def reject(name: str) -> None:
        raise SpecError(f"{what}: {name} is not a number cnncalc takes")

    try:
        data = json.loads(
            text,
            parse_float=lambda s: parse_literal(s, what),
            parse_int=lambda s: parse_literal(s, what),
            parse_constant=reject,
        )
    except json.JSONDecodeError as error:
        raise SpecError(
            f"{what} is not a valid JSON list: {error.msg} at character {error.pos + 1}"
        ) from None
    shape = nested_shape(data, what)
    values = tuple(flatten(data))
    if len(values) > MAX_VALUES:
        raise SpecError(f"{what} holds {len(values):,} numbers, more than {MAX_VALUES:,}")
    return Numbers(values, shape)


def nested_shape(data: object, what: str) -> Shape:
    """The shape of a rectangular nested list of numbers."""
    if isinstance(data, Fraction):
        return ()
    if not isinstance(data, list) or not data:
        raise SpecError(f"{what} must be a non-empty nested list of numbers")
    shapes = {nested_shape(item, what) for item in data}
    if len(shapes) != 1:
        raise SpecError(f"{what} is not rectangular: its rows differ in shape")
    return (len(data), *shapes.pop())


def flatten(data: object) -> list[Fraction]:
    if isinstance(data, Fraction):
        return [data]
    assert isinstance(data, list)
    return [v for item in data for v in flatten(item)]


# --------------------------------------------------------------------------- layout


def spatial_rank(
    dims: int | None, kernel: Shape | None, weight: Numbers | None, view_rank: int
) -> int:
    """How many spatial dimensions: ``dims`` when given; else a kernel of 2 values means 2;
    else a weight nested 4 deep means 2 and a flat weight without ``kernel`` means 1; else the
    view: rank 1 ``(L)`` and 3 ``(N, C, L)`` mean 1, rank 2 ``(H, W)`` and 4 ``(N, C, H, W)``
    mean 2."""
    if dims is not None:
        return dims
    if kernel is not None and len(kernel) > 1:
        return len(kernel)
    if weight is not None and len(weight.shape) == 4:
        return 2
    if weight is not None and len(weight.shape) == 1 and kernel is None:
        return 1
    return 2 if view_rank in (2, 4) else 1


def full_input_shape(view: Shape, nd: int) -> tuple[Shape, bool, bool]:
    """``(N, C, *spatial)`` and whether the view gave the batch and the channel dimension.

    1-D: ``(L)``, ``(C, L)``, ``(N, C, L)``; 2-D: ``(H, W)``, ``(C, H, W)``, ``(N, C, H, W)``.
    """
    extra = len(view) - nd
    if extra == 0:
        return (1, 1, *view), False, False
    if extra == 1:
        return (1, *view), False, True
    if extra == 2:
        return view, True, True
    forms = "(L), (C, L) or (N, C, L)" if nd == 1 else "(H, W), (C, H, W) or (N, C, H, W)"
    raise SpecError(f"a {nd}-D view is {forms}, got {show_shape(view)}; use --dims to choose")


def weight_shape(weight: Numbers, kernel: Shape | None, nd: int, in_channels: int) -> Shape:
    """The full ``(C_out, C_in, *kernel)`` shape of a given weight.

    Nested: 1-D ``(k)``, ``(C_in, k)``, ``(C_out, C_in, k)``; 2-D ``(kh, kw)``,
    ``(C_in, kh, kw)``, ``(C_out, C_in, kh, kw)``. Flat with ``--kernel``: ``C_out`` is what
    the count leaves over ``C_in·prod(kernel)``.
    """
    shape = weight.shape
    if len(shape) == 1 and kernel is not None:
        sizes = tuple(int(k) for k in broadcast(kernel, nd, "kernel"))
        per_filter = in_channels * prod(sizes)
        if len(weight.values) % per_filter:
            raise SpecError(
                f"weight has {len(weight.values)} numbers, not a multiple of in_channels × kernel "
                f"= {in_channels} × {'×'.join(map(str, sizes))} = {per_filter}"
            )
        return (len(weight.values) // per_filter, in_channels, *sizes)
    missing = nd + 2 - len(shape)
    if missing < 0 or (len(shape) == 1 and nd > 1):
        forms = (
            "(k), (C_in, k) or (C_out, C_in, k)"
            if nd == 1
            else "(kh, kw), (C_in, kh, kw) or (C_out, C_in, kh, kw)"
        )
        raise SpecError(
            f"a {nd}-D weight is nested as {forms}, got shape {show_shape(shape)}; a flat list "
            "needs --kernel"
        )
    full = (1,) * missing + shape
    if full[1] != in_channels:
        hint = (
            "; a flat list with --kernel K is read as (C_out, C_in, K)" if len(shape) == 1 else ""
        )
        raise SpecError(
            f"weight {show_shape(shape)} has {full[1]} input channel{'s' if full[1] != 1 else ''} "
            f"but the input has {in_channels}{hint}"
        )
    if kernel is not None and tuple(broadcast(kernel, nd, "kernel")) != full[2:]:
        raise SpecError(
            f"--kernel {'x'.join(map(str, kernel))} disagrees with the weight's kernel {show_shape(full[2:])}"
        )
    return full


# --------------------------------------------------------------------------- work


@dataclass(frozen=True)
class Layer:
    """A layer resolved for working out. Shapes are full (``(N, C, *spatial)`` and
    ``(C_out, C_in, *kernel)``), values row-major; ``has_batch``/``keep_channels`` say which
    leading dimensions the shown output keeps."""

    op: Op
    shape: Shape
    values: tuple[Fraction, ...]
    weight_shape: Shape | None
    weight: tuple[Fraction, ...] | None
    bias: tuple[Fraction, ...] | None
    out_channels: int
    work: LayerWork
    has_batch: bool
    keep_channels: bool

    def output_indices(self) -> Iterator[Shape]:
        """Every ``(n, c_out, *position)`` of the output, row-major."""
        sizes = (self.shape[0], self.out_channels, *self.work.output_size)
        return itertools.product(*(range(n) for n in sizes))

    def shown(self, index: Shape) -> Shape:
        """An index or shape of the full output as the output is shown."""
        n, channel, *position = index
        batch = (n,) if self.has_batch else ()
        return (*batch, *((channel,) if self.keep_channels else ()), *position)


def explain(
    op: Op,
    values: Numbers | None,
    view: Shape | None = None,
    weight: Numbers | None = None,
    kernel: Shape | None = None,
    stride: Shape | None = None,
    padding: tuple[Padding, ...] = (0,),
    dilation: Shape = (1,),
    bias: Numbers | None = None,
    dims: int | None = None,
    seed: int = 0,
) -> Explanation:
    """Work out every output element. ``values=None`` draws random integers in
    ``RANDOM_VALUES`` for the shape ``view``; a convolution without ``weight`` draws one
    output channel of random integers in ``RANDOM_WEIGHTS`` for ``kernel``."""
    rng = random.Random(seed)
    notes: list[str] = []
    if values is None:
        values = random_values(view, rng, seed, notes)
    view = checked_view(view or values.shape, values)
    nd = spatial_rank(dims, kernel, weight, len(view))
    shape, has_batch, has_channels = full_input_shape(view, nd)
    if op == "conv":
        full, weight_values = conv_weight(weight, kernel, nd, shape[1], rng, seed, notes)
        kernel_sizes, out_channels = full[2:], full[0]
    else:
        check_pooling_options(op, weight, bias, kernel, padding, dilation)
        full, weight_values, out_channels = None, None, shape[1]
        kernel_sizes = tuple(int(k) for k in broadcast(kernel or (), nd, "kernel"))
    kind = "conv" if op == "conv" else "pool"
    work = work_out_layer(kind, shape[2:], kernel_sizes, stride, padding, dilation)
    layer = Layer(
        op=op,
        shape=shape,
        values=values.values,
        weight_shape=full,
        weight=weight_values,
        bias=None if bias is None else conv_bias(bias, out_channels),
        out_channels=out_channels,
        work=work,
        has_batch=has_batch,
        keep_channels=has_channels or (op == "conv" and out_channels > 1),
    )
    check_term_count(layer)
    terms = tuple(work_out_element(layer, index) for index in layer.output_indices())
    return Explanation(
        op=op,
        name=f"{op}{nd}d",
        input_shape=view,
        input_values=values.values,
        weight_shape=full,
        weight_values=weight_values,
        bias=layer.bias,
        kernel=kernel_sizes,
        stride=tuple(d.stride for d in work.dimensions),
        padding=tuple((d.pad_left, d.pad_right) for d in work.dimensions),
        dilation=tuple(d.dilation for d in work.dimensions),
        output_shape=layer.shown((shape[0], out_channels, *work.output_size)),
        output_values=tuple(t.value for t in terms),
        terms=terms,
        notes=(*notes, *coverage_notes(work)),
    )


def random_values(view: Shape | None, rng: random.Random, seed: int, notes: list[str]) -> Numbers:
    """Random integers in ``RANDOM_VALUES`` for the shape ``view``."""
    if view is None:
        raise SpecError("give --values, or --view for random values")
    if min(view) < 1 or prod(view) > MAX_VALUES:
        raise SpecError(f"--view {show_shape(view)} must hold 1 to {MAX_VALUES:,} numbers")
    notes.append(f"input: random integers {RANDOM_VALUES[0]}..{RANDOM_VALUES[1]} (seed {seed})")
    return Numbers(tuple(Fraction(rng.randint(*RANDOM_VALUES)) for _ in range(prod(view))), view)


def checked_view(view: Shape, values: Numbers) -> Shape:
    """``view`` when it holds exactly the values given."""
    if min(view) < 1 or prod(view) != len(values.values):
        raise SpecError(
            f"--view {show_shape(view)} holds {prod(view)} numbers but the values are "
            f"{len(values.values)}"
        )
    return view


def check_pooling_options(
    op: Op,
    weight: Numbers | None,
    bias: Numbers | None,
    kernel: Shape | None,
    padding: tuple[Padding, ...],
    dilation: Shape,
) -> None:
    """What PyTorch's MaxPool/AvgPool take: a kernel, integer padding, dilation for max only."""
    if weight is not None or bias is not None:
        raise SpecError(f"{op} has no weight or bias")
    if kernel is None:
        raise SpecError(f"{op} needs --kernel")
    if any(isinstance(p, str) for p in padding):
        raise SpecError(f"{op} takes integer padding (PyTorch's pooling takes no padding words)")
    if op == "avgpool" and any(d != 1 for d in dilation):
        raise SpecError("avgpool has no dilation (PyTorch's AvgPool takes none)")


def check_term_count(layer: Layer) -> None:
    """Refuse more than ``MAX_TERMS`` products (window elements for pooling)."""
    kernel = prod(d.kernel for d in layer.work.dimensions)
    per_output = (layer.shape[1] if layer.op == "conv" else 1) * kernel
    outputs = layer.shape[0] * layer.out_channels * prod(layer.work.output_size)
    if outputs * per_output > MAX_TERMS:
        raise ShapeError(
            f"explain writes out at most {MAX_TERMS:,} products; this {layer.op} needs "
            f"{outputs * per_output:,} ({outputs:,} outputs × {per_output:,} each); use a "
            "smaller input or kernel"
        )


def conv_weight(
    weight: Numbers | None,
    kernel: Shape | None,
    nd: int,
    in_channels: int,
    rng: random.Random,
    seed: int,
    notes: list[str],
) -> tuple[Shape, tuple[Fraction, ...]]:
    """(full weight shape, its values), one output channel of random integers when no
    weight is given."""
    if weight is not None:
        return weight_shape(weight, kernel, nd, in_channels), weight.values
    if kernel is None:
        raise SpecError("conv needs --weight, or --kernel for a random weight")
    sizes = tuple(int(k) for k in broadcast(kernel, nd, "kernel"))
    if min(sizes) < 1 or in_channels * prod(sizes) > MAX_VALUES:
        raise SpecError(
            f"kernel {'×'.join(map(str, sizes))} must be at least 1 and hold at most "
            f"{MAX_VALUES:,} numbers"
        )
    full = (1, in_channels, *sizes)
    notes.append(f"weight: random integers {RANDOM_WEIGHTS[0]}..{RANDOM_WEIGHTS[1]} (seed {seed})")
    return full, tuple(Fraction(rng.randint(*RANDOM_WEIGHTS)) for _ in range(prod(full)))


def conv_bias(bias: Numbers, out_channels: int) -> tuple[Fraction, ...]:
    """One bias per output channel; a single number serves them all."""
    if len(bias.values) == 1:
        return bias.values * out_channels
    if len(bias.values) != out_channels:
        channels = (
            "is 1 output channel" if out_channels == 1 else f"are {out_channels} output channels"
        )
        raise SpecError(f"bias has {len(bias.values)} numbers but there {channels}")
    return bias.values


def work_out_element(layer: Layer, index: Shape) -> Term:
    """One output element ``index = (n, c_out, *position)`` with its worked expression.

    Tap ``t`` of the window at output position ``o`` reads input ``o·s − p_left + t·d`` in
    each dimension; outside the input it reads padding (``None``).
    """
    n, channel, *position = index
    dims = layer.work.dimensions
    taps = list(itertools.product(*(range(d.kernel) for d in dims)))
    channels = range(layer.shape[1]) if layer.op == "conv" else (channel,)
    pairs: list[tuple[Fraction | None, Fraction]] = []
    for c in channels:
        for tap in taps:
            at = [
                o * d.stride - d.pad_left + t * d.dilation
                for o, t, d in zip(position, tap, dims, strict=True)
            ]
            inside = all(0 <= a < d.size for a, d in zip(at, dims, strict=True))
            x = layer.values[flat_index(layer.shape, (n, c, *at))] if inside else None
            w = Fraction(0)
            if layer.weight is not None and layer.weight_shape is not None:
                w = layer.weight[flat_index(layer.weight_shape, (channel, c, *tap))]
            pairs.append((x, w))
    if layer.op == "conv":
        bias = None if layer.bias is None else layer.bias[channel]
        expression, value = conv_expression(pairs, bias)
    elif layer.op == "maxpool":
        expression, value = max_expression([x for x, _ in pairs])
    else:
        expression, value = average_expression([x for x, _ in pairs])
    return Term(layer.shown(index), expression, value)


def flat_index(shape: Shape, index: Shape) -> int:
    """Row-major position of ``index`` in a tensor of ``shape``."""
    position = 0
    for size, i in zip(shape, index, strict=True):
        position = position * size + i
    return position


def conv_expression(
    pairs: list[tuple[Fraction | None, Fraction]], bias: Fraction | None
) -> tuple[str, Fraction]:
    """``0·0.1 + 1·0.2 + 2·0.3 = 0.8``; padding reads as 0."""
    products = [f"{operand(x or Fraction(0))}·{operand(w)}" for x, w in pairs]
    value = sum(((x or 0) * w for x, w in pairs), Fraction(0))
    if bias is not None:
        products.append(operand(bias))
        value += bias
    return f"{' + '.join(products)} = {show_value(value)}", value


def max_expression(window: list[Fraction | None]) -> tuple[str, Fraction]:
    """``max(0, 1, 5, 6) = 6``; padding (−∞ in PyTorch) is left out."""
    real = [x for x in window if x is not None]
    if not real:
        raise ShapeError("a max-pooling window covers only padding")
    value = max(real)
    return f"max({', '.join(show_value(x) for x in real)}) = {show_value(value)}", value


def average_expression(window: list[Fraction | None]) -> tuple[str, Fraction]:
    """``(0 + 1 + 5 + 6) / 4 = 3``; padding counts as 0 (count_include_pad)."""
    filled = [x or Fraction(0) for x in window]
    value = sum(filled, Fraction(0)) / len(filled)
    return (
        f"({' + '.join(operand(x) for x in filled)}) / {len(filled)} = {show_value(value)}",
        value,
    )


def operand(value: Fraction) -> str:
    """A number inside a sum or product: negatives in parentheses."""
    text = show_fraction(value)
    return f"({text})" if value < 0 else text


def show_value(value: Fraction) -> str:
    """An exact result: ``0.8``, or ``4/3 ≈ 1.333333`` when no decimal ends."""
    text = show_fraction(value)
    if "/" in text:
        return f"{text} ≈ {approximate(value)}"
    return text


def approximate(value: Fraction) -> str:
    """Six decimals, trailing zeros dropped; exact when the decimal ends."""
    if "/" not in show_fraction(value):
        return show_fraction(value)
    rounded = Fraction(round(value * 10**6), 10**6)
    return show_decimal(rounded)


def coverage_notes(work: LayerWork) -> list[str]:
    """The input positions no window reads, per dimension."""
    return [
        describe_ranges(d.result.uncovered, d.result.uncovered_count, d.noun)
        for d in work.dimensions
        if d.result.uncovered and d.result.uncovered_count
    ]


def show_shape(shape: Shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# --------------------------------------------------------------------------- rendering


def nest(values: list[object], shape: Shape) -> object:
    """A flat row-major list as nested lists of ``shape``."""
    if len(shape) <= 1:
        return list(values)
    step = len(values) // shape[0]
    return [nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def format_nested(values: list[str], shape: Shape, depth: int = 0) -> str:
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


def describe_geometry(result: Explanation) -> str:
    """``stride 1, padding 0, dilation 1``, per dimension where they differ."""

    def one(values: tuple[object, ...]) -> str:
        return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"

    pads = tuple(left if left == right else f"{left}+{right}" for left, right in result.padding)
    parts = [
        f"kernel {'×'.join(map(str, result.kernel))}",
        f"stride {one(result.stride)}",
        f"padding {one(pads)}",
    ]
    if result.op != "avgpool":
        parts.append(f"dilation {one(result.dilation)}")
    if result.op == "conv":
        parts.append(
            "no bias"
            if result.bias is None
            else f"bias {', '.join(map(show_fraction, result.bias))}"
        )
    return ", ".join(parts)


def render_text(result: Explanation) -> str:
    """What ``explain`` prints: the layer, its inputs, every worked output, the output."""
    lines = [f"{result.name}: {describe_geometry(result)}"]
    lines.append(f"input {show_shape(result.input_shape)}:")
    lines.append(format_nested([show_fraction(v) for v in result.input_values], result.input_shape))
    if result.weight_shape is not None and result.weight_values is not None:
        lines.append(f"weight {show_shape(result.weight_shape)}:")
        lines.append(
            format_nested([show_fraction(v) for v in result.weight_values], result.weight_shape)
        )
    for term in result.terms:
        lines.append(f"out[{', '.join(map(str, term.index))}] = {term.expression}")
    lines.append(f"output {show_shape(result.output_shape)}:")
    lines.append(format_nested([approximate(v) for v in result.output_values], result.output_shape))
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)


def to_json(result: Explanation) -> dict[str, object]:
    """``output`` nested as ``output_shape``; ``terms`` one per output element, row-major,
    each ``{"index", "expression", "value"}``; numbers exact where they are integers."""
    return {
        "op": result.name,
        "input_shape": list(result.input_shape),
        "input": nest([json_number(v) for v in result.input_values], result.input_shape),
        "weight_shape": None if result.weight_shape is None else list(result.weight_shape),
        "weight": (
            None
            if result.weight_shape is None or result.weight_values is None
            else nest([json_number(v) for v in result.weight_values], result.weight_shape)
        ),
        "bias": None if result.bias is None else [json_number(b) for b in result.bias],
        "kernel_size": list(result.kernel),
        "stride": list(result.stride),
        "padding": [list(p) for p in result.padding],
        "dilation": list(result.dilation),
        "output_shape": list(result.output_shape),
        "output": nest([json_number(v) for v in result.output_values], result.output_shape),
        "terms": [
            {"index": list(t.index), "expression": t.expression, "value": json_number(t.value)}
            for t in result.terms
        ],
        "notes": list(result.notes),
    }
