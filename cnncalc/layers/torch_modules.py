"""Small PyTorch modules the layer types need beyond torch.nn: explicit padding (asymmetric
``same``, TensorFlow's strided ``same``) and a per-sample reshape. Imported only by ``to_torch``."""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.nn import functional


class Pad(nn.Module):
    """``F.pad`` with (left, right) per spatial dimension, first dimension first."""

    def __init__(self, left: tuple[int, ...], right: tuple[int, ...], mode: str, value: float):
        super().__init__()
        # F.pad reads its pads last dimension first.
        self.pads = tuple(p for lo, hi in zip(reversed(left), reversed(right)) for p in (lo, hi))
        self.mode = mode
        self.value = value

    def forward(self, x: Any) -> Any:
        if self.mode == "constant":
            return functional.pad(x, self.pads, "constant", self.value)
        return functional.pad(x, self.pads, self.mode)

    def extra_repr(self) -> str:
        return f"pads={self.pads}, mode={self.mode!r}"


def explicit_pad(
    left: tuple[int, ...], right: tuple[int, ...], padding_mode: str = "zeros", value: float = 0.0
) -> Pad:
    mode = "constant" if padding_mode == "zeros" else padding_mode
    return Pad(left, right, mode, value)


class Reshape(nn.Module):
    """``x.reshape(N, *shape)``: a per-sample reshape that keeps the batch dimension."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"
