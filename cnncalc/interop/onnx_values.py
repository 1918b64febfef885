"""Constants of an ONNX graph in plain Python, and the protobuf classes without the rest of
the ``onnx`` package.

The plumbing ``torch.onnx.export`` writes computes shapes: ``Shape`` → ``Gather`` →
``Unsqueeze`` → ``Concat`` → ``Reshape``. Those values are short integer vectors, folded here
as a ``Const`` (dims and a flat list of numbers) with a few list operations. Larger
constants (weights) are never folded; only their dimensions matter.

``onnx`` itself is a heavy import (it brings numpy and its helpers, a third of a second);
cnncalc needs only its message classes, ``onnx/onnx_ml_pb2.py``, which depend on protobuf
alone. They are loaded under their own name, so a later ``import onnx`` uses the same
module.
"""

from __future__ import annotations

import math
import struct
import sys
from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]
# TensorProto.DataType -> struct format of one element in raw_data
RAW_FORMATS = {1: "f", 2: "B", 3: "b", 4: "H", 5: "h", 6: "i", 7: "q", 9: "?", 10: "e", 11: "d", 12: "I", 13: "Q"}
INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 9, 12, 13})
EXTERNAL = 1  # TensorProto.DataLocation


def messages() -> Any:
    """The module of ONNX's protobuf classes (``ModelProto``, ``TensorProto`` …)."""
    name = "onnx.onnx_ml_pb2"
    if name in sys.modules:
        return sys.modules[name]
    if "onnx" in sys.modules:
        import onnx.onnx_ml_pb2

        return onnx.onnx_ml_pb2
    import importlib.util
    import os

    found = importlib.util.find_spec("onnx")
    if found is None or found.origin is None:
        raise ModuleNotFoundError("onnx", name="onnx")
    path = os.path.join(os.path.dirname(found.origin), "onnx_ml_pb2.py")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken onnx install
        raise ModuleNotFoundError("onnx", name="onnx")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@dataclass(frozen=True)
class Const:
    """A folded constant: its dimensions and its elements, flat, in row-major order."""

    dims: Shape
    values: tuple[Any, ...]

    @property
    def scalar(self) -> Any:
        return self.values[0]


def tensor_values(tensor: Any) -> tuple[Any, ...]:
    """The elements of a TensorProto (raw_data or the typed fields), flat."""
    if tensor.data_location == EXTERNAL:
        raise ValueError(f"{tensor.name!r} is kept as external data")
    count = math.prod(tensor.dims)
    if tensor.raw_data:
        fmt = RAW_FORMATS.get(tensor.data_type)
        if fmt is None:
            raise ValueError(f"{tensor.name!r} has the element type {tensor.data_type}")
        return struct.unpack(f"<{count}{fmt}", tensor.raw_data)
    for field in ("float_data", "int64_data", "int32_data", "double_data", "uint64_data"):
        data = getattr(tensor, field)
        if len(data):
            return tuple(data)
    return ()


def attribute_value(attribute: Any) -> Any:
    """An AttributeProto's value: a number, text (bytes), a TensorProto or a list."""
    kinds = {1: "f", 2: "i", 3: "s", 4: "t", 6: "floats", 7: "ints", 8: "strings"}
    field = kinds.get(attribute.type)
    if field is None:
        return None  # graphs and other kinds no counted operator takes
    value = getattr(attribute, field)
    return list(value) if field in ("floats", "ints", "strings") else value


def attributes(node: Any) -> dict[str, Any]:
    return {a.name: attribute_value(a) for a in node.attribute}


def text(value: Any, default: str) -> str:
    if value is None:
        return default
    return value.decode() if isinstance(value, bytes) else str(value)


def from_attribute(a: dict[str, Any]) -> Const:
    """The value of a Constant node."""
    if a.get("value") is not None:
        tensor = a["value"]
        return Const(tuple(tensor.dims), tensor_values(tensor))
    for key in ("value_int", "value_float"):
        if key in a:
            return Const((), (a[key],))
    for key in ("value_ints", "value_floats"):
        if key in a:
            return Const((len(a[key]),), tuple(a[key]))
    raise ValueError("a Constant node without a value")


# ---- folding: list operations on small constants ----------------------------------------
def elementwise(op: str, a: Const, b: Const) -> Const:
    """Add, Sub, Mul, Div of two constants, one of them possibly a single element."""
    if len(a.values) == 1 and len(b.values) != 1:
        dims, pairs = b.dims, [(a.scalar, y) for y in b.values]
    elif len(b.values) == 1:
        dims, pairs = a.dims, [(x, b.scalar) for x in a.values]
    elif a.dims == b.dims:
        dims, pairs = a.dims, list(zip(a.values, b.values))
    else:
        raise ValueError(f"cannot broadcast {list(a.dims)} and {list(b.dims)}")
    if op == "Add":
        out = [x + y for x, y in pairs]
    elif op == "Sub":
        out = [x - y for x, y in pairs]
    elif op == "Mul":
        out = [x * y for x, y in pairs]
    else:
        out = [int(x / y) if isinstance(x, int) and isinstance(y, int) else x / y for x, y in pairs]
    return Const(dims, tuple(out))


def gather(data: Const, indices: Const, axis: int) -> Const:
    if len(data.dims) != 1 or axis != 0:
        raise ValueError("only a 1-D constant is gathered")
    size = data.dims[0]
    picked = tuple(data.values[i % size] for i in indices.values)
    return Const(indices.dims, picked)


def concat(parts: list[Const]) -> Const:
    if any(len(p.dims) > 1 for p in parts):
        raise ValueError("only 1-D constants are joined")
    values = tuple(v for p in parts for v in p.values)
    return Const((len(values),), values)


def slice_1d(data: Const, starts: list[int], ends: list[int], axes: list[int], steps: list[int]) -> Const:
    if len(data.dims) != 1 or any(a not in (0, -1) for a in axes):
        raise ValueError("only a 1-D constant is sliced")
    size = data.dims[0]
    start, end, step = starts[0], ends[0], steps[0]
    end = max(min(end, size), -size - 1) if end < 0 else min(end, size)
    values = data.values[slice(start, end, step)]
    return Const((len(values),), tuple(values))


def cast(value: Const, to: int) -> Const:
    if to in INTEGER_TYPES:
        return Const(value.dims, tuple(int(v) for v in value.values))
    return Const(value.dims, tuple(float(v) for v in value.values))


def unsqueezed(dims: Shape, axes: list[int]) -> Shape:
    rank = len(dims) + len(axes)
    out = list(dims)
    for axis in sorted(a % rank for a in axes):
        out.insert(axis, 1)
    return tuple(out)


def squeezed(dims: Shape, axes: list[int] | None) -> Shape:
    if axes is None:
        return tuple(d for d in dims if d != 1)
    drop = {a % len(dims) for a in axes}
    return tuple(d for i, d in enumerate(dims) if i not in drop)


def fold_arrays(op: str, a: dict[str, Any], args: list[Const | None]) -> Const:
    """The ops on constants of any rank (the pads of ``F.pad`` are computed as a 2-D array,
    reversed and transposed), with numpy, which only such graphs import."""
    import numpy as np

    def array(value: Const | None) -> Any:
        if value is None:
            return None
        return np.array(value.values).reshape(value.dims)

    x = [array(v) for v in args]
    if op == "ConstantOfShape":
        fill = from_attribute(a).scalar if a.get("value") is not None else 0.0
        out = np.full([int(v) for v in x[0].reshape(-1)], fill)
    elif op == "Transpose":
        out = np.transpose(x[0], a.get("perm"))
    elif op == "Reshape":
        out = x[0].reshape(reshape_dims(x[0].shape, [int(v) for v in x[1].reshape(-1)]))
    elif op == "Slice":
        starts, ends = x[1].reshape(-1), x[2].reshape(-1)
        axes = x[3].reshape(-1) if len(x) > 3 and x[3] is not None else range(len(starts))
        steps = x[4].reshape(-1) if len(x) > 4 and x[4] is not None else [1] * len(starts)
        index = [slice(None)] * x[0].ndim
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
            big = 2**62
            index[int(axis)] = slice(
                int(start), None if abs(int(end)) >= big else int(end), int(step)
            )
        out = x[0][tuple(index)]
    elif op == "Concat":
        out = np.concatenate(x, axis=a.get("axis", 0))
    elif op == "Gather":
        out = np.take(x[0], x[1], axis=a.get("axis", 0))
    elif op == "Unsqueeze":
        out = x[0].reshape(unsqueezed(x[0].shape, a.get("axes") or [int(v) for v in x[1].reshape(-1)]))
    elif op == "Squeeze":
        axes = a.get("axes") or (list(x[1].reshape(-1)) if len(x) > 1 and x[1] is not None else None)
        out = x[0].reshape(squeezed(x[0].shape, axes))
    elif op in ("Add", "Sub", "Mul", "Div"):
        pick = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}
        if op == "Div":
            out = np.trunc(x[0] / x[1]).astype(x[0].dtype) if x[0].dtype.kind == "i" else x[0] / x[1]
        else:
            out = pick[op](x[0], x[1])
    elif op == "Cast":
        out = x[0].astype(np.int64 if a.get("to", 1) in INTEGER_TYPES else np.float64)
    elif op == "Expand":
        out = x[0] * np.ones([int(v) for v in x[1].reshape(-1)], dtype=x[0].dtype)
    elif op == "Range":
        out = np.arange(x[0].item(), x[1].item(), x[2].item())
    elif op == "Equal":
        out = np.equal(x[0], x[1])
    elif op == "Where":
        out = np.where(x[0], x[1], x[2])
    else:
        raise ValueError(f"{op} on constants is not folded")
    out = np.asarray(out)
    return Const(tuple(int(d) for d in out.shape), tuple(out.reshape(-1).tolist()))


def reshape_dims(shape: Shape, target: list[int], allowzero: int = 0) -> Shape:
    """ONNX's Reshape target: 0 copies the input's size (unless allowzero), -1 is inferred."""
    out = [shape[i] if (t == 0 and not allowzero) else t for i, t in enumerate(target)]
    if out.count(-1) > 1:
        raise ValueError(f"Reshape target {target} has more than one -1")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        out[out.index(-1)] = math.prod(shape) // known if known else 0
    return tuple(out)
