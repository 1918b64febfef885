"""The base every layer type derives from, and the shape helpers they share.

A layer type is one class: its arguments (a pydantic model), its output shape, parameter,
MAC and FLOP counts, its sliding-window geometry for receptive fields, and its PyTorch
constructor. Shapes are tuples of ints with the batch dimension first, exactly as PyTorch
sees the tensor.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import ShapeError, SpecError, Location

if TYPE_CHECKING:  # pragma: no cover
    import torch

Shape = tuple[int, ...]


class FlatShape(tuple):  # type: ignore[type-arg]
    """A shape whose last dimension came from flattening ``factors``, so a later size
    mismatch can say where the number came from (``256 = 16×4×4``)."""

    factors: tuple[int, ...] = ()

    def __new__(cls, shape: Shape, factors: tuple[int, ...]) -> FlatShape:
        made = super().__new__(cls, shape)
        made.factors = factors
        return made

ARGS_CONFIG = ConfigDict(extra="forbid", frozen=True, defer_build=True, validate_default=True)


def show_shape(shape: Shape) -> str:
    """A shape as PyTorch prints it: ``[1, 6, 28, 28]``."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def numel(shape: Shape) -> int:
    return prod(shape)


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding window along each spatial dimension, paddings as applied (left, right)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_left: tuple[int, ...]
    pad_right: tuple[int, ...]
    dilation: tuple[int, ...]


class LayerType:
    """One layer type. Subclasses set the class attributes and override the formulas.

    ``fields`` maps argument names (PyTorch's) to ``(type, default)`` as pydantic's
    ``create_model`` takes them; ``positional`` is PyTorch's positional order with the
    inferred argument left out.
    """

    type_name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str] = ""
    fields: ClassVar[dict[str, tuple[Any, Any]]] = {}
    positional: ClassVar[tuple[str, ...]] = ()
    keyword_aliases: ClassVar[dict[str, str]] = {}
    inferred: ClassVar[str | None] = None
    variadic: ClassVar[str | None] = None  # the argument that takes every positional value
    flops_per_element: ClassVar[int] = 0
    receptive: ClassVar[str] = "pointwise"  # "pointwise" | "window" | "reset"
    _model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, args: BaseModel) -> None:
        self.args = args

    # ---- construction from a spec entry -------------------------------------------------
    @classmethod
    def args_model(cls) -> type[BaseModel]:
        if cls.__dict__.get("_model") is None:
            cls._model = create_model(  # type: ignore[call-overload]
                f"{cls.__name__}Args", __config__=ARGS_CONFIG, **cls.fields
            )
        return cls._model  # type: ignore[return-value]

    @classmethod
    def from_arguments(
        cls, positional: list[Any], keywords: dict[str, Any], spelled: str | None = None
    ) -> LayerType:
        """Validate a spec entry's arguments; a SpecError names the argument at fault."""
        label = spelled or cls.type_name
        values = {cls.keyword_aliases.get(k, k): v for k, v in keywords.items()}
        if cls.variadic and positional:
            positional = [positional[0] if len(positional) == 1 else list(positional)]
            order: tuple[str, ...] = (cls.variadic,)
        else:
            order = cls.positional
        if len(positional) > len(order):
            raise SpecError(
                f"{label} takes at most {len(order)} positional argument"
                f"{'' if len(order) == 1 else 's'} ({', '.join(order) or 'none'}), "
                f"got {len(positional)}"
            )
        for name, value in zip(order, positional, strict=False):
            if name in values:
                raise SpecError(f"{label} got {name} both by position and by name")
            values[name] = value
        try:
            return cls(cls.args_model().model_validate(values))
        except ValidationError as exc:
            raise cls._spec_error(exc, label) from None

    @classmethod
    def _spec_error(cls, exc: ValidationError, label: str) -> SpecError:
        error = exc.errors(include_url=False)[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "missing":
            message = f"{label} needs {field}"
        elif error["type"] == "extra_forbidden":
            known = sorted(cls.fields)
            close = difflib.get_close_matches(field, known + list(cls.keyword_aliases), 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            message = (
                f"{label} has no argument {field!r}{hint}; it takes "
                f"{', '.join(known) if known else 'no arguments'}"
            )
        else:
            message = f"{label} {field} {error['msg']}"
        return SpecError(message, Location(field=field or None))

    # ---- the formulas ----------------------------------------------------------------------
    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def params(self, shape: Shape) -> int:
        return 0

    def buffers(self, shape: Shape) -> int:
        return 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def flops(self, shape: Shape, out: Shape) -> int:
        return 2 * self.macs(shape, out) + self.flops_per_element * numel(out)

    def window(self, shape: Shape) -> Window | None:
        """The sliding window over the input's spatial dimensions, for layers that have one."""
        return None

    def to_torch(self, shape: Shape) -> torch.nn.Module:
        """The PyTorch module that computes this layer on an input of ``shape``."""
        raise NotImplementedError(f"{self.type_name} has no PyTorch constructor")

    # ---- helpers for subclasses ------------------------------------------------------------
    def fail(self, message: str) -> ShapeError:
        return ShapeError(f"{self.type_name} {message}")

    def require_rank(self, shape: Shape, ranks: tuple[int, ...], layout: str) -> None:
        """Refuse an input whose rank (batch included) is not one of ``ranks``."""
        if len(shape) not in ranks:
            raise self.fail(
                f"expects a {layout} input, got {show_shape(shape)} "
                f"({len(shape) - 1}-D per sample)"
            )

    def check_inferred(self, given: int | None, actual: int, what: str) -> None:
        """A size PyTorch infers may be given in the spec, but then it must agree."""
        if given is not None and given != actual:
            raise self.fail(f"{self.inferred} {given} but the input has {actual} {what}")
