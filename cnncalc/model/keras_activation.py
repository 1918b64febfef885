"""Keras's ``activation=`` argument on convolutions and dense layers.

``Conv2D(16, 3, activation='relu')`` is a convolution followed by a ReLU; cnncalc makes the
activation a row of its own, named after the layer: ``conv2d1`` and ``conv2d1.activation``.
Keras's ``'linear'`` and ``None`` (its default) add nothing.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from ..layers import LayerType, find_type
from ..layers.activation import ACTIVATION_NAMES
from ..quote import quote
from .nodes import Call

KEYWORD = "activation"
FAMILIES = ("convolution", "transposed convolution", "dense")
"""The layer types Keras gives an ``activation`` argument: Conv1D/2D/3D, their transposes,
Dense."""
NO_ACTIVATION = ("linear", None)


def split_activation(layer_type: type[LayerType], args: Any) -> tuple[Any, type[LayerType] | None]:
    """The layer's own arguments without ``activation``, and the activation type it names
    (None where it names none)."""
    if layer_type.family not in FAMILIES:
        if (isinstance(args, Call) and KEYWORD in args.keywords) or (
            isinstance(args, dict) and KEYWORD in args
        ):
            raise SpecError(
                f"{layer_type.type_name} takes no activation (Keras's activation= belongs to "
                "convolutions and dense layers); add the activation as a layer of its own"
            )
        return args, None
    if isinstance(args, Call) and KEYWORD in args.keywords:
        keywords = dict(args.keywords)
        name = keywords.pop(KEYWORD)
        args = Call(args.positional, keywords)
    elif isinstance(args, dict) and KEYWORD in args:
        args = dict(args)
        name = args.pop(KEYWORD)
    else:
        return args, None
    if name is None or (isinstance(name, str) and name.lower() in NO_ACTIVATION):
        return args, None
    found = find_type(name) if isinstance(name, str) else None
    if found is None or found.type_name not in ACTIVATION_NAMES:
        raise SpecError(
            f"{layer_type.type_name} activation must name an activation "
            f"({', '.join(ACTIVATION_NAMES)}, or linear for none), got {quote(name)}"
        )
    return args, found
