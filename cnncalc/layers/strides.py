"""Strides of views, as PyTorch computes them, so ``memory`` knows which reshapes are
views and which copy (a reshape of a permuted tensor usually copies)."""

from __future__ import annotations

Shape = tuple[int, ...]
Strides = tuple[int, ...]


def contiguous(shape: Shape) -> Strides:
    """The strides of a contiguous tensor of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def view_strides(shape: Shape, strides: Strides, new: Shape) -> Strides | None:
    """The strides of ``x.view(new)`` for ``x`` of ``shape`` and ``strides``, or None where
    no view exists and ``reshape`` copies: ATen's ``computeStride``. Runs of input
    dimensions that are contiguous with each other may be merged or split; nothing else."""
    if not shape or not new or 0 in shape:
        return contiguous(new)
    result = [0] * len(new)
    view_d = len(new) - 1
    chunk_base = strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[tensor_d]
        if tensor_d == 0 or (
            shape[tensor_d - 1] != 1 and strides[tensor_d - 1] != tensor_numel * chunk_base
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new[view_d] == 1):
                result[view_d] = view_numel * chunk_base
                view_numel *= new[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base = strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(result) if view_d == -1 else None
