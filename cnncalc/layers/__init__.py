"""The registry of layer types: canonical names and aliases to classes.

Names are matched case-insensitively with ``_`` and ``-`` ignored, so ``maxpool2d``,
``max_pool2d`` and ``MaxPool2d`` are one type; Keras names are aliases.
"""

from __future__ import annotations

from . import activation, conv, dropout, linear, merge, norm, pool, reshape, scaling, shuffle
from .base import FlatShape, LayerType, Shape, Window, numel, show_shape

__all__ = [
    "FlatShape", "LayerType", "Shape", "Window", "ALL_TYPES", "find_type", "normalise_name",
    "numel", "show_shape",
]  # fmt: skip

ALL_TYPES: tuple[type[LayerType], ...] = (
    *conv.LAYERS, *pool.LAYERS, *linear.LAYERS, *reshape.LAYERS, *norm.LAYERS,
    *dropout.LAYERS, *activation.LAYERS, *scaling.LAYERS, *merge.LAYERS, *shuffle.LAYERS,
)  # fmt: skip


def normalise_name(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


_BY_NAME: dict[str, type[LayerType]] = {}
for _cls in ALL_TYPES:
    for _name in (_cls.type_name, *_cls.aliases):
        key = normalise_name(_name)
        assert key not in _BY_NAME, f"layer name {_name} registered twice"
        _BY_NAME[key] = _cls

KERAS_ACTIVATION = "activation"
"""Keras's ``Activation: relu`` names an activation type as its one argument."""


def find_type(name: str) -> type[LayerType] | None:
    return _BY_NAME.get(normalise_name(name))


def known_names() -> list[str]:
    return sorted({cls.type_name for cls in ALL_TYPES})
