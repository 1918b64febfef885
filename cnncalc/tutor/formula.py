"""One layer's output size worked out per spatial dimension, for a student (``cnncalc conv``).

The layer is the real layer type (``window.WindowSpec.build``): it decides the output size,
refuses what PyTorch refuses and resolves the padding words. This module writes down how
the answer comes about, per dimension: the formula in letters and with the numbers put in,
the exact quotient and its rounding, the windows, and the input positions no window reads.

* convolution and pooling: ``out = floor((L + p_left + p_right − d·(k − 1) − 1) / s) + 1``,
  ``ceil`` under ``ceil_mode``, where a last window starting in the right padding is dropped;
* transposed convolution: ``out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .. import arithmetic
from ..layers import LayerType
from .window import WindowSpec, input_shape

COVERAGE_LIMIT = 10_000_000
"""Most kernel taps (windows × kernel) walked to find the input positions never read."""
MAX_LISTED_RANGES = 100
"""Most uncovered ranges kept in a result; ``uncovered_count`` always counts them all."""

NOUNS = {1: ("index",), 2: ("row", "column"), 3: ("plane", "row", "column")}
PLURALS = {"index": "indices", "row": "rows", "column": "columns", "plane": "planes"}


@dataclass(frozen=True)
class Geometry:
    """One spatial dimension of the built layer, paddings as it applies them.
    ``output_padding`` is ``None`` for layers that have none (all but transposed ones)."""

    size: int
    kernel: int
    stride: int
    pad_left: int
    pad_right: int
    dilation: int
    output_padding: int | None
    ceil_mode: bool
    padding_word: str | None


@dataclass(frozen=True)
class DimensionWork:
    """One dimension worked out. ``output`` is the layer's; the rest explains it.

    Windows are ``(first, last)`` input indices, inclusive; indices below 0 or from the input
    size on lie in the padding. ``uncovered`` lists inclusive ranges of input indices no
    window reads (``None`` for transposed convolutions, and when the input is too large to
    walk: ``COVERAGE_LIMIT``). The division keys are ``None`` for transposed convolutions.
    """

    dimension: int
    noun: str
    geometry: Geometry
    output: int
    general: str  # the formula in letters
    formula: str  # the formula with the numbers put in, and its result
    numerator: int | None
    quotient: Fraction | None
    rounding: str  # "exact", "floor", "ceil", or "none" for transposed convolutions
    remainder: int | None
    dropped_last_window: bool
    first_window: tuple[int, int] | None
    last_window: tuple[int, int] | None
    uncovered: tuple[tuple[int, int], ...] | None
    uncovered_count: int | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class LayerWork:
    """Every spatial dimension of one layer, and the layer itself."""

    layer: LayerType
    dimensions: tuple[DimensionWork, ...]

    @property
    def input_size(self) -> tuple[int, ...]:
        return tuple(d.geometry.size for d in self.dimensions)

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(d.output for d in self.dimensions)


# --------------------------------------------------------------------------- the work


def work_out(spec: WindowSpec, sizes: tuple[int, ...]) -> LayerWork:
    """Build the layer for an input of spatial ``sizes`` and work out every dimension.
    Raises the layer's own ``SpecError``/``ShapeError`` for what it refuses."""
    layer = spec.build(len(sizes))
    return work_out_layer(layer, input_shape(sizes))


def work_out_layer(layer: LayerType, shape: tuple[int, ...]) -> LayerWork:
    """The worked dimensions of an already built ``layer`` on an input of ``shape``
    (``(N, C, *spatial)``)."""
    out = layer.output_shape(shape)[2:]
    ndim = len(out)
    work = tuple(
        work_out_dimension(i + 1, NOUNS[ndim][i], geometry, output)
        for i, (geometry, output) in enumerate(zip(geometries(layer, shape), out, strict=True))
    )
    return LayerWork(layer, work)


def geometries(layer: LayerType, shape: tuple[int, ...]) -> list[Geometry]:
    """Per dimension, the geometry the layer applies: its sliding window where it has one,
    otherwise (a transposed convolution) its arguments."""
    a = layer.args
    word = a.padding if isinstance(a.padding, str) else None
    ceil_mode = bool(getattr(a, "ceil_mode", False))
    window = layer.window(shape)
    if window is not None:
        columns = zip(
            shape[2:], window.kernel, window.stride, window.pad_left, window.pad_right,
            window.dilation, strict=True,
        )  # fmt: skip
        return [Geometry(*column, None, ceil_mode, word) for column in columns]
    columns = zip(
        shape[2:], a.kernel_size, a.stride, a.padding, a.dilation, a.output_padding, strict=True
    )
    return [Geometry(n, k, s, p, p, d, op, False, None) for n, k, s, p, d, op in columns]


def work_out_dimension(dimension: int, noun: str, g: Geometry, output: int) -> DimensionWork:
    if g.output_padding is not None:
        return transposed_dimension(dimension, noun, g, output)
    return window_dimension(dimension, noun, g, output)


def window_dimension(dimension: int, noun: str, g: Geometry, output: int) -> DimensionWork:
    """A convolution or pooling along one dimension: the division and its rounding, the
    windows and the uncovered input."""
    numerator = arithmetic.window_numerator(g.size, g.kernel, g.pad_left, g.pad_right, g.dilation)
    quotient = Fraction(numerator, g.stride)
    rounding = "ceil" if g.ceil_mode else "floor"
    rounded = -(-numerator // g.stride) if g.ceil_mode else numerator // g.stride
    general, numbers = window_formula_text(g)
    formula = f"{numbers} = {rounding}({show_fraction(quotient)}) + 1 = {rounded + 1}"
    dropped = output != rounded + 1
    if dropped:
        formula += f", less the last window = {output}"
    remainder = numerator % g.stride
    notes = [rounding_note(numerator, g.stride, quotient, remainder, g.ceil_mode)]
    if g.ceil_mode and remainder:
        notes.append(ceil_window_note(g, rounded + 1, dropped))
    span = arithmetic.effective_kernel(g.kernel, g.dilation)
    first = (-g.pad_left, -g.pad_left + span - 1)
    start = (output - 1) * g.stride - g.pad_left
    last = (start, start + span - 1)
    notes.append(window_note(output, first, last, g))
    uncovered, count = uncovered_ranges(g, output)
    return DimensionWork(
        dimension, noun, g, output, general, formula, numerator, quotient,
        "exact" if remainder == 0 else rounding, remainder, dropped, first, last, uncovered,
        count, (*padding_notes(g, output), *notes),
    )  # fmt: skip


def transposed_dimension(dimension: int, noun: str, g: Geometry, output: int) -> DimensionWork:
    """A transposed convolution along one dimension: exact, no rounding."""
    op = g.output_padding or 0
    general = "(L − 1)·s − 2·p + d·(k − 1) + output_padding + 1"
    formula = (
        f"({g.size} − 1)·{g.stride} − 2·{g.pad_left} + {g.dilation}·({g.kernel} − 1) + {op} + 1 "
        f"= {output}"
    )
    notes = ["no rounding: a transposed convolution's size is exact"]
    if g.stride > 1:
        low = output - op
        notes.append(
            f"a convolution with the same kernel, stride, padding and dilation maps every size "
            f"{low}..{low + g.stride - 1} to {g.size}; output_padding "
            f"(0..{max(g.stride, g.dilation) - 1} allowed here) picks one"
        )
    return DimensionWork(
        dimension, noun, g, output, general, formula, None, None, "none", None, False, None,
        None, None, None, tuple(notes),
    )  # fmt: skip


# --------------------------------------------------------------------------- the words


def window_formula_text(g: Geometry) -> tuple[str, str]:
    """(the formula in letters, the formula with the numbers put in)."""
    rounding = "ceil" if g.ceil_mode else "floor"
    if g.pad_left == g.pad_right:
        pads_letters, pads = "2·p", f"2·{g.pad_left}"
    else:
        pads_letters, pads = "p_left + p_right", f"{g.pad_left} + {g.pad_right}"
    general = f"{rounding}((L + {pads_letters} − d·(k − 1) − 1) / s) + 1"
    numbers = (
        f"{rounding}(({g.size} + {pads} − {g.dilation}·({g.kernel} − 1) − 1) / {g.stride}) + 1"
    )
    return general, numbers


def padding_notes(g: Geometry, output: int) -> list[str]:
    """How the layer resolved a padding word, with the numbers."""
    d, k, total = g.dilation, g.kernel, g.pad_left + g.pad_right
    if g.padding_word == "valid":
        return ["padding 'valid': no padding"]
    if g.padding_word == "full":
        return [f"padding 'full': d·(k − 1) = {d}·({k} − 1) = {g.pad_left} on each side"]
    if g.padding_word != "same":
        return []
    split = f"left {g.pad_left}, right {g.pad_right}"
    if g.stride == 1:
        return [
            f"padding 'same': total d·(k − 1) = {d}·({k} − 1) = {total}, {split} (the odd pad "
            "at the end, as PyTorch)"
        ]
    return [
        f"padding 'same' with stride {g.stride} follows TensorFlow (PyTorch refuses it): "
        f"out = ceil(L / s) = ceil({g.size} / {g.stride}) = {output}, total pad "
        f"max((out − 1)·s + d·(k − 1) + 1 − L, 0) = "
        f"max(({output} − 1)·{g.stride} + {d}·({k} − 1) + 1 − {g.size}, 0) = {total}, {split}"
    ]


def rounding_note(
    numerator: int, stride: int, quotient: Fraction, remainder: int, ceil_mode: bool
) -> str:
    """Where the rounding happened, in words."""
    division = f"{numerator}/{stride}"
    if show_fraction(quotient) != division:
        division += f" = {show_fraction(quotient)}"
    if remainder == 0:
        return f"{division} is whole: no rounding"
    if ceil_mode:
        return (
            f"{division} is not whole: ceil rounds it up, one more window, running "
            f"{stride - remainder} past the end of the padded input"
        )
    unused = "the last position" if remainder == 1 else f"the last {remainder} positions"
    verb = "fits" if remainder == 1 else "fit"
    return (
        f"{division} is not whole: floor drops the remainder {remainder}: {unused} of the "
        f"padded input {verb} no window"
    )


def ceil_window_note(g: Geometry, raw_output: int, dropped: bool) -> str:
    """PyTorch's ceil_mode rule: the last window must start inside the input or left padding."""
    start = (raw_output - 1) * g.stride - g.pad_left
    where = f"({raw_output} − 1)·{g.stride} − {g.pad_left} = {start}"
    if dropped:
        return (
            f"ceil_mode: the last window would start at input index {where}, in the right "
            f"padding (the input ends at {g.size - 1}); PyTorch drops it: out = {raw_output} − 1 "
            f"= {raw_output - 1}"
        )
    return (
        f"ceil_mode: the last window starts at input index {where} ≤ {g.size - 1}, inside the "
        f"input, so PyTorch keeps it"
    )


def window_note(output: int, first: tuple[int, int], last: tuple[int, int], g: Geometry) -> str:
    """How many windows and where the first and last lie."""
    text = f"windows: {output}; the first covers input {first[0]}..{first[1]}"
    if output > 1:
        text += f", the last {last[0]}..{last[1]}"
    if g.dilation > 1:
        text += f" (kernel taps {g.dilation} apart)"
    if first[0] < 0 or last[1] >= g.size:
        text += f"; indices below 0 or above {g.size - 1} are padding"
    return text


def uncovered_ranges(
    g: Geometry, output: int
) -> tuple[tuple[tuple[int, int], ...] | None, int | None]:
    """The input indices no kernel tap reads, as inclusive ranges, and how many there are.

    Tap ``j`` of window ``i`` reads index ``i·s − p_left + j·d``. Returns ``(None, None)``
    when that is more than ``COVERAGE_LIMIT`` taps or the input is longer than it.
    """
    size, kernel, stride, pad, dilation = g.size, g.kernel, g.stride, g.pad_left, g.dilation
    if dilation == 1 and stride <= kernel:  # the windows overlap or touch: one covered run
        low = max(0, -pad)
        high = min(size - 1, (output - 1) * stride - pad + kernel - 1)
        ranges = [r for r in ((0, low - 1), (max(high + 1, 0), size - 1)) if r[0] <= r[1]]
        return tuple(ranges), sum(b - a + 1 for a, b in ranges)
    if size > COVERAGE_LIMIT or kernel * output > COVERAGE_LIMIT:
        return None, None
    covered = bytearray(size)
    for tap in range(kernel):
        first = tap * dilation - pad
        # the first window whose tap lands at index ≥ 0
        skip = max(0, -(first // stride)) if first < 0 else 0
        start = first + skip * stride
        stop = min(size, first + output * stride)
        if skip < output and start < stop:
            covered[start:stop:stride] = b"\x01" * len(range(start, stop, stride))
    ranges = [(m.start(), m.end() - 1) for m in re.finditer(b"\x00+", bytes(covered))]
    count = sum(b - a + 1 for a, b in ranges)
    return tuple(ranges[:MAX_LISTED_RANGES]), count


def describe_ranges(ranges: tuple[tuple[int, int], ...], total: int, noun: str) -> str:
    """``input index 5 is never covered``, ``input rows 0..1 and 7 are never covered``."""
    if total == 0:
        return f"every input {noun} is covered by some window"
    parts = [str(a) if a == b else f"{a}..{b}" for a, b in ranges[:5]]
    if len(ranges) > 5 or total > sum(b - a + 1 for a, b in ranges):
        listed = ", ".join(parts) + f", ... ({total:,} in all)"
    elif len(parts) == 1:
        listed = parts[0]
    else:
        listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    if total == 1:
        return f"input {noun} {listed} is never covered"
    return f"input {PLURALS[noun]} {listed} are never covered"


def show_fraction(value: Fraction) -> str:
    """A terminating fraction as a decimal (``1.5``, ``-0.25``, ``2``), any other as ``7/3``."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return show_decimal(value)


def show_decimal(value: Fraction) -> str:
    """A fraction whose denominator is ``2^a·5^b`` written exactly in decimal."""
    places = 0
    scaled = value
    while scaled.denominator != 1:
        scaled *= 10
        places += 1
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    sign = "-" if scaled < 0 else ""
    if places == 0:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
