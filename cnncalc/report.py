"""The result of analysing a model: one row per leaf layer and merge, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .errors import CnncalcError
    from .layers import LayerType, Window

Shape = tuple[int, ...]

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


@dataclass(frozen=True, slots=True)
class Row:
    """One leaf layer, or one merge of a block, with its shapes and costs."""

    index: int
    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    params: int
    trainable: bool
    buffers: int
    macs: int
    flops: int
    window: Window | None = None
    receptive_field: tuple[int, ...] | None = None
    jump: tuple[int, ...] | None = None
    rf_start: tuple[int, ...] | None = None
    input_shapes: tuple[Shape, ...] | None = None  # merges: one per branch
    layer: LayerType | None = field(default=None, repr=False, compare=False)
    line: int | None = None

    @property
    def spatial(self) -> bool:
        """Whether the output has spatial dimensions (so a receptive field applies)."""
        return len(self.output_shape) >= 3


@dataclass(frozen=True, slots=True)
class Merge:
    """A residual or parallel block in the execution plan: branches, then their merge row."""

    branches: tuple[list[Any], ...]  # each a list of Row | Merge
    row: Row
    how: str


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int


@dataclass
class Report:
    """What ``shapes`` and ``params`` print. ``error`` is set when propagation stopped at a
    layer; ``rows`` then holds the rows before it."""

    model: str | None
    source: str
    input_shape: Shape
    output_shape: Shape | None
    rows: list[Row]
    totals: Totals
    dtype: str
    plan: list[Any]  # Row | Merge, in execution order, for ``execute``
    error: CnncalcError | None = None


def totals_of(rows: list[Row], input_shape: Shape, dtype: str) -> Totals:
    """Sums over the rows. activation_bytes is the input plus every row's output, as an
    inference pass that kept all of them would hold."""
    size = DTYPE_BYTES[dtype]
    params = trainable = buffers = macs = flops = elements = 0
    for row in rows:
        params += row.params
        if row.trainable:
            trainable += row.params
        buffers += row.buffers
        macs += row.macs
        flops += row.flops
        count = 1
        for d in row.output_shape:
            count *= d
        elements += count
    first = 1
    for d in input_shape:
        first *= d
    return Totals(
        params=params,
        trainable_params=trainable,
        non_trainable_params=params - trainable,
        buffers=buffers,
        macs=macs,
        flops=flops,
        param_bytes=params * size,
        activation_bytes=(first + elements) * size,
    )
