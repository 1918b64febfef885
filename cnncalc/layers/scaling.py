"""Learnable scaling. ConvNeXt's layer scale multiplies each channel by its own learnable
factor: C parameters, no MACs, one FLOP (a multiply) per element."""

from __future__ import annotations

from typing import Any

from .base import LayerType, Shape
from .fields import Float, OptionalInt


class LayerScale(LayerType):
    """ConvNeXt's layer scale (torchvision's ``CNBlock.layer_scale``): ``x · γ`` with a
    learnable γ of shape (C, 1, ..., 1), initialised to ``init_value``, so that channel c of
    (N, C, ...) is scaled by γ[c]. The channels are dim 1, as for every (N, C, ...) layer;
    num_channels is inferred from them.

    params C; MACs 0; FLOPs 1 per element."""

    type_name = "layer_scale"
    family = "scaling"
    inferred = "num_channels"
    positional = ("init_value",)
    keyword_aliases = {"init_values": "init_value"}
    fields = {
        "num_channels": (OptionalInt(1), None),
        "init_value": (Float(), 1e-6),
    }
    flops_per_element = 1

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, tuple(range(2, 12)), "(N, C, ...)")
        self.check_inferred(self.args.num_channels, shape[1], "channels")
        return shape

    def params(self, shape: Shape) -> int:
        return shape[1]

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import LayerScale as LayerScaleModule

        return LayerScaleModule(shape[1], len(shape), self.args.init_value)


LAYERS: list[type[LayerType]] = [LayerScale]
