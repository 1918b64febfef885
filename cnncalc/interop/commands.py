"""``cnncalc import`` and ``cnncalc export`` as click commands, registered by the main CLI
(as the single-layer helpers are). They parse options, call one library function, and
write its text to standard output or ``-o FILE``; errors go through ``cli.fail``.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import CnncalcError

EPILOG_SOURCE = (
    "SOURCE is an .onnx file or a PyTorch module: path/file.py:Name or package.module:Name, "
    "a class or a function returning an nn.Module when called with the --args keywords."
)


def write_text(text: str, output: str) -> None:
    """``text`` to standard output (``-``) or to the file ``output``."""
    from ..cli import emit, fail

    if output == "-":
        emit([text])
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")


def input_option(fn: Any) -> Any:
    from ..cli import parse_input

    return click.option(
        "--input", "input_shape", callback=parse_input, metavar="DIMS", multiple=True,
        help="One sample's shape, e.g. 3x224x224; needed for a PyTorch module and for an "
             "ONNX file with symbolic sizes. A model with several inputs takes NAME=DIMS, "
             "once for each.",
    )(fn)  # fmt: skip


def args_option(fn: Any) -> Any:
    from ..cli import ARGS_OPTION

    return ARGS_OPTION(fn)


def output_option(default_help: str) -> Any:
    return click.option(
        "-o", "--output", default="-", show_default=True, metavar="FILE",
        help=f"Where to write {default_help}; - for standard output.",
    )  # fmt: skip


@click.command("import", epilog=EPILOG_SOURCE)
@click.argument("source")
@input_option
@args_option
@output_option("the model file")
def import_command(source: str, input_shape: Any, output: str) -> None:
    """Write an ONNX file or a PyTorch module as an editable cnncalc model file (YAML),
    blocks recovered from the names (layer1.0.* becomes a block layer1 holding 0, 1, ...;
    copies with the same layers become one defined block), so that cnncalc params on the
    file gives the source's figures.

    \b
    cnncalc import resnet50.onnx -o resnet50.yaml
    cnncalc import models.py:Net --input 3x32x32 -o net.yaml
    cnncalc import torchvision.models:resnet18 --input 3x224x224 --args '{"num_classes": 10}'
    """
    from ..cli import MODEL_ARGS, fail
    from .document import imported_yaml

    model_args = click.get_current_context().meta.get(MODEL_ARGS)
    try:
        text = imported_yaml(source, input_shape, model_args)
    except CnncalcError as exc:
        fail(exc)
    write_text(text, output)


@click.command("export")
@click.argument("model")
@click.option("--to", "target", type=click.Choice(("pytorch",)), default="pytorch",
              show_default=True, help="The language of the code.")  # fmt: skip
@input_option
@args_option
@output_option("the code")
def export(model: str, target: str, input_shape: Any, output: str) -> None:
    """Write the model as readable, runnable PyTorch code that needs only torch: one
    nn.Module class named after the model, a class per block, submodules named as the
    rows (so named_parameters() are the rows' names), forward following the graph.

    \b
    cnncalc export configs/resnet18.yaml --to pytorch -o resnet18.py
    cnncalc export --input 1x32x32 "conv2d(6, 5) -> relu -> flatten -> linear(10)"
    """
    from ..cli import analyse_model, fail
    from .torch_out import pytorch_code

    report = analyse_model(model, input_shape, 1, "float32")
    if report.error is not None:
        fail(report.error)
    try:
        text = pytorch_code(report)
    except CnncalcError as exc:
        fail(exc)
    write_text(text, output)
