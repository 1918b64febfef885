"""The model as a tree of nodes: layers, blocks and the places where the spec was wrong.

A node that failed to build is kept as a ``FailedNode`` so the rows before it can still be
computed; its error is raised when propagation reaches it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import CnncalcError
from ..layers import LayerType

OWN_NAME = ""
"""The name of a block's child whose row takes the block's own name, as a layer does beside
its Keras activation (``conv2d1``, ``conv2d1.activation``); never a name a spec can give."""


@dataclass(eq=False)
class Node:
    type_name: str  # canonical layer type, block kind or defined block's name
    name: str | None  # given by the spec; None means the default TYPE + position
    repeat: int = 1
    trainable: bool = True
    line: int | None = None
    rows: int = 1  # rows it expands to, repeat included


@dataclass(eq=False)
class LayerNode(Node):
    layer: LayerType | None = None


@dataclass(eq=False)
class BlockNode(Node):
    """sequential (one branch, no merge), residual (body, shortcut) or parallel."""

    kind: str = "sequential"
    branches: list[list[Node]] = field(default_factory=list)
    merge: str | None = None


@dataclass(eq=False)
class FailedNode(Node):
    error: CnncalcError | None = None


@dataclass(eq=False)
class Model:
    """A parsed model: its name, per-sample input shape (no batch) and top-level nodes."""

    name: str | None
    input_shape: tuple[int, ...] | None
    layers: list[Node]
    source: str
    rows: int = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a model is built or analysed. Both make
    hundreds of thousands of small objects without cycles, which the collector would only
    scan again and again (a fifth of the time on a deep model); reference counting still
    frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
