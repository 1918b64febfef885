"""Elementwise activations. Shape in = shape out; FLOPs one per element (identity none,
softmax and log_softmax three: exponent, sum, divide)."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import NOTHING, LayerType, SaveContext, Saved, Shape, numel, show_shape
from .fields import Bool, Choice, Float, Int

INPLACE = {"inplace": (Bool(), False)}


class Activation(LayerType):
    family = "activation"
    flops_per_element = 1
    torch_name: str
    torch_args: tuple[str, ...] = ()
    elementwise = True
    saves: ClassVar[str] = "input"
    """What the out-of-place op keeps for backward: ``input``, ``output`` or ``nothing``."""
    saves_inplace: ClassVar[str] = "copy"
    """In place (``inplace: true``): ``output``, its result, or ``copy``, a copy of the input
    autograd makes before overwriting it, because the gradient needs the input."""

    def inplace(self) -> bool:
        return bool(getattr(self.args, "inplace", False))

    def aliases_input(self, training: bool = True) -> bool:
        return self.inplace() or self.saves == "nothing"

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """Per type in ``SAVED_FOR_BACKWARD``: the input, the output, or (in place) the
        result or a copy of the input, ``numel × itemsize`` bytes."""
        if self.inplace():
            if self.saves_inplace == "output":
                return Saved(output=True)
            return Saved(new=(numel(shape) * ctx.itemsize,))
        return {"input": Saved(input=True), "output": Saved(output=True)}.get(self.saves, NOTHING)

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        kwargs = {name: getattr(self.args, name) for name in self.torch_args}
        return getattr(nn, self.torch_name)(**kwargs)


class SoftmaxLike(Activation):
    """Softmax over ``dim`` (default -1, the last dimension, as Keras does; PyTorch warns
    and guesses when no dim is given)."""

    positional = ("dim",)
    fields = {"dim": (Int(), -1)}
    elementwise = False
    flops_per_element = 3
    torch_args = ("dim",)
    saves = "output"

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        """CUDA's autocast runs softmax in float32; CPU's keeps the input's precision."""
        return 4 if ctx.cuda_autocast else ctx.itemsize

    def output_shape(self, shape: Shape) -> Shape:
        rank = len(shape)
        if not -rank <= self.args.dim < rank:
            raise self.fail(
                f"dim {self.args.dim} is out of range for input {show_shape(shape)} "
                f"(expected {-rank}..{rank - 1})"
            )
        return shape


class PReLU(Activation):
    """``torch.nn.PReLU``: one learnable slope, or one per channel."""

    type_name = "prelu"
    positional = ("num_parameters", "init")
    fields = {"num_parameters": (Int(1), 1), "init": (Float(), 0.25)}
    torch_name = "PReLU"
    torch_args = ("num_parameters", "init")

    def output_shape(self, shape: Shape) -> Shape:
        n = self.args.num_parameters
        if n != 1 and (len(shape) < 2 or shape[1] != n):
            raise self.fail(
                f"num_parameters {n} must be 1 or the channel count, but the input "
                f"{show_shape(shape)} has {shape[1] if len(shape) > 1 else 'no'} channels"
            )
        return shape

    def params(self, shape: Shape) -> int:
        return self.args.num_parameters

    def saved_bytes(self, shape: Shape, out: Shape, ctx: SaveContext) -> Saved:
        """The input (autocast computes prelu in the lower precision, so it saves the cast
        copy of an input in another precision, and of its weight)."""
        saved = ctx.cast(numel(shape), ctx.lower)
        if ctx.autocast:
            saved += Saved(weights=(self.args.num_parameters * ctx.lower,))
        return saved

    def output_itemsize(self, shape: Shape, ctx: SaveContext) -> int:
        return ctx.lower


def _activation(
    name: str,
    torch_name: str,
    fields: dict[str, tuple[Any, Any]] | None = None,
    aliases: tuple[str, ...] = (),
    flops: int = 1,
    base: type[Activation] = Activation,
) -> type[LayerType]:
    fields = dict(fields or {})
    attrs = {
        "type_name": name,
        "aliases": aliases,
        "torch_name": torch_name,
        "fields": fields,
        "positional": tuple(fields),
        "torch_args": tuple(fields),
        "flops_per_element": flops,
        "__doc__": f"``torch.nn.{torch_name}``.",
    }
    return type(torch_name, (base,), attrs)


LAYERS: list[type[LayerType]] = [
    _activation("relu", "ReLU", INPLACE),
    _activation("relu6", "ReLU6", INPLACE),
    _activation(
        "leaky_relu", "LeakyReLU", {"negative_slope": (Float(), 0.01), **INPLACE},
    ),
    _activation("elu", "ELU", {"alpha": (Float(), 1.0), **INPLACE}),
    _activation("selu", "SELU", INPLACE),
    _activation("gelu", "GELU", {"approximate": (Choice("none", "tanh"), "none")}),
    _activation("silu", "SiLU", INPLACE, aliases=("swish",)),
    _activation("mish", "Mish", INPLACE),
    _activation("sigmoid", "Sigmoid"),
    _activation("hardsigmoid", "Hardsigmoid", INPLACE),
    _activation("hardswish", "Hardswish", INPLACE),
    _activation("tanh", "Tanh"),
    _activation("identity", "Identity", aliases=("linear_activation",), flops=0),
    _activation("softmax", "Softmax", SoftmaxLike.fields, flops=3, base=SoftmaxLike),
    _activation("log_softmax", "LogSoftmax", SoftmaxLike.fields, flops=3, base=SoftmaxLike),
    PReLU,
]

SAVED_FOR_BACKWARD: dict[str, tuple[str, str]] = {
    # type: (out of place, in place), as PyTorch 2.13's derivative formulas use them
    "relu": ("output", "output"),
    "relu6": ("input", "copy"),  # hardtanh
    "leaky_relu": ("input", "output"),
    "elu": ("input", "output"),
    "selu": ("input", "output"),
    "gelu": ("input", "copy"),
    "silu": ("input", "copy"),
    "mish": ("input", "copy"),
    "sigmoid": ("output", "output"),
    "hardsigmoid": ("input", "copy"),
    "hardswish": ("input", "copy"),
    "tanh": ("output", "output"),
    "identity": ("nothing", "nothing"),
    "softmax": ("output", "output"),
    "log_softmax": ("output", "output"),
}
for _cls in LAYERS:
    if _cls is not PReLU:
        _cls.saves, _cls.saves_inplace = SAVED_FOR_BACKWARD[_cls.type_name]  # type: ignore[attr-defined]

ACTIVATION_NAMES = tuple(cls.type_name for cls in LAYERS)
