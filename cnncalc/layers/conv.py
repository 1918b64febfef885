"""Convolution and transposed convolution in 1, 2 and 3 spatial dimensions.

Shape (per spatial dimension, PyTorch's ``Conv*d`` docstring):
    out = floor((L + pad_left + pad_right − dilation·(kernel − 1) − 1) / stride) + 1
Transposed:
    out = (L − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1
"""

from __future__ import annotations

from math import prod
from typing import Any

from .. import arithmetic
from .base import (
    LayerType,
    SaveContext,
    Saved,
    Shape,
    WeightedLayer,
    Window,
    dims,
    numel,
    show_shape,
    variants,
)
from .fields import Bool, Choice, Int, Ints, OptionalInt, Padding

KERAS_CONV_KEYWORDS = {
    "filters": "out_channels",
    "strides": "stride",
    "dilation_rate": "dilation",
    "use_bias": "bias",
}


def check_groups(layer: LayerType, channels: int, out_channels: int, groups: int) -> None:
    if channels % groups:
        raise layer.fail(f"input channels {channels} are not divisible by groups {groups}")
    if out_channels % groups:
        raise layer.fail(f"out_channels {out_channels} is not divisible by groups {groups}")


class ConvNd(WeightedLayer):
    """``torch.nn.Conv{1,2,3}d``: padding int, per-dimension list, valid, same or full."""

    nd: int
    family = "convolution"
    inferred = "in_channels"
    positional = (
        "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
        "padding_mode",
    )  # fmt: skip
    keyword_aliases = KERAS_CONV_KEYWORDS
    receptive = "window"
    flops_rule = "1 per output element with a bias"

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "in_channels": (OptionalInt(1), None),
            "out_channels": (Int(1), ...),
            "kernel_size": (Ints(nd, 1, exact=True), ...),
            "stride": (Ints(nd, 1), 1),
            "padding": (Padding(nd, minimum=None), 0),
            "dilation": (Ints(nd, 1), 1),
            "groups": (Int(1), 1),
            "bias": (Bool(), True),
            "padding_mode": (Choice("zeros", "reflect", "replicate", "circular"), "zeros"),
        }

    def pads(self, shape: Shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(left, right) padding per spatial dimension, the string forms resolved."""
        a = self.args
        padding = a.padding
        sizes = shape[2:]
        if padding == "valid":
            zero = (0,) * self.nd
            return zero, zero
        if padding == "full":
            full = tuple(arithmetic.full_padding(k, d) for k, d in zip(a.kernel_size, a.dilation))
            return full, full
        if padding == "same":
            pairs = [
                arithmetic.same_padding(n, k, s, d)
                for n, k, s, d in zip(sizes, a.kernel_size, a.stride, a.dilation)
            ]
            return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        return padding, padding

    def output_shape(self, shape: Shape) -> Shape:
        a = self.args
        self.require_spatial(shape)
        channels, sizes = shape[1], shape[2:]
        self.check_inferred(a.in_channels, channels, "channels")
        check_groups(self, channels, a.out_channels, a.groups)
        left, right = self.pads(shape)
        self.check_padding(sizes, left, right)
        padded = tuple(n + lo + hi for n, lo, hi in zip(sizes, left, right))
        spans = tuple(arithmetic.effective_kernel(k, d) for k, d in zip(a.kernel_size, a.dilation))
        if any(p < s for p, s in zip(padded, spans)):
            raise self.fail(
                f"kernel is larger than the padded input: padded input {dims(padded)}, "
                f"kernel {dims(spans)} (kernel_size {dims(a.kernel_size)}, dilation "
                f"{dims(a.dilation)}) on input {show_shape(shape)}"
            )
        out = tuple(
            arithmetic.conv_output_size(n, k, s, lo, hi, d)
            for n, k, s, lo, hi, d in zip(sizes, a.kernel_size, a.stride, left, right, a.dilation)
        )
        return (shape[0], a.out_channels, *out)

    def check_padding(self, sizes: Shape, left: Shape, right: Shape) -> None:
        mode = self.args.padding_mode
        for n, lo, hi in zip(sizes, left, right):
            if mode == "zeros" and min(lo, hi) < 0:
                raise self.fail(
                    f"negative padding {min(lo, hi)} is only supported with a padding_mode "
                    "other than zeros"
                )
            if mode == "reflect" and max(lo, hi) >= n:
                raise self.fail(
                    f"reflect padding ({lo}, {hi}) must be smaller than the input size {n}"
                )
            if mode == "circular" and max(lo, hi) > n:
                raise self.fail(
                    f"circular padding ({lo}, {hi}) must be at most the input size {n}"
                )

    def params(self, shape: Shape) -> int:
        a = self.args
        weight = a.out_channels * (shape[1] // a.groups) * prod(a.kernel_size)
        return weight + (a.out_channels if a.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return numel(out) * (shape[1] // self.args.groups) * prod(self.args.kernel_size)

    def flops(self, shape: Shape, out: Shape) -> int:
        return 2 * self.macs(shape, out) + (numel(out) if self.args.bias else 0)

    def window(self, shape: Shape) -> Window:
        a = self.args
        left, right = self.pads(shape)
        return Window(a.kernel_size, a.stride, left, right, a.dilation)

    def workspace_bytes(self, shape: Shape, ctx: SaveContext, training: bool) -> int:
        """At inference on CPU, oneDNN reorders the weight into its blocked layout for each
        call: one copy of the weight while the convolution runs."""
        if training or ctx.device != "cpu":
            return 0
        weight = self.params(shape) - (self.args.out_channels if self.args.bias else 0)
        return weight * ctx.lower

    def padded_copy(self, shape: Shape) -> int | None:
        """Elements of the padded copy of the input that the convolution reads, where one
        is made (``same`` or asymmetric padding, a padding_mode other than zeros); None
        where the kernel pads by itself."""
        left, right = self.pads(shape)
        if left == right and self.args.padding != "same" and self.args.padding_mode == "zeros":
            return None
        return shape[0] * shape[1] * prod(n + lo + hi for n, lo, hi in zip(shape[2:], left, right))

    def bias_count(self) -> int:
        return self.args.out_channels if self.args.bias else 0

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """The input, or the padded copy where one is made (reflect and replicate padding
        also save their own input, in float32 under CPU autocast); under autocast the
        lower-precision copies of the input and of the weight."""
        padded = self.padded_copy(shape)
        weight = self.params(shape) - (self.args.out_channels if self.args.bias else 0)
        cast_weight = Saved(weights=(weight * ctx.lower,)) if ctx.autocast else Saved()
        if padded is None:
            return ctx.cast(numel(shape), ctx.lower) + cast_weight
        saved = Saved(new=(padded * ctx.lower,))
        if self.args.padding_mode in ("reflect", "replicate") and ctx.input_grad:
            pad_size = 4 if ctx.cpu_autocast else ctx.itemsize  # CPU autocast pads in float32
            saved += ctx.cast(numel(shape), pad_size)
        return saved + cast_weight

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return ctx.lower

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        from .torch_modules import explicit_pad

        a = self.args
        left, right = self.pads(shape)
        conv_class = getattr(nn, f"Conv{self.nd}d")
        symmetric = left == right and a.padding != "same"
        conv = conv_class(
            shape[1], a.out_channels, a.kernel_size, a.stride,
            padding=left if symmetric else 0, dilation=a.dilation, groups=a.groups,
            bias=a.bias, padding_mode=a.padding_mode,
        )  # fmt: skip
        if symmetric:
            return conv
        return nn.Sequential(explicit_pad(left, right, a.padding_mode), conv)


class ConvTransposeNd(WeightedLayer):
    """``torch.nn.ConvTranspose{1,2,3}d``. ``output_padding`` must stay below stride or
    dilation; PyTorch accepts no padding strings and no padding_mode but zeros here."""

    nd: int
    family = "transposed convolution"
    inferred = "in_channels"
    positional = (
        "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias",
        "dilation", "padding_mode",
    )  # fmt: skip
    keyword_aliases = KERAS_CONV_KEYWORDS
    receptive = "reset"
    flops_rule = "1 per output element with a bias"

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "in_channels": (OptionalInt(1), None),
            "out_channels": (Int(1), ...),
            "kernel_size": (Ints(nd, 1, exact=True), ...),
            "stride": (Ints(nd, 1), 1),
            "padding": (Ints(nd, 0), 0),
            "output_padding": (Ints(nd, 0), 0),
            "groups": (Int(1), 1),
            "bias": (Bool(), True),
            "dilation": (Ints(nd, 1), 1),
            "padding_mode": (Choice("zeros"), "zeros"),
        }

    def output_shape(self, shape: Shape) -> Shape:
        a = self.args
        self.require_spatial(shape)
        self.check_inferred(a.in_channels, shape[1], "channels")
        check_groups(self, shape[1], a.out_channels, a.groups)
        for op, s, d in zip(a.output_padding, a.stride, a.dilation):
            if op >= s and op >= d:
                raise self.fail(
                    f"output_padding {op} must be smaller than either stride {s} or "
                    f"dilation {d}"
                )
        out = tuple(
            arithmetic.transposed_output_size(n, k, s, p, op, d)
            for n, k, s, p, op, d in zip(
                shape[2:], a.kernel_size, a.stride, a.padding, a.output_padding, a.dilation
            )
        )
        if min(out) < 1:
            raise self.fail(
                f"output size {dims(out)} is too small for input {show_shape(shape)}: "
                f"(L − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1 "
                "must be at least 1"
            )
        return (shape[0], a.out_channels, *out)

    def params(self, shape: Shape) -> int:
        a = self.args
        weight = shape[1] * (a.out_channels // a.groups) * prod(a.kernel_size)
        return weight + (a.out_channels if a.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return numel(shape) * (self.args.out_channels // self.args.groups) * prod(
            self.args.kernel_size
        )

    def flops(self, shape: Shape, out: Shape) -> int:
        return 2 * self.macs(shape, out) + (numel(out) if self.args.bias else 0)

    def window(self, shape: Shape) -> Window:
        """The kernel, stride, padding and dilation as given, for display: a transposed
        convolution has no single receptive field (``receptive = "reset"``)."""
        a = self.args
        return Window(a.kernel_size, a.stride, a.padding, a.padding, a.dilation)

    def bias_count(self) -> int:
        return self.args.out_channels if self.args.bias else 0

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """The input; under autocast the lower-precision copies of the input and weight."""
        weight = self.params(shape) - (self.args.out_channels if self.args.bias else 0)
        saved = ctx.cast(numel(shape), ctx.lower)
        return saved + Saved(weights=(weight * ctx.lower,)) if ctx.autocast else saved

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return ctx.lower

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        return getattr(nn, f"ConvTranspose{self.nd}d")(
            shape[1], a.out_channels, a.kernel_size, a.stride, a.padding, a.output_padding,
            groups=a.groups, bias=a.bias, dilation=a.dilation,
        )  # fmt: skip


LAYERS: list[type[LayerType]] = [
    *variants(ConvNd, "conv{n}d"),
    *variants(ConvTransposeNd, "conv_transpose{n}d", ("conv{n}dtranspose", "deconv{n}d")),
]
