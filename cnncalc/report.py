"""The result of analysing a model: one row per leaf layer and merge, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

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
    input_shapes: tuple[Shape, ...] | None = None  # merges: one per input
    layer: LayerType | None = field(default=None, repr=False, compare=False)
    line: int | None = None
    # The graph: names of the tensors it reads, block depth and enclosing block's name;
    # whether an output needs it; the row whose module a shared use applies again; the
    # pieces of a split (``output_shape`` is then the first).
    sources: tuple[str, ...] = ()
    depth: int = 0
    parent: str | None = None
    used: bool = True
    shares: str | None = None
    output_shapes: tuple[Shape, ...] | None = None

    @property
    def spatial(self) -> bool:
        """Whether the output has spatial dimensions (so a receptive field applies)."""
        return len(self.output_shape) >= 3


class Step(NamedTuple):
    """One row in the graph: the tensors it reads and makes (by id), and for a shared use,
    the index of the row whose module it applies again. ``size_of`` reads are the last
    input. (A named tuple: a model makes one per row, and a tuple is made fastest.)"""

    row: Row
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    shares: int | None = None


@dataclass(frozen=True)
class Tensor:
    """A named tensor of the graph: a model input or output."""

    name: str
    shape: Shape
    id: int


@dataclass(frozen=True)
class Graph:
    """The model as PyTorch runs it: the inputs, the steps in execution order (each row
    once, unused ones included) and the outputs. Tensor ids are 0 .. tensors − 1."""

    inputs: tuple[Tensor, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Tensor, ...]
    tensors: int


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
    graph: Graph | None  # for ``execute`` and the memory estimate; None where analysis failed
    error: CnncalcError | None = None
    inputs: tuple[Tensor, ...] = ()
    outputs: tuple[Tensor, ...] = ()
    several_inputs: bool = False

    @property
    def unused(self) -> list[Row]:
        """Rows that no output needs."""
        return [row for row in self.rows if not row.used]


def totals_of(rows: list[Row], input_shapes: list[Shape], dtype: str) -> Totals:
    """Sums over the rows. Params and buffers count every row (a shared module's once, at
    its first use); MACs, FLOPs and activations only the rows an output needs.
    activation_bytes is the inputs plus every used row's outputs, as an inference pass that
    kept all of them would hold."""
    size = DTYPE_BYTES[dtype]
    params = trainable = buffers = macs = flops = elements = 0
    for row in rows:
        params += row.params
        if row.trainable:
            trainable += row.params
        buffers += row.buffers
        if not row.used:
            continue
        macs += row.macs
        flops += row.flops
        for shape in row.output_shapes or (row.output_shape,):
            count = 1
            for d in shape:
                count *= d
            elements += count
    first = 0
    for shape in input_shapes:
        count = 1
        for d in shape:
            count *= d
        first += count
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
