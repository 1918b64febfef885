"""The result of analysing a model: one row per leaf layer and merge, and the totals."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from math import prod
from typing import TYPE_CHECKING, NamedTuple, overload

if TYPE_CHECKING:  # pragma: no cover
    from .errors import CnncalcError
    from .layers import LayerType, Window

Shape = tuple[int, ...]

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


# Row, Tensor, Graph and Totals are named tuples, immutable as frozen dataclasses are: every
# command defines them at its start, and a named tuple is defined in an eighth of the time.
class Row(NamedTuple):
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
    # Per spatial dimension of the output, (receptive field, jump, start) of its first
    # element; None where the output has no spatial dimensions or the field is unknown.
    # One tuple shared with the tensor the row makes: a large model has a row per layer.
    field: tuple[tuple[int, int, int], ...] | None = None
    input_shapes: tuple[Shape, ...] | None = None  # merges: one per input
    layer: LayerType | None = None
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
    def receptive_field(self) -> tuple[int, ...] | None:
        return None if self.field is None else tuple(size for size, _, _ in self.field)

    @property
    def jump(self) -> tuple[int, ...] | None:
        return None if self.field is None else tuple(jump for _, jump, _ in self.field)

    @property
    def rf_start(self) -> tuple[int, ...] | None:
        return None if self.field is None else tuple(start for _, _, start in self.field)

    @property
    def spatial(self) -> bool:
        """Whether the output has spatial dimensions (so a receptive field applies)."""
        return len(self.output_shape) >= 3


class Step(NamedTuple):
    """One row in the graph: the tensors it reads and makes (by id), and for a shared use,
    the index of the row whose module it applies again. ``size_of`` reads are the last
    input."""

    row: Row
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    shares: int | None = None


class Steps(Sequence[Step]):
    """The steps of a graph, made on demand from flat arrays of tensor ids: a model has
    a step per row, and a large one hundreds of thousands. ``reads[starts[i]:starts[i+1]]``
    are the tensors row ``i`` reads; it makes ``made[i]`` and, for a split, the ids after
    it, one per piece; ``shares`` maps a shared use's position to its first use's index."""

    __slots__ = ("rows", "starts", "reads", "made", "shares")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.starts, self.reads, self.made = array("q", [0]), array("q"), array("q")
        self.shares: dict[int, int] = {}

    def add(self, reads: Sequence[int], made: int, shares: int | None) -> None:
        """The tensors the row just appended reads, the first it makes, the row it shares."""
        self.reads.extend(reads)
        self.starts.append(len(self.reads))
        self.made.append(made)
        if shares is not None:
            self.shares[len(self.made) - 1] = shares

    def inputs(self, i: int) -> tuple[int, ...]:
        return tuple(self.reads[self.starts[i] : self.starts[i + 1]])

    def outputs(self, i: int) -> tuple[int, ...]:
        return made_by(self.made[i], self.rows[i])

    def __len__(self) -> int:
        return len(self.made)

    def unneeded(self, outputs: Iterable[int], tensors: int) -> list[int]:
        """The positions of the steps no output needs, last first: walking back from the
        ``outputs`` ids, a step is needed when it makes a needed tensor, and then so is
        every tensor it reads (ids run below ``tensors``)."""
        needed = bytearray(tensors)
        for t in outputs:
            needed[t] = 1
        rows, starts, reads, made = self.rows, self.starts, self.reads, self.made
        found = []
        for i in range(len(made) - 1, -1, -1):
            first, pieces = made[i], rows[i].output_shapes
            if needed[first] or (pieces is not None and any(needed[first : first + len(pieces)])):
                for t in reads[starts[i] : starts[i + 1]]:
                    needed[t] = 1
            else:
                found.append(i)
        return found

    @overload
    def __getitem__(self, i: int) -> Step: ...
    @overload
    def __getitem__(self, i: slice) -> list[Step]: ...

    def __getitem__(self, i: int | slice) -> Step | list[Step]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return Step(self.rows[i], self.inputs(i), self.outputs(i), self.shares.get(i))

    def __iter__(self) -> Iterator[Step]:
        rows, starts, reads, made = self.rows, self.starts, self.reads, self.made
        for i in range(len(made)):  # as ``self[i]`` makes them, without its checks per step
            row = rows[i]
            inputs = tuple(reads[starts[i] : starts[i + 1]])
            yield Step(row, inputs, made_by(made[i], row), self.shares.get(i))


def made_by(first: int, row: Row) -> tuple[int, ...]:
    """The ids of the tensors a row makes, from the first: one, or one per piece of a split."""
    pieces = row.output_shapes
    return (first,) if pieces is None else tuple(range(first, first + len(pieces)))


class Tensor(NamedTuple):
    """A named tensor of the graph: a model input or output."""

    name: str
    shape: Shape
    id: int


class Graph(NamedTuple):
    """The model as PyTorch runs it: the inputs, the steps in execution order (each row
    once, unused ones included) and the outputs. Tensor ids are 0 .. tensors − 1."""

    inputs: tuple[Tensor, ...]
    steps: Steps
    outputs: tuple[Tensor, ...]
    tensors: int


class Totals(NamedTuple):
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int


class Report:
    """What ``shapes`` and ``params`` print. ``error`` is set when propagation stopped at a
    layer; ``rows`` then holds the rows before it. ``graph`` is for ``execute`` and the
    memory estimate; None where analysis failed. (A slotted class, not a dataclass, for the
    start-up reason ``Row`` gives.)"""

    __slots__ = (
        "model", "source", "input_shape", "output_shape", "rows", "totals", "dtype", "graph",
        "error", "inputs", "outputs", "several_inputs",
    )  # fmt: skip

    def __init__(
        self, model: str | None, source: str, input_shape: Shape, output_shape: Shape | None,
        rows: list[Row], totals: Totals, dtype: str, graph: Graph | None,
        error: CnncalcError | None = None, inputs: tuple[Tensor, ...] = (),
        outputs: tuple[Tensor, ...] = (), several_inputs: bool = False,
    ) -> None:  # fmt: skip
        self.model, self.source, self.dtype = model, source, dtype
        self.input_shape, self.output_shape = input_shape, output_shape
        self.rows, self.totals, self.graph, self.error = rows, totals, graph, error
        self.inputs, self.outputs, self.several_inputs = inputs, outputs, several_inputs

    def __repr__(self) -> str:
        return f"Report(model={self.model!r}, rows={len(self.rows)}, error={self.error!r})"

    @property
    def unused(self) -> list[Row]:
        """Rows that no output needs."""
        return [row for row in self.rows if not row.used]


class Sums(NamedTuple):
    """Sums over rows: params and buffers of every row (a shared module's once, at its
    first use); compute and output elements of the rows an output needs, the others'
    compute in ``idle_*``."""

    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    out_elements: int
    used_layers: int
    idle_macs: int
    idle_flops: int


def sums_of(rows: list[Row]) -> Sums:
    params = trainable = buffers = macs = flops = elements = used = idle_macs = idle_flops = 0
    for row in rows:
        params += row.params
        if row.trainable:
            trainable += row.params
        buffers += row.buffers
        if row.used:
            used += 1
            macs += row.macs
            flops += row.flops
            elements += sum(map(prod, row.output_shapes or (row.output_shape,)))
        else:
            idle_macs += row.macs
            idle_flops += row.flops
    return Sums(params, trainable, buffers, macs, flops, elements, used, idle_macs, idle_flops)


def totals_of(rows: list[Row], input_shapes: list[Shape], dtype: str) -> Totals:
    """The model's totals (see ``Sums``). activation_bytes is the inputs plus every used
    row's outputs, as an inference pass that kept all of them would hold."""
    size = DTYPE_BYTES[dtype]
    s = sums_of(rows)
    first = sum(map(prod, input_shapes))
    return Totals(
        params=s.params,
        trainable_params=s.trainable_params,
        non_trainable_params=s.params - s.trainable_params,
        buffers=s.buffers,
        macs=s.macs,
        flops=s.flops,
        param_bytes=s.params * size,
        activation_bytes=(first + s.out_elements) * size,
    )
