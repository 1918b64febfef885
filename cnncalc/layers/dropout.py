"""Dropout. Inference (what cnncalc computes and ``execute`` runs) passes the input through:
no parameters, no FLOPs."""

from __future__ import annotations

from typing import Any

from .base import LayerType, Shape
from .fields import Bool, Float

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
