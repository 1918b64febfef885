"""PyTorch modules in: ``file.py:Name`` or ``package.module:Name`` traced with ``torch.fx``.

The class (or zero-argument factory) is called under ``torch.device("meta")``, so no weight
is allocated, and ``torch.fx`` records its ``forward`` symbolically. The recorded graph
is then run once by an ``Interpreter`` on a meta tensor of the input's shape, which gives
every node's shape without computing or allocating anything. Each leaf module call becomes
an entry named with the module's own path (``layer1.0.conv1``) whose arguments are read
from the module's attributes of the same (PyTorch) names; each functional call with a
layer type (``x + y``, ``torch.cat``, ``torch.flatten``, ``F.relu``, ``x.view``) becomes
an entry named after the module whose ``forward`` made it (``layer1.0.add``). Calls on
sizes (``x.size(0)``) are plumbing and make no entry.

This is the only module of ``cnncalc.interop`` that imports torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from typing import Any

from ..errors import Location, SpecError
from ..layers import find_type
from .document import INPUT, Entry, Graph, unique_name
from .fx_names import Source, Statement, frames

TORCH_MISSING = "reading a PyTorch module needs torch: pip install 'cnncalc[torch]'"
Shape = tuple[int, ...]
SOURCE = re.compile(r"(?P<path>.+):(?P<name>[A-Za-z_]\w*)\Z")
SKIPPED_MODULES = ("Identity",)  # no compute and no weights: a name for the same tensor
# Modules outside torch.nn read as the layer type of their name, attributes as arguments:
# cnncalc's own (copied into exported code) and torchvision's of the same names.
OWN_MODULES = ("LayerNorm2d", "Permute", "StochasticDepth", "ChannelShuffle")


class ModuleError(SpecError):
    """A PyTorch module cnncalc cannot read."""


def load_factory(source: str) -> Any:
    """The class or function ``source`` names: ``path/file.py:Name`` runs that file as a
    module (it is the user's own code); ``package.module:Name`` imports it."""
    match = SOURCE.match(source)
    if match is None:
        raise ModuleError(f"a PyTorch module is path/file.py:Name or package.module:Name, got {source!r}")
    path, name = match["path"], match["name"]
    where = Location(source=source)
    try:
        if path.endswith(".py"):
            if not os.path.isfile(path):
                raise ModuleError(f"no such file {path!r}", where)
            module_name = "cnncalc_user_" + re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            directory = os.path.dirname(os.path.abspath(path))
            sys.path.insert(0, directory)  # its sibling imports
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(directory)
        else:
            module = importlib.import_module(path)
    except ModuleError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module failed to import
        raise ModuleError(f"importing {path} raised {describe(exc)}{user_line(exc)}", where) from None
    factory = getattr(module, name, None)
    if factory is None:
        raise ModuleError(f"{path} has no {name}", where)
    return factory


def describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split("While executing")[0].split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def user_line(exc: BaseException) -> str:
    """`` at file.py:12 (code)`` for the innermost frame of the traceback outside torch."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not in_library(f.filename)]
    if not frames:
        return ""
    frame = frames[-1]
    return f" at {frame.filename}:{frame.lineno} ({(frame.line or '').strip()})"


def in_library(filename: str) -> bool:
    import torch

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return filename.startswith(os.path.dirname(torch.__file__)) or filename.startswith(here)


def stack_line(node: Any) -> str:
    """Where a traced call sits in the user's source, from the node's recorded stack."""
    trace = node.meta.get("stack_trace") or ""
    found = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    user = [f for f in found if not in_library(f[0])]
    if not user:
        return ""
    file, line, _function, code = user[-1]
    return f" at {file}:{line} ({code.strip()})"


def instantiate(factory: Any, args: dict[str, Any], source: str) -> Any:
    import torch
    from torch import nn

    where = Location(source=source)
    try:
        with torch.device("meta"):
            module = factory(**args)
    except Exception as exc:  # noqa: BLE001 - the user's constructor raised
        raise ModuleError(f"calling {source} raised {describe(exc)}{user_line(exc)}", where) from None
    if not isinstance(module, nn.Module):
        raise ModuleError(f"{source} made a {type(module).__name__}, not an nn.Module", where)
    return module.eval()  # inference shapes: batch norm on a 1x1 map is fine, dropout a no-op


def read_module(source: str, input_shape: Shape | dict[str, Shape] | None, args: dict[str, Any]) -> Graph:
    """The graph of the PyTorch module ``source`` on one sample of ``input_shape`` (a
    mapping of forward's argument names to shapes for a module with several inputs)."""
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        raise ModuleError(TORCH_MISSING, Location(source=source)) from None
    if input_shape is None:
        raise ModuleError(
            "a PyTorch module has no input shape of its own: give --input, e.g. --input 3x224x224",
            Location(source=source),
        )
    module = instantiate(load_factory(source), args, source)
    try:
        return Tracer(module, source, input_shape).run()
    except SpecError as exc:
        raise exc.with_location(source=source) from None


def leaf_tracer() -> Any:
    from torch import fx

    class LeafTracer(fx.Tracer):
        """fx's tracer, with the modules of OWN_MODULES kept whole."""

        def is_leaf_module(self, m: Any, module_qualified_name: str) -> bool:
            return type(m).__name__ in OWN_MODULES or super().is_leaf_module(m, module_qualified_name)

    return LeafTracer()


class Tracer:
    def __init__(self, module: Any, source: str, input_shape: Shape | dict[str, Shape]) -> None:
        self.module = module
        self.source = source
        self.input_shape = input_shape
        self.entries: list[Entry] = []
        self.names: set[str] = set()
        self.tensor_of: dict[Any, str] = {}  # fx node -> the entry (or input) whose output it is
        self.module_uses: dict[str, str] = {}  # module path -> its first entry
        self.node: Any = None
        self.code = Source()
        self.calls: dict[str, Statement] = {}  # module path -> the statement first calling it

    def trace(self) -> tuple[Any, dict[Any, Any]]:
        import torch
        from torch import fx

        tracer = leaf_tracer()
        tracer.record_stack_traces = True
        try:
            graph = tracer.trace(self.module)
        except Exception as exc:  # noqa: BLE001 - fx refusing (control flow on a traced value)
            raise ModuleError(f"torch.fx cannot trace it: {describe(exc)}{user_line(exc)}") from None
        traced = fx.GraphModule(tracer.root, graph)
        placeholders = [str(n.target) for n in graph.nodes if n.op == "placeholder"]
        self.shapes = self.input_shapes(placeholders)
        interpreter = fx.Interpreter(traced, garbage_collect_values=False)
        samples = [torch.empty((1, *shape), device="meta") for shape in self.shapes.values()]
        try:
            interpreter.run(*samples)
        except Exception as exc:  # noqa: BLE001 - a shape PyTorch refuses
            shown = ", ".join(str(list(s.shape)) for s in samples)
            raise ModuleError(f"running it on {shown} raised {describe(exc)}{user_line(exc)}") from None
        return traced, interpreter.env

    def input_shapes(self, placeholders: list[str]) -> dict[str, Shape]:
        """forward's arguments with their shapes: one takes --input DIMS, several
        --input NAME=DIMS each."""
        given = self.input_shape
        if not isinstance(given, dict):
            if len(placeholders) != 1:
                raise ModuleError(
                    f"forward takes {len(placeholders)} tensors ({', '.join(placeholders)}); give "
                    "each as --input NAME=DIMS"
                )
            return {INPUT: tuple(given)}
        if len(placeholders) == 1 and len(given) == 1:
            return {INPUT: tuple(next(iter(given.values())))}
        if set(given) != set(placeholders):
            raise ModuleError(
                f"forward takes {', '.join(placeholders)}; --input names {', '.join(given)}"
            )
        return {name: tuple(given[name]) for name in placeholders}

    def run(self) -> Graph:
        import torch

        traced, env = self.trace()
        self.values = env
        outputs: list[str] = []
        for node in traced.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.tensor_of[node] = INPUT if list(self.shapes) == [INPUT] else str(node.target)
            elif node.op == "output":
                outputs = [self.source_of(a) for a in flat_nodes(node.args[0])]
            elif node.op == "get_attr":
                continue
            elif node.op == "call_module":
                self.call_module(node, traced.get_submodule(node.target))
            elif not isinstance(env.get(node), torch.Tensor) and not is_tensor_tuple(env.get(node)):
                continue  # sizes and other plain values: plumbing
            else:
                self.call_function(node)
        match = SOURCE.match(self.source)
        name = match["name"] if match else type(self.module).__name__
        return Graph(name, dict(self.shapes), self.entries, outputs)

    # ---- helpers -----------------------------------------------------------------------
    def refuse(self, what: str, why: str) -> ModuleError:
        return ModuleError(f"{what} {why}{stack_line(self.node)}")

    def source_of(self, node: Any) -> str:
        name = self.tensor_of.get(node)
        if name is None:
            raise self.refuse(f"{node.name}", "is not computed from the input")
        return name

    def shape_of(self, node: Any) -> Shape:
        return tuple(self.values[node].shape)

    def tensor_args(self, node: Any) -> list[Any]:
        import torch

        return [a for a in flat_nodes((node.args, node.kwargs)) if isinstance(self.values.get(a), torch.Tensor)]

    def unique(self, base: str) -> str:
        return unique_name(base, self.names)

    def emit(self, kind: str, args: Any, sources: list[Any], name: str, share: str | None = None) -> None:
        reads = [self.source_of(s) for s in sources]
        previous = self.entries[-1].name if self.entries else INPUT
        inputs = None if len(reads) == 1 and reads[0] == previous else reads
        self.entries.append(Entry(kind, args, name, inputs, share))
        self.tensor_of[self.node] = name

    def scope(self, node: Any) -> str:
        """The path of the module whose forward made a functional call ('' at the top)."""
        stack = node.meta.get("nn_module_stack") or {}
        if not stack:
            return ""
        path = list(stack.values())[-1]
        path = path[0] if isinstance(path, tuple) else path
        return str(path) if path else ""

    # ---- names from the source (fx_names) ---------------------------------------------
    def statements(self, node: Any) -> list[Statement]:
        """The statements of the user's code the node was made in, outermost first."""
        found = []
        for file, line in frames(node.meta.get("stack_trace") or ""):
            if not in_library(file):
                statement = self.code.statement(file, line)
                if statement is not None:
                    found.append(statement)
        return found

    def again(self, node: Any, path: str) -> str | None:
        """``path`` (a module's, or the scope of a call inside one) renamed for a second
        call of a module it lies in: ``tower.0`` under ``tower_right = self.tower(right)``,
        where ``self.tower`` was first called by another statement, is ``tower_right.0``."""
        stack = [v[0] if isinstance(v, tuple) else v for v in (node.meta.get("nn_module_stack") or {}).values()]
        stack = [str(p) for p in stack] + [path]
        for statement in self.statements(node):
            if statement.call is None:
                continue
            called = next((p for p in stack if p == statement.call or p.endswith("." + statement.call)), None)
            if called is None or not (path == called or path.startswith(called + ".")):
                continue
            first = self.calls.setdefault(called, statement)
            if first != statement and statement.name is not None:
                prefix = called[: len(called) - len(statement.call)]
                return prefix + statement.name + path[len(called) :]
        return None

    def bound_name(self, node: Any) -> str | None:
        """The variable a call's result is assigned to (``merged = a + b``), where the
        call is the whole value of a once-assigned name."""
        inner = self.statements(node)
        if not inner or inner[-1].name is None:
            return None
        statement = inner[-1]
        for user in node.users:
            if user.op != "output" and (self.statements(user) or [None])[-1] == statement:
                return None  # an operand inside the statement, not its value
        return statement.name

    # ---- modules -----------------------------------------------------------------------
    def call_module(self, node: Any, module: Any) -> None:
        path = str(node.target)
        cls = type(module)
        label = f"module {path} ({cls.__name__})"
        if cls.__name__ in SKIPPED_MODULES and cls.__module__.startswith("torch.nn"):
            self.tensor_of[node] = self.source_of(node.args[0])
            return
        torch_nn = cls.__module__.startswith("torch.nn")
        kind = find_type(cls.__name__) if torch_nn or cls.__name__ in OWN_MODULES else None
        if kind is None:
            raise self.refuse(label, "has no cnncalc layer type")
        sources = self.tensor_args(node)
        if len(sources) != 1:
            raise self.refuse(label, f"is called with {len(sources)} tensors; a layer takes one")
        args = module_arguments(module, kind)
        share = None
        renamed = self.again(node, path)
        if path in self.module_uses:
            if any(True for _ in module.parameters()):
                share = self.module_uses[path]
        name = self.unique(renamed if renamed is not None and path in self.module_uses else path)
        self.module_uses.setdefault(path, name)
        self.emit(kind.type_name, args, sources, name, share)

    # ---- functions and methods ---------------------------------------------------------
    def call_function(self, node: Any) -> None:
        target = node.target
        label = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        what = f"call {'.' if node.op == 'call_method' else ''}{label}(...)"
        mapped = METHODS.get(label) if node.op == "call_method" else FUNCTIONS.get(key_of(target))
        if mapped is None:
            raise self.refuse(what, "has no cnncalc layer type")
        sources = self.tensor_args(node)
        kind, args = mapped(self, node, sources)
        if kind is None:  # a view that keeps the tensor (contiguous, a no-op reshape)
            self.tensor_of[node] = self.source_of(sources[0])
            return
        if kind == "getitem":
            self.tensor_of[node] = args
            return
        scope = self.scope(node)
        scope = (self.again(node, scope) if scope else None) or scope
        base = self.bound_name(node) or kind
        name = self.unique(f"{scope}.{base}" if scope else base)
        self.emit(kind, args, sources, name)
        if kind in ("split", "chunk"):
            self.tensor_of[node] = name


def flat_nodes(value: Any) -> list[Any]:
    from torch import fx

    out: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, fx.Node):
            out.append(v)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(value)
    return out


def is_tensor_tuple(value: Any) -> bool:
    import torch

    return isinstance(value, tuple | list) and bool(value) and all(isinstance(v, torch.Tensor) for v in value)


def key_of(target: Any) -> str:
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__name__', '')}"


def plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def module_arguments(module: Any, kind: Any) -> dict[str, Any]:
    """A torch.nn module's constructor arguments, read from its attributes of the same
    names; the inferred one (in_channels, in_features, num_features) and defaults left out."""
    from torch import nn

    args: dict[str, Any] = {}
    for field, (_check, default) in kind.fields.items():
        if field == kind.inferred or not hasattr(module, field):
            continue
        value = getattr(module, field)
        if field == "bias" and not isinstance(value, bool):
            value = value is not None
        if isinstance(value, nn.Parameter | nn.Module) or callable(value):
            continue
        value = plain(value)
        if isinstance(value, list) and len(set(map(str, value))) == 1 and field not in ("normalized_shape", "output_size", "size"):
            value = value[0]
        if value == default or (isinstance(default, tuple | list) and value == plain(default)):
            continue
        args[field] = value
    if isinstance(module, nn.PReLU):
        args = {"num_parameters": module.num_parameters} if module.num_parameters != 1 else {}
    if isinstance(module, nn.MaxPool1d | nn.MaxPool2d | nn.MaxPool3d | nn.AvgPool1d | nn.AvgPool2d | nn.AvgPool3d):
        if plain(module.stride) == plain(module.kernel_size):
            args.pop("stride", None)
    return args


# ---- functional calls: (tracer, node, tensor sources) -> (type, arguments) ------------
def argument(node: Any, position: int, name: str, default: Any) -> Any:
    if len(node.args) > position:
        return node.args[position]
    return node.kwargs.get(name, default)


def merge(kind: str) -> Any:
    def make(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
        if kind == "mul" and len(node.args) == 2:
            scale = layer_scale(t, node, sources)
            if scale is not None:
                return scale
        if len(sources) != 2 or len(node.args) != 2:
            raise t.refuse(f"call {kind}", "with a constant has no layer type; only tensors computed from the input merge")
        return kind, None

    return make


def layer_scale(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any] | None:
    """``self.gamma * x`` with a learnable (C, 1, …, 1) parameter: ConvNeXt's layer scale."""
    import torch

    params = [a for a in node.args if getattr(a, "op", None) == "get_attr"]
    computed = [a for a in sources if getattr(a, "op", None) != "get_attr"]
    if len(params) != 1 or len(computed) != 1:
        return None
    value = t.values.get(params[0])
    shape = t.shape_of(computed[0])
    if not isinstance(value, torch.Tensor) or len(shape) < 3:
        return None
    dims = list(value.shape)
    while len(dims) > len(shape) - 1 and dims[:1] == [1]:
        dims.pop(0)
    if dims != [shape[1]] + [1] * (len(shape) - 2):
        return None
    sources.remove(params[0])
    return "layer_scale", None


def cat(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    dim = argument(node, 1, "dim", 0)
    rank = len(t.shape_of(sources[0]))
    dim = dim % rank
    return "concat", None if dim == 1 else {"dim": dim}


def flatten(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    start = argument(node, 1, "start_dim", 0)
    end = argument(node, 2, "end_dim", -1)
    rank = len(t.shape_of(sources[0]))
    if start % rank == 0:
        raise t.refuse("call flatten(...)", "flattens the batch dimension; use torch.flatten(x, 1)")
    args = {}
    if start != 1:
        args["start_dim"] = start
    if end != -1:
        args["end_dim"] = end
    return "flatten", args or None


def reshape(t: Tracer, node: Any, sources: list[Any]) -> tuple[str | None, Any]:
    before, after = t.shape_of(sources[0]), t.shape_of(node)
    if before == after:
        return None, None
    if after[0] != before[0]:
        raise t.refuse(f"call .{node.target}(...)", f"reshapes {list(before)} to {list(after)}, across the batch dimension")
    if len(after) == 2:
        return "flatten", None
    return "reshape", {"shape": list(after[1:])}


def keep(t: Tracer, node: Any, sources: list[Any]) -> tuple[None, None]:
    return None, None


def activation(kind: str, **names: tuple[int, Any]) -> Any:
    """An activation function; ``names`` maps argument names to (position, default)."""

    def make(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
        args = {}
        for name, (position, default) in names.items():
            value = argument(node, position, name, default)
            if value != default:
                args[name] = value
        return kind, args or None

    return make


def adaptive(kind: str) -> Any:
    def make(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
        nd = len(t.shape_of(sources[0])) - 2
        return f"adaptive_{kind}pool{nd}d", {"output_size": plain(argument(node, 1, "output_size", 1))}

    return make


def pool(kind: str) -> Any:
    def make(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
        nd = len(t.shape_of(sources[0])) - 2
        args = {"kernel_size": plain(argument(node, 1, "kernel_size", None))}
        stride = plain(argument(node, 2, "stride", None))
        if stride not in (None, [], args["kernel_size"]):
            args["stride"] = stride
        padding = plain(argument(node, 3, "padding", 0))
        if padding:
            args["padding"] = padding
        if kind == "max" and argument(node, 5, "ceil_mode", False):
            args["ceil_mode"] = True
        return f"{kind}pool{nd}d", args

    return make


def mean(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    rank = len(t.shape_of(sources[0]))
    dims = argument(node, 1, "dim", None)
    dims = sorted(d % rank for d in ([dims] if isinstance(dims, int) else dims or range(rank)))
    if dims != list(range(2, rank)):
        raise t.refuse("call mean(...)", f"averages over {dims}; only the spatial dimensions (a global pooling) have a layer type")
    if argument(node, 2, "keepdim", False):
        return f"adaptive_avgpool{rank - 2}d", {"output_size": 1}
    return "global_avgpool", None


def interpolate(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    args: dict[str, Any] = {}
    size = argument(node, 1, "size", None)
    scale = argument(node, 2, "scale_factor", None)
    like = size_source(t, size)
    if like is not None:
        args["size_of"] = like
    elif flat_nodes(size):
        raise t.refuse(
            "call interpolate(...)",
            "takes its size from a computed value; give numbers or another tensor's y.shape[2:]",
        )
    elif size is not None:
        args["size"] = plain(size)
    if scale is not None:
        args["scale_factor"] = plain(scale)
    mode = argument(node, 3, "mode", "nearest")
    if mode != "nearest":
        args["mode"] = mode
    align = argument(node, 4, "align_corners", None)
    if align is not None:
        args["align_corners"] = align
    return "upsample", args


def size_source(t: Tracer, size: Any) -> str | None:
    """The tensor whose spatial size ``size`` is (``y.shape[2:]``, ``y.size()[2:]``), if
    it is one: interpolate then reads ``size_of`` that tensor."""
    from torch import fx

    if not isinstance(size, fx.Node) or size.target is not __import__("operator").getitem:
        return None
    whole, index = size.args
    if not isinstance(index, slice) or index.stop is not None or index.step not in (None, 1):
        return None
    if not isinstance(whole, fx.Node):
        return None
    if whole.op == "call_function" and whole.target is getattr and whole.args[1] == "shape":
        tensor = whole.args[0]
    elif whole.op == "call_method" and whole.target == "size" and len(whole.args) == 1:
        tensor = whole.args[0]
    else:
        return None
    rank = len(t.shape_of(tensor)) if tensor in t.values else 0
    if not isinstance(index.start, int) or rank < 3 or index.start % rank != 2:
        return None  # y.shape[2:] or y.shape[-2:]: the spatial sizes, no other slice
    return t.tensor_of.get(tensor)


def getitem(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    parent, index = node.args
    name = t.tensor_of.get(parent)
    if name is None or not isinstance(index, int) or not is_tensor_tuple(t.values.get(parent)):
        raise t.refuse("call getitem (x[...])", "slices a tensor, which has no layer type")
    return "getitem", f"{name}.{index}"


def split(kind: str) -> Any:
    def make(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
        size = plain(argument(node, 1, "split_size_or_sections" if kind == "split" else "chunks", None))
        dim = argument(node, 2, "dim", 0) % len(t.shape_of(sources[0]))
        key = "split_size_or_sections" if kind == "split" else "chunks"
        args: dict[str, Any] = {key: size}
        if dim != 1:
            args["dim"] = dim
        return kind, args

    return make


def permute(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    dims = [d for d in node.args[1:]]
    dims = plain(dims[0]) if len(dims) == 1 and isinstance(dims[0], tuple | list) else dims
    return "permute", list(dims)


def transpose(t: Tracer, node: Any, sources: list[Any]) -> tuple[str, Any]:
    return "transpose", [argument(node, 1, "dim0", 0), argument(node, 2, "dim1", 1)]


FUNCTIONS: dict[str, Any] = {
    "_operator.add": merge("add"), "_operator.iadd": merge("add"), "torch.add": merge("add"),
    "_operator.mul": merge("mul"), "_operator.imul": merge("mul"), "torch.mul": merge("mul"),
    "torch.cat": cat, "torch.concat": cat, "torch.flatten": flatten,
    "torch.relu": activation("relu"), "torch.nn.functional.relu": activation("relu"),
    "torch.nn.functional.relu6": activation("relu6"),
    "torch.sigmoid": activation("sigmoid"), "torch.nn.functional.sigmoid": activation("sigmoid"),
    "torch.tanh": activation("tanh"), "torch.nn.functional.tanh": activation("tanh"),
    "torch.nn.functional.gelu": activation("gelu", approximate=(1, "none")),
    "torch.nn.functional.silu": activation("silu"), "torch.nn.functional.mish": activation("mish"),
    "torch.nn.functional.hardswish": activation("hardswish"),
    "torch.nn.functional.hardsigmoid": activation("hardsigmoid"),
    "torch.nn.functional.leaky_relu": activation("leaky_relu", negative_slope=(1, 0.01)),
    "torch.nn.functional.elu": activation("elu", alpha=(1, 1.0)),
    "torch.softmax": activation("softmax", dim=(1, -1)),
    "torch.nn.functional.softmax": activation("softmax", dim=(1, -1)),
    "torch.nn.functional.log_softmax": activation("log_softmax", dim=(1, -1)),
    "torch.nn.functional.dropout": activation("dropout", p=(1, 0.5)),
    "torch.nn.functional.adaptive_avg_pool2d": adaptive("avg"),
    "torch.nn.functional.adaptive_avg_pool1d": adaptive("avg"),
    "torch.nn.functional.adaptive_max_pool2d": adaptive("max"),
    "torch.nn.functional.max_pool2d": pool("max"), "torch.nn.functional.avg_pool2d": pool("avg"),
    "torch._C._nn.max_pool2d": pool("max"), "torch._C._nn.avg_pool2d": pool("avg"),
    "torch.nn.functional.interpolate": interpolate,
    "torch.split": split("split"), "torch.functional.split": split("split"),
    "torch.chunk": split("chunk"), "torch.nn.functional._max_pool2d": pool("max"),
    "torch.permute": permute, "torch.transpose": transpose,
    "_operator.getitem": getitem, "torch.mean": mean,
}  # fmt: skip
METHODS: dict[str, Any] = {
    "add": merge("add"), "mul": merge("mul"), "flatten": flatten, "view": reshape,
    "reshape": reshape, "relu": activation("relu"), "sigmoid": activation("sigmoid"),
    "tanh": activation("tanh"), "softmax": activation("softmax", dim=(1, -1)),
    "contiguous": keep, "mean": mean, "split": split("split"), "chunk": split("chunk"),
    "permute": permute, "transpose": transpose,
}  # fmt: skip
