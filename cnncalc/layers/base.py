"""The base every layer type derives from, and the shape helpers they share.

A layer type is one class: its arguments (a pydantic model), its output shape, parameter,
MAC and FLOP counts, its sliding-window geometry for receptive fields, and its PyTorch
constructor. Shapes are tuples of ints with the batch dimension first, exactly as PyTorch
sees the tensor.
"""

from __future__ import annotations

from math import prod
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

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


class Window(NamedTuple):
    """A sliding window along each spatial dimension, paddings as applied (left, right)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_left: tuple[int, ...]
    pad_right: tuple[int, ...]
    dilation: tuple[int, ...]


INDEX_BYTES = 8
"""Max pooling's saved indices are int64."""


class SaveContext(NamedTuple):
    """What a layer's saved-for-backward rule depends on besides its shapes.

    ``itemsize`` is the bytes per element of the layer's input, ``param_itemsize`` of its
    parameters (4 under autocast). ``autocast`` is the bytes per element of autocast's
    lower precision (2), None without autocast. ``device`` is ``"cuda"`` or ``"cpu"``;
    ``input_grad`` says whether the input requires grad (the model input does not, nor
    does anything below a frozen stem), ``param_grad`` whether the layer's own parameters
    are trained, ``strides`` the input's strides where it is not contiguous (a permuted view).
    """

    itemsize: int
    param_itemsize: int
    autocast: int | None = None
    device: str = "cuda"
    input_grad: bool = True
    param_grad: bool = True
    strides: tuple[int, ...] | None = None

    @property
    def lower(self) -> int:
        """Bytes per element of what autocast computes in the lower precision
        (convolution, linear, prelu); the input's own without autocast."""
        return self.autocast or self.itemsize

    @property
    def cpu_autocast(self) -> bool:
        return self.autocast is not None and self.device == "cpu"

    @property
    def cuda_autocast(self) -> bool:
        return self.autocast is not None and self.device == "cuda"

    def cast(self, elements: int, itemsize: int, input_saved: bool = True) -> Saved:
        """Save the input as an op computing in ``itemsize`` does: the input itself where it
        already has that element size, else the cast copy autocast makes."""
        if itemsize == self.itemsize:
            return Saved(input=input_saved)
        return Saved(new=(elements * itemsize,))


class Saved(NamedTuple):
    """What a layer keeps for backward, as autograd holds it: its input tensor itself, its
    output tensor itself, and the bytes of each tensor it makes and saves (indices,
    masks, statistics, cast or padded copies). Input and output are named, not counted,
    because their storage may be shared with other rows and is then counted once.
    ``weights`` are autocast's lower-precision copies of the parameters: autocast caches
    the copy of a trained parameter for the whole forward pass, so every use of a shared
    layer saves the same one."""

    input: bool = False
    output: bool = False
    new: tuple[int, ...] = ()
    weights: tuple[int, ...] = ()

    def __add__(self, other: Saved) -> Saved:
        return Saved(
            self.input or other.input, self.output or other.output, self.new + other.new,
            self.weights + other.weights,
        )  # fmt: skip


NOTHING = Saved()


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
            raise too_many_positionals(label, order, len(positional))
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

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        """Elements of each parameter tensor (weight, bias), as ``module.parameters()``
        lists them; the optimizer keeps state per tensor."""
        count = self.params(shape)
        return (count,) if count else ()

    def backward_flops(self, shape: Shape, out: Shape, input_grad: bool, param_grad: bool) -> int:
        """FLOPs of this layer's backward pass: its forward FLOPs again where a gradient
        flows through it (the input needs one, or its parameters are trained), else 0."""
        return self.flops(shape, out) if input_grad or (param_grad and self.params(shape)) else 0

    def buffer_bytes(self, shape: Shape, itemsize: int) -> int:
        """Bytes of the buffers (running statistics), in the parameters' element type."""
        return self.buffers(shape) * itemsize

    # ---- training memory: what autograd saves (see cnncalc/training_memory.py) -----------
    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """What autograd saves for backward in a training step of this layer on ``shape``,
        as PyTorch 2.13 does; asked only where something needs a gradient (the input, or
        this layer's own trainable parameters). Parameters and buffers never count."""
        raise NotImplementedError(f"{self.type_name} has no saved-for-backward rule")

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        """Bytes per element of the output: the input's, except where autocast computes in
        another precision."""
        return ctx.itemsize

    def workspace_bytes(self, shape: Shape, ctx: SaveContext, training: bool) -> int:
        """Memory the kernel holds while it runs, beyond its output (0 where none is known)."""
        return 0

    def aliases_input(self, training: bool = True) -> bool:
        """Whether the output shares the input's storage (a view, an in-place result), in
        a training step or (``training`` False) in an inference pass."""
        return False

    elementwise: ClassVar[bool] = False
    """Whether the output keeps the input's memory layout (PyTorch's element-wise ops do)."""

    def view_strides(self, shape: Shape, strides: tuple[int, ...], out: Shape) -> tuple[int, ...] | None:
        """For a layer whose output aliases its input: the output's strides given the
        input's, or None where PyTorch cannot make a view and copies instead."""
        return strides

    def output_strides(self, out: Shape) -> tuple[int, ...] | None:
        """The strides of a new output; None: contiguous."""
        return None

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


def too_many_positionals(label: str, order: tuple[str, ...], got: int) -> SpecError:
    """The refusal of more positional arguments than ``order`` names, as a layer's own
    signature and PyTorch's both word it."""
    return SpecError(
        f"{label} takes at most {len(order)} positional argument"
        f"{'' if len(order) == 1 else 's'} ({', '.join(order) or 'none'}), got {got}"
    )


class WeightedLayer(LayerType):
    """A layer that multiplies its input by a weight and may add a bias of
    ``bias_count()`` values (convolutions, linear)."""

    def bias_count(self) -> int:
        raise NotImplementedError

    def param_tensors(self, shape: Shape) -> tuple[int, ...]:
        bias = self.bias_count()
        weight = self.params(shape) - bias
        return (weight, bias) if bias else (weight,)

    def backward_flops(self, shape: Shape, out: Shape, input_grad: bool, param_grad: bool) -> int:
        """Twice the forward multiply-adds for each gradient computed, the input's and the
        weight's (2·MACs each), plus one FLOP per output element for the bias gradient."""
        matmul = 2 * self.macs(shape, out) * (int(input_grad) + int(param_grad))
        return matmul + (numel(out) if param_grad and self.bias_count() else 0)


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
