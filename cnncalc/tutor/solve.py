"""Backwards: the (kernel, stride, padding, dilation) combinations that give a wanted size.

A convolution takes ``L`` to ``T`` exactly when
``(T − 1)·s ≤ L + 2·p − d·(k − 1) − 1 < T·s``, so for each kernel, stride and dilation the
paddings form one interval and no padding needs to be tried in turn. A transposed
convolution takes ``L`` to ``T`` when ``output_padding = T − ((L − 1)·s − 2·p + d·(k − 1) + 1)``
lies in ``0 ≤ output_padding < max(s, d)``.

Solutions are ordered simplest first: dilation 1 first, then the smaller kernel, the smaller
stride, the smaller output_padding, the padding nearest the symmetric 'same-like'
``d·(k − 1)/2``, and the smaller padding (``simplicity``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .. import arithmetic
from ..errors import ShapeError, SpecError
from ..limits import MAX_DIMENSION
from .formula import MAX_SPATIAL_DIMS

Mode = Literal["conv", "transposed", "same"]

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

    def check_text(self, size: int) -> str:
        """The size formula with this combination's numbers put in and its result."""
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        if self.output_padding is not None:
            out = (size - 1) * s - 2 * p + d * (k - 1) + self.output_padding + 1
            return f"({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {self.output_padding} + 1 = {out}"
        out = (size + 2 * p - d * (k - 1) - 1) // s + 1
        return f"floor(({size} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1 = {out}"


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
        return dilation * (kernel - 1) if self.max_padding is None else self.max_padding

    def describe(self) -> str:
        """``kernel ≤ 7, stride ≤ 4, dilation 1, padding ≤ d·(k − 1)``."""

        def one(name: str, fixed: int | None, most: int) -> str:
            if fixed is not None:
                return f"{name} {fixed}"
            return f"{name} 1" if most == 1 else f"{name} ≤ {most}"

        padding = "d·(k − 1)" if self.max_padding is None else str(self.max_padding)
        return ", ".join(
            (
                one("kernel", self.kernel, self.max_kernel),
                one("stride", self.stride, self.max_stride),
                one("dilation", self.dilation, self.max_dilation),
                f"padding ≤ {padding}",
            )
        )

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
    """The answer of ``solve``: per dimension, and the combinations every dimension shares."""

    mode: Mode
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
    def uniform(self) -> bool:
        """Every dimension asks the same question, so one list answers them all."""
        return len({(d.size, d.target) for d in self.dimensions}) == 1


# --------------------------------------------------------------------------- search


def solve(
    sizes: tuple[int, ...], targets: tuple[int, ...] | None, bounds: Bounds, mode: Mode = "conv"
) -> SolveResult:
    """Solve each dimension on its own; ``targets`` is ignored (``None``) in ``same`` mode,
    where the target is ``ceil(L / stride)``."""
    if mode == "same":
        bounds = replace(bounds, stride=bounds.stride or 1)
    check_question(sizes, targets, bounds, mode)
    dimensions = []
    for index, size in enumerate(sizes):
        if mode == "same":
            dimensions.append(solve_same_dimension(index + 1, size, bounds))
        else:
            assert targets is not None
            dimensions.append(solve_dimension(index + 1, size, targets[index], bounds, mode))
    return SolveResult(mode, bounds, tuple(dimensions), common_solutions(dimensions))


def check_question(
    sizes: tuple[int, ...], targets: tuple[int, ...] | None, bounds: Bounds, mode: Mode
) -> None:
    """Refuse what cannot be searched: bad sizes, mismatched dimensions, too large a search."""
    if not 1 <= len(sizes) <= MAX_SPATIAL_DIMS:
        raise SpecError(
            f"input must have 1 to {MAX_SPATIAL_DIMS} spatial dimensions, got {len(sizes)}"
        )
    if mode == "same":
        if targets is not None:
            raise SpecError(
                "same mode chooses the output size itself (ceil(input / stride)); drop --output"
            )
    elif targets is None:
        raise SpecError("give the wanted output size (--output), or ask for --same")
    elif len(targets) != len(sizes):
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
    dimension: int, size: int, target: int, bounds: Bounds, mode: Mode
) -> DimensionSolutions:
    """Every combination within ``bounds`` taking ``size`` to ``target``, simplest first."""
    find = transposed_paddings if mode == "transposed" else conv_paddings
    found: list[Combination] = []
    for dilation in bounds.dilations():
        for kernel in bounds.kernels():
            for stride in bounds.strides():
                found.extend(find(size, target, kernel, stride, dilation, bounds))
                if len(found) > MAX_SOLUTIONS:
                    raise SpecError(
                        f"more than {MAX_SOLUTIONS:,} combinations give {size} → {target}; "
                        "narrow the bounds"
                    )
    return DimensionSolutions(
        dimension, size, target, tuple(sorted(found, key=Combination.simplicity))
    )


def conv_paddings(
    size: int, target: int, kernel: int, stride: int, dilation: int, bounds: Bounds
) -> list[Combination]:
    """The paddings ``p`` with ``floor((L + 2p − d·(k − 1) − 1) / s) + 1 = T``.

    That is ``(T − 1)·s ≤ L + 2p − d·(k − 1) − 1 ≤ (T − 1)·s + s − 1``; any such ``p`` also
    makes the padded input at least as long as the dilated kernel, since ``T ≥ 1``.
    """
    low_twice = (target - 1) * stride - size + dilation * (kernel - 1) + 1
    high_twice = low_twice + stride - 1
    low = max(0, -(-low_twice // 2))
    high = min(bounds.padding_limit(kernel, dilation), high_twice // 2)
    return [Combination(kernel, stride, p, dilation) for p in range(low, high + 1)]


def transposed_paddings(
    size: int, target: int, kernel: int, stride: int, dilation: int, bounds: Bounds
) -> list[Combination]:
    """The (padding, output_padding) pairs with
    ``(L − 1)·s − 2p + d·(k − 1) + output_padding + 1 = T`` and
    ``0 ≤ output_padding < max(s, d)`` (PyTorch's rule)."""
    base = (size - 1) * stride + dilation * (kernel - 1) + 1 - target  # = 2p − output_padding
    most = bounds.padding_limit(kernel, dilation)
    found = []
    for output_padding in range(max(stride, dilation)):
        twice = base + output_padding
        if twice % 2 == 0 and 0 <= twice // 2 <= most:
            found.append(Combination(kernel, stride, twice // 2, dilation, output_padding))
    return found


def solve_same_dimension(dimension: int, size: int, bounds: Bounds) -> DimensionSolutions:
    """The symmetric paddings giving ``ceil(L / s)``, and ``padding='same'`` resolved, for
    each kernel and dilation (stride fixed: ``--stride`` or 1)."""
    stride = bounds.stride or 1
    target = -(-size // stride)
    found = solve_dimension(dimension, size, target, replace(bounds, stride=stride), "conv")
    same = tuple(
        SamePadding(
            kernel, stride, dilation, *arithmetic.same_padding(size, kernel, stride, dilation)
        )
        for dilation in bounds.dilations()
        for kernel in bounds.kernels()
    )
    return DimensionSolutions(dimension, size, target, found.solutions, same)


def common_solutions(dimensions: list[DimensionSolutions]) -> tuple[Combination, ...]:
    """The combinations in every dimension's list, in the first list's order."""
    shared = set(dimensions[0].solutions)
    for dim in dimensions[1:]:
        shared &= set(dim.solutions)
    return tuple(c for c in dimensions[0].solutions if c in shared)


# --------------------------------------------------------------------------- rendering


def render_text(result: SolveResult, limit: int) -> str:
    """The tables ``solve`` prints, ``limit`` rows each (0: all)."""
    lines = [headline(result)]
    if result.uniform:
        dim = result.dimensions[0]
        if len(result.dimensions) > 1:
            lines.append(
                f"every dimension is {dim.size} → {dim.target}, so one list serves them all"
            )
        lines.extend(solutions_block(result, dim, limit))
    else:
        lines.append(
            "each dimension is solved on its own; give the values per dimension (e.g. 3x5)"
        )
        for dim in result.dimensions:
            lines.append("")
            lines.append(f"dimension {dim.dimension}: {dim.size} → {dim.target}")
            lines.extend(solutions_block(result, dim, limit))
        lines.append("")
        if result.common:
            lines.append(f"{len(result.common)} of them serve every dimension with single values")
        else:
            lines.append("no single combination serves every dimension")
    return "\n".join(lines)


def headline(result: SolveResult) -> str:
    sizes = "×".join(map(str, result.sizes))
    targets = "×".join(map(str, result.targets))
    what = "transposed convolutions" if result.mode == "transposed" else "convolutions"
    bounds = result.bounds.describe()
    if result.mode == "same":
        return f"{what} keeping the size, {sizes} → {targets} (out = ceil(in / stride)), {bounds}; simplest first"
    return f"{what} taking {sizes} → {targets}, {bounds}; simplest first"


def solutions_block(result: SolveResult, dim: DimensionSolutions, limit: int) -> list[str]:
    """One dimension's table, or the sentence saying there is none."""
    lines: list[str] = []
    if not dim.solutions:
        lines.append(no_solution_sentence(result, dim))
    else:
        from tabulate import tabulate

        shown = dim.solutions if limit == 0 else dim.solutions[:limit]
        headers = ["kernel_size", "stride", "padding", "dilation"]
        if result.mode == "transposed":
            headers.append("output_padding")
        rows = [[*c.as_dict().values(), c.check_text(dim.size)] for c in shown]
        lines.append(tabulate(rows, headers=[*headers, "check"], tablefmt="simple"))
        count = len(dim.solutions)
        if len(shown) < count:
            lines.append(f"{len(shown)} of {count} combinations shown; --limit 0 shows all")
        else:
            lines.append(f"{count} combination{'s' if count != 1 else ''}")
    for same in dim.same_paddings:
        lines.append(
            f"padding='same' with kernel {same.kernel_size}, stride {same.stride}, dilation "
            f"{same.dilation}: left {same.left}, right {same.right}"
        )
    return lines


def no_solution_sentence(result: SolveResult, dim: DimensionSolutions) -> str:
    text = f"no combination with {result.bounds.describe()} gives {dim.size} → {dim.target}"
    if result.mode == "conv" and dim.target > dim.size:
        return text + "; a larger output needs more padding (--max-padding) or --transposed"
    return text + "; raise the bounds (--max-kernel, --max-stride, --max-padding, --max-dilation)"


def to_json(result: SolveResult, limit: int) -> dict[str, object]:
    """``solutions`` holds the combinations that serve every dimension (simplest first, at
    most ``limit``; 0: all); ``dimensions`` holds each dimension's own list."""

    def cut(solutions: tuple[Combination, ...]) -> list[dict[str, int]]:
        shown = solutions if limit == 0 else solutions[:limit]
        return [c.as_dict() for c in shown]

    return {
        "mode": result.mode,
        "input": list(result.sizes),
        "output": list(result.targets),
        "bounds": result.bounds.as_dict(),
        "order": ORDER,
        "count": len(result.common),
        "solutions": cut(result.common),
        "dimensions": [
            {
                "dimension": dim.dimension,
                "input": dim.size,
                "output": dim.target,
                "count": len(dim.solutions),
                "solutions": cut(dim.solutions),
                **(
                    {"same_padding": [s.as_dict() for s in dim.same_paddings]}
                    if result.mode == "same"
                    else {}
                ),
            }
            for dim in result.dimensions
        ],
    }
