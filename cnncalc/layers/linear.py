"""Fully connected layer. Acts on the last dimension: ``[*, in_features] → [*, out_features]``."""

from __future__ import annotations

from typing import Any

from .base import FlatShape, LayerType, SaveContext, Saved, Shape, WeightedLayer, numel, show_shape
from .fields import Bool, Int, OptionalInt
from .strides import view_strides


class Linear(WeightedLayer):
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

    def bias_count(self) -> int:
        return self.args.out_features if self.args.bias else 0

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """A matrix product saves each factor only for the other's gradient: the input
        where the weight is trained, the weight where the input needs a gradient (under
        autocast their lower-precision copies; the weight itself is a parameter)."""
        saved = Saved()
        if ctx.param_grad:
            folded = (numel(shape) // shape[-1], shape[-1])
            if len(shape) > 2 and ctx.strides and view_strides(shape, ctx.strides, folded) is None:
                # a non-contiguous input of 3 or more dimensions goes through matmul, whose
                # reshape to 2-D copies: the copy is saved (in the lower precision)
                saved = Saved(new=(numel(shape) * ctx.lower,))
            else:
                saved = ctx.cast(numel(shape), ctx.lower)
        if ctx.autocast and ctx.input_grad:
            saved += Saved(weights=(shape[-1] * self.args.out_features * ctx.lower,))
        return saved

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return ctx.lower

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.Linear(shape[-1], self.args.out_features, bias=self.args.bias)


LAYERS: list[type[LayerType]] = [Linear]
