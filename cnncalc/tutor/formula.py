"""One layer's output-size arithmetic worked out per spatial dimension, for a student.

For every spatial dimension the result holds the general formula, the same formula with the
numbers put in, the exact quotient and how it was rounded, the windows, and which input
positions no window ever reads. The rules are PyTorch 2.13's (``cnncalc.arithmetic``):

* convolution:  ``out = floor((L + p_left + p_right − d·(k − 1) − 1) / s) + 1``, refused when
  the dilated kernel ``d·(k − 1) + 1`` is larger than the padded input;
* pooling: the same with ``ceil`` under ``ceil_mode`` (a last window that would start in the
  right padding is dropped), stride defaulting to the kernel, ``padding ≤ kernel // 2``, and
  refused when ``out < 1``;
* transposed convolution: ``out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1`` with
  ``output_padding < max(s, d)``, refused when ``out < 1``.

Padding is an integer or ``same`` / ``valid`` / ``full``. ``same`` with stride > 1 (which
PyTorch refuses) follows TensorFlow: ``out = ceil(L / s)``, the odd pad at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .. import arithmetic
from ..errors import ShapeError, SpecError
from ..limits import MAX_DIMENSION

Kind = Literal["conv", "pool", "transposed"]
Padding = int | str
"""An integer padding a side, or one of ``PADDING_WORDS``."""

PADDING_WORDS = ("same", "valid", "full")
MAX_SPATIAL_DIMS = 3
COVERAGE_LIMIT = 10_000_000
"""Most kernel taps (windows × kernel) walked to find the input positions never read."""
MAX_LISTED_RANGES = 100
"""Most uncovered ranges kept in a result; ``uncovered_count`` always counts them all."""

NOUNS = {1: ("index",), 2: ("row", "column"), 3: ("plane", "row", "column")}
PLURALS = {"index": "indices", "row": "rows", "column": "columns", "plane": "planes"}
OPERATION_NAMES = {"conv": "convolution", "pool": "pooling", "transposed": "transposed convolution"}


@dataclass(frozen=True)
class SizeResult:
    """The output size along one dimension and how it came about.

    Windows are ``(first, last)`` input indices, inclusive; indices below 0 or from the input
    size on lie in the padding. ``uncovered`` lists inclusive ranges of input indices no
    window reads (``None`` for transposed convolutions, and when the input was too large to
    walk: see ``COVERAGE_LIMIT``). Keys that do not apply to transposed convolutions
    (numerator, quotient, remainder, windows) are ``None``.
    """

    general: str  # the formula in letters
    formula: str  # the formula with the numbers put in, and its result
    numerator: int | None
    quotient: Fraction | None
    rounding: str  # "exact", "floor", "ceil", or "none" for transposed convolutions
    remainder: int | None
    raw_output: int
    dropped_last_window: bool
    output: int
    first_window: tuple[int, int] | None
    last_window: tuple[int, int] | None
    uncovered: tuple[tuple[int, int], ...] | None
    uncovered_count: int | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DimensionWork:
    """One spatial dimension: the parameters as applied, the worked size, and the notes
    (how a padding word was resolved, the rounding, the windows) in the order printed."""

    dimension: int
    noun: str
    kind: Kind
    size: int
    kernel: int
    stride: int
    dilation: int
    pad_left: int
    pad_right: int
    padding_word: str | None
    output_padding: int
    ceil_mode: bool
    result: SizeResult
    notes: tuple[str, ...]

    @property
    def output(self) -> int:
        return self.result.output


@dataclass(frozen=True)
class LayerWork:
    """Every spatial dimension of one layer."""

    kind: Kind
    dimensions: tuple[DimensionWork, ...]

    @property
    def input_size(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(d.output for d in self.dimensions)


# --------------------------------------------------------------------------- parsing

_SEPARATORS = re.compile(r"\s*[x×X,]\s*")
_INTEGER = re.compile(r"[+-]?\d{1,18}")


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``224x224``, ``3,224,224`` or ``7`` as a tuple of integers."""
    parts = _SEPARATORS.split(text.strip())
    if not text.strip() or any(not _INTEGER.fullmatch(p) for p in parts):
        raise SpecError(f"{what} must be integers separated by 'x' or ',', got {text!r}")
    return tuple(int(p) for p in parts)


def parse_padding(text: str) -> tuple[Padding, ...]:
    """An integer list as ``parse_ints`` reads it, or one of ``same``, ``valid``, ``full``."""
    word = text.strip().lower()
    if word in PADDING_WORDS:
        return (word,)
    try:
        return parse_ints(text, "padding")
    except SpecError:
        raise SpecError(
            f"padding must be integers separated by 'x' or ',', or one of "
            f"{', '.join(PADDING_WORDS)}; got {text!r}"
        ) from None


def broadcast(values: tuple[Padding, ...], ndim: int, what: str) -> tuple[Padding, ...]:
    """One value repeated over ``ndim`` dimensions, or exactly ``ndim`` values."""
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        if ndim == 1:
            raise SpecError(
                f"{what} has {len(values)} values but the input has 1 dimension; give 1"
            )
        raise SpecError(
            f"{what} has {len(values)} values but the input has {ndim} dimensions; give 1 or {ndim}"
        )
    return values


# --------------------------------------------------------------------------- formatting


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


# --------------------------------------------------------------------------- work


def work_out_layer(
    kind: Kind,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...] | None,
    padding: tuple[Padding, ...],
    dilation: tuple[int, ...],
    output_padding: tuple[int, ...] = (0,),
    ceil_mode: bool = False,
) -> LayerWork:
    """Work out every spatial dimension of one layer.

    ``kernel``, ``stride``, ``padding``, ``dilation`` and ``output_padding`` hold one value
    (broadcast) or one per dimension of ``sizes``. ``stride=None`` means 1, or the kernel
    size for pooling. Raises ``SpecError`` for malformed arguments and ``ShapeError`` for
    what PyTorch refuses.
    """
    ndim = len(sizes)
    if not 1 <= ndim <= MAX_SPATIAL_DIMS:
        raise SpecError(f"input must have 1 to {MAX_SPATIAL_DIMS} spatial dimensions, got {ndim}")
    if kind != "transposed" and any(op != 0 for op in output_padding):
        raise SpecError("output_padding applies to transposed convolutions only")
    if kind != "pool" and ceil_mode:
        raise SpecError("ceil_mode belongs to pooling (PyTorch's convolutions have none)")
    kernels = broadcast(kernel, ndim, "kernel")
    strides = (
        kernels if stride is None and kind == "pool" else broadcast(stride or (1,), ndim, "stride")
    )
    paddings = broadcast(padding, ndim, "padding")
    dilations = broadcast(dilation, ndim, "dilation")
    output_paddings = broadcast(output_padding, ndim, "output_padding")
    columns = zip(sizes, kernels, strides, paddings, dilations, output_paddings, strict=True)
    dimensions = tuple(
        work_out_dimension(kind, i + 1, ndim, size, int(k), int(s), p, int(d), int(op), ceil_mode)
        for i, (size, k, s, p, d, op) in enumerate(columns)
    )
    return LayerWork(kind, dimensions)


def work_out_dimension(
    kind: Kind,
    dimension: int,
    ndim: int,
    size: int,
    kernel: int,
    stride: int,
    padding: Padding,
    dilation: int,
    output_padding: int,
    ceil_mode: bool,
) -> DimensionWork:
    """Work out one spatial dimension (``dimension`` counts from 1)."""
    where = f"dimension {dimension}: " if ndim > 1 else ""
    try:
        check_positive(size, kernel, stride, dilation, padding, output_padding)
        pad_left, pad_right, padding_note = resolve_padding(
            kind, padding, size, kernel, stride, dilation, ceil_mode
        )
        if kind == "transposed":
            work = transposed_dimension(size, kernel, stride, pad_left, dilation, output_padding)
        else:
            work = window_dimension(
                kind, size, kernel, stride, pad_left, pad_right, dilation, ceil_mode
            )
    except (ShapeError, SpecError) as error:
        raise type(error)(where + error.message) from None
    return DimensionWork(
        dimension=dimension,
        noun=NOUNS[ndim][dimension - 1],
        kind=kind,
        size=size,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        pad_left=pad_left,
        pad_right=pad_right,
        padding_word=padding if isinstance(padding, str) else None,
        output_padding=output_padding,
        ceil_mode=ceil_mode,
        result=work,
        notes=(padding_note, *work.notes) if padding_note else work.notes,
    )


def check_positive(
    size: int, kernel: int, stride: int, dilation: int, padding: Padding, output_padding: int
) -> None:
    """PyTorch's argument checks: sizes, kernel, stride, dilation ≥ 1; paddings ≥ 0."""
    for name, value, least in (
        ("input size", size, 1),
        ("kernel size", kernel, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
        ("output_padding", output_padding, 0),
    ):
        if isinstance(value, int) and value < least:
            raise ShapeError(f"{name} must be at least {least}, got {value}")
        if isinstance(value, int) and value > MAX_DIMENSION:
            raise ShapeError(
                f"{name} {value:,} is above the largest size cnncalc takes, {MAX_DIMENSION:,}"
            )


def resolve_padding(
    kind: Kind,
    padding: Padding,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    ceil_mode: bool,
) -> tuple[int, int, str | None]:
    """(left, right, a sentence on how a padding word was resolved, or None)."""
    if isinstance(padding, int):
        if kind == "pool" and padding > kernel // 2:
            raise ShapeError(
                f"pooling padding must be at most kernel_size // 2 = {kernel} // 2 = "
                f"{kernel // 2}, got {padding}"
            )
        return padding, padding, None
    if kind == "transposed":
        raise SpecError(
            f"a transposed convolution takes integer padding only (PyTorch refuses {padding!r})"
        )
    if padding == "valid":
        return 0, 0, "padding 'valid': no padding"
    if padding == "full":
        pad = arithmetic.full_padding(kernel, dilation)
        return (
            *resolve_padding(kind, pad, size, kernel, stride, dilation, ceil_mode)[:2],
            f"padding 'full': d·(k − 1) = {dilation}·({kernel} − 1) = {pad} on each side",
        )
    if kind == "pool" and ceil_mode:
        raise SpecError("ceil_mode cannot be combined with padding 'same'")
    left, right = arithmetic.same_padding(size, kernel, stride, dilation)
    return left, right, same_padding_note(size, kernel, stride, dilation, left, right)


def same_padding_note(
    size: int, kernel: int, stride: int, dilation: int, left: int, right: int
) -> str:
    """How ``padding='same'`` was split, PyTorch's rule for stride 1, TensorFlow's beyond."""
    split = f"left {left}, right {right}"
    if stride == 1:
        return (
            f"padding 'same': total d·(k − 1) = {dilation}·({kernel} − 1) = {left + right}, "
            f"{split} (the odd pad at the end, as PyTorch)"
        )
    out = -(-size // stride)
    return (
        f"padding 'same' with stride {stride} follows TensorFlow (PyTorch refuses it): "
        f"out = ceil(L / s) = ceil({size} / {stride}) = {out}, total pad "
        f"max((out − 1)·s + d·(k − 1) + 1 − L, 0) = "
        f"max(({out} − 1)·{stride} + {dilation}·({kernel} − 1) + 1 − {size}, 0) = {left + right}, "
        f"{split}"
    )


def window_dimension(
    kind: Kind,
    size: int,
    kernel: int,
    stride: int,
    pad_left: int,
    pad_right: int,
    dilation: int,
    ceil_mode: bool,
) -> SizeResult:
    """Convolution or pooling along one dimension.

    ``out = round((L + p_left + p_right − d·(k − 1) − 1) / s) + 1`` with ``round`` = floor,
    or ceil under ``ceil_mode`` where a last window starting at or past ``L + p`` is dropped.
    """
    span = arithmetic.effective_kernel(kernel, dilation)
    padded = size + pad_left + pad_right
    general, numbers = window_formula_text(
        size, kernel, stride, pad_left, pad_right, dilation, ceil_mode
    )
    numerator = padded - span
    quotient = Fraction(numerator, stride)
    if kind == "conv" and padded < span:
        pads = f"2·{pad_left}" if pad_left == pad_right else f"{pad_left} + {pad_right}"
        raise ShapeError(
            f"the dilated kernel d·(k − 1) + 1 = {dilation}·({kernel} − 1) + 1 = {span} is larger "
            f"than the padded input {size} + {pads} = {padded}"
        )
    rounded = -(-numerator // stride) if ceil_mode else numerator // stride
    rounding_name = "ceil" if ceil_mode else "floor"
    raw_output = rounded + 1
    formula = f"{numbers} = {rounding_name}({show_fraction(quotient)}) + 1 = {raw_output}"
    output = raw_output
    if kind == "pool":
        output = arithmetic.pool_output_size(size, kernel, stride, pad_left, dilation, ceil_mode)
        if pad_left != pad_right:  # 'same' padding: plain floor with the asymmetric pads
            output = arithmetic.conv_output_size(
                size, kernel, stride, pad_left, pad_right, dilation
            )
    dropped = output != raw_output
    if dropped:
        formula += f", less the last window = {output}"
    if output < 1:
        raise ShapeError(f"output size {formula} is below 1: the window does not fit the input")
    remainder = numerator % stride
    notes = [rounding_note(numerator, stride, quotient, remainder, ceil_mode)]
    if ceil_mode and remainder:
        notes.append(ceil_window_note(size, stride, pad_left, raw_output, dropped))
    first = (-pad_left, -pad_left + span - 1)
    start = (output - 1) * stride - pad_left
    last = (start, start + span - 1)
    notes.append(window_note(output, first, last, size, dilation))
    uncovered, count = uncovered_ranges(size, kernel, stride, pad_left, dilation, output)
    return SizeResult(
        general=general,
        formula=formula,
        numerator=numerator,
        quotient=quotient,
        rounding="exact" if remainder == 0 else rounding_name,
        remainder=remainder,
        raw_output=raw_output,
        dropped_last_window=dropped,
        output=output,
        first_window=first,
        last_window=last,
        uncovered=uncovered,
        uncovered_count=count,
        notes=tuple(notes),
    )


def window_formula_text(
    size: int,
    kernel: int,
    stride: int,
    pad_left: int,
    pad_right: int,
    dilation: int,
    ceil_mode: bool,
) -> tuple[str, str]:
    """(the formula in letters, the formula with the numbers put in)."""
    rounding = "ceil" if ceil_mode else "floor"
    if pad_left == pad_right:
        pads_letters, pads = "2·p", f"2·{pad_left}"
    else:
        pads_letters, pads = "p_left + p_right", f"{pad_left} + {pad_right}"
    general = f"{rounding}((L + {pads_letters} − d·(k − 1) − 1) / s) + 1"
    numbers = f"{rounding}(({size} + {pads} − {dilation}·({kernel} − 1) − 1) / {stride}) + 1"
    return general, numbers


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


def ceil_window_note(size: int, stride: int, pad: int, raw_output: int, dropped: bool) -> str:
    """PyTorch's ceil_mode rule: the last window must start inside the input or left padding."""
    start = (raw_output - 1) * stride - pad
    where = f"({raw_output} − 1)·{stride} − {pad} = {start}"
    if dropped:
        return (
            f"ceil_mode: the last window would start at input index {where}, in the right "
            f"padding (the input ends at {size - 1}); PyTorch drops it: out = {raw_output} − 1 "
            f"= {raw_output - 1}"
        )
    return (
        f"ceil_mode: the last window starts at input index {where} ≤ {size - 1}, inside the "
        f"input, so PyTorch keeps it"
    )


def window_note(
    output: int, first: tuple[int, int], last: tuple[int, int], size: int, dilation: int
) -> str:
    """How many windows and where the first and last lie."""
    text = f"windows: {output}; the first covers input {first[0]}..{first[1]}"
    if output > 1:
        text += f", the last {last[0]}..{last[1]}"
    if dilation > 1:
        text += f" (kernel taps {dilation} apart)"
    if first[0] < 0 or last[1] >= size:
        text += f"; indices below 0 or above {size - 1} are padding"
    return text


def uncovered_ranges(
    size: int, kernel: int, stride: int, pad_left: int, dilation: int, output: int
) -> tuple[tuple[tuple[int, int], ...] | None, int | None]:
    """The input indices no kernel tap reads, as inclusive ranges, and how many there are.

    Tap ``j`` of window ``i`` reads index ``i·s − p_left + j·d``. Returns ``(None, None)``
    when that is more than ``COVERAGE_LIMIT`` taps or the input is longer than it.
    """
    if dilation == 1 and stride <= kernel:  # the windows overlap or touch: one covered run
        low = max(0, -pad_left)
        high = min(size - 1, (output - 1) * stride - pad_left + kernel - 1)
        ranges = [r for r in ((0, low - 1), (max(high + 1, 0), size - 1)) if r[0] <= r[1]]
        return tuple(ranges), sum(b - a + 1 for a, b in ranges)
    if size > COVERAGE_LIMIT or kernel * output > COVERAGE_LIMIT:
        return None, None
    covered = bytearray(size)
    for tap in range(kernel):
        first = tap * dilation - pad_left
        # the first window whose tap lands at index ≥ 0
        skip = max(0, -(first // stride)) if first < 0 else 0
        start = first + skip * stride
        stop = min(size, first + output * stride)
        if skip < output and start < stop:
            covered[start:stop:stride] = b"\x01" * len(range(start, stop, stride))
    ranges = [(m.start(), m.end() - 1) for m in re.finditer(b"\x00+", bytes(covered))]
    count = sum(b - a + 1 for a, b in ranges)
    return tuple(ranges[:MAX_LISTED_RANGES]), count


def transposed_dimension(
    size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int
) -> SizeResult:
    """``out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1``, exact: no rounding.

    PyTorch requires ``output_padding < stride`` or ``output_padding < dilation``.
    """
    if output_padding >= stride and output_padding >= dilation:
        raise ShapeError(
            f"output_padding must be smaller than stride or dilation, got output_padding "
            f"{output_padding} with stride {stride} and dilation {dilation}"
        )
    output = arithmetic.transposed_output_size(
        size, kernel, stride, padding, output_padding, dilation
    )
    general = "(L − 1)·s − 2·p + d·(k − 1) + output_padding + 1"
    formula = (
        f"({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel} − 1) + {output_padding} + 1 "
        f"= {output}"
    )
    if output < 1:
        raise ShapeError(f"output size {formula} is below 1")
    notes = ["no rounding: a transposed convolution's size is exact"]
    if stride > 1:
        low = output - output_padding
        notes.append(
            f"a convolution with the same kernel, stride, padding and dilation maps every size "
            f"{low}..{low + stride - 1} to {size}; output_padding (0..{max(stride, dilation) - 1} "
            f"allowed here) picks one"
        )
    return SizeResult(
        general=general,
        formula=formula,
        numerator=None,
        quotient=None,
        rounding="none",
        remainder=None,
        raw_output=output,
        dropped_last_window=False,
        output=output,
        first_window=None,
        last_window=None,
        uncovered=None,
        uncovered_count=None,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- rendering


def render_text(work: LayerWork) -> str:
    """The worked formulas as the ``conv`` command prints them."""
    ndim = len(work.dimensions)
    lines = [f"{OPERATION_NAMES[work.kind]}, {ndim} spatial dimension{'s' if ndim > 1 else ''}"]
    for dim in work.dimensions:
        lines.extend(dimension_lines(dim, ndim))
    lines.append("output size: " + "×".join(str(n) for n in work.output_size))
    return "\n".join(lines)


def dimension_lines(dim: DimensionWork, ndim: int) -> list[str]:
    """The lines of one dimension: parameters, formula, notes, what is left uncovered."""
    label = f"dimension {dim.dimension} ({PLURALS[dim.noun]})" if ndim > 1 else "length"
    pads = str(dim.pad_left) if dim.pad_left == dim.pad_right else f"{dim.pad_left}+{dim.pad_right}"
    if dim.padding_word:
        pads = f"'{dim.padding_word}' = {pads}"
    parameters = [
        f"input {dim.size}",
        f"kernel {dim.kernel}",
        f"stride {dim.stride}",
        f"padding {pads}",
        f"dilation {dim.dilation}",
    ]
    if dim.kind == "transposed":
        parameters.append(f"output_padding {dim.output_padding}")
    if dim.ceil_mode:
        parameters.append("ceil_mode")
    lines = [
        f"{label}: " + ", ".join(parameters),
        f"  out = {dim.result.general}",
        f"      = {dim.result.formula}",
    ]
    lines.extend(f"  {note}" for note in dim.notes)
    if dim.kind != "transposed":
        if dim.result.uncovered is None:
            lines.append(
                f"  uncovered input {PLURALS[dim.noun]} not worked out: more than "
                f"{COVERAGE_LIMIT:,} positions or kernel taps to walk"
            )
        else:
            lines.append(
                f"  {describe_ranges(dim.result.uncovered, dim.result.uncovered_count or 0, dim.noun)}"
            )
    return lines


def to_json(work: LayerWork) -> dict[str, object]:
    """The ``conv`` command's JSON object; ``output_size`` has one entry per dimension."""
    operation = {"conv": "conv", "pool": "pool", "transposed": "conv_transpose"}[work.kind]
    return {
        "operation": operation,
        "input_size": list(work.input_size),
        "output_size": list(work.output_size),
        "dimensions": [dimension_json(d) for d in work.dimensions],
    }


def dimension_json(dim: DimensionWork) -> dict[str, object]:
    """One dimension's details; keys that do not apply to the operation are null."""
    return {
        "dimension": dim.dimension,
        "input": dim.size,
        "kernel_size": dim.kernel,
        "stride": dim.stride,
        "padding": dim.padding_word or dim.pad_left,
        "padding_left": dim.pad_left,
        "padding_right": dim.pad_right,
        "dilation": dim.dilation,
        "output_padding": dim.output_padding if dim.kind == "transposed" else None,
        "ceil_mode": dim.ceil_mode,
        "formula": dim.result.formula,
        "general_formula": dim.result.general,
        "numerator": dim.result.numerator,
        "quotient": None if dim.result.quotient is None else str(dim.result.quotient),
        "rounding": dim.result.rounding,
        "remainder": dim.result.remainder,
        "dropped_last_window": dim.result.dropped_last_window,
        "output": dim.result.output,
        "first_window": None if dim.result.first_window is None else list(dim.result.first_window),
        "last_window": None if dim.result.last_window is None else list(dim.result.last_window),
        "uncovered": None
        if dim.result.uncovered is None
        else [list(r) for r in dim.result.uncovered],
        "uncovered_count": dim.result.uncovered_count,
        "notes": list(dim.notes),
    }
