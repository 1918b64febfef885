"""Layers that move elements without arithmetic: flatten, unflatten, reshape, zero padding,
pixel shuffle, upsampling, permute and transpose. No parameters; FLOPs zero except
interpolating upsampling (3 per output element per spatial dimension: a subtract, a
multiply and an add)."""

from __future__ import annotations

from math import prod
from typing import Any

from ..limits import MAX_DIMENSION
from ..quote import quote
from .base import (
    NOTHING,
    FlatShape,
    LayerType,
    SaveContext,
    Saved,
    Shape,
    dims,
    numel,
    show_shape,
    variants,
)
from .fields import (
    Choice,
    FloatOrFloats,
    Int,
    IntList,
    Ints,
    OptionalBool,
    _fail,
    _validator,
    check_int,
)  # fmt: skip
from .strides import view_strides as strides_of_view


def normalise_dim(layer: LayerType, dim: int, rank: int, what: str) -> int:
    if not -rank <= dim < rank:
        raise layer.fail(
            f"{what} {dim} is out of range for a {rank}-D input (expected {-rank}..{rank - 1})"
        )
    return dim + rank if dim < 0 else dim


def resolve_minus_one(
    layer: LayerType, wanted: tuple[int, ...], count: int, source: str
) -> tuple[int, ...]:
    """Fill a single -1 so the product equals ``count``; refuse what cannot match."""
    if sum(1 for w in wanted if w == -1) > 1:
        raise layer.fail(f"only one dimension can be -1, got {list(wanted)}")
    if any(w < -1 or w == 0 for w in wanted):
        raise layer.fail(f"sizes must be positive or -1, got {list(wanted)}")
    known = prod(w for w in wanted if w != -1)
    if -1 in wanted:
        if count % known:
            raise layer.fail(f"cannot make {list(wanted)} from {count} = {source} elements")
        return tuple(count // known if w == -1 else w for w in wanted)
    if known != count:
        raise layer.fail(
            f"{list(wanted)} holds {known} elements but the input has {count} = {source}"
        )
    return wanted


class ViewLayer(LayerType):
    """A layer PyTorch computes as a view of its input: nothing saved, the output shares
    the input's storage, with the strides ``view_strides`` gives (a reshape's where
    PyTorch can make one; a permuted input usually copies)."""

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        return NOTHING

    def aliases_input(self, training: bool = True) -> bool:
        return True

    def view_strides(self, shape: Shape, strides: tuple[int, ...], out: Shape) -> tuple[int, ...] | None:
        return strides_of_view(shape, strides, out)


class Flatten(ViewLayer):
    """``torch.nn.Flatten(start_dim=1, end_dim=-1)``: dims start..end become their product."""

    type_name = "flatten"
    family = "reshaping"
    positional = ("start_dim", "end_dim")
    fields = {"start_dim": (Int(), 1), "end_dim": (Int(), -1)}
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        rank = len(shape)
        start = normalise_dim(self, self.args.start_dim, rank, "start_dim")
        end = normalise_dim(self, self.args.end_dim, rank, "end_dim")
        if start > end:
            raise self.fail(
                f"start_dim {self.args.start_dim} comes after end_dim {self.args.end_dim} for input {show_shape(shape)}"
            )
        merged = shape[start : end + 1]
        out = (*shape[:start], prod(merged), *shape[end + 1 :])
        return FlatShape(out, merged) if end == rank - 1 else out

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.Flatten(self.args.start_dim, self.args.end_dim)


class Unflatten(ViewLayer):
    """``torch.nn.Unflatten(dim, unflattened_size)``; one size may be -1."""

    type_name = "unflatten"
    family = "reshaping"
    positional = ("dim", "unflattened_size")
    fields = {"dim": (Int(), ...), "unflattened_size": (IntList(min_length=1), ...)}
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        dim = normalise_dim(self, self.args.dim, len(shape), "dim")
        sizes = resolve_minus_one(self, self.args.unflattened_size, shape[dim], str(shape[dim]))
        return (*shape[:dim], *sizes, *shape[dim + 1 :])

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.Unflatten(self.args.dim, self.args.unflattened_size)


class Reshape(ViewLayer):
    """Keras's ``Reshape(target_shape)``: a new per-sample shape, the batch kept; one size
    may be -1. ``- reshape: [16, 4, 4]`` and ``reshape(16, 4, 4)`` both mean shape (16, 4, 4)."""

    type_name = "reshape"
    aliases = ("view",)
    family = "reshaping"
    variadic = "shape"
    keyword_aliases = {"target_shape": "shape"}
    fields = {"shape": (IntList(min_length=1), ...)}
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        source = "×".join(map(str, shape[1:])) or "1"
        return (shape[0], *resolve_minus_one(self, self.args.shape, prod(shape[1:]), source))

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import Reshape as ReshapeModule

        return ReshapeModule(self.output_shape(shape)[1:])


def _zero_pad_list(value: Any, nd: int) -> tuple[int, ...]:
    if isinstance(value, list | tuple):
        if not value or len(value) % 2 or len(value) > 2 * nd:
            raise _fail(
                f"must be one integer or a list of 2 to {2 * nd} integers (left, right, top, bottom, ...), got {list(value)}"
            )
        return tuple(check_int(v) for v in value)
    return (check_int(value),) * (2 * nd)


def _keras_pad_list(value: Any, nd: int) -> tuple[int, ...]:
    """Keras order (first spatial dim first, one symmetric int or a (before, after) pair
    each) into PyTorch's F.pad order (last dim first)."""
    if not isinstance(value, list | tuple):
        return (check_int(value, 0),) * (2 * nd)
    if len(value) != nd:
        raise _fail(
            f"must be one integer or a list of {nd} entries (one per spatial dimension), got {quote(value)}"
        )
    pairs = []
    for entry in value:
        if isinstance(entry, list | tuple):
            if len(entry) != 2:
                raise _fail(
                    f"each entry must be an integer or a (before, after) pair, got {quote(entry)}"
                )
            pairs.append((check_int(entry[0], 0), check_int(entry[1], 0)))
        else:
            pairs.append((check_int(entry, 0),) * 2)
    return tuple(p for pair in reversed(pairs) for p in pair)


class ZeroPadNd(LayerType):
    """``torch.nn.ZeroPad{1,2,3}d``: pads are read last dimension first, (left, right, top,
    bottom, front, back); negative values crop."""

    nd: int
    family = "reshaping"
    positional = ("padding",)
    receptive = "window"
    pad_reader = staticmethod(_zero_pad_list)

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        reader = cls.pad_reader
        return {"padding": (_validator(lambda v: reader(v, nd), tuple), ...)}

    def per_dim(self, shape: Shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(left, right) padding for each of the padded dims, first dim first."""
        pads = self.args.padding
        count = len(pads) // 2
        left = tuple(pads[2 * i] for i in reversed(range(count)))
        right = tuple(pads[2 * i + 1] for i in reversed(range(count)))
        return left, right

    def output_shape(self, shape: Shape) -> Shape:
        left, right = self.per_dim(shape)
        count = len(left)
        if len(shape) < count + 1:
            raise self.fail(
                f"pads {count} dimensions but the input {show_shape(shape)} has only {len(shape) - 1} per sample"
            )
        head, tail = shape[: len(shape) - count], shape[len(shape) - count :]
        out = tuple(n + lo + hi for n, lo, hi in zip(tail, left, right))
        if min(out) < 1:
            raise self.fail(
                f"cropping leaves {dims(out)} of the input {dims(tail)}: every size must stay at least 1"
            )
        return (*head, *out)

    def window(self, shape: Shape) -> Any:
        from .base import Window

        left, right = self.per_dim(shape)
        spatial = len(shape) - 2
        if len(left) != spatial:
            return None
        one = (1,) * spatial
        return Window(one, one, left, right, one)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Nothing: the gradient needs only the shapes."""
        return NOTHING

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return (
            nn.ZeroPad3d(self.args.padding)
            if self.nd == 3
            else getattr(nn, f"ZeroPad{self.nd}d")(self.args.padding)
        )


class KerasZeroPaddingNd(ZeroPadNd):
    """Keras's ``ZeroPadding{1,2,3}D``: one int for every side, one int per spatial dimension
    (both sides), or a (before, after) pair per dimension, first spatial dimension first."""

    pad_reader = staticmethod(_keras_pad_list)


class PixelShuffle(LayerType):
    """``torch.nn.PixelShuffle(r)``: (N, C·r², H, W) → (N, C, H·r, W·r)."""

    type_name = "pixel_shuffle"
    family = "reshaping"
    positional = ("upscale_factor",)
    fields = {"upscale_factor": (Int(1), ...)}
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, (4,), "(N, C, H, W)")
        r = self.args.upscale_factor
        if shape[1] % (r * r):
            raise self.fail(f"channels {shape[1]} are not divisible by upscale_factor² = {r * r}")
        return (shape[0], shape[1] // (r * r), shape[2] * r, shape[3] * r)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Nothing: the gradient needs only the shapes."""
        return NOTHING

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.PixelShuffle(self.args.upscale_factor)


class PixelUnshuffle(LayerType):
    """``torch.nn.PixelUnshuffle(r)``: (N, C, H·r, W·r) → (N, C·r², H, W)."""

    type_name = "pixel_unshuffle"
    family = "reshaping"
    positional = ("downscale_factor",)
    fields = {"downscale_factor": (Int(1), ...)}
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(shape, (4,), "(N, C, H, W)")
        r = self.args.downscale_factor
        if shape[2] % r or shape[3] % r:
            raise self.fail(
                f"height {shape[2]} and width {shape[3]} must be divisible by downscale_factor {r}"
            )
        return (shape[0], shape[1] * r * r, shape[2] // r, shape[3] // r)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Nothing: the gradient needs only the shapes."""
        return NOTHING

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.PixelUnshuffle(self.args.downscale_factor)


UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
MODE_RANKS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


class Upsample(LayerType):
    """``torch.nn.Upsample``: ``size``, or ``scale_factor`` with out = floor(L·scale)
    computed in double precision as PyTorch does."""

    type_name = "upsample"
    family = "reshaping"
    positional = ("size", "scale_factor", "mode", "align_corners")
    flops_rule = "linear modes 3 per output element per spatial dimension; nearest 0"
    fields = {
        "size": (IntList(1), None),
        "scale_factor": (FloatOrFloats(), None),
        "mode": (Choice(*UPSAMPLE_MODES), "nearest"),
        "align_corners": (OptionalBool(), None),
    }
    receptive = "reset"

    def output_shape(self, shape: Shape) -> Shape:
        a = self.args
        spatial = len(shape) - 2
        if spatial not in (1, 2, 3):
            raise self.fail(
                f"expects a (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, got {show_shape(shape)}"
            )
        needed = MODE_RANKS.get(a.mode)
        if needed and needed != len(shape):
            raise self.fail(
                f"mode {a.mode} needs a {needed - 2}-D spatial input, got {show_shape(shape)}"
            )
        if a.align_corners is not None and a.mode in ("nearest", "area", "nearest-exact"):
            raise self.fail(
                "align_corners only works with the interpolating modes linear, bilinear, bicubic, trilinear"
            )
        if (a.size is None) == (a.scale_factor is None):
            raise self.fail("needs exactly one of size and scale_factor")
        if a.size is not None:
            out = self._per_dim(a.size, spatial, "size")
        else:
            factors = self._per_dim(a.scale_factor, spatial, "scale_factor")
            scaled = [float(n) * float(f) for n, f in zip(shape[2:], factors)]
            if max(scaled) > MAX_DIMENSION:
                raise self.fail(f"scale_factor makes a dimension above {MAX_DIMENSION:,}")
            out = tuple(int(v) for v in scaled)  # PyTorch truncates L·scale in double precision
        if min(out) < 1:
            raise self.fail(f"output size {dims(out)} is below 1 for input {show_shape(shape)}")
        return (*shape[:2], *out)

    def _per_dim(self, value: Any, spatial: int, what: str) -> tuple[Any, ...]:
        values = value if isinstance(value, tuple) else (value,)
        if len(values) == 1:
            return values * spatial
        if len(values) != spatial:
            raise self.fail(
                f"{what} has {len(values)} entries but the input has {spatial} spatial dimensions"
            )
        return values

    def flops(self, shape: Shape, out: Shape) -> int:
        return 0 if self.args.mode.startswith("nearest") else 3 * (len(out) - 2) * prod(out)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Interpolation needs only the shapes. ``area`` is adaptive average pooling: it
        saves the input (in float32 under CPU autocast in 3-D) unless every output size
        is 1 (a mean)."""
        if self.args.mode != "area" or all(n == 1 for n in out[2:]):
            return NOTHING
        return ctx.cast(numel(shape), self.output_itemsize(shape, ctx))

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        three_d_area = self.args.mode == "area" and len(shape) == 5
        return 4 if ctx.cpu_autocast and three_d_area else ctx.itemsize

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        a = self.args
        size = a.size if a.size is None or len(a.size) > 1 else a.size[0]
        return nn.Upsample(size, a.scale_factor, a.mode, a.align_corners)


class KerasUpSamplingNd(LayerType):
    """Keras's ``UpSampling{1,2,3}D(size)``: repeat each element ``size`` times per
    dimension (an integer scale factor), nearest or bilinear."""

    nd: int
    family = "reshaping"
    positional = ("size",)
    receptive = "reset"
    flops_rule = "bilinear 3 per output element per spatial dimension; nearest 0"

    @classmethod
    def make_fields(cls, nd: int) -> dict[str, tuple[Any, Any]]:
        return {
            "size": (Ints(nd, 1), 2),
            "interpolation": (Choice("nearest", "bilinear"), "nearest"),
        }

    def output_shape(self, shape: Shape) -> Shape:
        self.require_rank(
            shape,
            (self.nd + 2,),
            {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}[self.nd],
        )
        if self.args.interpolation == "bilinear" and self.nd != 2:
            raise self.fail("bilinear interpolation needs a 2-D spatial input")
        return (*shape[:2], *(n * s for n, s in zip(shape[2:], self.args.size)))

    def flops(self, shape: Shape, out: Shape) -> int:
        return 0 if self.args.interpolation == "nearest" else 3 * self.nd * prod(out)

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Nothing: the gradient needs only the shapes."""
        return NOTHING

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        return nn.Upsample(
            scale_factor=tuple(float(s) for s in self.args.size), mode=self.args.interpolation
        )


class Permute(ViewLayer):
    """``x.permute(*dims)``: output dim i is input dim ``dims[i]``. ``dims`` names every
    dimension, the batch included (``permute(0, 2, 3, 1)`` makes (N, C, H, W) channels-last);
    negative dims count from the end, as in PyTorch.

    The receptive field carries over where the permutation keeps every dim from 2 on in
    place; otherwise the spatial dimensions are no longer dims 2, ... and it is n/a."""

    type_name = "permute"
    family = "reordering"
    variadic = "dims"
    fields = {"dims": (IntList(min_length=1), ...)}

    @property
    def receptive(self) -> str:  # type: ignore[override]
        rank = len(self.args.dims)
        kept = all(d % rank == i for i, d in enumerate(self.args.dims) if i >= 2)
        return "pointwise" if kept else "reset"

    def order(self, shape: Shape) -> tuple[int, ...]:
        """``dims`` with negatives resolved; refuses what ``torch.permute`` refuses."""
        dims, rank = self.args.dims, len(shape)
        if len(dims) != rank:
            hint = ""
            if len(dims) == rank - 1 and sorted(dims) == list(range(1, rank)):
                # Keras's Permute counts from 1 and leaves the batch out.
                hint = f" (Keras's Permute({tuple(dims)}) is permute{(0, *dims)})"
            raise self.fail(
                f"dims {list(dims)} has {len(dims)} entr{'y' if len(dims) == 1 else 'ies'} "
                f"but the input {show_shape(shape)} "
                f"has {rank} dimensions, the batch included{hint}"
            )
        order = tuple(normalise_dim(self, d, rank, "dim") for d in dims)
        repeated = sorted({d for d in order if order.count(d) > 1})
        if repeated:
            raise self.fail(
                f"dims {list(dims)} is not a permutation of 0..{rank - 1}: dim "
                f"{', '.join(map(str, repeated))} appears more than once"
            )
        return order

    def output_shape(self, shape: Shape) -> Shape:
        return tuple(shape[d] for d in self.order(shape))

    def view_strides(self, shape: Shape, strides: tuple[int, ...], out: Shape) -> tuple[int, ...] | None:
        return tuple(strides[d] for d in self.order(shape))

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import Permute as PermuteModule

        return PermuteModule(tuple(self.args.dims))


class Transpose(ViewLayer):
    """``x.transpose(dim0, dim1)``: the two dimensions swap; negative dims count from the
    end, as in PyTorch.

    The receptive field carries over where dims 2, ... stay in place (dim0 and dim1 both 0
    or 1, or equal); otherwise it is n/a. A swap of dims 0 and 1 written with negative
    dims is not recognised as one: the rank is not known until the input is."""

    type_name = "transpose"
    family = "reordering"
    positional = ("dim0", "dim1")
    fields = {"dim0": (Int(), ...), "dim1": (Int(), ...)}

    @property
    def receptive(self) -> str:  # type: ignore[override]
        a = self.args
        kept = a.dim0 == a.dim1 or (0 <= a.dim0 < 2 and 0 <= a.dim1 < 2)
        return "pointwise" if kept else "reset"

    def output_shape(self, shape: Shape) -> Shape:
        rank = len(shape)
        first = normalise_dim(self, self.args.dim0, rank, "dim0")
        second = normalise_dim(self, self.args.dim1, rank, "dim1")
        out = list(shape)
        out[first], out[second] = shape[second], shape[first]
        return tuple(out)

    def view_strides(self, shape: Shape, strides: tuple[int, ...], out: Shape) -> tuple[int, ...] | None:
        rank = len(shape)
        first = normalise_dim(self, self.args.dim0, rank, "dim0")
        second = normalise_dim(self, self.args.dim1, rank, "dim1")
        swapped = list(strides)
        swapped[first], swapped[second] = strides[second], strides[first]
        return tuple(swapped)

    def to_torch(self, shape: Shape) -> Any:
        from .torch_modules import Transpose as TransposeModule

        return TransposeModule(self.args.dim0, self.args.dim1)


LAYERS: list[type[LayerType]] = [
    Flatten,
    Unflatten,
    Reshape,
    *variants(ZeroPadNd, "zeropad{n}d"),
    *variants(KerasZeroPaddingNd, "zeropadding{n}d"),
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
    *variants(KerasUpSamplingNd, "upsampling{n}d"),
    Permute,
    Transpose,
]
