"""The layer a single-layer question is about, built as the real layer type.

``conv``, ``solve`` and ``explain`` describe one sliding-window layer with a ``WindowSpec``
and build it through the registry, the same class ``shapes`` builds for a model row: its
validation, its output shape, its refusals and its resolved padding are the answer. The
tutor adds only the worked text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..layers import LayerType, Shape, find_type

MAX_SPATIAL_DIMS = 3


@dataclass(frozen=True)
class WindowSpec:
    """One layer: ``op`` is its registry name without the dimension suffix (``conv``,
    ``conv_transpose``, ``maxpool``, ``avgpool``); every geometry value holds one entry for
    all dimensions or one per dimension, ``None`` for the layer type's default. ``padding``
    may be a word (``same``, ``valid``, ``full``)."""

    op: str
    kernel: tuple[int, ...] | None
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | str | None = None
    dilation: tuple[int, ...] | None = None
    output_padding: tuple[int, ...] | None = None
    ceil_mode: bool = False

    def layer_type(self, nd: int) -> type[LayerType]:
        layer_type = find_type(f"{self.op}{nd}d") if 1 <= nd <= MAX_SPATIAL_DIMS else None
        if layer_type is None:
            raise SpecError(f"input must have 1 to {MAX_SPATIAL_DIMS} spatial dimensions, got {nd}")
        return layer_type

    def build(self, nd: int, **channels: int | bool) -> LayerType:
        """The layer with ``nd`` spatial dimensions, validated as a model row's arguments
        are; ``channels`` adds ``in_channels``/``out_channels``/``bias`` for convolutions
        (``out_channels`` defaults to 1)."""
        layer_type = self.layer_type(nd)
        given: dict[str, Any] = {
            "kernel_size": self.kernel, "stride": self.stride, "padding": self.padding,
            "dilation": self.dilation, "output_padding": self.output_padding,
        }  # fmt: skip
        arguments = {name: argument(value) for name, value in given.items() if value is not None}
        if self.ceil_mode:
            arguments["ceil_mode"] = True
        if "out_channels" in layer_type.fields:
            arguments |= {"out_channels": 1} | channels
        return layer_type.from_arguments([], arguments)


def argument(value: tuple[int, ...] | str) -> Any:
    """A command-line value as a model file writes it: ``3``, ``[3, 5]`` or ``'same'``."""
    if isinstance(value, str) or len(value) != 1:
        return value if isinstance(value, str) else list(value)
    return value[0]


def input_shape(sizes: Shape, channels: int = 1, batch: int = 1) -> Shape:
    """The tensor shape ``(N, C, *sizes)`` the layer is asked about."""
    return (batch, channels, *sizes)
