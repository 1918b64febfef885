"""Normalisation layers. Parameters are the affine weight and bias; running statistics are
buffers, not parameters, exactly as ``module.parameters()`` and ``module.buffers()`` count.

FLOPs: batch norm in inference is one scale and one shift per element (2); group, instance
and layer norm compute statistics (3 per element) and normalise (2), plus 2 when affine.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .base import LayerType, SaveContext, Saved, Shape, numel, show_shape, variants
from .fields import Bool, Float, Int, IntList, OptionalInt
from .strides import contiguous

COMMON = {
    "eps": (Float(0.0), 1e-5),
    "momentum": (Float(0.0, 1.0, allow_none=True), 0.1),
}
KERAS_NORM_KEYWORDS = {"epsilon": "eps"}
RANKS = {1: ((2, 3), "(N, C) or (N, C, L)"), 2: ((4,), "(N, C, H, W)"), 3: ((5,), "(N, C, D, H, W)")}

STATISTICS_FLOPS_RULE = "5 per element (statistics 3, normalise 2), +2 when affine"


def statistics_flops(out: Shape, affine: bool) -> int:
    """Group, instance and layer norms: mean and variance (3 per element), normalise (2),
    and the affine scale and shift (2 more)."""
    return numel(out) * (5 + (2 if affine else 0))


class RunningStatsNorm(LayerType):
    """Shared by batch and instance norm: per-channel affine and running statistics."""

    nd: int
    family = "normalisation"
    inferred = "num_features"
    positional = ("eps", "momentum", "affine", "track_running_stats")
    keyword_aliases = KERAS_NORM_KEYWORDS
    torch_name: str

    def ranks(self) -> tuple[tuple[int, ...], str]:
        return RANKS[self.nd]

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, *self.ranks())
        self.check_inferred(self.args.num_features, shape[1], "channels")
        return shape

    def params(self, shape: Shape) -> int:
        return 2 * shape[1] if self.args.affine else 0

    def buffers(self, shape: Shape) -> int:
        # running_mean, running_var and the scalar num_batches_tracked
        return 2 * shape[1] + 1 if self.args.track_running_stats else 0

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        return (shape[1], shape[1]) if self.args.affine else ()

    def buffer_bytes(self, shape: Shape, itemsize: int) -> int:
        """running_mean and running_var in the parameters' type; num_batches_tracked is int64."""
        return 2 * shape[1] * itemsize + 8 if self.args.track_running_stats else 0

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        return getattr(nn, f"{self.torch_name}{self.nd}d")(
            shape[1], a.eps, a.momentum, a.affine, a.track_running_stats
        )


class BatchNormNd(RunningStatsNorm):
    """``torch.nn.BatchNorm{1,2,3}d``; num_features is inferred from the channels."""

    torch_name = "BatchNorm"
    flops_per_element = 2

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """The input and the batch mean and inverse standard deviation, one per channel,
        in the parameters' type where the layer has parameters or running statistics
        (float32 under autocast), else in the input's."""
        a = self.args
        size = ctx.param_itemsize if a.affine or a.track_running_stats else ctx.itemsize
        return Saved(input=True, new=(shape[1] * size,) * 2)

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "num_features": (OptionalInt(1), None),
            **COMMON,
            "affine": (Bool(), True),
            "track_running_stats": (Bool(), True),
        }


class BatchNormAnyRank(BatchNormNd):
    """Batch norm that takes its dimensionality from the input, as Keras's
    ``BatchNormalization`` does: ``BatchNorm1d`` for (N, C) and (N, C, L), ``2d`` for
    (N, C, H, W), ``3d`` for (N, C, D, H, W)."""

    type_name = "batchnorm"
    aliases = ("batchnormalization",)
    nd = 0

    def ranks(self) -> tuple[tuple[int, ...], str]:
        return (2, 3, 4, 5), "(N, C, ...) with at most 3 spatial dimensions"

    def to_torch(self, shape: Shape) -> Any:
        self.nd = max(len(shape) - 2, 1)
        return super().to_torch(shape)


class InstanceNormNd(RunningStatsNorm):
    """``torch.nn.InstanceNorm{1,2,3}d``; affine and running statistics are off by default."""

    torch_name = "InstanceNorm"
    flops_rule = STATISTICS_FLOPS_RULE

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "num_features": (OptionalInt(1), None),
            **COMMON,
            "affine": (Bool(), False),
            "track_running_stats": (Bool(), False),
        }

    def ranks(self) -> tuple[tuple[int, ...], str]:
        return (self.nd + 2,), {1: "(N, C, L)", 2: RANKS[2][1], 3: RANKS[3][1]}[self.nd]

    def output_shape(self, shape: Shape) -> Shape:
        out = super().output_shape(shape)
        # Statistics of the input itself (no running ones) need two values or more.
        if not self.args.track_running_stats and prod(shape[2:]) == 1:
            raise self.fail(
                f"needs more than one spatial element per channel to compute its statistics, "
                f"got input {show_shape(shape)}"
            )
        return out

    def flops(self, shape: Shape, out: Shape) -> int:
        return statistics_flops(out, self.args.affine)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Instance norm runs batch norm on the input viewed as (1, N·C, …): the input, the
        mean and inverse standard deviation per (sample, channel), and the weight and
        running statistics repeated N times where there are any. In the parameters' type
        when affine, else in the input's."""
        a = self.args
        size = ctx.param_itemsize if a.affine else ctx.itemsize
        count = 2 + (1 if a.affine else 0) + (2 if a.track_running_stats else 0)
        return Saved(input=True, new=(shape[0] * shape[1] * size,) * count)


def statistics(layer: LayerType, shape: Shape, rows: int, affine: bool, ctx: SaveContext) -> Saved:
    """Group and layer norm: the input and a mean and inverse standard deviation for each
    of ``rows`` normalised groups. CUDA's autocast runs both in float32 (the float32 copy
    of the input is saved); elsewhere the statistics are in the parameters' type when
    affine, else in the input's."""
    if ctx.cuda_autocast:
        return ctx.cast(numel(shape), 4) + Saved(new=(rows * 4,) * 2)
    size = ctx.param_itemsize if affine else ctx.itemsize
    return Saved(input=True, new=(rows * size,) * 2)


class GroupNorm(LayerType):
    """``torch.nn.GroupNorm(num_groups, num_channels)``; num_channels is inferred."""

    type_name = "groupnorm"
    family = "normalisation"
    inferred = "num_channels"
    flops_rule = STATISTICS_FLOPS_RULE
    positional = ("num_groups", "eps", "affine")
    keyword_aliases = KERAS_NORM_KEYWORDS
    fields = {
        "num_groups": (Int(1), ...),
        "num_channels": (OptionalInt(1), None),
        "eps": (Float(0.0), 1e-5),
        "affine": (Bool(), True),
    }

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, tuple(range(2, 12)), "(N, C, ...)")
        self.check_inferred(self.args.num_channels, shape[1], "channels")
        groups = self.args.num_groups
        if shape[1] % groups:
            raise self.fail(f"channels {shape[1]} are not divisible by num_groups {groups}")
        # PyTorch's check (F.group_norm): batch·channels/num_groups·spatial must exceed 1.
        if shape[0] * shape[1] // groups * prod(shape[2:]) == 1:
            raise self.fail(
                f"needs more than one value per group: batch·channels/num_groups·spatial = "
                f"{shape[0]}·{shape[1]}/{groups}·{prod(shape[2:])} = 1 for input {show_shape(shape)}"
            )
        return shape

    def params(self, shape: Shape) -> int:
        return 2 * shape[1] if self.args.affine else 0

    def flops(self, shape: Shape, out: Shape) -> int:
        return statistics_flops(out, self.args.affine)

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        return (shape[1], shape[1]) if self.args.affine else ()

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        return statistics(self, shape, shape[0] * self.args.num_groups, self.args.affine, ctx)

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return 4 if ctx.cuda_autocast else ctx.itemsize

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.GroupNorm(self.args.num_groups, shape[1], self.args.eps, self.args.affine)


class LayerNorm(LayerType):
    """``torch.nn.LayerNorm(normalized_shape)``: normalises over the trailing dimensions;
    normalized_shape defaults to the last dimension."""

    type_name = "layernorm"
    aliases = ("layernormalization",)
    family = "normalisation"
    positional = ("normalized_shape", "eps", "elementwise_affine", "bias")
    flops_rule = STATISTICS_FLOPS_RULE
    keyword_aliases = KERAS_NORM_KEYWORDS
    fields = {
        "normalized_shape": (IntList(1), None),
        "eps": (Float(0.0), 1e-5),
        "elementwise_affine": (Bool(), True),
        "bias": (Bool(), True),
    }

    def normalized(self, shape: Shape) -> tuple[int, ...]:
        return self.args.normalized_shape or shape[-1:]

    def output_shape(self, shape: Shape) -> Shape:
        wanted = self.normalized(shape)
        if len(wanted) >= len(shape) or tuple(shape[-len(wanted) :]) != tuple(wanted):
            raise self.fail(
                f"normalized_shape {list(wanted)} does not match the trailing dimensions of "
                f"the input {show_shape(shape)}"
            )
        return shape

    def params(self, shape: Shape) -> int:
        if not self.args.elementwise_affine:
            return 0
        return prod(self.normalized(shape)) * (2 if self.args.bias else 1)

    def flops(self, shape: Shape, out: Shape) -> int:
        return statistics_flops(out, self.args.elementwise_affine)

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        if not self.args.elementwise_affine:
            return ()
        size = prod(self.normalized(shape))
        return (size, size) if self.args.bias else (size,)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        rows = numel(shape) // prod(self.normalized(shape))
        return statistics(self, shape, rows, self.args.elementwise_affine, ctx)

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return 4 if ctx.cuda_autocast else ctx.itemsize

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        return nn.LayerNorm(self.normalized(shape), a.eps, a.elementwise_affine, a.bias)


class LayerNorm2d(LayerType):
    """ConvNeXt's ``LayerNorm2d`` (torchvision): ``nn.LayerNorm`` over the channel
    dimension of (N, C, ...), each position normalised across its C values; normalized_shape
    is inferred from the channels. torchvision's class takes (N, C, H, W) only; this one
    also takes (N, C) and (N, C, L) or more spatial dimensions.

    params 2·C with elementwise_affine (C without bias); FLOPs as layernorm's."""

    type_name = "layernorm2d"
    family = "normalisation"
    flops_rule = STATISTICS_FLOPS_RULE
    inferred = "normalized_shape"
    positional = ("eps", "elementwise_affine", "bias")
    keyword_aliases = KERAS_NORM_KEYWORDS
    fields = {
        "normalized_shape": (OptionalInt(1), None),
        "eps": (Float(0.0), 1e-5),
        "elementwise_affine": (Bool(), True),
        "bias": (Bool(), True),
    }

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, tuple(range(2, 12)), "(N, C, ...)")
        self.check_inferred(self.args.normalized_shape, shape[1], "channels")
        return shape

    def params(self, shape: Shape) -> int:
        if not self.args.elementwise_affine:
            return 0
        return shape[1] * (2 if self.args.bias else 1)

    def flops(self, shape: Shape, out: Shape) -> int:
        return statistics_flops(out, self.args.elementwise_affine)

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        if not self.args.elementwise_affine:
            return ()
        return (shape[1], shape[1]) if self.args.bias else (shape[1],)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """As layernorm over the channels: the input (the channels-last view of it, one
        storage), and a mean and inverse standard deviation per position."""
        return statistics(self, shape, numel(shape) // shape[1], self.args.elementwise_affine, ctx)

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return 4 if ctx.cuda_autocast else ctx.itemsize

    def output_strides(self, out: Shape) -> tuple[int, ...] | None:
        """Layer norm's output is contiguous channels-last; moving the channels back to
        dim 1 is a view, so the output has channels-last strides."""
        last = contiguous((out[0], *out[2:], out[1]))
        return (last[0], last[-1], *last[1:-1])

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import LayerNorm2d as LayerNorm2dModule

        a = self.args
        return LayerNorm2dModule(shape[1], a.eps, a.elementwise_affine, a.bias)


LAYERS: list[type[LayerType]] = [
    *variants(BatchNormNd, "batchnorm{n}d"),
    *variants(InstanceNormNd, "instancenorm{n}d"),
    type(
        "BatchNormAnyRank", (BatchNormAnyRank,),
        {"fields": BatchNormNd.make_fields(0), "__doc__": BatchNormAnyRank.__doc__},
    ),
    GroupNorm,
    LayerNorm,
    LayerNorm2d,
]  # fmt: skip
