"""The worked numbers of a small 1-D or 2-D convolution or pooling, every output written out.

The layer is the real layer type (``window.WindowSpec.build``): it validates the arguments,
gives the output shape, refuses what PyTorch refuses and resolves the padding. This module
writes out every output element from the layer's windows:

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from math import prod

from ..errors import ShapeError, SpecError
from ..layers import LayerType
from ..layers.conv import ConvNd
from ..layers.pool import MaxPoolNd
from ..text import shape_text
from .formula import LayerWork, describe_ranges, show_decimal, show_fraction, work_out_layer
from .window import WindowSpec

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
class Given:
    """What the command line gave: the input numbers (``None``: random, shaped by ``view``),
    the view, the weight and bias (``None``: random weight, no bias), the number of spatial
    dimensions where the shapes leave it open, and the seed of the random numbers."""

    values: Numbers | None = None
    view: Shape | None = None
    weight: Numbers | None = None
    bias: Numbers | None = None
    dims: int | None = None
    seed: int = 0


class RandomNumbers:
    """Seeded random integers, and the notes saying which numbers were drawn."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.notes: list[str] = []

    def draw(self, count: int, bounds: tuple[int, int], what: str) -> tuple[Fraction, ...]:
        self.notes.append(f"{what}: random integers {bounds[0]}..{bounds[1]} (seed {self.seed})")
        return tuple(Fraction(self.rng.randint(*bounds)) for _ in range(count))


@dataclass(frozen=True)
class Term:
    """One output element: its index (as the output is shown), the worked sum, its value."""

    index: Shape
    expression: str
    value: Fraction


@dataclass(frozen=True)
class Explanation:
    """Everything ``explain`` found. Shapes are as shown: dimensions the view left out
    (batch, or channels when there is one) are left out of the output too."""

    layer: LayerType
    input_shape: Shape
    input_values: tuple[Fraction, ...]
    weight_shape: Shape | None
    weight_values: tuple[Fraction, ...] | None
    bias: tuple[Fraction, ...] | None
    work: LayerWork
    output_shape: Shape
    output_values: tuple[Fraction, ...]
    terms: tuple[Term, ...]
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.layer.type_name


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
    raise SpecError(f"a {nd}-D view is {forms}, got {shape_text(view)}; use --dims to choose")


def weight_shape(weight: Numbers, kernel: Shape | None, nd: int, in_channels: int) -> Shape:
    """The full ``(C_out, C_in, *kernel)`` shape of a given weight; ``kernel``, where given,
    is the layer's (one size per spatial dimension, each at least 1).

    Nested: 1-D ``(k)``, ``(C_in, k)``, ``(C_out, C_in, k)``; 2-D ``(kh, kw)``,
    ``(C_in, kh, kw)``, ``(C_out, C_in, kh, kw)``. Flat with ``--kernel``: ``C_out`` is what
    the count leaves over ``C_in·prod(kernel)``. The layer checks ``C_in`` against the input.
    """
    shape = weight.shape
    if len(shape) == 1 and kernel is not None:
        sizes = kernel
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
            f"a {nd}-D weight is nested as {forms}, got shape {shape_text(shape)}; a flat list "
            "needs --kernel"
        )
    full = (1,) * missing + shape
    if kernel is not None and kernel != full[2:]:
        raise SpecError(
            f"--kernel {'x'.join(map(str, kernel))} disagrees with the weight's kernel "
            f"{shape_text(full[2:])}"
        )
    return full


# --------------------------------------------------------------------------- work


@dataclass(frozen=True)
class Operands:
    """The layer and its operands resolved for working out. Shapes are full
    (``(N, C, *spatial)`` and ``(C_out, C_in, *kernel)``), values row-major;
    ``has_batch``/``keep_channels`` say which leading dimensions the shown output keeps."""

    layer: LayerType
    shape: Shape
    values: tuple[Fraction, ...]
    weight_shape: Shape | None
    weight: tuple[Fraction, ...] | None
    bias: tuple[Fraction, ...] | None
    work: LayerWork
    has_batch: bool
    keep_channels: bool

    @property
    def out_channels(self) -> int:
        return self.weight_shape[0] if self.weight_shape else self.shape[1]

    def output_indices(self) -> Iterator[Shape]:
        """Every ``(n, c_out, *position)`` of the output, row-major."""
        sizes = (self.shape[0], self.out_channels, *self.work.output_size)
        return itertools.product(*(range(n) for n in sizes))

    def shown(self, index: Shape) -> Shape:
        """An index or shape of the full output as the output is shown."""
        n, channel, *position = index
        batch = (n,) if self.has_batch else ()
        return (*batch, *((channel,) if self.keep_channels else ()), *position)


def explain(spec: WindowSpec, given: Given) -> Explanation:
    """Work out every output element of the layer ``spec`` describes. Without values,
    random integers in ``RANDOM_VALUES`` are drawn for the view; a convolution without a
    weight draws one output channel of random integers in ``RANDOM_WEIGHTS``."""
    numbers = RandomNumbers(given.seed)
    values = given.values or random_values(given.view, numbers)
    view = checked_view(given.view or values.shape, values)
    nd = spatial_rank(given.dims, spec.kernel, given.weight, len(view))
    shape, has_batch, has_channels = full_input_shape(view, nd)
    bias = given.bias
    if "out_channels" in spec.layer_type(nd).fields:  # a layer with weights
        layer, full, weight_values = conv_layer(spec, given, nd, shape[1], numbers)
    else:
        if given.weight is not None or bias is not None:
            raise SpecError(f"{spec.op} has no weight or bias")
        layer, full, weight_values = spec.build(nd), None, None
    work = work_out_layer(layer, shape)
    operands = Operands(
        layer=layer,
        shape=shape,
        values=values.values,
        weight_shape=full,
        weight=weight_values,
        bias=None if bias is None or full is None else conv_bias(bias, full[0]),
        work=work,
        has_batch=has_batch,
        keep_channels=has_channels or (full is not None and full[0] > 1),
    )
    check_term_count(operands)
    terms = tuple(work_out_element(operands, index) for index in operands.output_indices())
    return Explanation(
        layer=layer,
        input_shape=view,
        input_values=values.values,
        weight_shape=full,
        weight_values=weight_values,
        bias=operands.bias,
        work=work,
        output_shape=operands.shown((shape[0], operands.out_channels, *work.output_size)),
        output_values=tuple(t.value for t in terms),
        terms=terms,
        notes=(*numbers.notes, *coverage_notes(work)),
    )


def random_values(view: Shape | None, numbers: RandomNumbers) -> Numbers:
    """Random integers in ``RANDOM_VALUES`` for the shape ``view``."""
    if view is None:
        raise SpecError("give --values, or --view for random values")
    if min(view) < 1 or prod(view) > MAX_VALUES:
        raise SpecError(f"--view {shape_text(view)} must hold 1 to {MAX_VALUES:,} numbers")
    return Numbers(numbers.draw(prod(view), RANDOM_VALUES, "input"), view)


def checked_view(view: Shape, values: Numbers) -> Shape:
    """``view`` when it holds exactly the values given."""
    if min(view) < 1 or prod(view) != len(values.values):
        raise SpecError(
            f"--view {shape_text(view)} holds {prod(view)} numbers but the values are "
            f"{len(values.values)}"
        )
    return view


def check_term_count(operands: Operands) -> None:
    """Refuse more than ``MAX_TERMS`` products (window elements for pooling)."""
    kernel = prod(d.geometry.kernel for d in operands.work.dimensions)
    per_output = (operands.shape[1] if operands.weight is not None else 1) * kernel
    outputs = operands.shape[0] * operands.out_channels * prod(operands.work.output_size)
    if outputs * per_output > MAX_TERMS:
        raise ShapeError(
            f"explain writes out at most {MAX_TERMS:,} products; this {operands.layer.type_name} "
            f"needs {outputs * per_output:,} ({outputs:,} outputs × {per_output:,} each); use a "
            "smaller input or kernel"
        )


def conv_layer(
    spec: WindowSpec, given: Given, nd: int, in_channels: int, numbers: RandomNumbers
) -> tuple[LayerType, Shape, tuple[Fraction, ...]]:
    """The convolution with its full weight shape and values: the given weight, or one
    output channel of random integers for the kernel ``spec`` names."""
    weight, with_bias = given.weight, given.bias is not None
    kernel = None
    if spec.kernel is not None:  # the layer judges the geometry before the weight is read
        kernel = spec.build(nd, in_channels=in_channels).args.kernel_size
    if weight is not None:
        full = weight_shape(weight, kernel, nd, in_channels)
        layer = replace(spec, kernel=full[2:]).build(
            nd, in_channels=full[1], out_channels=full[0], bias=with_bias
        )
        return layer, full, weight.values
    if spec.kernel is None:
        raise SpecError(f"{spec.op} needs --weight, or --kernel for a random weight")
    layer = spec.build(nd, in_channels=in_channels, bias=with_bias)
    full = (1, in_channels, *layer.args.kernel_size)
    if prod(full) > MAX_VALUES:
        raise SpecError(
            f"kernel {'×'.join(map(str, full[2:]))} must hold at most {MAX_VALUES:,} numbers"
        )
    return layer, full, numbers.draw(prod(full), RANDOM_WEIGHTS, "weight")


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


def work_out_element(operands: Operands, index: Shape) -> Term:
    """One output element ``index = (n, c_out, *position)`` with its worked expression.

    Tap ``t`` of the window at output position ``o`` reads input ``o·s − p_left + t·d`` in
    each dimension; outside the input it reads padding (``None``).
    """
    n, channel, *position = index
    dims = [d.geometry for d in operands.work.dimensions]
    taps = list(itertools.product(*(range(d.kernel) for d in dims)))
    channels = range(operands.shape[1]) if operands.weight is not None else (channel,)
    pairs: list[tuple[Fraction | None, Fraction]] = []
    for c in channels:
        for tap in taps:
            at = [
                o * d.stride - d.pad_left + t * d.dilation
                for o, t, d in zip(position, tap, dims, strict=True)
            ]
            inside = all(0 <= a < d.size for a, d in zip(at, dims, strict=True))
            x = operands.values[flat_index(operands.shape, (n, c, *at))] if inside else None
            w = Fraction(0)
            if operands.weight is not None and operands.weight_shape is not None:
                w = operands.weight[flat_index(operands.weight_shape, (channel, c, *tap))]
            pairs.append((x, w))
    if isinstance(operands.layer, ConvNd):
        bias = None if operands.bias is None else operands.bias[channel]
        expression, value = conv_expression(pairs, bias)
    else:
        expression, value = pool_expression(operands.layer)([x for x, _ in pairs])
    return Term(operands.shown(index), expression, value)


def pool_expression(layer: LayerType) -> Callable[[list[Fraction | None]], tuple[str, Fraction]]:
    """How a pooling layer combines its window: the maximum, or the average."""
    return max_expression if isinstance(layer, MaxPoolNd) else average_expression


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
        describe_ranges(d.uncovered, d.uncovered_count, d.noun)
        for d in work.dimensions
        if d.uncovered and d.uncovered_count
    ]
