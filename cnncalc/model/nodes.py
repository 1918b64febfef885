"""The model as a tree of nodes: layers, blocks and the places where the spec was wrong.

A node that failed to build is kept as a ``FailedNode`` so the rows before it can still be
computed; its error is raised when propagation reaches it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import CnncalcError
from ..layers import LayerType

OWN_NAME = ""
"""The name of a block's child whose row takes the block's own name, as a layer does beside
its Keras activation (``conv2d1``, ``conv2d1.activation``); never a name a spec can give."""


class Call:
    """A layer's arguments as the inline form writes them (``conv2d(6, 5, stride=2)``):
    positional and by keyword. A slotted class, as the nodes are; not a named tuple, which
    would pass for a list of arguments."""

    __slots__ = ("positional", "keywords")

    def __init__(self, positional: list[Any], keywords: dict[str, Any]) -> None:
        self.positional, self.keywords = positional, keywords

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return self.positional == other.positional and self.keywords == other.keywords

    __hash__ = None  # type: ignore[assignment]  # its lists and dicts can change

    def __repr__(self) -> str:
        return f"Call(positional={self.positional!r}, keywords={self.keywords!r})"


# Plain classes, not dataclasses: every command defines them at its start, and defining six
# dataclasses costs more time than the command's own work on a small model. Nodes compare
# by identity, as ``eq=False`` dataclasses do.
class Node:
    """An entry of the model: a layer, a block, or where the spec was wrong.

    ``type_name``: canonical layer type, block kind or defined block's name; ``name``: given
    by the spec, None for the default TYPE + position; ``rows``: rows it expands to, repeat
    included. Graph: ``sources`` are the names it reads (``from:``; None reads the previous
    entry's output) and ``many`` whether ``from:`` was a list; ``share`` the entry whose
    module it applies again (``share:``)."""

    def __init__(
        self, type_name: str, name: str | None, repeat: int = 1, trainable: bool = True,
        line: int | None = None, rows: int = 1, sources: tuple[str, ...] | None = None,
        many: bool = False, share: str | None = None,
    ) -> None:  # fmt: skip
        self.type_name, self.name, self.repeat, self.trainable = type_name, name, repeat, trainable
        self.line, self.rows, self.sources, self.many, self.share = line, rows, sources, many, share

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.type_name!r}, name={self.name!r})"


class LayerNode(Node):
    """A layer. ``upsample: {size_of: NAME}`` has no ``layer`` yet: ``size_of`` names the
    tensor whose spatial size is the output's, ``arguments`` holds the others, and the
    layer is made once that size is known."""

    def __init__(
        self, type_name: str, name: str | None, layer: LayerType | None = None,
        size_of: str | None = None, arguments: dict[str, Any] | None = None, **common: Any,
    ) -> None:  # fmt: skip
        super().__init__(type_name, name, **common)
        self.layer, self.size_of, self.arguments = layer, size_of, arguments


class BlockNode(Node):
    """sequential (one branch, no merge), residual (body, shortcut) or parallel.
    ``defined``: a use of a defined block, which sees only its own entries and input, with
    its ``arguments``."""

    def __init__(
        self, type_name: str, name: str | None, kind: str = "sequential",
        branches: list[list[Node]] | None = None, merge: str | None = None,
        defined: bool = False, arguments: dict[str, Any] | None = None, **common: Any,
    ) -> None:  # fmt: skip
        super().__init__(type_name, name, **common)
        self.kind, self.branches, self.merge = kind, branches if branches is not None else [], merge
        self.defined, self.arguments = defined, arguments


class ShareNode(Node):
    """An entry that is just ``share: NAME``: the layer or block NAME applied again."""


class FailedNode(Node):
    def __init__(
        self, type_name: str, name: str | None, error: CnncalcError | None = None, **common: Any
    ) -> None:  # fmt: skip
        super().__init__(type_name, name, **common)
        self.error = error


class Model:
    """A parsed model: its name, per-sample input shapes (no batch) by name, top-level
    nodes and the names of its outputs (None: the last entry's); ``several_inputs`` where
    it has ``inputs:`` rather than ``input:``."""

    def __init__(
        self, name: str | None, inputs: dict[str, tuple[int, ...] | None], layers: list[Node],
        source: str, rows: int = 0, outputs: list[str] | None = None,
        several_inputs: bool = False,
    ) -> None:  # fmt: skip
        self.name, self.inputs, self.layers, self.source = name, inputs, layers, source
        self.rows, self.outputs, self.several_inputs = rows, outputs, several_inputs

    def __repr__(self) -> str:
        return f"Model({self.name!r}, inputs={self.inputs!r}, rows={self.rows})"

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
