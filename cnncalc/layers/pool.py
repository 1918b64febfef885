"""Max, average, adaptive and global pooling.

Shape (per spatial dimension, PyTorch's ``MaxPool*d``/``AvgPool*d``):
    out = floor((L + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1
with ``ceil_mode`` the floor becomes a ceil, and a last window that would start inside the
right padding is dropped. ``padding`` may be at most ``kernel_size // 2``.
"""

from __future__ import annotations

from math import prod
from typing import Any

from .. import arithmetic
from .base import LayerType, Shape, Window, dims, numel, show_shape, variants
from .fields import Bool, IntList, Ints, OptionalInt, OptionalInts, Padding

KERAS_POOL_KEYWORDS = {"pool_size": "kernel_size", "strides": "stride"}


class PoolNd(LayerType):
    """Shared rules of max and average pooling."""

    nd: int
    family = "pooling"
    keyword_aliases = KERAS_POOL_KEYWORDS
    receptive = "window"
    has_dilation = False
    flops_rule = "prod(kernel) per output element"

    def stride(self) -> tuple[int, ...]:
        return self.args.stride or self.args.kernel_size

    def dilation(self) -> tuple[int, ...]:
        return self.args.dilation if self.has_dilation else (1,) * self.nd

    def pads(self, shape: Shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
        padding = self.args.padding
        if padding == "valid":
            return (0,) * self.nd, (0,) * self.nd
        if padding == "same":
            pairs = [
                arithmetic.same_padding(n, k, s, d)
                for n, k, s, d in zip(shape[2:], self.args.kernel_size, self.stride(), self.dilation())
            ]
            return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        return padding, padding

    def output_shape(self, shape: Shape) -> Shape:
        a = self.args
        self.require_spatial(shape)
        if a.padding == "same":
            if a.ceil_mode:
                raise self.fail("ceil_mode cannot be combined with padding 'same'")
            left, right = self.pads(shape)
            out = tuple(
                arithmetic.conv_output_size(n, k, s, lo, hi, d)
                for n, k, s, lo, hi, d in zip(
                    shape[2:], a.kernel_size, self.stride(), left, right, self.dilation()
                )
            )
            return (*shape[:2], *out)
        padding = self.pads(shape)[0]
        for p, k in zip(padding, a.kernel_size):
            if p > k // 2:
                raise self.fail(
                    f"padding {p} must be at most half the kernel size {k} "
                    f"(kernel_size // 2 = {k // 2})"
                )
        self.check_input(shape)
        out = tuple(
            arithmetic.pool_output_size(n, k, s, p, d, a.ceil_mode)
            for n, k, s, p, d in zip(
                shape[2:], a.kernel_size, self.stride(), padding, self.dilation()
            )
        )
        if min(out) < 1:
            raise self.fail(
                f"output size {dims(out)} is too small: kernel {dims(a.kernel_size)} "
                f"(dilation {dims(self.dilation())}, padding {dims(padding)}) does not fit "
                f"the input {show_shape(shape)}"
            )
        return (*shape[:2], *out)

    def check_input(self, shape: Shape) -> None:
        """Extra input rules of a variant (AvgPool3d's unpadded-input rule)."""

    def flops(self, shape: Shape, out: Shape) -> int:
        return numel(out) * prod(self.args.kernel_size)

    def window(self, shape: Shape) -> Window:
        left, right = self.pads(shape)
        return Window(self.args.kernel_size, self.stride(), left, right, self.dilation())

    def torch_padding(self, shape: Shape) -> tuple[Any, Any]:
        """(padding for the torch module, an explicit pad module in front or None)."""
        from .torch_modules import explicit_pad

        if self.args.padding != "same":
            return self.pads(shape)[0], None
        left, right = self.pads(shape)
        fill = float("-inf") if self.has_dilation else 0.0
        return 0, explicit_pad(left, right, "zeros", fill)

    def wrap(self, pad: Any, pool: Any) -> Any:
        from torch import nn

        return pool if pad is None else nn.Sequential(pad, pool)


class MaxPoolNd(PoolNd):
    """``torch.nn.MaxPool{1,2,3}d``; stride defaults to kernel_size."""

    positional = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
    has_dilation = True

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "kernel_size": (Ints(nd, 1, exact=True), ...),
            "stride": (OptionalInts(nd, 1), None),
            "padding": (Padding(nd, ("valid", "same")), 0),
            "dilation": (Ints(nd, 1), 1),
            "return_indices": (Bool(), False),
            "ceil_mode": (Bool(), False),
        }

    def output_shape(self, shape: Shape) -> Shape:
        if self.args.return_indices:
            raise self.fail("return_indices=true returns two tensors; cnncalc follows one")
        return super().output_shape(shape)

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        padding, pad = self.torch_padding(shape)
        pool = getattr(nn, f"MaxPool{self.nd}d")(
            a.kernel_size, self.stride(), padding, a.dilation, ceil_mode=a.ceil_mode
        )
        return self.wrap(pad, pool)


class AvgPoolNd(PoolNd):
    """``torch.nn.AvgPool{1,2,3}d``; stride defaults to kernel_size. count_include_pad and
    divisor_override change values, never shapes."""

    positional = (
        "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override",
    )  # fmt: skip

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        fields = {
            "kernel_size": (Ints(nd, 1, exact=True), ...),
            "stride": (OptionalInts(nd, 1), None),
            "padding": (Padding(nd, ("valid", "same")), 0),
            "ceil_mode": (Bool(), False),
            "count_include_pad": (Bool(), True),
            "divisor_override": (OptionalInt(), None),
        }
        if nd == 1:  # AvgPool1d has no divisor_override
            del fields["divisor_override"]
        return fields

    def output_shape(self, shape: Shape) -> Shape:
        if getattr(self.args, "divisor_override", None) == 0:
            raise self.fail("divisor_override must not be zero")
        return super().output_shape(shape)

    def check_input(self, shape: Shape) -> None:
        if self.nd == 3 and any(n < k for n, k in zip(shape[2:], self.args.kernel_size)):
            raise self.fail(
                f"input {dims(shape[2:])} is smaller than the kernel "
                f"{dims(self.args.kernel_size)}: AvgPool3d needs the unpadded input to hold "
                "the kernel"
            )

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        padding, pad = self.torch_padding(shape)
        extra = {} if self.nd == 1 else {"divisor_override": a.divisor_override}
        pool = getattr(nn, f"AvgPool{self.nd}d")(
            a.kernel_size, self.stride(), padding, a.ceil_mode, a.count_include_pad, **extra
        )
        return self.wrap(pad, pool)


class AdaptivePoolNd(LayerType):
    """``torch.nn.Adaptive{Avg,Max}Pool{1,2,3}d``: window i spans
    ``[floor(i·L/out), ceil((i + 1)·L/out))``; a ``null`` entry keeps that dimension."""

    nd: int
    kind: str
    family = "adaptive pooling"
    flops_rule = "1 per input element"
    positional = ("output_size",)
    receptive = "window"

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {"output_size": (IntList(1, allow_none=True, min_length=1), ...)}

    def sizes(self, shape: Shape) -> tuple[int, ...]:
        wanted = self.args.output_size
        if len(wanted) == 1:
            wanted = wanted * self.nd
        return tuple(n if w is None else w for n, w in zip(shape[2:], wanted))

    def output_shape(self, shape: Shape) -> Shape:
        self.require_spatial(shape)
        if len(self.args.output_size) not in (1, self.nd):
            raise self.fail(
                f"output_size must have 1 or {self.nd} entries, got {len(self.args.output_size)}"
            )
        return (*shape[:2], *self.sizes(shape))

    def flops(self, shape: Shape, out: Shape) -> int:
        return numel(shape)

    def window(self, shape: Shape) -> Window | None:
        """A plain window when every output divides its input; otherwise windows differ in
        size and no single receptive field applies."""
        sizes = self.sizes(shape)
        if any(n % o for n, o in zip(shape[2:], sizes)):
            return None
        step = tuple(n // o for n, o in zip(shape[2:], sizes))
        zero = (0,) * self.nd
        return Window(step, step, zero, zero, (1,) * self.nd)

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        wanted = self.args.output_size
        # A lone null keeps every dimension; PyTorch takes None only inside a tuple.
        size = wanted[0] if len(wanted) == 1 and wanted[0] is not None else self.sizes(shape)
        return getattr(nn, f"Adaptive{self.kind}Pool{self.nd}d")(size)


class GlobalPool(LayerType):
    """Keras's global pooling: the mean (or max) over every spatial dimension, output
    (N, C), or (N, C, 1, …) with ``keepdims``."""

    kind: str
    family = "global pooling"
    flops_rule = "1 per input element"
    positional = ("keepdims",)
    fields = {"keepdims": (Bool(), False)}
    receptive = "window"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) < 3:
            raise self.fail(
                f"expects an input with spatial dimensions (N, C, ...), got {show_shape(shape)}"
            )
        return (*shape[:2], *((1,) * (len(shape) - 2))) if self.args.keepdims else shape[:2]

    def flops(self, shape: Shape, out: Shape) -> int:
        return numel(shape)

    def window(self, shape: Shape) -> Window:
        zero = (0,) * (len(shape) - 2)
        return Window(shape[2:], shape[2:], zero, zero, (1,) * len(zero))

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        nd = len(shape) - 2
        if nd <= 3:
            pool = getattr(nn, f"Adaptive{self.kind}Pool{nd}d")(1)
            return pool if self.args.keepdims else nn.Sequential(pool, nn.Flatten())
        # PyTorch pools over at most 3 dimensions: pool over their flattening instead.
        pool = nn.Sequential(nn.Flatten(2), getattr(nn, f"Adaptive{self.kind}Pool1d")(1))
        shaped = nn.Unflatten(2, (1,) * nd) if self.args.keepdims else nn.Flatten()
        return nn.Sequential(pool, shaped)


LAYERS: list[type[LayerType]] = [
    *variants(MaxPoolNd, "maxpool{n}d", ("maxpooling{n}d",)),
    *variants(AvgPoolNd, "avgpool{n}d", ("averagepooling{n}d",)),
    *variants(AdaptivePoolNd, "adaptive_avgpool{n}d", kind="Avg"),
    *variants(AdaptivePoolNd, "adaptive_maxpool{n}d", kind="Max"),
]
LAYERS += [
    type(
        "GlobalAvgPool", (GlobalPool,),
        {"type_name": "global_avgpool", "kind": "Avg", "__doc__": GlobalPool.__doc__,
         "aliases": ("globalaveragepooling1d", "globalaveragepooling2d", "globalaveragepooling3d")},
    ),
    type(
        "GlobalMaxPool", (GlobalPool,),
        {"type_name": "global_maxpool", "kind": "Max", "__doc__": GlobalPool.__doc__,
         "aliases": ("globalmaxpooling1d", "globalmaxpooling2d", "globalmaxpooling3d")},
    ),
]  # fmt: skip
