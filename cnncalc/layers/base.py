"""The base every layer type derives from, and the shape helpers they share.

A layer type is one class: its arguments (a pydantic model), its output shape, parameter,
MAC and FLOP counts, its sliding-window geometry for receptive fields, and its PyTorch
constructor. Shapes are tuples of ints with the batch dimension first, exactly as PyTorch
sees the tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import Location, ShapeError, SpecError
from ..quote import excerpt, quote
from ..text import dims_text as dims  # noqa: F401 - the layer modules write sizes with it
from ..text import shape_text as show_shape

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



class Arguments(SimpleNamespace):
    """A layer's validated arguments, by PyTorch name."""


def build_validator(fields: dict[str, tuple[Any, Any]]) -> Any:
    """A pydantic-core validator of a mapping of arguments: every field's own validating
    function, defaults validated too, unknown names refused. Built on first use of a layer
    type, so a run pays only for the types its model uses."""
    from pydantic_core import SchemaValidator
    from pydantic_core import core_schema as cs

    schema_fields = {}
    for name, (check, default) in fields.items():
        inner = cs.no_info_plain_validator_function(check)
        if default is None:  # an argument that defaults to null may be given as null
            inner = cs.nullable_schema(inner)
        if default is ...:
            schema_fields[name] = cs.typed_dict_field(inner, required=True)
        else:
            with_default = cs.with_default_schema(inner, default=default, validate_default=True)
            schema_fields[name] = cs.typed_dict_field(with_default, required=False)
    return SchemaValidator(cs.typed_dict_schema(schema_fields, extra_behavior="forbid"))


SPATIAL_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
"""The input layout of a layer with 1, 2 or 3 spatial dimensions, as refusals name it."""


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

    ``fields`` maps argument names (PyTorch's) to ``(validator, default)``, ``...`` for a
    required one; ``positional`` is PyTorch's positional order with the inferred argument
    left out.
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
    flops_rule: ClassVar[str | None] = None
    """What ``flops`` adds to ``2 × MACs``, in words, for a class that overrides ``flops``;
    otherwise ``flops_per_element`` per output element says it (``flops_text``)."""
    receptive: ClassVar[str] = "pointwise"  # "pointwise" | "window" | "reset"
    _validator: ClassVar[Any] = None
    # Set by the spec builder where a short-form call reads differently from the same call
    # pasted from PyTorch (``conv2d(3, 16, 3)``): a ``spec.pytorch_signatures.Reading``.
    pasted: Any = None

    def __init__(self, args: Arguments) -> None:
        self.args = args

    # ---- construction from a spec entry -------------------------------------------------
    @classmethod
    def validator(cls) -> Any:
        if cls.__dict__.get("_validator") is None:
            cls._validator = build_validator(cls.fields)
        return cls._validator

    @classmethod
    def from_arguments(
        cls, positional: list[Any], keywords: dict[str, Any], spelled: str | None = None
    ) -> LayerType:
        """Validate a spec entry's arguments; a SpecError names the argument at fault."""
        label = excerpt(spelled or cls.type_name)
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
        from pydantic_core import ValidationError

        try:
            return cls(Arguments(**cls.validator().validate_python(values)))
        except ValidationError as exc:
            raise cls._spec_error(exc, label) from None

    @classmethod
    def _spec_error(cls, exc: Any, label: str) -> SpecError:
        error = exc.errors(include_url=False)[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "missing":
            message = f"{label} needs {field}"
        elif error["type"] == "extra_forbidden":
            import difflib

            known = sorted(cls.fields)
            close = difflib.get_close_matches(field, known + list(cls.keyword_aliases), 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            message = (
                f"{label} has no argument {quote(field)}{hint}; it takes "
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

    @classmethod
    def flops_text(cls) -> str:
        """The FLOPs beyond ``2 × MACs`` as ``cnncalc layers`` and the README state them."""
        if cls.flops_rule is not None:
            return cls.flops_rule
        if cls.flops is not LayerType.flops:
            raise TypeError(f"{cls.type_name} computes its own FLOPs but states no flops_rule")
        return f"{cls.flops_per_element} per output element" if cls.flops_per_element else "0"

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

    def require_spatial(self, shape: Shape) -> None:
        """Refuse an input that is not (N, C, *spatial) with ``self.nd`` spatial dimensions."""
        self.require_rank(shape, (self.nd + 2,), SPATIAL_LAYOUTS[self.nd])  # type: ignore[attr-defined]

    def check_inferred(self, given: int | None, actual: int, what: str) -> None:
        """A size PyTorch infers may be given in the spec, but then it must agree."""
        if given is not None and given != actual:
            raise self.fail(f"{self.inferred} {given} but the input has {actual} {what}")


def variants(
    base: type[LayerType], name: str, aliases: tuple[str, ...] = (), **attributes: Any
) -> list[type[LayerType]]:
    """The 1-D, 2-D and 3-D classes of ``base``: ``name`` and ``aliases`` hold ``{n}`` for
    the number of spatial dimensions (``"conv{n}d"``), ``base.make_fields(n)`` gives each its
    arguments, and ``attributes`` are set on all three (``kind="Avg"``)."""
    made = []
    for n in (1, 2, 3):
        attrs = {
            "nd": n, "type_name": name.format(n=n),
            "aliases": tuple(a.format(n=n) for a in aliases),
            "fields": base.make_fields(n), "__doc__": base.__doc__,  # type: ignore[attr-defined]
        }  # fmt: skip
        made.append(type(base.__name__.replace("Nd", f"{n}d"), (base,), attrs | attributes))
    return made
