"""Backwards: the (kernel, stride, padding, dilation) combinations that give a wanted size.

A convolution takes ``L`` to ``T`` exactly when
``(T − 1)·s ≤ L + 2·p − d·(k − 1) − 1 < T·s``, so for each kernel, stride and dilation the
paddings form one interval and no padding needs to be tried in turn. A transposed
convolution takes ``L`` to ``T`` when ``output_padding = T − ((L − 1)·s − 2·p + d·(k − 1) + 1)``
lies in ``0 ≤ output_padding < max(s, d)``.

The interval only narrows the search: every candidate is then built as the real layer type
(``window.WindowSpec``) and kept only where that layer accepts the input and gives the
target, so the layer's rules decide, and ``padding='same'`` is the layer's own resolution.

Solutions are ordered simplest first: dilation 1 first, then the smaller kernel, the smaller
stride, the smaller output_padding, the padding nearest the symmetric 'same-like'
``d·(k − 1)/2``, and the smaller padding (``simplicity``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .. import arithmetic
from ..errors import CnncalcError, ShapeError, SpecError
from ..limits import MAX_DIMENSION
from .window import WindowSpec, input_shape

CONVOLUTION = "conv"
TRANSPOSED = "conv_transpose"

MAX_SEARCH = 1_000_000
"""Most (kernel, stride, dilation) triples one dimension may search."""
MAX_SOLUTIONS = 100_000
"""Most combinations one dimension may collect before the search is refused."""
ORDER = (
    "dilation, kernel_size, stride, output_padding, "
    "|2·padding − dilation·(kernel_size − 1)|, padding"
)


@dataclass(frozen=True)
class Combination:
    """One layer geometry; ``output_padding`` is set for transposed convolutions only."""

    kernel_size: int
    stride: int
    padding: int
    dilation: int
    output_padding: int | None = None

    def simplicity(self) -> tuple[int, ...]:
        """The sort key: smaller is simpler (see the module docstring)."""
        same_like = abs(2 * self.padding - self.dilation * (self.kernel_size - 1))
        return (
            self.dilation,
            self.kernel_size,
            self.stride,
            self.output_padding or 0,
            same_like,
            self.padding,
        )

    def as_dict(self) -> dict[str, int]:
        fields = {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
        }
        if self.output_padding is not None:
            fields["output_padding"] = self.output_padding
        return fields

    def spec(self, op: str) -> WindowSpec:
        """The layer this combination describes, as ``op`` (``conv`` or ``conv_transpose``)."""
        output_padding = None if self.output_padding is None else (self.output_padding,)
        return WindowSpec(
            op, (self.kernel_size,), (self.stride,), (self.padding,), (self.dilation,),
            output_padding,
        )  # fmt: skip

    def gives(self, op: str, size: int, target: int) -> bool:
        """Whether the layer accepts an input of ``size`` and makes it ``target``."""
        try:
            return self.spec(op).build(1).output_shape(input_shape((size,)))[2] == target
        except CnncalcError:
            return False


@dataclass(frozen=True)
class Bounds:
    """What the search may try. A fixed value replaces its range; ``max_padding=None``
    bounds padding by ``d·(k − 1)`` (``'full'``: more only adds windows that see zeros)."""

    max_kernel: int = 7
    max_stride: int = 4
    max_dilation: int = 1
    max_padding: int | None = None
    kernel: int | None = None
    stride: int | None = None
    dilation: int | None = None

    def kernels(self) -> range:
        return fixed_or_range(self.kernel, self.max_kernel)

    def strides(self) -> range:
        return fixed_or_range(self.stride, self.max_stride)

    def dilations(self) -> range:
        return fixed_or_range(self.dilation, self.max_dilation)

    def padding_limit(self, kernel: int, dilation: int) -> int:
        if self.max_padding is None:
            return arithmetic.full_padding(kernel, dilation)
        return self.max_padding

    def as_dict(self) -> dict[str, object]:
        def span(r: range) -> list[int]:
            return [r.start, r.stop - 1]

        return {
            "kernel_size": span(self.kernels()),
            "stride": span(self.strides()),
            "dilation": span(self.dilations()),
            "padding": (
                "0..dilation·(kernel_size − 1)"
                if self.max_padding is None
                else [0, self.max_padding]
            ),
        }


def fixed_or_range(fixed: int | None, most: int) -> range:
    return range(fixed, fixed + 1) if fixed is not None else range(1, most + 1)


@dataclass(frozen=True)
class SamePadding:
    """``padding='same'`` resolved: PyTorch's split for stride 1, TensorFlow's beyond."""

    kernel_size: int
    stride: int
    dilation: int
    left: int
    right: int

    def as_dict(self) -> dict[str, int]:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "dilation": self.dilation,
            "padding_left": self.left,
            "padding_right": self.right,
        }


@dataclass(frozen=True)
class DimensionSolutions:
    """Every combination taking ``size`` to ``target`` along one dimension, simplest first."""

    dimension: int
    size: int
    target: int
    solutions: tuple[Combination, ...]
    same_paddings: tuple[SamePadding, ...] = ()


@dataclass(frozen=True)
class SolveResult:
    """The answer of ``solve``: per dimension, and the combinations every dimension shares.
    ``same`` marks the question "what keeps the size" (targets ``ceil(L / stride)``)."""

    op: str
    same: bool
    bounds: Bounds
    dimensions: tuple[DimensionSolutions, ...]
    common: tuple[Combination, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    @property
    def targets(self) -> tuple[int, ...]:
        return tuple(d.target for d in self.dimensions)

    @property
    def transposed(self) -> bool:
        return self.op == TRANSPOSED

    @property
    def uniform(self) -> bool:
        """Every dimension asks the same question, so one list answers them all."""
        return len({(d.size, d.target) for d in self.dimensions}) == 1


# --------------------------------------------------------------------------- search


def solve(
    sizes: tuple[int, ...], targets: tuple[int, ...] | None, bounds: Bounds,
    op: str = CONVOLUTION,
) -> SolveResult:  # fmt: skip
    """Solve each dimension on its own for layers of type ``op`` (``conv`` or
    ``conv_transpose``). ``targets=None`` asks what keeps the size: the target is what
    ``padding='same'`` gives, ``ceil(L / stride)``, with the stride fixed (default 1)."""
    same = targets is None
    if same:
        if op != CONVOLUTION:
            raise SpecError("keeping the size (same) is a question about convolutions")
        bounds = replace(bounds, stride=bounds.stride or 1)
    check_question(sizes, targets, bounds)
    dimensions = []
    for index, size in enumerate(sizes):
        if targets is None:
            dimensions.append(solve_same_dimension(index + 1, size, bounds))
        else:
            dimensions.append(solve_dimension(index + 1, size, targets[index], bounds, op))
    return SolveResult(op, same, bounds, tuple(dimensions), common_solutions(dimensions))


def check_question(sizes: tuple[int, ...], targets: tuple[int, ...] | None, bounds: Bounds) -> None:
    """Refuse what cannot be searched: bad sizes, mismatched dimensions, too large a search."""
    WindowSpec(CONVOLUTION, None).layer_type(len(sizes))  # 1 to 3 spatial dimensions
    if targets is not None and len(targets) != len(sizes):
        raise SpecError(
            f"input has {len(sizes)} dimensions but output has {len(targets)}; give one size per dimension"
        )
    for what, values in (("input size", sizes), ("output size", targets or ())):
        for value in values:
            if not 1 <= value <= MAX_DIMENSION:
                raise ShapeError(f"{what} must be between 1 and {MAX_DIMENSION:,}, got {value}")
    searched = len(bounds.kernels()) * len(bounds.strides()) * len(bounds.dilations())
    if searched > MAX_SEARCH:
        raise SpecError(
            f"the search would try {searched:,} (kernel, stride, dilation) triples, more than "
            f"{MAX_SEARCH:,}; lower --max-kernel, --max-stride or --max-dilation"
        )


def solve_dimension(
    dimension: int, size: int, target: int, bounds: Bounds, op: str
) -> DimensionSolutions:
    """Every combination within ``bounds`` that the layer type ``op`` accepts and that
    takes ``size`` to ``target``, simplest first."""
    candidates = transposed_candidates if op == TRANSPOSED else conv_candidates
    found: list[Combination] = []
    for dilation in bounds.dilations():
        for kernel in bounds.kernels():
            for stride in bounds.strides():
                trial = Combination(kernel, stride, 0, dilation)
                most = bounds.padding_limit(kernel, dilation)
                for combination in candidates(size, target, trial, most):
                    if combination.gives(op, size, target):
                        found.append(combination)
                if len(found) > MAX_SOLUTIONS:
                    raise SpecError(
                        f"more than {MAX_SOLUTIONS:,} combinations give {size} → {target}; "
                        "narrow the bounds"
                    )
    return DimensionSolutions(
        dimension, size, target, tuple(sorted(found, key=Combination.simplicity))
    )


def conv_candidates(size: int, target: int, trial: Combination, most: int) -> list[Combination]:
    """The paddings up to ``most`` that can take ``size`` to ``target`` with the kernel,
    stride and dilation of ``trial``: those with
    ``(T − 1)·s ≤ L + 2p − d·(k − 1) − 1 ≤ (T − 1)·s + s − 1``."""
    k, s, d = trial.kernel_size, trial.stride, trial.dilation
    low_twice = (target - 1) * s - size + d * (k - 1) + 1
    high_twice = low_twice + s - 1
    low = max(0, -(-low_twice // 2))
    return [replace(trial, padding=p) for p in range(low, min(most, high_twice // 2) + 1)]


def transposed_candidates(
    size: int, target: int, trial: Combination, most: int
) -> list[Combination]:
    """The (padding ≤ ``most``, output_padding) pairs with ``2p − output_padding`` equal to
    ``(L − 1)·s + d·(k − 1) + 1 − T``, for every output_padding below ``max(s, d)``."""
    k, s, d = trial.kernel_size, trial.stride, trial.dilation
    base = (size - 1) * s + d * (k - 1) + 1 - target
    found = []
    for output_padding in range(max(s, d)):
        twice = base + output_padding
        if twice % 2 == 0 and 0 <= twice // 2 <= most:
            found.append(replace(trial, padding=twice // 2, output_padding=output_padding))
    return found


def solve_same_dimension(dimension: int, size: int, bounds: Bounds) -> DimensionSolutions:
    """The symmetric paddings giving what ``padding='same'`` gives, and how the layer splits
    ``padding='same'``, for each kernel and dilation (stride fixed: ``--stride`` or 1)."""
    stride = bounds.stride or 1
    same: list[SamePadding] = []
    target = size
    for dilation in bounds.dilations():
        for kernel in bounds.kernels():
            spec = WindowSpec(CONVOLUTION, (kernel,), (stride,), "same", (dilation,))
            layer = spec.build(1)
            shape = input_shape((size,))
            target = layer.output_shape(shape)[2]
            window = layer.window(shape)
            same.append(
                SamePadding(kernel, stride, dilation, window.pad_left[0], window.pad_right[0])
            )
    found = solve_dimension(dimension, size, target, replace(bounds, stride=stride), CONVOLUTION)
    return DimensionSolutions(dimension, size, target, found.solutions, tuple(same))


def common_solutions(dimensions: list[DimensionSolutions]) -> tuple[Combination, ...]:
    """The combinations in every dimension's list, in the first list's order."""
    shared = set(dimensions[0].solutions)
    for dim in dimensions[1:]:
        shared &= set(dim.solutions)
    return tuple(c for c in dimensions[0].solutions if c in shared)
