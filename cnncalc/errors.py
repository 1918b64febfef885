"""The errors a user can see. Each carries where it happened; ``cli.py`` maps them to exit codes."""

from __future__ import annotations

from typing import NamedTuple

from .quote import PATH_CHARS, excerpt


class Location(NamedTuple):
    """Where in a model a problem sits: file, line, row index and layer name, field."""

    source: str | None = None  # file path, "<stdin>" or "inline spec"
    line: int | None = None
    column: int | None = None
    index: int | None = None  # the row index the layer would have had
    layer: str | None = None  # the layer's (dotted) name
    field: str | None = None  # the argument at fault; the message names it too

    def prefix(self) -> str:
        parts = []
        if self.source:
            place = self.source
            if self.line is not None:
                place += f":{self.line}"
                if self.column is not None:
                    place += f":{self.column}"
            elif self.column is not None:
                place += f", column {self.column}"
            parts.append(place)
        if self.index is not None or self.layer:
            label = "layer" if self.index is None else f"layer {self.index}"
            if self.layer:
                label += f" ({excerpt(self.layer, PATH_CHARS)})"
            parts.append(label)
        return ": ".join(parts)


class CnncalcError(Exception):
    """Base of every error that is the user's input, not a bug. Exit status 2."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def with_location(self, **where: object) -> CnncalcError:
        """The same error with more of its location filled in (existing parts win)."""
        current = {k: getattr(self.location, k) for k in Location._fields}
        for key, value in where.items():
            if current.get(key) is None:
                current[key] = value
        clone = type(self)(self.message, Location(**current))  # type: ignore[arg-type]
        return clone

    def __str__(self) -> str:
        prefix = self.location.prefix()
        return f"{prefix}: {self.message}" if prefix else self.message


class SpecError(CnncalcError):
    """The model file or inline spec is malformed: syntax, unknown names, bad arguments."""


class ShapeError(CnncalcError):
    """The model is well formed but a layer cannot take the shape that reaches it."""


class LimitError(CnncalcError):
    """The input exceeds one of the safety limits in ``cnncalc.limits``."""


class RunError(CnncalcError):
    """A run PyTorch cannot make as asked: an element type without kernels, a device that
    is absent, or more memory than the run may have."""
