"""The command line. Commands parse options, call the library and render; errors become
exit codes in one place (``fail``): 2 for bad input, 1 for a disagreement ``execute``
found."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import click

from .errors import CnncalcError
from .render import FORMATS
from .report import DTYPE_BYTES, Report

EPILOG_MODEL = (
    "MODEL is a .yaml/.yml/.json file, - for standard input, or an inline spec such as "
    '"conv2d(6, 5) -> relu -> maxpool2d(2)".'
)


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


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """MODEL and the options every model command shares."""
    decorators = [
        click.argument("model"),
        click.option("--input", "input_shape", callback=parse_input, metavar="DIMS",
                     help="One sample's shape, e.g. 3x224x224 or 3,224,224; overrides the file."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batch size N, the first dimension of every shape."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Output format."),
        click.option("--dtype", type=click.Choice(tuple(DTYPE_BYTES)), default="float32",
                     show_default=True, help="Element type for the memory figures."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def analyse_model(model: str, input_shape: Any, batch: int, dtype: str) -> Report:
    from .graph import analyse
    from .spec import load_model

    try:
        return analyse(load_model(model, input_shape), batch=batch, dtype=dtype)
    except CnncalcError as exc:
        fail(exc)


def print_report(report: Report, view: str, fmt: str) -> None:
    from .render import render

    emit(render(report, view, fmt))
    if report.error is not None:
        fail(report.error)


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


@cli.command(epilog=EPILOG_MODEL)
@model_options
def shapes(model: str, input_shape: Any, batch: int, fmt: str, dtype: str) -> None:
    """Layer by layer: input and output shape, kernel, stride, padding, dilation and
    receptive field.

    \b
    cnncalc shapes configs/lenet5.yaml
    cnncalc shapes --input 3x64x64 "conv2d(16, 3, stride=2, padding=1) -> relu -> maxpool2d(2)"
    """
    print_report(analyse_model(model, input_shape, batch, dtype), "shapes", fmt)


@cli.command(epilog=EPILOG_MODEL)
@model_options
def params(model: str, input_shape: Any, batch: int, fmt: str, dtype: str) -> None:
    """Layer by layer: parameters, MACs and FLOPs with their share of the total; then
    totals and memory.

    \b
    cnncalc params configs/resnet50.yaml
    cnncalc params configs/vgg16.yaml --format json --dtype float16
    """
    print_report(analyse_model(model, input_shape, batch, dtype), "params", fmt)


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
