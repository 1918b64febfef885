"""What a model was probably meant to say, where the way it is written reads differently.

Two kinds of help, both decided by trying the layer itself rather than by guessing from
names:
- notes for a model that worked but may not mean what its author meant: a short-form call
  that reads differently from the same call pasted from PyTorch (``conv2d(3, 16, 3)`` on a
  3-channel input), or an input that looks channels-last (``32x32x3``);
- a hint added to the error when the first layer cannot take the input, and would take it
  with the batch left out (``1x3x32x32``) or the channels moved first (``28x28x1``).
"""

from __future__ import annotations

from .errors import CnncalcError, ShapeError
from .layers import LayerType
from .model import BlockNode, LayerNode, Model, Node
from .report import Report

Shape = tuple[int, ...]
CHANNEL_COUNTS = (1, 3, 4)  # grey, RGB, RGBA: what a channels-last image ends with


def input_text(sample: Shape) -> str:
    return "x".join(map(str, sample))


def fits(layer: LayerType, shape: Shape) -> bool:
    try:
        layer.output_shape(shape)
    except CnncalcError:
        return False
    return True


def first_layer(nodes: list[Node]) -> LayerType | None:
    """The layer the model input reaches first."""
    for node in nodes:
        if node.rows == 0:
            continue
        if isinstance(node, LayerNode):
            return node.layer
        if isinstance(node, BlockNode):
            for branch in node.branches:
                if (found := first_layer(branch)) is not None:
                    return found
        return None
    return None


def reads_layout(layer: LayerType) -> bool:
    """Whether the layer's refusal can be about the input's layout: it slides a window over
    the spatial dimensions or infers a size (channels, features) from the input."""
    return layer.receptive == "window" or getattr(layer, "inferred", None) is not None


def channels_first(sample: Shape) -> Shape:
    return (sample[-1], *sample[:-1])


def layout_hint(layer: LayerType, batch: int, sample: Shape) -> str | None:
    """Why the first layer refused the input, where a rearranged input fits it: a batch
    written into the sample, or the channels written last."""
    if len(sample) >= 2 and (sample[0] == 1 or len(sample) == 4):
        if fits(layer, (batch, *sample[1:])):
            return (
                f"if the first {sample[0]} is the batch, leave it out: the input is one sample, "
                f"{input_text(sample[1:])}, and --batch sets the batch"
            )
    if len(sample) >= 2 and sample[-1] in CHANNEL_COUNTS and sample[0] > sample[-1]:
        if fits(layer, (batch, *channels_first(sample))):
            return channels_last_text(sample)
    return None


def channels_last_text(sample: Shape) -> str:
    channels = sample[-1]
    plural = "" if channels == 1 else "s"
    return (
        f"cnncalc is channels-first: {input_text(sample)} reads as {sample[0]} channels of "
        f"{'×'.join(map(str, sample[1:]))}; for {channels} channel{plural} of "
        f"{'×'.join(map(str, sample[:-1]))} give {input_text(channels_first(sample))}"
    )


def with_input_hint(error: CnncalcError, model: Model, shape: Shape) -> CnncalcError:
    """``error`` with a layout hint added, where the first layer refused the input."""
    layer = first_layer(model.layers)
    if not isinstance(error, ShapeError) or layer is None or not reads_layout(layer):
        return error
    hint = layout_hint(layer, shape[0], shape[1:])
    if hint is None:
        return error
    return type(error)(f"{error.message}; {hint}", error.location)


def notes(report: Report) -> list[str]:
    """Notes on a model that was analysed, in row order, each once."""
    found: list[str] = []
    if report.rows and report.error is None:
        note = channels_last_note(report)
        if note:
            found.append(note)
    for row in report.rows:
        reading = getattr(row.layer, "pasted", None)
        shape = row.input_shape
        if reading is None or len(shape) < 2 or shape[reading.dim] != reading.first:
            continue
        note = f"layer {row.index} ({row.name}): {reading.note}"
        if note not in found:
            found.append(note)
    return found


def channels_last_note(report: Report) -> str | None:
    """An input that looks channels-last (``32x32x3``) on a first layer with a window,
    which took it as given: it worked, but probably not as meant."""
    sample = report.input_shape[1:]
    layer = report.rows[0].layer
    if (
        layer is None or layer.receptive != "window" or len(sample) < 3
        or sample[-1] not in CHANNEL_COUNTS or min(sample[:-1]) <= 4 * sample[-1]
        or (layer.inferred and getattr(layer.args, layer.inferred, None) is not None)
        or not fits(layer, (report.input_shape[0], *channels_first(sample)))
    ):  # fmt: skip
        return None
    return channels_last_text(sample)
