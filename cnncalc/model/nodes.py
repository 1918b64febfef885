"""The model as a tree of nodes: layers, blocks and the places where the spec was wrong.

A node that failed to build is kept as a ``FailedNode`` so the rows before it can still be
computed; its error is raised when propagation reaches it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

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
    # Graph: the names it reads (``from:``; None reads the previous entry's output), and
    # whether ``from:`` was a list; the entry whose module it applies again (``share:``).
    sources: tuple[str, ...] | None = None
    many: bool = False
    share: str | None = None


@dataclass(eq=False)
class LayerNode(Node):
    layer: LayerType | None = None
    # ``upsample: {size_of: NAME}``: the tensor whose spatial size is the output's, and the
    # other arguments, from which the layer is made once that size is known.
    size_of: str | None = None
    arguments: dict[str, Any] | None = None


@dataclass(eq=False)
class BlockNode(Node):
    """sequential (one branch, no merge), residual (body, shortcut) or parallel."""

    kind: str = "sequential"
    branches: list[list[Node]] = field(default_factory=list)
    merge: str | None = None
    defined: bool = False  # a use of a defined block: sees only its own entries and input
    arguments: dict[str, Any] | None = None  # a defined block's use: its arguments


@dataclass(eq=False)
class ShareNode(Node):
    """An entry that is just ``share: NAME``: the layer or block NAME applied again."""


@dataclass(eq=False)
class FailedNode(Node):
    error: CnncalcError | None = None


@dataclass(eq=False)
class Model:
    """A parsed model: its name, per-sample input shapes (no batch) by name, top-level
    nodes and the names of its outputs (None: the last entry's)."""

    name: str | None
    inputs: dict[str, tuple[int, ...] | None]
    layers: list[Node]
    source: str
    rows: int = 0
    outputs: list[str] | None = None
    several_inputs: bool = False  # ``inputs:`` rather than ``input:``

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """The first input's shape."""
        return next(iter(self.inputs.values()), None)

    @input_shape.setter
    def input_shape(self, shape: tuple[int, ...] | None) -> None:
        first = next(iter(self.inputs), "input")
        self.inputs = {**self.inputs, first: shape}


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
