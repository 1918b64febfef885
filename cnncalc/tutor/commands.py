"""The single-layer helpers ``conv``, ``solve`` and ``explain`` as click commands.

Each command parses its options, calls one library function and prints that result's
rendering (the library modules are imported inside the commands, so the other commands do
not pay for them at start-up); the main CLI registers them with ``cli.add_command``. Bad input is a
``click.UsageError`` or ``click.BadParameter`` (exit 2, message on stderr).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import CnncalcError

if TYPE_CHECKING:  # pragma: no cover
    from . import explain as explain_module
    from . import formula
    from . import solve as solve_module

F = TypeVar("F", bound=Callable[..., Any])


def format_option(fn: F) -> F:
    """``--format table|json``, shared by the three commands."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for people, json for scripts.",
    )(fn)


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal of the library as a usage error: exit 2, the message on stderr."""
    try:
        yield
    except CnncalcError as error:
        raise click.UsageError(str(error)) from None


def ints_option(text: str, option: str) -> tuple[int, ...]:
    """``224x224`` / ``224,224`` / ``7`` for ``option``, or a BadParameter naming it."""
    from . import formula

    try:
        return formula.parse_ints(text, option.lstrip("-"))
    except CnncalcError as error:
        raise click.BadParameter(error.message, param_hint=f"'{option}'") from None


def padding_option(text: str) -> tuple[formula.Padding, ...]:
    from . import formula

    try:
        return formula.parse_padding(text)
    except CnncalcError as error:
        raise click.BadParameter(error.message, param_hint="'--padding'") from None


def emit(data: dict[str, object], text: str, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(text)


# --------------------------------------------------------------------------- conv


@click.command("conv")
@click.option(
    "--input",
    "input_",
    required=True,
    metavar="SIZES",
    help="Spatial input size: 6, 224x224 or 224,224 (no batch or channel dimension; 1 to 3 values).",
)
@click.option(
    "--kernel",
    required=True,
    metavar="K",
    help="Kernel size: one value for every dimension, or one per dimension.",
)
@click.option("--stride", metavar="S", help="Stride. [default: 1; with --pool, the kernel size]")
@click.option(
    "--padding",
    default="0",
    show_default=True,
    metavar="P",
    help="Padding a side: integer(s), same, valid or full.",
)
@click.option(
    "--dilation", default="1", show_default=True, metavar="D", help="Spacing of the kernel taps."
)
@click.option(
    "--pool",
    is_flag=True,
    help="Pooling: stride defaults to the kernel, padding at most kernel // 2.",
)
@click.option("--ceil", is_flag=True, help="Pooling's ceil_mode (needs --pool).")
@click.option("--transposed", is_flag=True, help="Transposed convolution (ConvTranspose).")
@click.option(
    "--output-padding",
    default="0",
    show_default=True,
    metavar="OP",
    help="Extra size at the end of a transposed convolution (needs --transposed); below max(stride, dilation).",
)
@format_option
def conv(
    input_: str,
    kernel: str,
    stride: str | None,
    padding: str,
    dilation: str,
    pool: bool,
    ceil: bool,
    transposed: bool,
    output_padding: str,
    output_format: str,
) -> None:
    """Work out one layer's output size.

    For each spatial dimension it prints the formula, the same formula with the numbers put in, how
    the division was rounded, the windows, and which input positions no window reads:

    \b
      out = floor((L + 2·p − d·(k − 1) − 1) / s) + 1
      transposed: out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1

    Padding 'same' with stride > 1 follows TensorFlow (out = ceil(L / s), the odd pad at the
    end); 'full' pads d·(k − 1) a side. What PyTorch refuses (a kernel larger than the padded
    input, an output below 1, pooling padding above kernel // 2, output_padding not below
    max(stride, dilation)) is refused with the numbers, exit status 2.

    JSON: {"output_size": [...], one entry per dimension, "dimensions": [{"formula",
    "quotient" (exact fraction), "rounding", "remainder", "padding_left", "padding_right",
    "uncovered" (inclusive index ranges), ...}]}.

    \b
    Examples:
      cnncalc conv --input 6 --kernel 3 --stride 2
      cnncalc conv --input 224x224 --kernel 7 --stride 2 --padding 3
      cnncalc conv --input 6 --kernel 3 --stride 2 --padding 1 --pool --ceil
      cnncalc conv --input 7 --kernel 3 --stride 2 --padding 1 --transposed --output-padding 1
    """
    sizes = ints_option(input_, "--input")
    kernels = ints_option(kernel, "--kernel")
    strides = None if stride is None else ints_option(stride, "--stride")
    paddings = padding_option(padding)
    dilations = ints_option(dilation, "--dilation")
    output_paddings = ints_option(output_padding, "--output-padding")
    if pool and transposed:
        raise click.UsageError("--pool and --transposed exclude each other")
    if ceil and not pool:
        raise click.UsageError(
            "--ceil is pooling's ceil_mode (PyTorch's convolutions have none); add --pool"
        )
    if any(output_paddings) and not transposed:
        raise click.UsageError("--output-padding needs --transposed")
    from . import formula

    kind: formula.Kind = "pool" if pool else "transposed" if transposed else "conv"
    with refusals():
        work = formula.work_out_layer(
            kind, sizes, kernels, strides, paddings, dilations, output_paddings, ceil
        )
    emit(formula.to_json(work), formula.render_text(work), output_format)


# --------------------------------------------------------------------------- solve


@click.command("solve")
@click.option(
    "--input", "input_", required=True, metavar="SIZES", help="Spatial input size: 224 or 224x224."
)
@click.option(
    "--output", "output", metavar="SIZES", help="Wanted output size, one per input dimension."
)
@click.option(
    "--max-kernel",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Largest kernel tried.",
)
@click.option(
    "--max-stride",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Largest stride tried.",
)
@click.option(
    "--max-padding",
    type=click.IntRange(min=0),
    default=None,
    help="Largest padding tried. [default: dilation·(kernel − 1), 'full' padding]",
)
@click.option(
    "--max-dilation",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Largest dilation tried.",
)
@click.option("--kernel", type=click.IntRange(min=1), help="Try this kernel only.")
@click.option(
    "--stride",
    type=click.IntRange(min=1),
    help="Try this stride only (--same: the stride, default 1).",
)
@click.option("--dilation", type=click.IntRange(min=1), help="Try this dilation only.")
@click.option(
    "--transposed",
    is_flag=True,
    help="Solve for a transposed convolution, with its output_padding.",
)
@click.option("--same", is_flag=True, help="Find what keeps the size: out = ceil(in / stride).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Most combinations shown; 0 shows all.",
)
@format_option
def solve(
    input_: str,
    output: str | None,
    max_kernel: int,
    max_stride: int,
    max_padding: int | None,
    max_dilation: int,
    kernel: int | None,
    stride: int | None,
    dilation: int | None,
    transposed: bool,
    same: bool,
    limit: int,
    output_format: str,
) -> None:
    """Find the layers giving a wanted output size.

    Lists the (kernel, stride, padding, dilation) combinations giving exactly that size,
    simplest first: dilation 1 first, then the smaller kernel, the smaller stride, the
    smaller output_padding, the padding nearest the symmetric 'same-like' d·(k − 1)/2, the
    smaller padding. With --transposed each row carries the output_padding that hits the
    target. With --same it lists the paddings that keep the size (ceil(in / stride) for
    stride > 1) and how padding='same' splits it. Several dimensions (224x224 → 112x112)
    are solved one at a time.

    Finding no combination is an answer, not an error: the table says so in a sentence,
    the JSON has an empty "solutions" list, and the exit status is 0.

    JSON: {"solutions": [{"kernel_size", "stride", "padding", "dilation"
    [, "output_padding"]}, ...] (those serving every dimension, at most --limit), "count",
    "dimensions": [{"input", "output", "count", "solutions"}], "bounds", "order"}.

    \b
    Examples:
      cnncalc solve --input 224 --output 112
      cnncalc solve --input 7x7 --output 14x14 --transposed
      cnncalc solve --input 10 --same --kernel 3 --stride 2
    """
    sizes = ints_option(input_, "--input")
    targets = None if output is None else ints_option(output, "--output")
    if same and transposed:
        raise click.UsageError("--same is for convolutions; drop --transposed")
    if same and targets is not None:
        raise click.UsageError(
            "--same chooses the output size itself (ceil(input / stride)); drop --output"
        )
    if not same and targets is None:
        raise click.UsageError("give the wanted size with --output SIZES, or ask for --same")
    from . import solve as solve_module

    bounds = solve_module.Bounds(
        max_kernel, max_stride, max_dilation, max_padding, kernel, stride, dilation
    )
    mode: solve_module.Mode = "same" if same else "transposed" if transposed else "conv"
    with refusals():
        result = solve_module.solve(sizes, targets, bounds, mode)
    emit(
        solve_module.to_json(result, limit), solve_module.render_text(result, limit), output_format
    )


# --------------------------------------------------------------------------- explain


@click.command("explain")
@click.option(
    "--op",
    type=click.Choice(["conv", "maxpool", "avgpool"]),
    default="conv",
    show_default=True,
    help="The operation worked out.",
)
@click.option(
    "--values",
    metavar="NUMBERS",
    help="Input: a range 0..15 (inclusive), 1,2,3 or a JSON nested list. [default: random]",
)
@click.option("--view", metavar="SHAPE", help="Shape to view the values as, e.g. 1x2x8 or 4x4.")
@click.option(
    "--weight",
    metavar="NUMBERS",
    help="Convolution weight: a JSON nested list, or a flat list shaped by --kernel. [default: random]",
)
@click.option(
    "--kernel", metavar="K", help="Kernel size (pooling, a flat or random weight): 3 or 3x3."
)
@click.option("--stride", metavar="S", help="Stride. [default: 1; pooling: the kernel size]")
@click.option(
    "--padding",
    default="0",
    show_default=True,
    metavar="P",
    help="Padding a side; a convolution also takes same, valid, full.",
)
@click.option(
    "--dilation",
    default="1",
    show_default=True,
    metavar="D",
    help="Spacing of the kernel taps (not avgpool).",
)
@click.option(
    "--bias", metavar="NUMBERS", help="Convolution bias: one number, or one per output channel."
)
@click.option(
    "--dims",
    type=click.Choice(["1", "2"]),
    help="Spatial dimensions, when the shapes leave it open.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the random values and weights."
)
@format_option
def explain(
    op: explain_module.Op,
    values: str | None,
    view: str | None,
    weight: str | None,
    kernel: str | None,
    stride: str | None,
    padding: str,
    dilation: str,
    bias: str | None,
    dims: str | None,
    seed: int,
    output_format: str,
) -> None:
    """Write out a small conv or pool, sum by sum.

    Every output element of a 1-D or 2-D convolution or pooling is shown as its sum of products (max or average for pooling),
    computed exactly: 0.1 is one tenth, so 0·0.1 + 1·0.2 + 2·0.3 = 0.8. Convolution is
    PyTorch's (cross-correlation, groups 1); max pooling never picks padding; average
    pooling counts padding as zeros (count_include_pad).

    Shapes: the view is (L), (C, L) or (N, C, L) in 1-D and (H, W), (C, H, W) or
    (N, C, H, W) in 2-D. A 2-valued --kernel or a 4-deep weight means 2-D and a flat
    weight without --kernel 1-D; otherwise a view of rank 2 or 4 means 2-D, of rank 1 or 3
    1-D; --dims settles it. The weight is
    (k), (C_in, k) or (C_out, C_in, k) in 1-D and (kh, kw), (C_in, kh, kw) or
    (C_out, C_in, kh, kw) in 2-D. Without --values (or --weight), random integers 0..9
    (weights −2..2) are drawn with --seed. At most 10,000 products are written out.

    JSON: {"op", "input_shape", "input", "weight_shape", "weight", "bias", "stride",
    "padding" ([left, right] per dimension), "dilation", "output_shape", "output" (nested),
    "terms": [{"index", "expression", "value"}, ...], "notes"}.

    \b
    Examples:
      cnncalc explain --values 0..15 --view 1x1x16 --weight "[0.1, 0.2, 0.3]"
      cnncalc explain --values 0..15 --view 1x2x8 --weight "[[0.1,0.2,0.3],[1,1,1]]"
      cnncalc explain --op maxpool --kernel 2 --values 0..19 --view 1x1x4x5
      cnncalc explain --view 5x5 --kernel 3x3 --padding 1 --seed 7
    """
    from . import explain as explain_module

    with refusals():
        numbers = None if values is None else explain_module.parse_numbers(values, "--values")
        weights = None if weight is None else explain_module.parse_numbers(weight, "--weight")
        biases = None if bias is None else explain_module.parse_numbers(bias, "--bias")
    shape = None if view is None else ints_option(view, "--view")
    kernels = None if kernel is None else ints_option(kernel, "--kernel")
    strides = None if stride is None else ints_option(stride, "--stride")
    with refusals():
        result = explain_module.explain(
            op,
            numbers,
            view=shape,
            weight=weights,
            kernel=kernels,
            stride=strides,
            padding=padding_option(padding),
            dilation=ints_option(dilation, "--dilation"),
            bias=biases,
            dims=None if dims is None else int(dims),
            seed=seed,
        )
    emit(explain_module.to_json(result), explain_module.render_text(result), output_format)
