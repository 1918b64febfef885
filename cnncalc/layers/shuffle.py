"""Channel shuffle: ShuffleNet's reordering of channels between groups. No parameters, no
arithmetic (0 MACs, 0 FLOPs); the spatial field is kept."""

from __future__ import annotations

from typing import Any

from .base import LayerType, Shape, show_shape
from .fields import Int


class ChannelShuffle(LayerType):
    """``torch.nn.ChannelShuffle(groups)``: (N, C, *) with C divisible by ``groups``, as
    ``x.view(N, groups, C // groups, *).transpose(1, 2).reshape(N, C, *)``.

    Shape: the input's. PyTorch refuses an input with fewer than 3 dimensions (batch
    included), ``groups < 1`` and C not divisible by ``groups``."""

    type_name = "channel_shuffle"
    family = "reordering"
    positional = ("groups",)
    fields = {"groups": (Int(1), ...)}

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) < 3:
            raise self.fail(f"expects an input with more than 2 dimensions, got {show_shape(shape)}")
        channels, groups = shape[1], self.args.groups
        if channels % groups:
            raise self.fail(f"needs channels divisible by groups, got {channels} channels and {groups} groups")
        return shape

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.ChannelShuffle(self.args.groups)


LAYERS: list[type[LayerType]] = [ChannelShuffle]
