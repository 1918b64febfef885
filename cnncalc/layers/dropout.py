"""Dropout and stochastic depth. Inference (what cnncalc computes and ``execute`` runs)
passes the input through: no parameters, no FLOPs."""

from __future__ import annotations

from math import prod
from typing import Any

from .base import NOTHING, LayerType, SaveContext, Saved, Shape, numel
from .fields import Bool, Choice, Float

RANKS = {
    "dropout": (tuple(range(1, 12)), "any"),
    "dropout1d": ((3,), "(N, C, L)"),
    "dropout2d": ((4,), "(N, C, H, W)"),
    "dropout3d": ((5,), "(N, C, D, H, W)"),
}


class Dropout(LayerType):
    family = "regularisation"
    positional = ("p", "inplace")
    keyword_aliases = {"rate": "p"}
    fields = {"p": (Float(0.0, 1.0), 0.5), "inplace": (Bool(), False)}
    torch_name: str
    elementwise = True

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, *RANKS[self.type_name])
        return shape

    def aliases_input(self, training: bool = True) -> bool:
        """At inference dropout passes its input through; in training, in place or p 0."""
        return not training or self.args.inplace or self.args.p == 0

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """The mask the gradient is multiplied by. ``dropout``: one element per input
        element, bool (1 byte) on CUDA, in the input's type on CPU and in place;
        ``dropout1d/2d/3d`` drop whole channels, one mask element per (sample, channel).
        ``p`` 0 saves nothing (the input passes through), ``p`` 1 one zero."""
        if self.args.p == 0:
            return NOTHING
        if self.args.p == 1:
            return Saved(new=(ctx.itemsize,))
        if self.type_name != "dropout":
            return Saved(new=(prod(shape[:2]) * ctx.itemsize,))
        per_element = 1 if ctx.device == "cuda" and not self.args.inplace else ctx.itemsize
        return Saved(new=(numel(shape) * per_element,))

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return getattr(nn, self.torch_name)(self.args.p, self.args.inplace)


LAYERS: list[type[LayerType]] = [
    type(
        torch_name, (Dropout,),
        {"type_name": name, "torch_name": torch_name, "__doc__": f"``torch.nn.{torch_name}``."},
    )
    for name, torch_name in (
        ("dropout", "Dropout"), ("dropout1d", "Dropout1d"), ("dropout2d", "Dropout2d"),
        ("dropout3d", "Dropout3d"),
    )
]  # fmt: skip


class StochasticDepth(LayerType):
    """torchvision's ``ops.StochasticDepth(p, mode)`` (timm's ``DropPath``): in training it
    drops the whole residual branch of a sample (mode ``row``) or of the batch (``batch``)
    with probability p; at inference it is the identity. torchvision requires mode; the
    default here is ``row``, what ConvNeXt, EfficientNet and timm use."""

    type_name = "stochastic_depth"
    aliases = ("drop_path",)
    family = "regularisation"
    positional = ("p", "mode")
    keyword_aliases = {"drop_prob": "p"}
    fields = {"p": (Float(0.0, 1.0), ...), "mode": (Choice("row", "batch"), "row")}

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, tuple(range(1, 12)), "any")
        return shape

    elementwise = True

    def aliases_input(self, training: bool = True) -> bool:
        """The identity at inference, and in training with p 0."""
        return not training or self.args.p == 0

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """``x · noise`` saves the noise, one element per sample (mode ``row``) or one for
        the batch (``batch``), in the input's type; p 0 saves nothing."""
        if self.args.p == 0:
            return NOTHING
        return Saved(new=((shape[0] if self.args.mode == "row" else 1) * ctx.itemsize,))

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import StochasticDepth as StochasticDepthModule

        return StochasticDepthModule(self.args.p, self.args.mode)


LAYERS.append(StochasticDepth)
