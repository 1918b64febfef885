"""Ask real PyTorch what a module does with an input: its output shape, or that it refuses.

The test side builds its modules directly with ``torch.nn`` (never through cnncalc), so a
wrong formula and a wrong ``to_torch`` cannot agree by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Shape = tuple[int, ...]
REFUSED = "refused"


def torch_shape(build: Callable[[], Any], shape: Shape) -> Shape | str:
    """The output shape of ``build()`` on zeros of ``shape``, or REFUSED if construction or
    forward raises. An output with a zero-size dimension counts as refused: some backends
    return empty tensors where others raise, and cnncalc refuses sizes below 1."""
    try:
        module = build()
        with torch.no_grad():
            out = module(torch.zeros(shape))
    except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError):
        return REFUSED
    if any(d == 0 for d in out.shape):
        return REFUSED
    return tuple(out.shape)
