"""The command line. Commands parse options, call the library and render; errors become
exit codes in one place (``fail``): 2 for bad input, 1 for a disagreement ``execute``
found."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import IO, Any, NoReturn

import click

from .errors import CnncalcError
from .render import FORMATS
from .report import DTYPE_BYTES, Report

EPILOG_MODEL = (
    "MODEL is a .yaml/.yml/.json file, - for standard input, an inline spec such as "
    '"conv2d(6, 5) -> relu -> maxpool2d(2)" (PyTorch pasted with its nn. prefix takes '
    'PyTorch\'s signature: "nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())"), an .onnx '
    "file, or a PyTorch module as path/file.py:Name or package.module:Name."
)
MODEL_ARGS = "cnncalc.model_args"  # ctx.meta key of --args


def fail(error: CnncalcError | str, code: int = 2) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    sys.exit(code)


def emit(pieces: Iterable[str]) -> None:
    out = sys.stdout
    for piece in pieces:
        out.write(piece)
    out.flush()


def parse_input(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from .spec import parse_dims

    try:
        return parse_dims(value, "--input")
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


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """MODEL and the options every model command shares."""
    decorators = [
        click.argument("model"),
        ARGS_OPTION,
        click.option("--input", "input_shape", callback=parse_input, metavar="DIMS",
                     help="One sample's shape, e.g. 3x224x224 or 3,224,224; overrides the file."),
        click.option("--batch", type=AsciiIntRange(min=1), default=1, show_default=True,
                     help="Batch size N, the first dimension of every shape."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Output format."),
        click.option("--dtype", type=click.Choice(tuple(DTYPE_BYTES)), default="float32",
                     show_default=True,
                     help="Element type for the memory figures, and of the PyTorch run."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def analyse_model(model: str, input_shape: Any, batch: int, dtype: str) -> Report:
    from .graph import analyse
    from .spec import load_model

    ctx = click.get_current_context(silent=True)
    model_args = ctx.meta.get(MODEL_ARGS) if ctx is not None else None
    try:
        report = analyse(load_model(model, input_shape, model_args), batch=batch, dtype=dtype)
    except CnncalcError as exc:
        fail(exc)
    print_notes(report)
    return report


def print_notes(report: Report) -> None:
    """Notes on stderr where the model may not say what was meant (the exit status stays)."""
    from .hints import notes

    for note in notes(report):
        click.echo(f"note: {note}", err=True)


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


def parse_memory(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from .memory import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a PyTorch run, shared by execute and shapes/params --execute."""
    decorators = [
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the random input and weights, for reproducible runs."),
        click.option("--device", type=click.Choice(("cpu", "cuda")), default="cpu",
                     show_default=True, help="Where PyTorch runs the model."),
        click.option("--max-memory", callback=parse_memory, metavar="SIZE",
                     help="Refuse a run whose estimated peak memory exceeds SIZE (2GiB, 500MB, "
                          "bytes). Default: half the memory free on the device."),
        click.option("--timings", is_flag=True,
                     help="Add each layer's wall time in the run as a column."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


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
    from .render import confirmation, render

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
        fail(result.verdict)
    if fmt in ("table", "markdown"):
        emit([f"{'- ' if fmt == 'markdown' else ''}{result.verdict}\n"])
    else:
        click.echo(result.verdict, err=True)
    if not result.ok:
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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

    from . import viewrender
    from .views import build_tree, depth_for

    tree = build_tree(report)
    chosen = None if depth in (None, "all") else int(depth)
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


TABLE_FRAME_LINES = 10  # title, header, rule and summary around a table's rows


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
    from .viewrender import COLUMNS

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
@run_options
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
    """
    show_view(
        ctx, "shapes", model, input_shape, batch, fmt, dtype, run, seed, device, max_memory,
        timings, depth, columns,
    )  # fmt: skip


@cli.command(epilog=EPILOG_MODEL)
@model_options
@view_options
@EXECUTE_FLAG
@run_options
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
@run_options
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


@cli.command(epilog=EPILOG_MODEL)
@click.argument("model")
@ARGS_OPTION
@click.option("-o", "--output", "output", required=True, metavar="FILE",
              help="FILE.svg (the diagram), FILE.html (diagram, table tree, charts and totals "
                   "in one offline page) or - for SVG on standard output.")
@click.option("--input", "input_shape", callback=parse_input, metavar="DIMS",
              help="One sample's shape, e.g. 3x224x224 or 3,224,224; overrides the file.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
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
@click.option("--format", "fmt", type=click.Choice(("table", "json", "markdown")), default="table",
              show_default=True, help="Output format.")  # fmt: skip
def layers_command(fmt: str) -> None:
    """The supported layer types, their aliases and parameters (PyTorch's names; the
    first positional argument PyTorch would infer is left out).

    \b
    cnncalc layers
    cnncalc layers --format json
    """
    from .catalogue import catalogue, render_catalogue

    emit(render_catalogue(catalogue(), fmt))


def register_interop_commands() -> None:
    """``import`` and ``export`` live in ``cnncalc.interop.commands``."""
    from .interop.commands import export, import_command

    cli.add_command(import_command)
    cli.add_command(export)


register_interop_commands()


def register_tutor_commands() -> None:
    """The single-layer helpers live in ``cnncalc.tutor``; they take no MODEL."""
    from .tutor.commands import conv, explain, solve

    for command in (conv, solve, explain):
        cli.add_command(command)


register_tutor_commands()


def main() -> None:
    try:
        cli(prog_name="cnncalc")
    except CnncalcError as exc:  # a library error that escaped a command
        fail(exc)
