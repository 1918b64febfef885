"""The PyTorch modules of the graph's layer types: merges, splits and size references.
Imported only by ``to_torch``, so only ``execute`` loads torch."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class Sum(nn.Module):
    """``a + b + …`` (broadcasting)."""

    def forward(self, *inputs: Any) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Product(nn.Module):
    """``a * b * …`` (broadcasting)."""

    def forward(self, *inputs: Any) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Any) -> Any:
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Split(nn.Module):
    def __init__(self, split_size_or_sections: int | list[int], dim: int) -> None:
        super().__init__()
        self.split_size_or_sections = split_size_or_sections
        self.dim = dim

    def forward(self, x: Any) -> Any:
        return torch.split(x, self.split_size_or_sections, dim=self.dim)

    def extra_repr(self) -> str:
        return f"{self.split_size_or_sections}, dim={self.dim}"


class Chunk(nn.Module):
    def __init__(self, chunks: int, dim: int) -> None:
        super().__init__()
        self.chunks = chunks
        self.dim = dim

    def forward(self, x: Any) -> Any:
        return torch.chunk(x, self.chunks, dim=self.dim)

    def extra_repr(self) -> str:
        return f"{self.chunks}, dim={self.dim}"


class UpsampleTo(nn.Module):
    """``upsample: {size_of: NAME}``: interpolate ``x`` to the spatial size of ``like``, so
    the module is right at any input size."""

    def __init__(self, mode: str, align_corners: bool | None) -> None:
        super().__init__()
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x: Any, like: Any) -> Any:
        return F.interpolate(
            x, size=tuple(like.shape[2:]), mode=self.mode, align_corners=self.align_corners
        )

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
