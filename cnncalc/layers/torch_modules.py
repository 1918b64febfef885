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


class Permute(nn.Module):
    """``x.permute(*dims)``, as torchvision's ``ops.misc.Permute`` (which ConvNeXt uses)."""

    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = dims

    def forward(self, x: Any) -> Any:
        return x.permute(*self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Transpose(nn.Module):
    """``x.transpose(dim0, dim1)``."""

    def __init__(self, dim0: int, dim1: int):
        super().__init__()
        self.dim0 = dim0
        self.dim1 = dim1

    def forward(self, x: Any) -> Any:
        return x.transpose(self.dim0, self.dim1)

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


class LayerNorm2d(nn.LayerNorm):
    """torchvision's ``LayerNorm2d``: ``nn.LayerNorm`` over the channel dimension of
    (N, C, ...). torchvision permutes (N, C, H, W) to channels-last and back; moving dim 1
    to the end does the same for any number of spatial dimensions."""

    def forward(self, x: Any) -> Any:
        x = x.movedim(1, -1)
        x = functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: ``x * scale`` with a learnable ``scale`` of shape
    (C, 1, ..., 1) that broadcasts over dim 1 of (N, C, ...), initialised to ``init_value``
    (torchvision's CNBlock: ``nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)``)."""

    def __init__(self, channels: int, rank: int, init_value: float):
        super().__init__()
        import torch

        self.scale = nn.Parameter(torch.full((channels, *([1] * (rank - 2))), init_value))

    def forward(self, x: Any) -> Any:
        return self.scale * x


class StochasticDepth(nn.Module):
    """torchvision's ``ops.StochasticDepth(p, mode)`` in plain torch. In training, each
    sample (``row``) or the whole batch (``batch``) is zeroed with probability p and the
    survivors scaled by 1/(1 − p); in eval mode, or with p = 0, the input passes through."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = x.new_empty(size).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
