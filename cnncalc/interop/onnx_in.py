"""ONNX files in: the graph of an ``.onnx`` file as cnncalc entries (``document.Graph``).

Nodes are read in the file's order (ONNX requires a topological one). Every tensor is
either an activation, made by an entry and known by its shape, or a constant: an
initializer (of which only the dimensions are read, so weights never need to be in
memory) or a small integer/float array that the plumbing ``torch.onnx.export`` writes
(``Shape``, ``Gather``, ``Concat`` of shapes, ``Constant`` ...), folded with plain list
operations (``onnx_values``), never evaluated as code. Each counted operator becomes one entry of the matching layer
type, whose arguments are read off the node's attributes and weight dimensions, so that
cnncalc's own formulas give the shapes, params and MACs. A shape this module needs to know
(for the next node's arguments) is asked of the same layer type, not recomputed.

Params therefore are the elements of the weight operands the layer types hold: Conv W and
B, Gemm B and C, a MatMul's constant operand with the bias Add after it, BatchNormalization
scale and B (mean and variance are buffers), PRelu's slope. One initializer used directly
by two nodes is one set of weights (``share:``); a copy made by an ``Identity`` node (the
exporter's de-duplication of equal constants) is not.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from ..errors import LimitError, Location, SpecError
from ..layers import find_type
from .document import INPUT, Entry, Graph, unique_name
from .onnx_file import load_slim
from .onnx_values import (
    Const,
    attributes,
    cast,
    concat,
    elementwise,
    fold_arrays,
    from_attribute,
    gather,
    messages,
    reshape_dims,
    slice_1d,
    squeezed,
    tensor_values,
    text,
    unsqueezed,
)  # fmt: skip

MAX_ONNX_BYTES = 2 * 1024**3
"""Largest .onnx file read (protobuf's own limit for one message)."""
MAX_FOLDED = 1_000_000
"""Most elements of a constant folded by value; larger ones are only weights."""
ONNX_MISSING = "reading .onnx files needs the onnx package: pip install 'cnncalc[onnx]'"
EPS = 1e-5
ARRAY_OPS = frozenset({"ConstantOfShape", "Transpose", "Expand", "Range", "Equal", "Where"})

Shape = tuple[int, ...]


class OnnxError(SpecError):
    """An ONNX file cnncalc cannot read or count."""


@dataclass
class Activation:
    """A tensor computed by the network: its full shape (batch first) and who made it."""

    shape: Shape
    source: str  # the entry's full name, or the model input's name


@dataclass
class Weight:
    """An initializer: its dimensions, the proto it lives in (read only when folded)."""

    name: str
    dims: Shape
    proto: Any


Value = Activation | Weight | Const


def dims_of(value: Weight | Const) -> Shape:
    return value.dims


def read_onnx(path: str, input_shape: Shape | None = None) -> Graph:
    """The graph of the ONNX file at ``path``; ``input_shape`` (one sample) fixes symbolic
    or given input dimensions."""
    try:
        messages()
    except ModuleNotFoundError:
        raise OnnxError(ONNX_MISSING, Location(source=path)) from None
    where = Location(source=path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise OnnxError(f"cannot read: {exc.strerror}", where) from None
    if size > MAX_ONNX_BYTES:
        raise LimitError(
            f"the ONNX file is {size:,} bytes, more than {MAX_ONNX_BYTES:,} (limit MAX_ONNX_BYTES); "
            "keep large weights as external data (onnx.save(..., save_as_external_data=True)), "
            "which cnncalc never loads",
            where,
        )
    try:
        model, slimmed = load_slim(path)
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise OnnxError(f"not a readable ONNX file ({type(exc).__name__}: {exc})", where) from None
    if not model.graph.node:
        raise OnnxError("not a readable ONNX file: the graph has no nodes", where)
    try:
        return Reader(model, path, input_shape, slimmed).run()
    except SpecError as exc:
        raise exc.with_location(source=path) from None


def node_label(node: Any, position: int) -> str:
    return f"{node.op_type} node {node.name or '(unnamed)'!r} (node {position})"


class Reader:
    def __init__(self, model: Any, path: str, input_shape: Shape | None, slimmed: set[str]) -> None:
        self.model = model
        self.slimmed = slimmed  # initializers whose values were not read
        self.path = path
        self.given = input_shape
        self.values: dict[str, Value] = {}
        self.entries: list[Entry] = []
        self.names: set[str] = set()
        self.weight_users: dict[str, str] = {}  # initializer name -> first entry using it
        self.consumers: dict[str, list[Any]] = {}
        self.skip: set[int] = set()  # nodes folded into an earlier entry
        self.node: Any = None
        self.position = 0
        self.scopes = self.scope_paths()
        self.positions = {n.output[0]: i for i, n in enumerate(model.graph.node, 1) if n.output}
        self.bias_output: str | None = None
        self.slices: dict[tuple[str, int], tuple[Entry, int, list[int]]] = {}  # see op_Slice

    # ---- set-up ------------------------------------------------------------------------
    def scope_paths(self) -> dict[str, int]:
        """How many nodes each module scope holds, containers (with sub-scopes) marked -1."""
        counts: dict[str, int] = {}
        for node in self.model.graph.node:
            scope = self.scope(node)
            if scope:
                counts[scope] = counts.get(scope, 0) + 1
        for scope in list(counts):
            parts = scope.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                if parent in counts:
                    counts[parent] = -1
        return counts

    @staticmethod
    def scope(node: Any) -> str:
        """The module path in an exporter's node name (``/layer1/layer1.0/conv1/Conv`` →
        ``layer1.0.conv1``), or ''."""
        parts = node.name.split("/")
        if len(parts) < 3 or parts[0] != "":
            return ""
        # Each segment is a module's name within the scope before it, written with that
        # scope's name in front where the exporter names a container's child (``4``, ``4.0``,
        # ``body``, ``body.0`` is the module ``4.0.body.0``).
        full, previous = "", ""
        for segment in parts[1:-1]:
            if previous and segment.startswith(previous + "."):
                full += segment[len(previous) :]
            else:
                full = f"{full}.{segment}" if full else segment
            previous = segment
        return full

    def inputs(self) -> dict[str, Shape]:
        graph = self.model.graph
        initializers = {t.name for t in graph.initializer}
        real = [i for i in graph.input if i.name not in initializers]
        if not real:
            raise OnnxError("the graph has no input")
        shapes: dict[str, Shape] = {}
        for position, value in enumerate(real):
            dims = value.type.tensor_type.shape.dim
            if not dims:
                raise OnnxError(f"input {value.name!r} has no shape")
            full: list[int | str] = [
                d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims
            ]
            if self.given is not None and position == 0:
                if len(self.given) != len(full) - 1:
                    raise OnnxError(
                        f"--input has {len(self.given)} dimensions but input {value.name!r} has "
                        f"{len(full) - 1} per sample ({shape_text(full)})"
                    )
                full = [1, *self.given]
            symbolic = [d for d in full[1:] if not isinstance(d, int) or d < 1]
            if symbolic:
                raise OnnxError(
                    f"input {value.name!r} has symbolic dimensions {shape_text(full)}; give "
                    "--input with one sample's sizes, e.g. --input 3x224x224"
                )
            shapes[value.name] = (1, *(int(d) for d in full[1:]))  # the batch comes from --batch
        return shapes

    # ---- the walk ----------------------------------------------------------------------
    def run(self) -> Graph:
        graph = self.model.graph
        inputs = self.inputs()
        named = {INPUT: next(iter(inputs.values()))[1:]} if len(inputs) == 1 else {}
        for name, shape in inputs.items():
            self.values[name] = Activation(shape, INPUT if named else name)
        for tensor in graph.initializer:
            self.values[tensor.name] = Weight(tensor.name, tuple(tensor.dims), tensor)
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        for position, node in enumerate(graph.node, 1):
            if position in self.skip:
                continue
            self.node, self.position = node, position
            self.visit(node)
        outputs = []
        for out in graph.output:
            value = self.values.get(out.name)
            if not isinstance(value, Activation):
                raise OnnxError(f"graph output {out.name!r} is not computed from the input")
            outputs.append(value.source)
        title = self.model.graph.name
        if not title or title in ("main_graph", "torch_jit", "torch-jit-export"):
            title = os.path.splitext(os.path.basename(self.path))[0]
        return Graph(title, named or {k: v[1:] for k, v in inputs.items()}, self.entries, outputs)

    def visit(self, node: Any) -> None:
        if node.domain not in ("", "ai.onnx"):
            raise self.refuse(f"is from the operator set {node.domain!r}, which cnncalc does not read")
        args = [self.values.get(n) if n else None for n in node.input]
        for name, value in zip(node.input, args, strict=True):
            if name and value is None:
                raise self.refuse(f"reads {name!r}, which no earlier node makes")
        if node.op_type != "Shape" and not any(isinstance(a, Activation) for a in args):
            self.fold(node, args)
            return
        handler = getattr(self, "op_" + node.op_type, None)
        if handler is None:
            raise self.refuse("has no cnncalc layer type, so it cannot be counted")
        handler(node, args, attributes(node))

    def refuse(self, why: str) -> OnnxError:
        return OnnxError(f"{node_label(self.node, self.position)} {why}")

    # ---- helpers -----------------------------------------------------------------------
    def constant(self, value: Value | None, what: str) -> Const:
        """A constant operand's value."""
        if value is None:
            raise self.refuse(f"has no {what}")
        if isinstance(value, Activation):
            raise self.refuse(f"needs a constant {what}, but it is computed from the input")
        if isinstance(value, Weight):
            if self.unread(value):
                raise self.refuse(f"needs the value of the large constant {value.name!r}")
            try:
                return Const(value.dims, tensor_values(value.proto))
            except ValueError as exc:
                raise self.refuse(f"cannot read the constant {what}: {exc}") from None
        return value

    def unread(self, weight: Weight) -> bool:
        """Whether the weight's values are not read (too large to fold, or left unloaded)."""
        return math.prod(weight.dims) > MAX_FOLDED or weight.proto.name in self.slimmed

    def ints(self, value: Value | None, what: str) -> list[int]:
        return [int(v) for v in self.constant(value, what).values]

    def axes(self, a: dict[str, Any], args: list[Value], required: bool = False) -> list[int] | None:
        """A node's ``axes``: its attribute (before opset 13) or its second input (from 13);
        None where it has neither, refused where the op needs them."""
        if a.get("axes") is not None:
            return list(a["axes"])
        if len(args) > 1 and args[1] is not None:
            return self.ints(args[1], "axes")
        if required:
            raise self.refuse("has no axes")
        return None

    def activation(self, value: Value, what: str = "input") -> Activation:
        if not isinstance(value, Activation):
            raise self.refuse(f"needs its {what} computed from the model input")
        return value

    def entry_name(self, kind: str, suffix: str = "") -> str:
        scope = self.scope(self.node)
        op = self.node.op_type.lower()
        if scope and self.scopes.get(scope, 0) > 0:
            base = scope
        elif scope:
            base = f"{scope}.{op}"
        elif self.node.name.startswith("/") and self.node.name.count("/") == 1:
            base = op  # an exporter's top-level functional call: /Flatten, /Add_1
        else:
            base = re.sub(r"[^A-Za-z0-9_.]", "_", self.node.name) or f"{kind}{len(self.entries) + 1}"
            if base.startswith("_"):
                base = op + base
        return unique_name(base + suffix, self.names)

    def emit(
        self, kind: str, args: dict[str, Any] | list[Any] | None, sources: list[Activation],
        output: str | None = None, share: str | None = None, suffix: str = "",
    ) -> Activation:  # fmt: skip
        """One entry: its output shape asked of the layer type itself."""
        name = self.entry_name(kind, suffix)
        previous = self.entries[-1].name if self.entries else INPUT
        reads = [s.source for s in sources]
        inputs = None if len(reads) == 1 and reads[0] == previous else reads
        self.entries.append(Entry(kind, args, name, inputs, share))
        shape = self.layer_shape(kind, args, [s.shape for s in sources])
        result = Activation(shape, name)
        self.values[output or self.node.output[0]] = result
        return result

    def layer_shape(self, kind: str, args: Any, shapes: list[Shape]) -> Shape:
        if kind in ("add", "mul"):
            from ..layers.merge import broadcast

            out = broadcast(shapes)
            if out is None:
                raise self.refuse(f"cannot broadcast {', '.join(map(shape_text, shapes))}")
            return out
        if kind == "concat":
            dim = args.get("dim", 1) if isinstance(args, dict) else 1
            first = list(shapes[0])
            first[dim] = sum(s[dim] for s in shapes)
            return tuple(first)
        cls = find_type(kind)
        if cls is None and kind == "permute":  # the file uses the layer type either way
            return tuple(shapes[0][p] for p in args)
        if cls is None:
            raise self.refuse(f"maps to the layer type {kind}, which this cnncalc does not have")
        if isinstance(args, dict):
            layer = cls.from_arguments([], args)
        else:
            layer = cls.from_arguments(list(args or []), {})
        try:
            return tuple(layer.output_shape(shapes[0]))
        except SpecError as exc:
            raise self.refuse(exc.message) from None
        except Exception as exc:  # noqa: BLE001 - a shape error from the layer
            message = getattr(exc, "message", str(exc))
            raise self.refuse(message) from None

    def alias(self, node: Any, value: Activation) -> None:
        self.values[node.output[0]] = value

    def weight_share(self, weight: Value) -> str | None:
        """The entry that already uses this initializer, if any (the same weights)."""
        if isinstance(weight, Weight):
            return self.weight_users.get(weight.name)
        return None

    def remember_weight(self, weight: Value, entry: str) -> None:
        if isinstance(weight, Weight):
            self.weight_users.setdefault(weight.name, entry)

    def only_consumer(self, output: str) -> Any | None:
        users = self.consumers.get(output, [])
        graph_outputs = {o.name for o in self.model.graph.output}
        if len(users) == 1 and output not in graph_outputs:
            return users[0]
        return None

    def spatial_pads(self, attrs: dict[str, Any], nd: int) -> tuple[list[int], list[int]]:
        pads = list(attrs.get("pads", [0] * (2 * nd)))
        return pads[:nd], pads[nd:]

    def padding(self, attrs: dict[str, Any], nd: int) -> Any:
        """A symmetric padding as PyTorch writes it, ``same`` for SAME_UPPER, or None where
        the pads differ per side."""
        auto = text(attrs.get("auto_pad"), "NOTSET")
        if auto == "SAME_UPPER":
            return "same"
        if auto == "VALID":
            return 0
        if auto == "SAME_LOWER":
            return None
        left, right = self.spatial_pads(attrs, nd)
        if left != right:
            return None
        return left[0] if len(set(left)) == 1 else left

    # ---- constants ---------------------------------------------------------------------
    def fold(self, node: Any, args: list[Value | None]) -> None:
        """A node on constants only: its value, where it is one the plumbing computes."""
        op = node.op_type
        a = attributes(node)
        if op in ("Identity", "Dropout") and isinstance(args[0], Weight):
            self.values[node.output[0]] = args[0]  # the same weight under another name
            return
        if op == "Transpose" and isinstance(args[0], Weight) and self.unread(args[0]):
            # A linear layer's weight transposed at run time (exported without constant
            # folding): the same weights with the dimensions permuted, values never read.
            dims = args[0].dims
            perm = list(a.get("perm", list(reversed(range(len(dims))))))
            self.values[node.output[0]] = Weight(args[0].name, tuple(dims[p] for p in perm), args[0].proto)
            return
        c = self.constant
        try:
            if op == "Constant":
                value = from_attribute(a)
            elif op in ARRAY_OPS or any(
                v is not None and len(dims_of(v)) > 1 for v in args  # type: ignore[arg-type]
            ):
                value = fold_arrays(op, a, [None if v is None else c(v, "input") for v in args])
            elif op == "Constant":
                value = from_attribute(a)
            elif op == "Identity":
                value = c(args[0], "input")
            elif op == "Cast":
                value = cast(c(args[0], "input"), a.get("to", 1))
            elif op == "Unsqueeze":
                x = c(args[0], "input")
                value = Const(unsqueezed(x.dims, self.axes(a, args, required=True)), x.values)
            elif op == "Squeeze":
                x = c(args[0], "input")
                value = Const(squeezed(x.dims, self.axes(a, args)), x.values)
            elif op == "Concat":
                value = concat([c(v, "input") for v in args])
            elif op == "Gather":
                value = gather(c(args[0], "data"), c(args[1], "indices"), a.get("axis", 0))
            elif op == "Slice":
                starts, ends = self.ints(args[1], "starts"), self.ints(args[2], "ends")
                axes = self.ints(args[3], "axes") if len(args) > 3 and args[3] is not None else [0]
                steps = self.ints(args[4], "steps") if len(args) > 4 and args[4] is not None else [1]
                value = slice_1d(c(args[0], "data"), starts, ends, axes, steps)
            elif op == "Reshape":
                x = c(args[0], "data")
                value = Const(reshape_target(x.dims, self.ints(args[1], "shape")), x.values)
            elif op in ("Add", "Sub", "Mul", "Div"):
                value = elementwise(op, c(args[0], "A"), c(args[1], "B"))
            elif op in ("Floor", "Ceil"):
                x = c(args[0], "X")
                rounding = math.floor if op == "Floor" else math.ceil
                value = Const(x.dims, tuple(rounding(v) for v in x.values))
            elif op == "Shape":
                x = args[0]
                value = Const((len(x.dims),), tuple(x.dims))  # type: ignore[union-attr]
            else:
                raise self.refuse("works on constants only and cannot be folded")
        except OnnxError:
            raise
        except (ValueError, IndexError, ZeroDivisionError, TypeError) as exc:
            raise self.refuse(f"cannot be folded: {exc}") from None
        self.values[node.output[0]] = value

    def op_Shape(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        value = args[0]
        shape = value.shape if isinstance(value, Activation) else dims_of(value)  # type: ignore[arg-type]
        shape = tuple(shape)[a.get("start", 0) : a.get("end", len(shape))]
        self.values[node.output[0]] = Const((len(shape),), shape)

    # ---- layers ------------------------------------------------------------------------
    def op_Conv(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        weight = args[1]
        if isinstance(weight, Activation) or weight is None:
            raise self.refuse("has weights computed from the input, which no layer type counts")
        dims = weight.dims
        nd = len(dims) - 2
        bias = len(args) > 2 and args[2] is not None
        kwargs: dict[str, Any] = {"out_channels": dims[0], "kernel_size": one_or_list(dims[2:])}
        self.window_args(kwargs, a, nd, dilation=True)
        if a.get("group", 1) != 1:
            kwargs["groups"] = a["group"]
        x = self.pad_if_needed(x, a, nd)
        kwargs.setdefault("padding", self.padding(a, nd) or 0)
        if kwargs["padding"] == 0:
            del kwargs["padding"]
        bias = bias or self.fold_bias(node, dims[0], nd)
        if not bias:
            kwargs["bias"] = False
        share = self.weight_share(weight)
        out = self.emit(f"conv{nd}d", kwargs, [x], output=self.output_after_bias(node), share=share)
        self.remember_weight(weight, out.source)

    def op_ConvTranspose(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        weight = args[1]
        if not isinstance(weight, Weight):
            raise self.refuse("needs its weight as an initializer")
        nd = len(weight.dims) - 2
        groups = a.get("group", 1)
        kwargs: dict[str, Any] = {
            "out_channels": weight.dims[1] * groups, "kernel_size": one_or_list(weight.dims[2:]),
        }  # fmt: skip
        self.window_args(kwargs, a, nd, dilation=True)
        if "output_shape" in a:
            raise self.refuse("gives output_shape; only pads and output_padding are supported")
        padding = self.padding(a, nd)
        if padding is None or padding == "same":
            raise self.refuse("has padding that differs per side, which ConvTranspose in PyTorch cannot have")
        if padding:
            kwargs["padding"] = padding
        if any(a.get("output_padding", [0])):
            kwargs["output_padding"] = one_or_list(a["output_padding"])
        if groups != 1:
            kwargs["groups"] = groups
        if not (len(args) > 2 and args[2] is not None):
            kwargs["bias"] = False
        out = self.emit(f"conv_transpose{nd}d", kwargs, [x], share=self.weight_share(weight))
        self.remember_weight(weight, out.source)

    def window_args(self, kwargs: dict[str, Any], a: dict[str, Any], nd: int, dilation: bool) -> None:
        strides = a.get("strides", [1] * nd)
        if any(s != 1 for s in strides):
            kwargs["stride"] = one_or_list(strides)
        if dilation and any(d != 1 for d in a.get("dilations", [1] * nd)):
            kwargs["dilation"] = one_or_list(a["dilations"])

    def pad_if_needed(self, x: Activation, a: dict[str, Any], nd: int) -> Activation:
        """Pads that differ per side (Keras's ``same``, SAME_LOWER) as a zero-padding row."""
        if self.padding(a, nd) is not None:
            return x
        auto = text(a.get("auto_pad"), "NOTSET")
        if auto == "SAME_LOWER":
            kernel = a.get("kernel_shape")
            strides = a.get("strides", [1] * nd)
            dilations = a.get("dilations", [1] * nd)
            left, right = [], []
            for n, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
                total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
                right.append(total // 2)
                left.append(total - total // 2)
        else:
            left, right = self.spatial_pads(a, nd)
        pads = [p for lo, hi in zip(reversed(left), reversed(right)) for p in (lo, hi)]
        a["pads"] = [0] * (2 * nd)
        a["auto_pad"] = "NOTSET"
        return self.emit(
            f"zeropad{nd}d", {"padding": pads}, [x], output=f"{self.node.output[0]}#pad", suffix="_pad"
        )

    def fold_bias(self, node: Any, channels: int, nd: int) -> bool:
        """Whether an ``Add`` of a per-channel constant follows (a bias the exporter wrote
        apart); it is then this layer's bias and not a row of its own."""
        user = self.only_consumer(node.output[0])
        if user is None or user.op_type != "Add":
            return False
        other = [n for n in user.input if n != node.output[0]]
        value = self.values.get(other[0]) if len(other) == 1 else None
        if value is None or isinstance(value, Activation):
            return False
        squeezed = list(value.dims)
        while len(squeezed) > 1 and squeezed[0] == 1:
            squeezed.pop(0)
        if squeezed != [channels] + [1] * nd:
            return False
        self.skip.add(self.positions[user.output[0]])
        self.bias_output = user.output[0]
        return True

    def output_after_bias(self, node: Any) -> str:
        out, self.bias_output = self.bias_output, None
        return out or node.output[0]

    def pool(self, node: Any, args: list[Value], a: dict[str, Any], kind: str) -> None:
        x = self.activation(args[0])
        kernel = a["kernel_shape"]
        nd = len(kernel)
        kwargs: dict[str, Any] = {"kernel_size": one_or_list(kernel)}
        strides = a.get("strides", [1] * nd)
        kwargs["stride"] = one_or_list(strides)
        if list(strides) == list(kernel):
            del kwargs["stride"]
        padding = self.padding(a, nd)
        if padding is None:
            if kind == "max":
                raise self.refuse("has pads that differ per side, which PyTorch's MaxPool cannot have")
            x = self.pad_if_needed(x, a, nd)
            padding = 0
        if padding:
            kwargs["padding"] = padding
        if kind == "max" and any(d != 1 for d in a.get("dilations", [1] * nd)):
            kwargs["dilation"] = one_or_list(a["dilations"])
        if a.get("ceil_mode", 0):
            kwargs["ceil_mode"] = True
        if kind == "avg" and padding and not a.get("count_include_pad", 0):
            kwargs["count_include_pad"] = False
        self.emit(f"{kind}pool{nd}d", kwargs, [x])

    def op_MaxPool(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        if len(node.output) > 1 and node.output[1]:
            raise self.refuse("returns indices, which no layer after it could use here")
        self.pool(node, args, a, "max")

    def op_AveragePool(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.pool(node, args, a, "avg")

    def op_GlobalAveragePool(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        self.emit(f"adaptive_avgpool{len(x.shape) - 2}d", {"output_size": 1}, [x])

    def op_GlobalMaxPool(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        self.emit(f"adaptive_maxpool{len(x.shape) - 2}d", {"output_size": 1}, [x])

    def op_ReduceMean(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        axes = self.axes(a, args)
        rank = len(x.shape)
        axes = sorted(ax % rank for ax in (axes or range(rank)))
        if axes != list(range(2, rank)) or rank < 3:
            raise self.refuse(f"averages over axes {axes} of {shape_text(x.shape)}; only the spatial axes (a global pooling) are supported")
        if a.get("keepdims", 1):
            self.emit(f"adaptive_avgpool{rank - 2}d", {"output_size": 1}, [x])
        else:
            self.emit("global_avgpool", None, [x])

    def op_Gemm(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        weight = args[1]
        if isinstance(weight, Activation):
            raise self.refuse("multiplies two computed tensors, which no layer type counts")
        if a.get("transA", 0):
            raise self.refuse("has transA=1; only a weight on the right is supported")
        dims = weight.dims
        out_features = dims[0] if a.get("transB", 0) else dims[1]
        kwargs: dict[str, Any] = {"out_features": out_features}
        if not (len(args) > 2 and args[2] is not None):
            kwargs["bias"] = False
        out = self.emit("linear", kwargs, [x], share=self.weight_share(weight))
        self.remember_weight(weight, out.source)

    def op_MatMul(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0], "first operand")
        weight = args[1]
        if isinstance(weight, Activation):
            raise self.refuse("multiplies two computed tensors, which no layer type counts")
        dims = weight.dims
        if len(dims) != 2:
            raise self.refuse(f"has a constant operand of shape {shape_text(dims)}; a linear layer's is 2-D")
        kwargs: dict[str, Any] = {"out_features": dims[1]}
        if not self.fold_bias(node, dims[1], 0):
            kwargs["bias"] = False
        out = self.emit("linear", kwargs, [x], output=self.output_after_bias(node), share=self.weight_share(weight))
        self.remember_weight(weight, out.source)

    def op_BatchNormalization(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        rank = len(x.shape)
        kind = {2: "batchnorm1d", 3: "batchnorm1d", 4: "batchnorm2d", 5: "batchnorm3d"}.get(rank)
        if kind is None:
            raise self.refuse(f"normalises a {shape_text(x.shape)} tensor; batch norm takes 2-D to 5-D")
        self.emit(kind, eps_args(a.get("epsilon", EPS)), [x])

    def op_InstanceNormalization(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        kwargs = {"affine": True, **(eps_args(a.get("epsilon", EPS)) or {})}
        self.emit(f"instancenorm{len(x.shape) - 2}d", kwargs, [x])

    def op_LayerNormalization(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        axis = a.get("axis", -1) % len(x.shape)
        kwargs: dict[str, Any] = {"normalized_shape": list(x.shape[axis:])}
        kwargs.update(eps_args(a.get("epsilon", EPS)) or {})
        if len(args) < 3 or args[2] is None:
            kwargs["bias"] = False
        self.emit("layernorm", kwargs, [x])

    # activations ------------------------------------------------------------------------
    def simple(self, kind: str, args: list[Value], kwargs: dict[str, Any] | None = None) -> None:
        self.emit(kind, kwargs, [self.activation(args[0])])

    def op_Relu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("relu", args)

    def op_Sigmoid(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        user = self.only_consumer(node.output[0])
        if user is not None and user.op_type == "Mul" and set(user.input) == {node.input[0], node.output[0]}:
            self.skip.add(self.positions[user.output[0]])  # x * sigmoid(x): SiLU
            self.emit("silu", None, [self.activation(args[0])], output=user.output[0])
            return
        self.simple("sigmoid", args)

    def op_Tanh(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("tanh", args)

    def op_LeakyRelu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        slope = round(float(a.get("alpha", 0.01)), 6)
        self.simple("leaky_relu", args, None if slope == 0.01 else {"negative_slope": slope})

    def op_Elu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        alpha = round(float(a.get("alpha", 1.0)), 6)
        self.simple("elu", args, None if alpha == 1.0 else {"alpha": alpha})

    def op_Selu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("selu", args)

    def op_HardSigmoid(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
        if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
            raise self.refuse(f"has alpha {alpha:g}, beta {beta:g}; PyTorch's Hardsigmoid is alpha 1/6, beta 0.5")
        self.simple("hardsigmoid", args)

    def op_HardSwish(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("hardswish", args)

    def op_Gelu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        approximate = text(a.get("approximate"), "none")
        self.simple("gelu", args, None if approximate == "none" else {"approximate": approximate})

    def op_PRelu(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        slope = args[1]
        if isinstance(slope, Activation):
            raise self.refuse("has a slope computed from the input")
        dims = slope.dims
        count = math.prod(dims)
        self.simple("prelu", args, None if count == 1 else {"num_parameters": count})

    def op_Clip(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        low = a.get("min") if "min" in a else (self.constant(args[1], "min").scalar if len(args) > 1 and args[1] is not None else None)
        high = a.get("max") if "max" in a else (self.constant(args[2], "max").scalar if len(args) > 2 and args[2] is not None else None)
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        if low == 0.0 and high == 6.0:
            self.simple("relu6", args)
        elif low == 0.0 and (high is None or math.isinf(high)):
            self.simple("relu", args)
        else:
            raise self.refuse(f"clips to [{low}, {high}]; only [0, 6] (ReLU6) and [0, inf) (ReLU) have a layer type")

    def op_Softmax(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("softmax", args, {"dim": a.get("axis", -1)})

    def op_LogSoftmax(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.simple("log_softmax", args, {"dim": a.get("axis", -1)})

    def op_Dropout(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        ratio = a.get("ratio")
        if ratio is None and len(args) > 1 and args[1] is not None:
            ratio = float(self.constant(args[1], "ratio").scalar)
        ratio = round(float(0.5 if ratio is None else ratio), 6)
        self.simple("dropout", args, None if ratio == 0.5 else {"p": ratio})

    def op_Identity(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.alias(node, self.activation(args[0]))

    def op_Cast(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.alias(node, self.activation(args[0]))

    # merges -----------------------------------------------------------------------------
    def merge(self, kind: str, args: list[Value]) -> None:
        sources = [v for v in args if v is not None]
        constants = [v for v in sources if not isinstance(v, Activation)]
        if constants:
            dims = [c.dims for c in constants]
            raise self.refuse(
                f"{'adds' if kind == 'add' else 'multiplies'} a constant of shape "
                f"{shape_text(dims[0])} to a computed tensor, which no layer type counts "
                "(a bias is counted with the Conv, Gemm or MatMul right before it)"
            )
        self.emit(kind, None, sources)  # type: ignore[arg-type]

    def op_Add(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        self.merge("add", args)

    def op_Mul(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        computed = [v for v in args if isinstance(v, Activation)]
        constant = [v for v in args if v is not None and not isinstance(v, Activation)]
        if len(computed) == 1 and len(constant) == 1 and self.per_channel(constant[0], computed[0]):
            self.emit("layer_scale", self.scale_init(constant[0]), computed)  # learnable (C, 1, …)
            return
        self.merge("mul", args)

    def per_channel(self, value: Weight | Const, x: Activation) -> bool:
        """Whether a constant has the shape of a per-channel scale of ``x``: (C, 1, …, 1)."""
        dims = list(value.dims)
        while len(dims) > len(x.shape) - 1 and dims[0] == 1:
            dims.pop(0)
        channels = x.shape[1] if len(x.shape) > 1 else 0
        return len(x.shape) >= 3 and dims == [channels] + [1] * (len(x.shape) - 2) and channels > 1

    def scale_init(self, value: Weight | Const) -> dict[str, Any] | None:
        """``init_value`` where all the scales are one number (as they start); else none."""
        try:
            values = set(self.constant(value, "scale").values)
        except OnnxError:
            return None
        return {"init_value": float(f"{values.pop():.6g}")} if len(values) == 1 else None

    def op_Concat(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        if any(not isinstance(v, Activation) for v in args):
            raise self.refuse("joins computed tensors with constants, which no layer type does")
        axis = a.get("axis", 1) % len(args[0].shape)
        self.emit("concat", None if axis == 1 else {"dim": axis}, args)  # type: ignore[arg-type]

    def op_Split(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        axis = a.get("axis", 0) % len(x.shape)
        sizes = a.get("split")
        if sizes is None and len(args) > 1 and args[1] is not None:
            sizes = self.ints(args[1], "split")
        count = len(node.output)
        if sizes is None:
            sizes = [-(-x.shape[axis] // count)] * count
        kwargs: dict[str, Any] = {"split_size_or_sections": list(sizes)}
        if axis != 1:
            kwargs["dim"] = axis
        name = self.entry_name("split")
        previous = self.entries[-1].name if self.entries else INPUT
        self.entries.append(Entry("split", kwargs, name, None if x.source == previous else [x.source]))
        start = 0
        for i, (output, size) in enumerate(zip(node.output, sizes, strict=False)):
            shape = list(x.shape)
            shape[axis] = min(size, x.shape[axis] - start)
            start += size
            self.values[output] = Activation(tuple(shape), f"{name}.{i}")

    def op_Slice(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        """Slices of one tensor along one axis that follow each other from 0 (``x.chunk(2,
        dim=1)`` as the exporter writes it: a Slice per piece) are the pieces of one
        ``split`` entry, made at the first; its sections grow with each Slice, and what no
        Slice takes is a last, unread piece (the sections cover the axis)."""
        x = self.activation(args[0])
        starts, ends = self.ints(args[1], "starts"), self.ints(args[2], "ends")
        axes = self.ints(args[3], "axes") if len(args) > 3 and args[3] is not None else list(range(len(starts)))
        steps = self.ints(args[4], "steps") if len(args) > 4 and args[4] is not None else [1] * len(starts)
        if len(axes) != 1 or steps != [1]:
            raise self.refuse(f"slices axes {axes} with steps {steps}; only pieces along one axis have a layer type")
        axis = axes[0] % len(x.shape)
        size = x.shape[axis]
        start, end = (min(max(v + size if v < 0 else v, 0), size) for v in (starts[0], ends[0]))
        if axis == 0:
            raise self.refuse("slices the batch dimension, which no layer type does")
        key = (node.input[0], axis)
        entry, index, sections = self.slices.get(key, (None, 0, []))
        taken = sum(sections[:index])
        if start != taken or end <= start:
            raise self.refuse(
                f"takes [{start}:{end}] of axis {axis} (size {size}); only pieces that follow "
                f"each other from 0 have a layer type (a split), and the next starts at {taken}"
            )
        if entry is None:
            name = self.entry_name("split")
            previous = self.entries[-1].name if self.entries else INPUT
            entry = Entry("split", {}, name, None if x.source == previous else [x.source])
            self.entries.append(entry)
        sections = sections[:index] + [end - start] + ([size - end] if end < size else [])
        entry.args = {"split_size_or_sections": sections, **({"dim": axis} if axis != 1 else {})}
        self.slices[key] = (entry, index + 1, sections)
        shape = list(x.shape)
        shape[axis] = end - start
        self.values[node.output[0]] = Activation(tuple(shape), f"{entry.name}.{index}")

    # reshaping --------------------------------------------------------------------------
    def op_Flatten(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        axis = a.get("axis", 1) % max(len(x.shape), 1)
        if axis != 1:
            raise self.refuse(f"flattens at axis {axis}; only axis 1 keeps the batch dimension")
        self.emit("flatten", None, [x])

    def reshape_to(self, x: Activation, target: Shape) -> None:
        if tuple(target) == x.shape:
            self.alias(self.node, x)
            return
        if not target or target[0] != x.shape[0]:
            raise self.refuse(f"reshapes {shape_text(x.shape)} to {shape_text(target)}, across the batch dimension")
        if len(target) == 2:
            self.emit("flatten", None, [x])
        else:
            self.emit("reshape", {"shape": list(target[1:])}, [x])

    def op_Reshape(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        target = reshape_target(x.shape, self.ints(args[1], "shape"), a.get("allowzero", 0))
        if math.prod(target) != math.prod(x.shape):
            raise self.refuse(f"reshapes {shape_text(x.shape)} to {shape_text(target)}: the sizes differ")
        self.reshape_to(x, target)

    def op_Squeeze(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        axes = self.axes(a, args)
        rank = len(x.shape)
        drop = {ax % rank for ax in axes} if axes is not None else {i for i, d in enumerate(x.shape) if d == 1 and i}
        self.reshape_to(x, tuple(d for i, d in enumerate(x.shape) if i not in drop))

    def op_Unsqueeze(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        self.reshape_to(x, unsqueezed(x.shape, self.axes(a, args, required=True)))

    def op_Transpose(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        perm = list(a.get("perm", list(reversed(range(len(x.shape))))))
        # Transposes in a row (Keras NHWC around a conv) compose; one that undoes the last is none.
        out_name = node.output[0]
        user = self.only_consumer(out_name)
        while user is not None and user.op_type == "Transpose":
            after = list(attributes(user).get("perm", list(reversed(range(len(perm))))))
            perm = [perm[p] for p in after]
            self.skip.add(self.positions[user.output[0]])
            out_name = user.output[0]
            user = self.only_consumer(out_name)
        if perm == list(range(len(perm))):
            self.values[out_name] = x
            return
        if perm[0] != 0:
            raise self.refuse(f"permutes {perm}, moving the batch dimension")
        self.emit("permute", perm, [x], output=out_name)

    def op_Pad(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        mode = text(a.get("mode"), "constant")
        pads = a.get("pads") or self.ints(args[1], "pads")
        value = 0.0
        if len(args) > 2 and args[2] is not None:
            value = float(self.constant(args[2], "constant_value").scalar)
        rank = len(x.shape)
        begin, end = pads[:rank], pads[rank:]
        if mode != "constant" or value != 0.0 or any(begin[:2]) or any(end[:2]):
            raise self.refuse(f"pads {pads} in mode {mode} with {value}; only zero padding of the spatial dimensions has a layer type")
        nd = rank - 2
        flat = [p for lo, hi in zip(reversed(begin[2:]), reversed(end[2:])) for p in (lo, hi)]
        self.emit(f"zeropad{nd}d", {"padding": flat}, [x])

    def op_Resize(self, node: Any, args: list[Value], a: dict[str, Any]) -> None:
        x = self.activation(args[0])
        mode = text(a.get("mode"), "nearest")
        nd = len(x.shape) - 2
        kind = {"nearest": "nearest", "linear": {1: "linear", 2: "bilinear", 3: "trilinear"}.get(nd), "cubic": "bicubic"}.get(mode)
        if kind is None:
            raise self.refuse(f"resizes with mode {mode}, which has no upsample mode")
        kwargs: dict[str, Any] = {}
        sizes = args[3] if len(args) > 3 else None
        scales = args[2] if len(args) > 2 else None
        if sizes is not None and not isinstance(sizes, Activation) and math.prod(sizes.dims) > 0:
            kwargs["size"] = one_or_list(self.ints(sizes, "sizes")[2:])
        elif scales is not None:
            values = [float(v) for v in self.constant(scales, "scales").values][2:]
            kwargs["scale_factor"] = values[0] if len(set(values)) == 1 else values
        else:
            raise self.refuse("gives neither scales nor sizes")
        kwargs["mode"] = kind
        transform = text(a.get("coordinate_transformation_mode"), "half_pixel")
        if kind != "nearest":
            kwargs["align_corners"] = transform == "align_corners"
        self.emit("upsample", kwargs, [x])

    op_Upsample = op_Resize


# ---- helpers ------------------------------------------------------------------------
def reshape_target(shape: tuple[int, ...], target: list[int], allowzero: int = 0) -> Shape:
    """ONNX's Reshape target (``reshape_dims``), a refusal as an ``OnnxError``."""
    try:
        return reshape_dims(shape, target, allowzero)
    except ValueError as exc:
        raise OnnxError(str(exc)) from None


def one_or_list(values: Any) -> Any:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def eps_args(eps: float) -> dict[str, Any] | None:
    """``eps`` where it is not PyTorch's default (ONNX stores it as float32)."""
    eps = float(eps)
    if abs(eps - EPS) <= 1e-9:
        return None
    return {"eps": float(f"{eps:.6g}")}


def shape_text(shape: Any) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"
