"""The command line. Commands parse options, call the library and render; errors become
exit codes in one place: a ``CnncalcError`` that leaves a command is reported by the group
(``Commands.invoke``) through ``fail``, with the error's own ``exit_code`` (2 for bad
input); 1 is a disagreement ``execute`` found."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import IO, Any, NoReturn

import click

from .errors import CnncalcError
from .printable import printable
from .quote import quote
from .render import FORMATS
from .report import DTYPE_BYTES, Report
from .streams import StreamsCli

EPILOG_MODEL = (
    "MODEL is a .yaml/.yml/.json file, - for standard input, an inline spec such as "
    '"conv2d(6, 5) -> relu -> maxpool2d(2)" (PyTorch pasted with its nn. prefix takes '
    'PyTorch\'s signature: "nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())"), an .onnx '
    "file, or a PyTorch module as path/file.py:Name or package.module:Name."
)
MODEL_ARGS = "cnncalc.model_args"  # ctx.meta key of --args


def fail(error: CnncalcError | str, code: int = 2) -> NoReturn:
    """The one way out with an error: the message on stderr, the error's exit code."""
    click.echo(f"error: {printable(str(error))}", err=True)
    sys.exit(error.exit_code if isinstance(error, CnncalcError) else code)


def emit(pieces: Iterable[str]) -> None:
    out = sys.stdout
    for piece in pieces:
        out.write(piece)
    out.flush()


def parse_input(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    """``--input DIMS`` (a model with one input), or ``--input NAME=DIMS`` repeated."""
    if not values:
        return None
    from .model import parse_dims

    named: dict[str, tuple[int, ...]] = {}
    plain = None
    try:
        for value in values:
            name, equals, dims = value.partition("=")
            if not equals:
                if plain is not None or len(values) > 1:
                    raise click.BadParameter(
                        f"give one --input DIMS, or --input NAME=DIMS for each input, got {quote(value)}"
                    )
                plain = parse_dims(value, "--input")
            else:
                if not name.strip():
                    raise click.BadParameter(f"--input NAME=DIMS needs a name, got {quote(value)}")
                if name.strip() in named:
                    raise click.BadParameter(f"--input {name.strip()} is given twice")
                named[name.strip()] = parse_dims(dims, f"--input {name.strip()}")
    except CnncalcError as exc:
        raise click.BadParameter(exc.message) from None
    return plain if plain is not None else named


def parse_sizes(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """Sizes of at least 1 (``6``, ``224x224``, a whole shape such as ``1x2x8``) for the
    single-layer commands' options."""
    if value is None:
        return None
    from .model import parse_dims

    try:
        return parse_dims(value, param.opts[0], sample=False)
    except CnncalcError as exc:
        raise click.BadParameter(exc.message) from None


class AsciiIntRange(click.IntRange):
    """An integer option written in the digits 0-9 only: Python's ``int()`` also reads
    ``٣`` and ``４``, which YAML and the inline form refuse."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.isascii():
            self.fail(f"{value!r} is not an integer written with the digits 0-9", param, ctx)
        return super().convert(value, param, ctx)


def parse_model_args(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--args '{"num_classes": 10}'``: keyword arguments of a PyTorch module's class or
    factory, kept in ``ctx.meta`` so that commands need no parameter for it."""
    if value is None:
        return None
    import json

    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter(f"must be a JSON object of keyword arguments, got {value!r}")
    ctx.meta[MODEL_ARGS] = parsed
    return parsed


ARGS_OPTION = click.option(
    "--args", "model_args", callback=parse_model_args, expose_value=False, metavar="JSON",
    help='Keyword arguments (a JSON object) for a PyTorch module MODEL: \'{"num_classes": 10}\'.',
)  # fmt: skip


SINGLE_LAYER_FORMATS = ("table", "json", "csv")
"""The formats of conv, solve and explain; the model commands and layers take FORMATS."""


def format_option(choices: tuple[str, ...] = FORMATS) -> Callable[[Any], Any]:
    """``--format``, one name for every command; ``table`` is the default everywhere."""
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default="table", show_default=True,
        help="Output format.",
    )  # fmt: skip


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """MODEL and the options every model command shares."""
    decorators = [
        click.argument("model"),
        ARGS_OPTION,
        click.option("--input", "input_shape", callback=parse_input, metavar="DIMS", multiple=True,
                     help="One sample's shape, e.g. 3x224x224 or 3,224,224; overrides the file. "
                          "A model with several inputs takes NAME=DIMS, once for each."),
        click.option("--batch", type=AsciiIntRange(min=1), default=1, show_default=True,
                     help="Batch size N, the first dimension of every shape."),
        format_option(),
        click.option("--dtype", type=click.Choice(tuple(DTYPE_BYTES)), default="float32",
                     show_default=True,
                     help="Element type for the memory figures, and of the PyTorch run."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def analyse_model(model: str, input_shape: Any, batch: int, dtype: str) -> Report:
    from .graph import analyse
    from .model import load_model

    ctx = click.get_current_context(silent=True)
    model_args = ctx.meta.get(MODEL_ARGS) if ctx is not None else None
    try:
        report = analyse(load_model(model, input_shape, model_args), batch=batch, dtype=dtype)
    except CnncalcError as exc:
        fail(exc)
    print_notes(report)
    note_unused(report)
    return report


def print_notes(report: Report) -> None:
    """Notes on stderr where the model may not say what was meant (the exit status stays)."""
    from .hints import notes

    for note in notes(report):
        click.echo(f"note: {note}", err=True)


def note_unused(report: Report) -> None:
    """Name on stderr the rows no output needs: counted in params, not in MACs/FLOPs."""
    unused = report.unused
    if unused and report.error is None:
        names = ", ".join(row.name for row in unused[:10]) + (", …" if len(unused) > 10 else "")
        click.echo(
            f"note: {len(unused)} row{'' if len(unused) == 1 else 's'} no output needs "
            f"(params counted, MACs and FLOPs not): {names}",
            err=True,
        )


def print_report(report: Report, view: str, fmt: str) -> None:
    from .render import render

    emit(render(report, view, fmt))
    if report.error is not None:
        fail(report.error)


# ---- PyTorch runs: execute, and shapes/params --execute -----------------------------------
TORCH_MISSING = (
    "PyTorch is not installed; running the model needs it: pip install 'cnncalc[torch]'"
)
RUN_OPTIONS = ("seed", "device", "max_memory", "timings")
MAX_SEED = 2**64 - 1  # torch.manual_seed takes 0..2**64-1 (negatives wrap around to those)
ONLY_WITH_EXECUTE = " Only with --execute."


def parse_memory(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from .memory import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def run_options(note: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of a PyTorch run, shared by execute and shapes/params --execute;
    ``note`` ends each help text (shapes and params say the options need --execute)."""

    def add(fn: Callable[..., Any]) -> Callable[..., Any]:
        decorators = [
            click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                         help=f"Seed of the random input and weights, 0 to 2**64-1, for "
                              f"reproducible runs.{note}"),
            click.option("--device", type=click.Choice(("cpu", "cuda")), default="cpu",
                         show_default=True, help=f"Where PyTorch runs the model.{note}"),
            click.option("--max-memory", callback=parse_memory, metavar="SIZE",
                         help="Refuse a run whose estimated peak memory exceeds SIZE (2GiB, "
                              "500MB, bytes). Default: half the memory this process may still "
                              f"use (or of the free GPU memory).{note}"),
            click.option("--timings", is_flag=True,
                         help=f"Add each layer's wall time in the run as a column.{note}"),
        ]  # fmt: skip
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return add


def require_execute_flag(ctx: click.Context, run: bool) -> None:
    """shapes/params take the run options only together with --execute."""
    if run:
        return
    for name in RUN_OPTIONS:
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} needs --execute", ctx)


def load_execute() -> ModuleType:
    """``cnncalc.execute``, which needs torch; exit 2 with the install line without it."""
    try:
        from . import execute
    except ModuleNotFoundError as exc:
        if exc.name != "torch" and not (exc.name or "").startswith("torch."):
            raise
        fail(TORCH_MISSING)
    return execute


class ProgressBar:
    """A one-line bar on stderr for a run that takes more than a moment. Silent where
    stderr is not a terminal, so logs and pipes never see it."""

    DELAY = 0.5  # seconds before the bar appears
    WIDTH = 30

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.drawn = 0.0
        self.length = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < self.DELAY:
            return
        if now - self.drawn < 0.1 and done < total:
            return
        filled = self.WIDTH * done // max(total, 1)
        line = f"{phase} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} layers"
        self.stream.write("\r" + line.ljust(self.length))
        self.stream.flush()
        self.drawn, self.length = now, len(line)

    def close(self) -> None:
        """Erase the bar, so what follows starts on a clean line."""
        if self.length:
            self.stream.write("\r" + " " * self.length + "\r")
            self.stream.flush()
            self.length = 0


def run_model(
    report: Report, view: str, fmt: str, seed: int, device: str, max_memory: int | None,
    timings: bool,
) -> None:  # fmt: skip
    """Run the report's model in PyTorch and print the view with PyTorch's figures beside
    the computed ones, then the verdict. Exit 1 where they differ."""
    from .render import confirmation, render, verdict

    if report.error is not None:  # nothing to run: print what was computed, exit 2
        emit(render(report, view, fmt, **confirmation(None, view, fmt, timings)))
        fail(report.error)
    library = load_execute()
    progress = ProgressBar()
    try:
        result = library.execute(
            report, seed=seed, device=device, max_memory=max_memory, progress=progress
        )
    except CnncalcError as exc:
        fail(exc)
    finally:
        progress.close()
    emit(render(report, view, fmt, **confirmation(result, view, fmt, timings)))
    if result.unsupported:  # a kernel PyTorch lacks for this dtype: the request, not a finding
        fail(verdict(result))
    said = printable(verdict(result))
    if fmt in ("table", "markdown"):
        emit([f"{'- ' if fmt == 'markdown' else ''}{said}\n"])
    else:
        click.echo(said, err=True)
    if not result.ok:
        sys.exit(1)


class Commands(StreamsCli):
    """The command group. A ``CnncalcError`` that leaves any command ends here: its message
    on stderr and its ``exit_code``, never a traceback; output failures as ``StreamsCli``
    ends them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CnncalcError as exc:
            fail(exc)


@click.group(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="cnncalc")
def cli() -> None:
    """Exact shapes, parameters and compute of convolutional networks, before you write
    the model code.

    \b
    cnncalc shapes configs/resnet18.yaml
    cnncalc params --input 1x32x32 "conv2d(6, 5) -> tanh -> avgpool2d(2) -> flatten -> linear(10)"
    cnncalc conv --input 6 --kernel 3 --stride 2
    """


EXECUTE_FLAG = click.option(
    "--execute", "run", is_flag=True,
    help="Also run the model in PyTorch and add its actual shapes and a match column "
         "(needs torch; see cnncalc execute).",
)  # fmt: skip


def show_view(
    ctx: click.Context, view: str, model: str, input_shape: Any, batch: int, fmt: str,
    dtype: str, run: bool, seed: int, device: str, max_memory: int | None, timings: bool,
    depth: int | str | None = None, columns: tuple[str, ...] | None = None,
) -> None:  # fmt: skip
    """The body of ``shapes`` and ``params``: analyse, then print the tree at ``depth``, or
    confirm in PyTorch first with ``--execute``."""
    require_execute_flag(ctx, run)
    if run and (depth is not None or columns is not None):
        raise click.UsageError("--depth and --columns do not combine with --execute", ctx)
    if columns is not None and fmt == "json":
        raise click.UsageError("--columns picks table, markdown and csv columns, not JSON keys", ctx)
    report = analyse_model(model, input_shape, batch, dtype)
    if run:
        run_model(report, view, fmt, seed, device, max_memory, timings)
    else:
        print_tree(report, view, fmt, depth, columns)


def print_tree(
    report: Report, view: str, fmt: str, depth: int | str | None, columns: tuple[str, ...] | None
) -> None:
    """The view as a tree folded at ``depth`` (None: the whole tree; on a terminal, the
    deepest depth whose table fits its height, with a note on stderr)."""
    import shutil

    chosen = None if depth in (None, "all") else int(depth)
    if fmt == "json" and chosen is None:  # nothing folded: the rows as they are, no tree
        from .render import layer_kind, render_json

        emit(render_json(report, extra=layer_kind, top={"depth": "all"}))
        if report.error is not None:
            fail(report.error)
        return
    from . import viewrender
    from .views import build_tree, depth_for

    tree = build_tree(report)
    width = None
    if fmt == "table" and sys.stdout.isatty():
        size = shutil.get_terminal_size()
        width = size.columns
        fits = max(size.lines - TABLE_FRAME_LINES, 10)
        if depth is None and (chosen := depth_for(tree, fits)) is not None:
            click.echo(
                f"note: folded to --depth {chosen} to fit the terminal's {size.lines} lines; "
                f"--depth all shows all {len(report.rows)} layers", err=True,
            )  # fmt: skip
    if fmt == "json":
        emit(viewrender.render_tree_json(tree, chosen))
    elif fmt == "csv" and depth is None and columns is None:
        print_report(report, view, fmt)
        return
    elif fmt == "csv":
        emit(viewrender.render_tree_csv(tree, chosen, columns))
    else:
        emit(viewrender.render_tree_table(tree, view, chosen, columns, fmt == "markdown", width))
    if report.error is not None:
        fail(report.error)


TABLE_FRAME_LINES = 11  # title, header, rule and summary around a table's rows


def parse_depth(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None or value.lower() == "all":
        return None if value is None else "all"
    if not value.isdigit():
        raise click.BadParameter(f"expected an integer >= 0 or all, got {value!r}")
    return int(value)


def parse_columns_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    from .viewrender import parse_columns

    try:
        return parse_columns(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


DEPTH_OPTION = click.option(
    "--depth", callback=parse_depth, metavar="N|all",
    help="Fold every block deeper than N into one row with its subtotals (0: every top-level "
         "block); all: every layer. Default: the whole tree, or on a terminal the deepest "
         "depth that fits its height.",
)  # fmt: skip


def view_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--depth and --columns of shapes and params."""
    from .render import COLUMNS

    fn = click.option(
        "--columns", callback=parse_columns_option, metavar="KEYS",
        help="The table's columns, in this order, comma-separated (table, markdown, csv). "
             f"Keys: {', '.join(COLUMNS)}.",
    )(fn)  # fmt: skip
    return DEPTH_OPTION(fn)


@cli.command(epilog=EPILOG_MODEL)
@model_options
@view_options
@EXECUTE_FLAG
@run_options(ONLY_WITH_EXECUTE)
@click.pass_context
def shapes(
    ctx: click.Context, model: str, input_shape: Any, batch: int, fmt: str, dtype: str,
    depth: int | str | None, columns: tuple[str, ...] | None, run: bool, seed: int,
    device: str, max_memory: int | None, timings: bool,
) -> None:  # fmt: skip
    """Layer by layer: input and output shape, kernel, stride, padding, dilation and
    receptive field.

    \b
    cnncalc shapes configs/lenet5.yaml
    cnncalc shapes --input 3x64x64 "conv2d(16, 3, stride=2, padding=1) -> relu -> maxpool2d(2)"
    cnncalc shapes --execute configs/resnet18.yaml --input 3x64x64
    cnncalc shapes configs/resnet50.yaml --depth 1 --columns name,input,output
    cnncalc shapes configs/siamese.yaml --input left=1x32x32 --input right=1x32x32
    """
    show_view(
        ctx, "shapes", model, input_shape, batch, fmt, dtype, run, seed, device, max_memory,
        timings, depth, columns,
    )  # fmt: skip


@cli.command(epilog=EPILOG_MODEL)
@model_options
@view_options
@EXECUTE_FLAG
@run_options(ONLY_WITH_EXECUTE)
@click.pass_context
def params(
    ctx: click.Context, model: str, input_shape: Any, batch: int, fmt: str, dtype: str,
    depth: int | str | None, columns: tuple[str, ...] | None, run: bool, seed: int,
    device: str, max_memory: int | None, timings: bool,
) -> None:  # fmt: skip
    """Layer by layer: parameters, MACs and FLOPs with their share of the total; then
    totals and memory.

    \b
    cnncalc params configs/resnet50.yaml
    cnncalc params configs/vgg16.yaml --format json --dtype float16
    cnncalc params --execute configs/lenet5.yaml
    cnncalc params configs/resnet50.yaml --depth 0 --columns name,params,macs,memory
    """
    show_view(
        ctx, "params", model, input_shape, batch, fmt, dtype, run, seed, device, max_memory,
        timings, depth, columns,
    )  # fmt: skip


@cli.command(epilog=EPILOG_MODEL)
@model_options
@run_options()
def execute(
    model: str, input_shape: Any, batch: int, fmt: str, dtype: str, seed: int, device: str,
    max_memory: int | None, timings: bool,
) -> None:  # fmt: skip
    """Build the model in PyTorch, run random input through it and confirm every layer:
    the output shape and parameter count cnncalc computed against what PyTorch produces.
    Exit 0 when all agree, 1 when any differ, 2 for bad input.

    \b
    cnncalc execute configs/resnet18.yaml --input 3x64x64
    cnncalc execute --input 3x17x17 "conv2d(4, 3, stride=2, padding='same') -> relu"
    cnncalc execute configs/unet.yaml --input 1x64x64 --format json --timings
    """
    report = analyse_model(model, input_shape, batch, dtype)
    run_model(report, "execute", fmt, seed, device, max_memory, timings)


def parse_budget(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from .memory import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def memory_precision(ctx: click.Context, precision: str | None, dtype: str) -> str:
    """--precision, or the one --dtype names where only --dtype is given."""
    from .training_memory import DTYPE_PRECISION

    given = ctx.get_parameter_source("dtype") is click.core.ParameterSource.COMMANDLINE
    if not given:
        return precision or "fp32"
    if dtype not in DTYPE_PRECISION:
        raise click.BadParameter(
            f"memory has no {dtype} training; use --precision "
            "fp32, fp16, bf16, amp-fp16 or amp-bf16", ctx, param_hint="'--dtype'"
        )  # fmt: skip
    if precision is not None and precision != DTYPE_PRECISION[dtype]:
        raise click.UsageError(
            f"--dtype {dtype} and --precision {precision} disagree; give one of them", ctx
        )
    return DTYPE_PRECISION[dtype]


@cli.command("memory", epilog=EPILOG_MODEL)
@model_options
@click.option("--train/--inference", "train", default=True, show_default=True,
              help="A training step (default), or one inference pass.")
@click.option("--optimizer", type=click.Choice(("sgd", "momentum", "adam", "adamw")),
              default="adam", show_default=True, help="The optimizer whose state is counted.")
@click.option("--precision", type=click.Choice(("fp32", "fp16", "bf16", "amp-fp16", "amp-bf16")),
              default=None, help="Element types: fp32 (default), fp16/bf16 everywhere, or "
                                 "amp-*: autocast (fp32 parameters, lower-precision activations).")
@click.option("--device", type=click.Choice(("cuda", "cpu")), default="cuda", show_default=True,
              help="Whose rules: CUDA's (dropout mask bool, autocast norms in fp32) or CPU's.")
@click.option("--budget", callback=parse_budget, metavar="SIZE",
              help="Memory to fit in (24GiB, 500MB, bytes): also the largest batch that fits.")
@click.pass_context
def memory_command(
    ctx: click.Context, model: str, input_shape: Any, batch: int, fmt: str, dtype: str,
    train: bool, optimizer: str, precision: str | None, device: str, budget: int | None,
) -> None:  # fmt: skip
    """The memory of a training step: parameters, gradients, optimizer state, the
    activations autograd saves for backward (one row a layer, with its share), the
    transient of the backward pass and the peak; with --budget the largest batch whose
    peak fits. --inference: parameters and the activations alive at once.

    \b
    cnncalc memory configs/resnet50.yaml --batch 64 --precision amp-fp16
    cnncalc memory configs/resnet18.yaml --budget 24GiB --optimizer sgd
    cnncalc memory --input 3x32x32 "conv2d(16, 3) -> relu -> maxpool2d(2)" --inference
    """
    from .graph import analyse
    from .model import load_model
    from .render_memory import render_memory
    from .training_memory import Setup, simulate, with_budget

    chosen = memory_precision(ctx, precision, dtype)
    setup = Setup(train=train, optimizer=optimizer, precision=chosen, device=device)
    run_dtype = {"fp16": "float16", "bf16": "bfloat16"}.get(chosen, "float32")
    try:
        loaded = load_model(model, input_shape)
        report = analyse(loaded, batch=batch, dtype=run_dtype)
        if report.error is not None:
            fail(report.error)
        result = simulate(report, setup)
        if budget is not None:
            known = {batch: result}

            def at_batch(n: int) -> Any:
                if n not in known:
                    known[n] = simulate(analyse(loaded, batch=n, dtype=run_dtype), setup)
                return known[n]

            result = with_budget(result, budget, at_batch)
    except CnncalcError as exc:
        fail(exc)
    emit(render_memory(result, fmt))


@cli.command(epilog=EPILOG_MODEL)
@click.argument("model")
@ARGS_OPTION
@click.option("-o", "--output", "output", required=True, metavar="FILE",
              help="FILE.svg (the diagram), FILE.html (diagram, table tree, charts and totals "
                   "in one offline page) or - for SVG on standard output.")
@click.option("--input", "input_shape", callback=parse_input, metavar="DIMS", multiple=True,
              help="One sample's shape, e.g. 3x224x224 or 3,224,224; overrides the file. "
                   "A model with several inputs takes NAME=DIMS, once for each.")
@click.option("--batch", type=AsciiIntRange(min=1), default=1, show_default=True,
              help="Batch size N, the first dimension of every shape.")
@click.option("--dtype", type=click.Choice(tuple(DTYPE_BYTES)), default="float32",
              show_default=True, help="Element type for the memory figures.")
@click.option("--depth", callback=parse_depth, metavar="N|all",
              help="One box a row at depth N (blocks deeper folded, 0: every top-level block); "
                   "all: every layer. Default: the deepest depth with at most 60 boxes.")
def draw(
    model: str, output: str, input_shape: Any, batch: int, dtype: str, depth: int | str | None
) -> None:  # fmt: skip
    """Draw the model: a box a row (type, name, key arguments, params, shaded by its share of
    the MACs), edges labelled with the shapes they carry, blocks as frames, identical copies
    as ×N, and a legend with the totals. Nothing is written when the model fails analysis.

    \b
    cnncalc draw configs/resnet50.yaml -o resnet50.svg
    cnncalc draw configs/unet.yaml -o unet.html
    cnncalc draw configs/resnet18.yaml --depth 0 -o - > resnet18.svg
    """
    from .draw import MAX_BOXES
    from .draw.files import output_kind, write_atomically
    from .views import build_tree, depth_for

    try:
        kind = output_kind(output)
    except ValueError as exc:
        fail(str(exc))
    report = analyse_model(model, input_shape, batch, dtype)
    if report.error is not None:
        fail(f"{report.error} (nothing drawn: the model stops before its end)")
    tree = build_tree(report)
    chosen = depth_for(tree, MAX_BOXES, count_open=False) if depth is None else (
        None if depth == "all" else int(depth)
    )  # fmt: skip
    if kind == "svg":
        from .draw.svg import render_svg

        pieces = render_svg(tree, chosen)
    else:
        from .draw.html import render_html

        pieces = render_html(tree, chosen)
    if output == "-":
        emit(pieces)
        return
    try:
        write_atomically(output, pieces)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    if depth is None and chosen is not None:
        click.echo(f"drew depth {chosen} of {tree.max_depth} (at most {MAX_BOXES} boxes); "
                   "--depth all draws every layer", err=True)  # fmt: skip


@cli.command("layers")
@format_option()
def layers_command(fmt: str) -> None:
    """The supported layer types, their aliases and parameters (PyTorch's names; the
    first positional argument PyTorch would infer is left out).

    \b
    cnncalc layers
    cnncalc layers --format json
    cnncalc layers --format csv
    """
    from .catalogue import catalogue, render_catalogue

    emit(render_catalogue(catalogue(), fmt))


def register_interop_commands() -> None:
    """``import`` and ``export`` live in ``cnncalc.interop.commands``."""
    from .interop.commands import export, import_command

    cli.add_command(import_command)
    cli.add_command(export)


register_interop_commands()


# ---- single-layer helpers: conv, solve, explain (they take no MODEL) ----------------------
def parse_ints(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``3``, ``3x3`` or ``3,3`` as integers, any sign: the layer type judges the values."""
    if value is None:
        return None
    parts = [p.strip() for p in re.split(r"[x×X,]", value.strip())]
    if not all(re.fullmatch(r"[+-]?\d{1,18}", p) for p in parts):
        raise click.BadParameter(
            f"{param.opts[0]} must be integers separated by 'x' or ',', got {value!r}"
        )
    return tuple(int(p) for p in parts)


def parse_padding(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """Integers as ``parse_ints`` reads them, or a padding word, left to the layer type."""
    if value is None or not re.fullmatch(r"[-+\d\s,xX×]+", value):
        return None if value is None else value.strip().lower()
    return parse_ints(ctx, param, value)


def window_options(kernel_help: str) -> Callable[[Any], Any]:
    """The geometry of one sliding-window layer, shared by conv and explain. Each takes one
    value for every spatial dimension or one per dimension; unset means the layer type's
    default, as in a model file."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        decorators = [
            click.option("--kernel", callback=parse_ints, metavar="K", help=kernel_help),
            click.option("--stride", callback=parse_ints, metavar="S",
                         help="Stride. [default: 1; pooling: the kernel size]"),
            click.option("--padding", callback=parse_padding, metavar="P",
                         help="Padding a side: integer(s), or same, valid, full. [default: 0]"),
            click.option("--dilation", callback=parse_ints, metavar="D",
                         help="Spacing of the kernel taps (not average pooling). [default: 1]"),
        ]  # fmt: skip
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return decorate


@cli.command()
@click.option("--input", "sizes", required=True, callback=parse_sizes, metavar="SIZES",
              help="Spatial input size: 6, 224x224 or 224,224 (no batch or channel dimension).")
@window_options("Kernel size: one value for every dimension, or one per dimension.  [required]")
@click.option("--pool", type=click.Choice(("max", "avg")), is_flag=False, flag_value="max",
              help="Pooling, max (the default of a bare --pool) or avg: stride defaults to the "
                   "kernel, padding at most kernel // 2.")
@click.option("--ceil", is_flag=True, help="Pooling's ceil_mode (needs --pool).")
@click.option("--transposed", is_flag=True, help="Transposed convolution (ConvTranspose).")
@click.option("--output-padding", callback=parse_ints, metavar="OP",
              help="Extra size at the end of a transposed convolution; below max(stride, "
                   "dilation).  [default: 0]")
@format_option(SINGLE_LAYER_FORMATS)
def conv(
    sizes: tuple[int, ...], kernel: tuple[int, ...] | None, stride: tuple[int, ...] | None,
    padding: Any, dilation: tuple[int, ...] | None, pool: str | None, ceil: bool,
    transposed: bool, output_padding: tuple[int, ...] | None, fmt: str,
) -> None:  # fmt: skip
    """Work out one layer's output size.

    The layer is built exactly as a model row (conv1d/2d/3d, maxpool, avgpool or
    conv_transpose), so its answer and refusals are those of `shapes`. For each spatial
    dimension it prints the formula, the same formula with the numbers put in, how the
    division was rounded, the windows, and which input positions no window reads:

    \b
      out = floor((L + 2·p − d·(k − 1) − 1) / s) + 1
      transposed: out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1

    Padding 'same' with stride > 1 follows TensorFlow (out = ceil(L / s), the odd pad at the
    end); 'full' pads d·(k − 1) a side. What PyTorch refuses is refused with the numbers,
    exit status 2.

    JSON: {"operation", "output_size": [...], one entry per dimension, "dimensions":
    [{"formula", "quotient" (exact fraction), "rounding", "remainder", "padding_left",
    "padding_right", "uncovered" (inclusive index ranges), ...}]}. CSV: one row a dimension.

    \b
    Examples:
      cnncalc conv --input 6 --kernel 3 --stride 2
      cnncalc conv --input 224x224 --kernel 7 --stride 2 --padding 3
      cnncalc conv --input 6 --kernel 3 --stride 2 --padding 1 --pool --ceil
      cnncalc conv --input 7 --kernel 3 --stride 2 --padding 1 --transposed --output-padding 1
    """
    if kernel is None:
        raise click.UsageError("Missing option '--kernel'.")
    if pool and transposed:
        raise click.UsageError("--pool and --transposed exclude each other")
    from .tutor.formula import work_out
    from .tutor.render import render_conv
    from .tutor.window import WindowSpec

    op = f"{pool}pool" if pool else "conv_transpose" if transposed else "conv"
    spec = WindowSpec(op, kernel, stride, padding, dilation, output_padding, ceil)
    emit(render_conv(work_out(spec, sizes), fmt))


@cli.command()
@click.option("--input", "sizes", required=True, callback=parse_sizes, metavar="SIZES",
              help="Spatial input size: 224 or 224x224.")
@click.option("--output", "targets", callback=parse_sizes, metavar="SIZES",
              help="Wanted output size, one per input dimension.")
@click.option("--max-kernel", type=click.IntRange(min=1), default=7, show_default=True,
              help="Largest kernel tried.")
@click.option("--max-stride", type=click.IntRange(min=1), default=4, show_default=True,
              help="Largest stride tried.")
@click.option("--max-padding", type=click.IntRange(min=0), default=None,
              help="Largest padding tried. [default: dilation·(kernel − 1), 'full' padding]")
@click.option("--max-dilation", type=click.IntRange(min=1), default=1, show_default=True,
              help="Largest dilation tried.")
@click.option("--kernel", type=click.IntRange(min=1), help="Try this kernel only.")
@click.option("--stride", type=click.IntRange(min=1),
              help="Try this stride only (--same: the stride, default 1).")
@click.option("--dilation", type=click.IntRange(min=1), help="Try this dilation only.")
@click.option("--transposed", is_flag=True,
              help="Solve for a transposed convolution, with its output_padding.")
@click.option("--same", is_flag=True, help="Find what keeps the size: out = ceil(in / stride).")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Most combinations shown a list; 0 shows all.")
@format_option(SINGLE_LAYER_FORMATS)
def solve(
    sizes: tuple[int, ...], targets: tuple[int, ...] | None, max_kernel: int, max_stride: int,
    max_padding: int | None, max_dilation: int, kernel: int | None, stride: int | None,
    dilation: int | None, transposed: bool, same: bool, limit: int, fmt: str,
) -> None:  # fmt: skip
    """Find the layers giving a wanted output size.

    Lists the (kernel, stride, padding, dilation) combinations giving exactly that size,
    each checked by building the layer as a model row, simplest first: dilation 1 first,
    then the smaller kernel, the smaller stride, the smaller output_padding, the padding
    nearest the symmetric 'same-like' d·(k − 1)/2, the smaller padding. With --transposed
    each row carries the output_padding that hits the target. With --same it lists the
    paddings that keep the size (ceil(in / stride) for stride > 1) and how padding='same'
    splits it. Several dimensions (224x224 → 112x112) are solved one at a time.

    Finding no combination is an answer, not an error: the table says so in a sentence,
    the JSON has an empty "solutions" list, and the exit status is 0.

    JSON: {"solutions": [{"kernel_size", "stride", "padding", "dilation"
    [, "output_padding"]}, ...] (those serving every dimension, at most --limit), "count",
    "dimensions": [{"input", "output", "count", "solutions"}], "bounds", "order"}. CSV: one
    row a combination of each dimension's list.

    \b
    Examples:
      cnncalc solve --input 224 --output 112
      cnncalc solve --input 7x7 --output 14x14 --transposed
      cnncalc solve --input 10 --same --kernel 3 --stride 2
    """
    if same and targets is not None:
        raise click.UsageError(
            "--same chooses the output size itself (ceil(input / stride)); drop --output"
        )
    if not same and targets is None:
        raise click.UsageError("give the wanted size with --output SIZES, or ask for --same")
    if same and transposed:
        raise click.UsageError("--same is for convolutions; drop --transposed")
    from .tutor.render import render_solve
    from .tutor.solve import Bounds
    from .tutor.solve import solve as find

    bounds = Bounds(max_kernel, max_stride, max_dilation, max_padding, kernel, stride, dilation)
    result = find(sizes, targets, bounds, "conv_transpose" if transposed else "conv")
    emit(render_solve(result, fmt, limit))


@cli.command()
@click.option("--op", type=click.Choice(("conv", "maxpool", "avgpool")), default="conv",
              show_default=True, help="The operation worked out.")
@click.option("--values", metavar="NUMBERS",
              help="Input: a range 0..15 (inclusive), 1,2,3 or a JSON nested list. [default: random]")
@click.option("--view", callback=parse_sizes, metavar="SHAPE",
              help="Shape to view the values as, e.g. 1x2x8 or 4x4.")
@click.option("--weight", metavar="NUMBERS",
              help="Convolution weight: a JSON nested list, or a flat list shaped by --kernel. "
                   "[default: random]")
@window_options("Kernel size (pooling, a flat or random weight): 3 or 3x3.")
@click.option("--bias", metavar="NUMBERS",
              help="Convolution bias: one number, or one per output channel.")
@click.option("--dims", type=click.Choice(["1", "2"]),
              help="Spatial dimensions, when the shapes leave it open.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random values and weights.")
@format_option(SINGLE_LAYER_FORMATS)
def explain(
    op: str, values: str | None, view: tuple[int, ...] | None, weight: str | None,
    kernel: tuple[int, ...] | None, stride: tuple[int, ...] | None, padding: Any,
    dilation: tuple[int, ...] | None, bias: str | None, dims: str | None, seed: int, fmt: str,
) -> None:  # fmt: skip
    """Write out a small conv or pool, sum by sum.

    The layer is built exactly as a model row (conv1d/2d, maxpool1d/2d, avgpool1d/2d), so
    its shapes, padding and refusals are those of `shapes`. Every output element is shown as
    its sum of products (max or average for pooling), computed exactly: 0.1 is one tenth, so
    0·0.1 + 1·0.2 + 2·0.3 = 0.8. Convolution is PyTorch's (cross-correlation, groups 1);
    max pooling never picks padding; average pooling counts padding as zeros
    (count_include_pad).

    Shapes: the view is (L), (C, L) or (N, C, L) in 1-D and (H, W), (C, H, W) or
    (N, C, H, W) in 2-D. A 2-valued --kernel or a 4-deep weight means 2-D and a flat
    weight without --kernel 1-D; otherwise a view of rank 2 or 4 means 2-D, of rank 1 or 3
    1-D; --dims settles it. The weight is (k), (C_in, k) or (C_out, C_in, k) in 1-D and
    (kh, kw), (C_in, kh, kw) or (C_out, C_in, kh, kw) in 2-D. Without --values (or
    --weight), random integers 0..9 (weights −2..2) are drawn with --seed. At most 10,000
    products are written out.

    JSON: {"op", "input_shape", "input", "weight_shape", "weight", "bias", "stride",
    "padding" ([left, right] per dimension), "dilation", "output_shape", "output" (nested),
    "terms": [{"index", "expression", "value"}, ...], "notes"}. CSV: one row a term.

    \b
    Examples:
      cnncalc explain --values 0..15 --view 1x1x16 --weight "[0.1, 0.2, 0.3]"
      cnncalc explain --values 0..15 --view 1x2x8 --weight "[[0.1,0.2,0.3],[1,1,1]]"
      cnncalc explain --op maxpool --kernel 2 --values 0..19 --view 1x1x4x5
      cnncalc explain --view 5x5 --kernel 3x3 --padding 1 --seed 7
    """
    from .tutor.explain import Given, parse_numbers
    from .tutor.explain import explain as work_out_terms
    from .tutor.render import render_explain
    from .tutor.window import WindowSpec

    def numbers(text: str | None, option: str) -> Any:
        return None if text is None else parse_numbers(text, option)

    given = Given(
        numbers(values, "--values"), view, numbers(weight, "--weight"), numbers(bias, "--bias"),
        None if dims is None else int(dims), seed,
    )  # fmt: skip
    result = work_out_terms(WindowSpec(op, kernel, stride, padding, dilation), given)
    emit(render_explain(result, fmt))


def main() -> None:
    cli(prog_name="cnncalc")  # errors become exit codes in Commands.invoke
