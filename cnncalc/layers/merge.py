"""Layers of the graph: merges of several tensors (add, mul, concat) and the splits of one
tensor into pieces (split, chunk). No parameters, no MACs.

Merges take every tensor they read (``from: [A, B]``, or all pieces of a split):
    add, mul:  PyTorch's broadcasting (``a + b``, ``a * b``); FLOPs (inputs − 1) per output
               element
    concat:    equal shapes except ``dim``, which is the sum; 0 FLOPs
Splits make outputs ``NAME.0``, ``NAME.1``, … along ``dim`` (default 1, the channels):
    split(s):        pieces of s, the last one smaller when s does not divide the size;
                     a list of sections gives those sizes, which must sum to the size
    chunk(chunks):   pieces of ceil(size / chunks), the last smaller (so possibly fewer than
                     ``chunks``), exactly as ``torch.chunk``
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import LayerType, Shape, numel, show_shape
from .fields import Int, _fail, _show, _validator, check_int


def _normalise_dim(layer: LayerType, dim: int, rank: int) -> int:
    if not -rank <= dim < rank:
        raise layer.fail(
            f"dim {dim} is out of range for a {rank}-D input (expected {-rank}..{rank - 1})"
        )
    return dim % rank


def broadcast(shapes: list[Shape]) -> Shape | None:
    """PyTorch's broadcasting of several shapes, or None where they do not broadcast."""
    first = shapes[0]
    if all(s == first for s in shapes):
        return first
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        sizes = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0} - {1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def listed(labels: list[str], shapes: list[Shape]) -> str:
    return ", ".join(f"{label} {show_shape(s)}" for label, s in zip(labels, shapes, strict=True))


class MergeLayer(LayerType):
    """A layer that reads several tensors and makes one."""

    family = "merges"
    takes_many: ClassVar[bool] = True
    rule: ClassVar[str] = ""

    def merged_shape(self, shapes: list[Shape], labels: list[str]) -> Shape:
        raise NotImplementedError

    def check_count(self, shapes: list[Shape], labels: list[str]) -> None:
        if len(shapes) < 2:
            raise self.fail(
                f"takes 2 or more tensors (from: [A, B]), got {len(shapes)}: {listed(labels, shapes)}"
            )

    def output_shape(self, shape: Shape) -> Shape:
        return self.merged_shape([shape], ["input"])

    def merge_flops(self, shapes: list[Shape], out: Shape) -> int:
        return (len(shapes) - 1) * numel(out)


class Add(MergeLayer):
    """``a + b + …`` with PyTorch's broadcasting."""

    type_name = "add"
    rule = "shapes that are equal or broadcast (as PyTorch's +)"

    def merged_shape(self, shapes: list[Shape], labels: list[str]) -> Shape:
        self.check_count(shapes, labels)
        out = broadcast(shapes)
        if out is None:
            raise self.fail(f"needs {self.rule}, got {listed(labels, shapes)}")
        return out

    def to_torch(self, shape: Shape) -> Any:
        from .graph_modules import Sum

        return Sum()


class Mul(Add):
    """``a * b * …`` with PyTorch's broadcasting, as a squeeze-and-excitation gate."""

    type_name = "mul"
    rule = "shapes that broadcast (as PyTorch's *)"

    def to_torch(self, shape: Shape) -> Any:
        from .graph_modules import Product

        return Product()


class Concat(MergeLayer):
    """``torch.cat(tensors, dim)``: equal shapes except along ``dim`` (default 1)."""

    type_name = "concat"
    aliases = ("cat",)
    positional = ("dim",)
    fields = {"dim": (Int(), 1)}

    def merged_shape(self, shapes: list[Shape], labels: list[str]) -> Shape:
        self.check_count(shapes, labels)
        first = shapes[0]
        dim = self.args.dim
        if any(len(s) != len(first) for s in shapes):
            raise self.fail(f"needs tensors of one rank, got {listed(labels, shapes)}")
        at = _normalise_dim(self, dim, len(first))
        if any(s[:at] + s[at + 1 :] != first[:at] + first[at + 1 :] for s in shapes):
            raise self.fail(
                f"needs equal shapes except dim {dim}, got {listed(labels, shapes)}"
            )
        return (*first[:at], sum(s[at] for s in shapes), *first[at + 1 :])

    def merge_flops(self, shapes: list[Shape], out: Shape) -> int:
        return 0

    def to_torch(self, shape: Shape) -> Any:
        from .graph_modules import Concat as ConcatModule

        return ConcatModule(self.args.dim)


def _sizes_or_sections(value: Any) -> int | tuple[int, ...]:
    if isinstance(value, list | tuple):
        if not value:
            raise _fail("must be a size or a non-empty list of sections, got []")
        return tuple(check_int(v, 1) for v in value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"must be a size or a list of sections, got {_show(value)}")
    return check_int(value, 1)


class SplitLayer(LayerType):
    """A layer that makes several tensors (pieces) from one."""

    family = "splitting"
    makes_pieces: ClassVar[bool] = True

    def piece_sizes(self, size: int) -> list[int]:
        raise NotImplementedError

    def pieces(self, shape: Shape) -> list[Shape]:
        at = _normalise_dim(self, self.args.dim, len(shape))
        return [(*shape[:at], n, *shape[at + 1 :]) for n in self.piece_sizes(shape[at])]

    def output_shape(self, shape: Shape) -> Shape:
        return self.pieces(shape)[0]


class Split(SplitLayer):
    """``torch.split(x, split_size_or_sections, dim)``."""

    type_name = "split"
    positional = ("split_size_or_sections", "dim")
    fields = {
        "split_size_or_sections": (_validator(_sizes_or_sections), ...),
        "dim": (Int(), 1),
    }

    def piece_sizes(self, size: int) -> list[int]:
        given = self.args.split_size_or_sections
        if isinstance(given, tuple):
            if sum(given) != size:
                raise self.fail(
                    f"sections {list(given)} sum to {sum(given)} but dim {self.args.dim} has "
                    f"size {size}"
                )
            return list(given)
        whole, rest = divmod(size, given)
        return [given] * whole + ([rest] if rest else [])

    def to_torch(self, shape: Shape) -> Any:
        from .graph_modules import Split as SplitModule

        given = self.args.split_size_or_sections
        return SplitModule(list(given) if isinstance(given, tuple) else given, self.args.dim)


class Chunk(SplitLayer):
    """``torch.chunk(x, chunks, dim)``: pieces of ceil(size / chunks)."""

    type_name = "chunk"
    positional = ("chunks", "dim")
    fields = {"chunks": (Int(1), ...), "dim": (Int(), 1)}

    def piece_sizes(self, size: int) -> list[int]:
        each = -(-size // self.args.chunks)
        whole, rest = divmod(size, each)
        return [each] * whole + ([rest] if rest else [])

    def to_torch(self, shape: Shape) -> Any:
        from .graph_modules import Chunk as ChunkModule

        return ChunkModule(self.args.chunks, self.args.dim)


LAYERS: list[type[LayerType]] = [Add, Mul, Concat, Split, Chunk]
