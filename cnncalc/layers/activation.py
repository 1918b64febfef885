"""Elementwise activations. Shape in = shape out; FLOPs one per element (identity none,
softmax and log_softmax three: exponent, sum, divide)."""

from __future__ import annotations

from typing import Any

from .base import LayerType, Shape, show_shape
from .fields import Bool, Choice, Float, Int

INPLACE = {"inplace": (Bool(), False)}


class Activation(LayerType):
    family = "activation"
    flops_per_element = 1
    torch_name: str
    torch_args: tuple[str, ...] = ()

    def to_torch(self, shape: Shape) -> Any:
        from torch import nn

        kwargs = {name: getattr(self.args, name) for name in self.torch_args}
        return getattr(nn, self.torch_name)(**kwargs)


class SoftmaxLike(Activation):
    """Softmax over ``dim`` (default -1, the last dimension, as Keras does; PyTorch warns
    and guesses when no dim is given)."""

    positional = ("dim",)
    fields = {"dim": (Int(), -1)}
    flops_per_element = 3
    torch_args = ("dim",)

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


def _activation(
    name: str,
    torch_name: str,
    fields: dict[str, tuple[Any, Any]] | None = None,
    aliases: tuple[str, ...] = (),
    flops: int = 1,
    base: type[Activation] = Activation,
) -> type[LayerType]:
    fields = dict(fields or {})
    own = tuple(k for k in fields if k != "inplace")
    attrs = {
        "type_name": name,
        "aliases": aliases,
        "torch_name": torch_name,
        "fields": fields,
        "positional": tuple(fields),
        "torch_args": own,
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

ACTIVATION_NAMES = tuple(cls.type_name for cls in LAYERS)
