"""Fully connected layer. Acts on the last dimension: ``[*, in_features] → [*, out_features]``."""

from __future__ import annotations

from typing import Any

from .base import FlatShape, LayerType, Shape, numel, show_shape
from .fields import Bool, Int, OptionalInt


class Linear(LayerType):
    """``torch.nn.Linear``; in_features is inferred from the last dimension."""

    type_name = "linear"
    aliases = ("dense", "fullyconnected", "fc")
    family = "dense"
    inferred = "in_features"
    positional = ("out_features", "bias")
    keyword_aliases = {"units": "out_features", "use_bias": "bias"}
    flops_rule = "1 per output element with a bias"
    fields = {
        "in_features": (OptionalInt(1), None),
        "out_features": (Int(1), ...),
        "bias": (Bool(), True),
    }

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) < 2:
            raise self.fail(f"needs at least one dimension per sample, got {show_shape(shape)}")
        given, actual = self.args.in_features, shape[-1]
        if given is not None and given != actual:
            factors = getattr(shape, "factors", ())
            if isinstance(shape, FlatShape) and len(factors) > 1:
                source = f"the flattened input has {actual} = " + "×".join(map(str, factors))
            else:
                source = f"the input's last dimension is {actual} (input {show_shape(shape)})"
            raise self.fail(f"in_features {given} but {source}")
        return (*shape[:-1], self.args.out_features)

    def params(self, shape: Shape) -> int:
        a = self.args
        return shape[-1] * a.out_features + (a.out_features if a.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return numel(out) * shape[-1]

    def flops(self, shape: Shape, out: Shape) -> int:
        return 2 * self.macs(shape, out) + (numel(out) if self.args.bias else 0)

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.Linear(shape[-1], self.args.out_features, bias=self.args.bias)


LAYERS: list[type[LayerType]] = [Linear]
