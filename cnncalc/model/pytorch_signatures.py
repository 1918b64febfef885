"""PyTorch constructors pasted as they are: ``nn.Conv2d(3, 16, 3)``, ``torch.nn.Linear(4096, 10)``.

cnncalc's own short form leaves out the argument PyTorch infers (``conv2d(16, 3)``: 16 out
channels, kernel 3). A name written with PyTorch's ``nn.`` (or ``torch.nn.``) prefix instead
takes PyTorch's own signature, the inferred argument included; that argument is then checked
against the input like any given size. One table row per PyTorch class says which cnncalc
type it is and how PyTorch orders its arguments, so a new type needs one row, not code.

The same table answers the opposite question: where a short-form call such as
``conv2d(3, 16, 3)`` would also be a valid PyTorch call, its PyTorch reading, so the
command line can say when the two readings part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import SpecError
from ..layers import LayerType, find_type, normalise_name
from ..layers.base import too_many_positionals
from ..quote import excerpt, quote
from .nodes import Call

PREFIXES = ("torch.nn.", "nn.")
DEVICE = ("device", "dtype")


class Signature:
    """One PyTorch class: the cnncalc type it is and PyTorch's own arguments.

    ``parameters`` are PyTorch's positional-or-keyword parameters in order, ``required`` how
    many of the first ones PyTorch requires. ``ignored`` are accepted with any value because
    they change neither shapes nor counts (``device``, ``dtype``). ``torch_only`` are
    arguments cnncalc's type does not have: accepted at PyTorch's default, refused otherwise.
    ``fixed`` are cnncalc arguments the class itself implies (``UpsamplingBilinear2d``).
    ``none_is_default`` are arguments whose ``None`` means cnncalc's default (``Softmax``'s
    ``dim=None``, PyTorch's own guess of the dimension, changes no shape).

    A plain class, not a dataclass: making a dataclass costs milliseconds at every start.
    """

    __slots__ = (
        "torch_name", "type_name", "parameters", "required", "ignored", "torch_only", "fixed",
        "none_is_default",
    )  # fmt: skip

    def __init__(
        self, torch_name: str, type_name: str, parameters: tuple[str, ...], required: int = 0,
        ignored: tuple[str, ...] = (), torch_only: Mapping[str, Any] | None = None,
        fixed: Mapping[str, Any] | None = None, none_is_default: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        self.torch_name = torch_name
        self.type_name = type_name
        self.parameters = parameters
        self.required = required
        self.ignored = ignored
        self.torch_only = torch_only or {}
        self.fixed = fixed or {}
        self.none_is_default = none_is_default

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every keyword PyTorch accepts: the parameters, then keyword-only ones."""
        return self.parameters + tuple(k for k in self.torch_only if k not in self.parameters)

    def layer_type(self) -> type[LayerType]:
        found = find_type(self.type_name)
        assert found is not None, self.type_name
        return found


CONV = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
    "bias", "padding_mode", *DEVICE,
)  # fmt: skip
TRANSPOSED = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
    "groups", "bias", "dilation", "padding_mode", *DEVICE,
)  # fmt: skip
RUNNING_NORM = ("num_features", "eps", "momentum", "affine", "track_running_stats", *DEVICE)
NORM_BIAS = {"bias": True}  # PyTorch 2.13's keyword-only bias of BatchNorm/InstanceNorm/GroupNorm


def _rows() -> list[Signature]:
    rows: list[Signature] = []
    for n in (1, 2, 3):
        avg_pool = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
        rows += [
            Signature(f"Conv{n}d", f"conv{n}d", CONV, 3, DEVICE),
            Signature(f"ConvTranspose{n}d", f"conv_transpose{n}d", TRANSPOSED, 3, DEVICE),
            Signature(f"BatchNorm{n}d", f"batchnorm{n}d", RUNNING_NORM, 1, DEVICE, NORM_BIAS),
            Signature(f"InstanceNorm{n}d", f"instancenorm{n}d", RUNNING_NORM, 1, DEVICE, NORM_BIAS),
            Signature(
                f"MaxPool{n}d", f"maxpool{n}d",
                ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"), 1,
            ),
            Signature(
                f"AvgPool{n}d", f"avgpool{n}d",
                avg_pool if n == 1 else (*avg_pool, "divisor_override"), 1,
            ),
            Signature(f"AdaptiveAvgPool{n}d", f"adaptive_avgpool{n}d", ("output_size",), 1),
            Signature(
                f"AdaptiveMaxPool{n}d", f"adaptive_maxpool{n}d",
                ("output_size", "return_indices"), 1, torch_only={"return_indices": False},
            ),
            Signature(f"ZeroPad{n}d", f"zeropad{n}d", ("padding",), 1),
            Signature(f"Dropout{n}d", f"dropout{n}d", ("p", "inplace")),
        ]  # fmt: skip
    inplace = ("inplace",)
    rows += [
        Signature("Linear", "linear", ("in_features", "out_features", "bias", *DEVICE), 2, DEVICE),
        Signature(
            "GroupNorm", "groupnorm", ("num_groups", "num_channels", "eps", "affine", *DEVICE), 2,
            DEVICE, NORM_BIAS,
        ),
        Signature(
            "LayerNorm", "layernorm",
            ("normalized_shape", "eps", "elementwise_affine", "bias", *DEVICE), 1, DEVICE,
        ),
        Signature("Flatten", "flatten", ("start_dim", "end_dim")),
        Signature("Unflatten", "unflatten", ("dim", "unflattened_size"), 2),
        Signature("PixelShuffle", "pixel_shuffle", ("upscale_factor",), 1),
        Signature("PixelUnshuffle", "pixel_unshuffle", ("downscale_factor",), 1),
        # recompute_scale_factor changes the scale used inside, never the output size
        Signature(
            "Upsample", "upsample",
            ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
            ignored=("recompute_scale_factor",),
        ),
        Signature(
            "UpsamplingNearest2d", "upsample", ("size", "scale_factor"), fixed={"mode": "nearest"}
        ),
        Signature(
            "UpsamplingBilinear2d", "upsample", ("size", "scale_factor"),
            fixed={"mode": "bilinear", "align_corners": True},
        ),
        Signature("Dropout", "dropout", ("p", "inplace")),
        Signature("ReLU", "relu", inplace),
        Signature("ReLU6", "relu6", inplace),
        Signature("LeakyReLU", "leaky_relu", ("negative_slope", "inplace")),
        Signature("PReLU", "prelu", ("num_parameters", "init", *DEVICE), ignored=DEVICE),
        Signature("ELU", "elu", ("alpha", "inplace")),
        Signature("SELU", "selu", inplace),
        Signature("GELU", "gelu", ("approximate",)),
        Signature("SiLU", "silu", inplace),
        Signature("Mish", "mish", inplace),
        Signature("Sigmoid", "sigmoid", ()),
        Signature("Hardsigmoid", "hardsigmoid", inplace),
        Signature("Hardswish", "hardswish", inplace),
        Signature("Tanh", "tanh", ()),
        Signature("Softmax", "softmax", ("dim",), none_is_default=("dim",)),
        Signature("LogSoftmax", "log_softmax", ("dim",), none_is_default=("dim",)),
        Signature("Identity", "identity", ()),
    ]  # fmt: skip
    return rows


SIGNATURES: dict[str, Signature] = {normalise_name(s.torch_name): s for s in _rows()}
SEQUENTIAL = "Sequential"
"""``nn.Sequential(...)`` of pasted layers is an inline model: a sequential block."""


def torch_class(type_key: str) -> str | None:
    """The class name of a type written with PyTorch's prefix (``nn.Conv2d`` -> ``Conv2d``),
    else None."""
    if "." not in type_key:  # every prefix has one; most type names have none
        return None
    for prefix in PREFIXES:
        if type_key[: len(prefix)].lower() == prefix:
            return type_key[len(prefix) :]
    return None


def is_sequential(type_key: str) -> bool:
    name = torch_class(type_key)
    return name is not None and normalise_name(name) == normalise_name(SEQUENTIAL)


def as_python(value: Any) -> str:
    """A value as a PyTorch line writes it: ``(3, 3)``, ``True``, ``'same'``."""
    if isinstance(value, list | tuple):
        inner = ", ".join(as_python(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def call_text(name: str, positional: list[Any], keywords: Mapping[str, Any]) -> str:
    """``nn.Conv2d(3, 16, 3, padding=1)``, bounded for an error or a note."""
    parts = [as_python(v) for v in positional] + [f"{k}={as_python(v)}" for k, v in keywords.items()]
    return excerpt(f"{name}({', '.join(parts)})", 120)


def find_signature(type_key: str) -> Signature:
    """The table row of ``nn.NAME``; an unknown class is refused with the closest name."""
    name = torch_class(type_key) or type_key
    found = SIGNATURES.get(normalise_name(name))
    if found is None:
        names = [s.torch_name for s in SIGNATURES.values()]
        import difflib

        close = difflib.get_close_matches(name[:100], names, 1, 0.6)
        hint = f" (did you mean nn.{close[0]}?)" if close else ""
        raise SpecError(
            f"unknown PyTorch layer {quote(type_key)}{hint}; the nn. form takes PyTorch's "
            "constructors of cnncalc's layer types (`cnncalc layers` lists them)"
        )
    return found


def split_arguments(args: Any) -> tuple[list[Any], dict[Any, Any]]:
    """(positional, keywords) of an entry's arguments in any of the spec's forms."""
    if isinstance(args, Call):
        return list(args.positional), dict(args.keywords)
    if args is None:
        return [], {}
    if isinstance(args, dict):
        return [], dict(args)
    if isinstance(args, list):
        return list(args), {}
    return [args], {}


def pytorch_arguments(
    signature: Signature, positional: list[Any], keywords: Mapping[Any, Any], spelled: str
) -> dict[str, Any]:
    """PyTorch's arguments (in its order and names) as cnncalc's keyword arguments of
    ``signature.type_name``. Refuses what PyTorch's constructor would refuse: too many
    positionals, unknown keywords, an argument twice, a required one missing."""
    label = excerpt(spelled)
    order = signature.parameters
    if len(positional) > len(order):
        raise too_many_positionals(label, order, len(positional))
    values: dict[str, Any] = dict(zip(order, positional, strict=False))
    for key, value in keywords.items():
        if not isinstance(key, str):
            raise SpecError(f"{label} argument names must be text, got {quote(key)}")
        if key not in signature.accepted:
            import difflib

            close = difflib.get_close_matches(key[:100], signature.accepted, 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if key == "activation":  # Keras's argument, written on a PyTorch line
                hint = " (PyTorch's activations are layers of their own, as -> nn.ReLU())"
            raise SpecError(
                f"{label} has no argument {quote(key)}{hint}; PyTorch's signature is "
                f"{signature.torch_name}({', '.join(signature.accepted)})"
            )
        if key in values:
            raise SpecError(f"{label} got {key} both by position and by name")
        values[key] = value
    missing = [p for p in order[: signature.required] if p not in values]
    if missing:
        raise SpecError(
            f"{label} needs {missing[0]}: PyTorch's {signature.torch_name} takes "
            f"{', '.join(order[: signature.required])} first"
        )
    for key in signature.ignored:
        values.pop(key, None)
    for key in signature.none_is_default:
        if key in values and values[key] is None:
            del values[key]
    for key, default in signature.torch_only.items():
        if key in values:
            value = values.pop(key)
            if value is not default and not (type(value) is type(default) and value == default):
                raise SpecError(
                    f"{label} {key}={as_python(value)} is not supported: cnncalc's "
                    f"{signature.type_name} has no {key} (only PyTorch's default, "
                    f"{as_python(default)})"
                )
    return {**values, **signature.fixed}


def pytorch_layer(type_key: str, args: Any) -> tuple[type[LayerType], dict[str, Any]]:
    """The cnncalc type and keyword arguments of an entry written ``nn.NAME(...)``."""
    signature = find_signature(type_key)
    positional, keywords = split_arguments(args)
    return signature.layer_type(), pytorch_arguments(signature, positional, keywords, type_key)


# ---- the short form read as a pasted line ------------------------------------------------
class Reading(NamedTuple):
    """A short-form call that is also a valid PyTorch call: its first argument, the input
    dimension PyTorch would read it as (1: channels, -1: features) and the note to give
    where that dimension equals it."""

    first: int
    dim: int
    reads: str  # how the short form reads it
    advice: str  # how PyTorch's reading is written

    @property
    def note(self) -> str:
        return f"{self.reads}; {self.advice}"


def pytorch_reading(
    layer_type: type[LayerType], positional: list[Any], keywords: Mapping[str, Any], spelled: str
) -> Reading | None:
    """Where a short-form call (``conv2d(3, 16, 3)``) is also a valid PyTorch call whose first
    argument is the inferred size, how the two readings differ. None where they cannot be
    confused: no positional integer first, the inferred size given by name, a type whose
    PyTorch signature does not start with the inferred size, or arguments PyTorch's
    constructor would refuse."""
    if not positional or layer_type.inferred is None or layer_type.inferred in keywords:
        return None
    first = positional[0]
    if type(first) is not int:
        return None
    candidates = [
        s for s in SIGNATURES.values()
        if s.type_name == layer_type.type_name and s.parameters[:1] == (layer_type.inferred,)
    ]  # fmt: skip
    if not candidates:
        return None
    signature = candidates[0]
    try:
        values = pytorch_arguments(signature, positional, keywords, signature.torch_name)
        layer_type.from_arguments([], values)
    except SpecError:
        return None
    dim = -1 if layer_type.inferred == "in_features" else 1
    read = ", ".join(
        f"{as_python(v)} as {name}"
        for name, v in zip(layer_type.positional, positional, strict=False)
    )
    required = ", ".join(signature.parameters[: signature.required])
    reads = (
        f"{call_text(spelled, positional, keywords)} reads {read} (the short form leaves "
        f"{layer_type.inferred} out)"
    )
    pasted = call_text("nn." + signature.torch_name, positional, keywords)
    advice = (
        f"a pasted PyTorch line, {signature.torch_name}({required}, ...), is written {pasted}"
    )
    return Reading(first, dim, reads, advice)
