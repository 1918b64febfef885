"""Dropout and stochastic depth. Inference (what cnncalc computes and ``execute`` runs)
passes the input through: no parameters, no FLOPs."""

from __future__ import annotations

from typing import Any

from .base import LayerType, Shape
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

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, *RANKS[self.type_name])
        return shape

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return getattr(nn, self.torch_name)(self.args.p)


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

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import StochasticDepth as StochasticDepthModule

        return StochasticDepthModule(self.args.p, self.args.mode)


LAYERS.append(StochasticDepth)
