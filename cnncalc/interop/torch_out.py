"""PyTorch code out: an analysed model as the source of ``nn.Module`` classes.

The module tree follows the rows' dotted names: a row ``layer1.0.conv1`` is the attribute
``conv1`` of the block ``0`` of the block ``layer1``, so ``named_parameters()`` of the code
are the rows' names and a torchvision ``state_dict`` loads by name. ``forward`` follows
``report.graph``: every step reads the tensors its row's sources name, so skips, merges
(``a + b``, ``a * b``, ``torch.cat``), splits (``torch.split``, ``torch.chunk``), shared
modules (called again) and several inputs and outputs come out as a person writes them.

A block is a module of its own where it can be: its rows run one after another and every
module it calls again is its own. Its ``forward`` then takes the tensors it reads from
outside and returns those read after it; a block of children ``0, 1, …`` run as a chain is
an ``nn.Sequential``, any other a class (blocks whose code comes out the same share one). A
block that runs a second time with the weights of another (``share:`` of a whole block) is
a second call of that block's module. Any other block only holds its modules (an
``nn.Sequential`` or ``nn.ModuleDict`` under its name) and the enclosing ``forward`` calls
them one by one. Each layer's constructor is the one ``execute`` builds (the layer type's
``to_torch``), written as PyTorch prints it. Nothing here imports torch at module level;
``to_torch`` does, so exporting needs torch installed.
"""
from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..report import Graph, Report, Row, Step

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# rows written as code, not modules
EXPRESSIONS = ("add", "mul", "concat", "split", "chunk", "global_avgpool")
RESERVED = {"self", "torch", "nn", "F", "x", "out", "input", "Any"}
HELPERS = {
    "Reshape": '''class Reshape(nn.Module):
    """x.reshape(N, *shape): a per-sample reshape that keeps the batch dimension."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
''',
    "Pad": '''class Pad(nn.Module):
    """F.pad with explicit pads, last dimension first (different pads on each side)."""

    def __init__(self, pads: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> None:
        super().__init__()
        self.pads = pads
        self.mode = mode
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "constant":
            return F.pad(x, self.pads, "constant", self.value)
        return F.pad(x, self.pads, self.mode)
''',
}




@dataclass
class Op:
    """One statement of a forward: code reading tensors (by id) and making tensors."""

    code: Callable[[list[str]], str]  # the expression, given the inputs' variable names
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    hint: str  # the name its output variables are made from
    pieces: bool = False  # a split: a tuple, even of one piece
    named: bool = False  # its result is a variable named ``hint`` (see ``keeps_name``)


def is_identifier(name: str) -> bool:
    return bool(IDENTIFIER.match(name)) and not keyword.iskeyword(name)


def variable(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    if not name or name[0].isdigit():
        name = "out_" + name
    return name + "_" if keyword.iskeyword(name) or name in RESERVED else name


class Plan:
    """Facts about the graph the code needs: which step makes and which read each tensor,
    the steps under each block path, and how each block is written."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.steps = graph.steps
        self.names = [s.row.name for s in graph.steps]
        self.position = {s.row.index: i for i, s in enumerate(graph.steps)}
        self.readers: dict[int, list[int]] = {}
        self.producer: dict[int, int] = {}
        self.under: dict[str, list[int]] = {}
        for i, step in enumerate(graph.steps):
            for t in step.inputs:
                self.readers.setdefault(t, []).append(i)
            for t in step.outputs:
                self.producer[t] = i
            parts = step.row.name.split(".")
            for depth in range(1, len(parts)):
                self.under.setdefault(".".join(parts[:depth]), []).append(i)
        self.graph_outputs = {t.id for t in graph.outputs}
        self.modes: dict[str, tuple[str, str | None]] = {}

    def inside(self, position: int, path: str) -> bool:
        return not path or self.names[position].startswith(path + ".")

    def ext_inputs(self, path: str) -> list[int]:
        """The tensors the block reads from outside, in the order first read."""
        seen: list[int] = []
        for i in self.under[path]:
            for t in self.steps[i].inputs:
                made = self.producer.get(t)
                if (made is None or not self.inside(made, path)) and t not in seen:
                    seen.append(t)
        return seen

    def ext_outputs(self, path: str) -> list[int]:
        """The tensors the block makes that are read after it, or are model outputs."""
        out: list[int] = []
        for i in self.under[path]:
            for t in self.steps[i].outputs:
                later = any(not self.inside(r, path) for r in self.readers.get(t, ()))
                if later or t in self.graph_outputs:
                    out.append(t)
        return out

    def shared_name(self, step: Step) -> str | None:
        return None if step.shares is None else self.names[self.position[step.shares]]

    def mode(self, path: str) -> tuple[str, str | None]:
        """``("module", None)``, ``("shared", block it calls again)`` or ``("container", None)``."""
        known = self.modes.get(path)
        if known is None:
            known = self.modes[path] = self._mode(path)
        return known

    def _mode(self, path: str) -> tuple[str, str | None]:
        positions = self.under[path]
        contiguous = positions[-1] - positions[0] + 1 == len(positions)
        own = all(
            self.inside(self.position[self.steps[i].shares], path)  # type: ignore[index]
            for i in positions
            if self.steps[i].shares is not None
        )
        if contiguous and own:
            return ("module", None)
        other = self.shared_block(path) if contiguous else None
        return ("shared", other) if other is not None else ("container", None)

    def shared_block(self, path: str) -> str | None:
        """The block this one applies again, step for step with the same tensors in the
        same places (``share:`` of a whole block), if it is one."""
        mine = self.under[path]
        first = self.shared_name(self.steps[mine[0]])
        relative = self.names[mine[0]][len(path) + 1 :]
        if first is None or not first.endswith("." + relative):
            return None
        other = first[: -len(relative) - 1]
        theirs = self.under.get(other)
        if not theirs or len(theirs) != len(mine) or self.mode(other)[0] != "module":
            return None
        image = dict(zip(self.ext_inputs(other), self.ext_inputs(path), strict=False))
        if len(image) != len(self.ext_inputs(path)):
            return None
        for a, b in zip(theirs, mine, strict=True):
            sa, sb = self.steps[a], self.steps[b]
            if sb.shares != sa.row.index or self.names[b][len(path) :] != self.names[a][len(other) :]:
                return None
            if tuple(image.get(t, -1) for t in sa.inputs) != sb.inputs:
                return None
            image.update(zip(sa.outputs, sb.outputs, strict=True))
        returned = {image[t] for t in self.ext_outputs(other)}
        if not set(self.ext_outputs(path)) <= returned:
            return None
        return other


class Writer:
    def __init__(self, report: Report) -> None:
        assert report.graph is not None
        self.plan = Plan(report.graph)
        self.kinds: dict[str, str] = {"": "class"}  # block path -> class, seq or dict
        self.classes: dict[str, str] = {}  # class name -> source
        self.by_code: dict[str, str] = {}  # class body -> class name
        self.helpers: set[str] = set()
        self.uses_torch = False
        self.uses_functional = False
        self.uses_any = False
        self.library: dict[str, str] = {}  # class name -> source copied from cnncalc
        self.parameters: set[str] = set()  # rows written as a parameter of their class

    # ---- constructors ------------------------------------------------------------------
    def constructor(self, row: Row) -> str:
        """The constructor call of a row's module, as PyTorch prints its arguments."""
        assert row.layer is not None
        try:
            module = row.layer.to_torch(row.input_shape)
        except Exception as exc:  # noqa: BLE001 - a layer without a PyTorch module
            raise SpecError(f"row {row.index} ({row.name}) {row.type} has no PyTorch module: {exc}") from None
        return self.module_code(module, row)

    def module_code(self, module: Any, row: Row) -> str:
        from torch import nn

        cls = type(module)
        if isinstance(module, nn.Sequential):
            inner = ", ".join(self.module_code(m, row) for m in module)
            return f"nn.Sequential({inner})"
        if cls.__module__.startswith("torch.nn"):
            return f"nn.{cls.__name__}({constructor_arguments(module)})"
        if cls.__module__.endswith("layers.torch_modules") and cls.__name__ not in HELPERS:
            self.library_class(cls)
            if cls.__name__ == "LayerScale":  # it keeps only the tensor it made
                scale = module.scale
                init = float(scale.detach().reshape(-1)[0]) if scale.numel() else 0.0
                return f"LayerScale({scale.shape[0]}, {scale.dim() + 1}, {init!r})"
            return f"{cls.__name__}({constructor_arguments(module)})"
        if cls.__name__ == "Reshape":
            self.helpers.add("Reshape")
            self.uses_torch = True
            return f"Reshape({tuple(module.shape)!r})"
        if cls.__name__ == "Pad":
            self.helpers.add("Pad")
            self.uses_torch = self.uses_functional = True
            return f"Pad({tuple(module.pads)!r}, {module.mode!r}, {module.value!r})"
        raise SpecError(f"row {row.index} ({row.name}): no code for the module {cls.__name__}")

    def library_class(self, cls: type) -> None:
        """A module class of cnncalc's own (ConvNeXt's LayerNorm2d, layer scale …), copied
        into the code, so that it needs only torch."""
        import inspect

        if cls.__name__ in self.library:
            return
        source = inspect.getsource(cls).replace("functional.", "F.")
        self.uses_functional = self.uses_functional or "F." in source
        self.uses_any = self.uses_any or "Any" in source
        self.library[cls.__name__] = source

    # ---- the module tree ----------------------------------------------------------------
    @staticmethod
    def child(path: str, head: str) -> str:
        return f"{path}.{head}" if path else head

    def heads(self, path: str, positions: list[int]) -> list[tuple[str, list[int]]]:
        """The positions grouped by their next name segment below ``path``, as they run."""
        groups: list[tuple[str, list[int]]] = []
        skip = len(path) + 1 if path else 0
        for i in positions:
            rest = self.plan.names[i][skip:]
            head = rest.split(".", 1)[0] if "." in rest else rest
            if groups and groups[-1][0] == head and "." in rest:
                groups[-1][1].append(i)
            else:
                groups.append((head, [i]))
        return groups

    def makes_module(self, step: Step) -> bool:
        row = step.row
        return step.shares is None and row.type not in EXPRESSIONS and not size_of(row)

    def children(self, path: str, positions: list[int], holder: str = "class") -> list[tuple[str, str]]:
        """(name, constructor) of every module directly below ``path``, in order. In a
        class, a layer scale is a parameter of the class itself (torchvision's CNBlock
        ``layer_scale``), so its state_dict name is the row's name."""
        out: list[tuple[str, str]] = []
        done: set[str] = set()
        skip = len(path) + 1 if path else 0
        for head, group in self.heads(path, positions):
            if head in done:
                continue
            done.add(head)
            if "." not in self.plan.names[group[0]][skip:]:
                step = self.plan.steps[group[0]]
                if self.makes_module(step) and holder == "class" and step.row.type == "layer_scale":
                    out.append((head, self.parameter(step.row)))
                elif self.makes_module(step):
                    out.append((head, self.constructor(step.row)))
                continue
            block = self.child(path, head)
            mode, _ = self.plan.mode(block)
            if mode == "module":
                out.append((head, self.module(block)))
            elif mode == "container":
                kids = self.children(block, self.plan.under[block], "container")
                if kids:
                    out.append((head, self.container(block, kids)))
        return out

    def parameter(self, row: Row) -> str:
        """A layer scale as the parameter ``torch.full((C, 1, ...), init)``."""
        module = row.layer.to_torch(row.input_shape)  # type: ignore[union-attr]
        scale = module.scale
        init = float(scale.detach().reshape(-1)[0]) if scale.numel() else 0.0
        self.uses_torch = True
        self.parameters.add(row.name)
        return f"nn.Parameter(torch.full({tuple(scale.shape)!r}, {init!r}))"

    def container(self, path: str, kids: list[tuple[str, str]]) -> str:
        """A block that only holds modules: ``nn.Sequential`` or ``nn.ModuleDict``."""
        if [name for name, _ in kids] == [str(i) for i in range(len(kids))]:
            self.kinds[path] = "seq"
            return "nn.Sequential(" + indent("".join(f"\n{code}," for _, code in kids), 4) + "\n)"
        self.kinds[path] = "dict"
        inner = "".join(f"\n{name!r}: {code}," for name, code in kids).replace("'", '"')
        return "nn.ModuleDict({" + indent(inner, 4) + "\n})"

    def access(self, name: str, scope: str) -> str:
        """The expression reaching the module at the row or block path ``name`` from the
        ``forward`` of the block ``scope`` (``self``)."""
        expression, current = "self", scope
        rest = name[len(scope) + 1 :] if scope else name
        for segment in rest.split("."):
            kind = self.kinds.get(current, "class")
            if kind == "seq" and segment.isdigit():
                expression += f"[{segment}]"
            elif is_identifier(segment):
                expression += f".{segment}"
            elif kind == "dict":
                expression += f'["{segment}"]'
            else:
                expression = f'getattr({expression}, "{segment}")'
            current = self.child(current, segment)
        return expression

    # ---- forward ----------------------------------------------------------------------
    def ops(self, scope: str, path: str, positions: list[int], ops: list[Op]) -> None:
        """The statements of ``scope``'s forward for the steps at ``positions`` under
        ``path`` (``path`` is ``scope`` or a container block inside it)."""
        plan = self.plan
        skip = len(path) + 1 if path else 0
        for head, group in self.heads(path, positions):
            if "." not in plan.names[group[0]][skip:]:
                ops.append(self.row_op(plan.steps[group[0]], scope))
                continue
            block = self.child(path, head)
            mode, other = plan.mode(block)
            if mode == "container":
                self.ops(scope, block, group, ops)
                continue
            target = block if other is None else other
            callee = self.access(target, scope)
            inputs = tuple(plan.ext_inputs(block))
            outputs = plan.ext_outputs(block)
            if other is not None:  # the other block's outputs, in its order, as this block's
                image = self.image(other, block)
                outputs = [image[t] for t in plan.ext_outputs(other)]
            named = other is not None and keeps_name(head, [re.escape(other.rsplit(".", 1)[-1]) + r"_\d+"])
            ops.append(Op(lambda names, c=callee: f"{c}({', '.join(names)})", inputs,
                          tuple(outputs), head, pieces=len(outputs) > 1, named=named))  # fmt: skip

    def image(self, other: str, block: str) -> dict[int, int]:
        plan = self.plan
        image = dict(zip(plan.ext_inputs(other), plan.ext_inputs(block), strict=False))
        for a, b in zip(plan.under[other], plan.under[block], strict=True):
            image.update(zip(plan.steps[a].outputs, plan.steps[b].outputs, strict=True))
        return image

    def row_op(self, step: Step, scope: str) -> Op:
        row = step.row
        hint = row.name.rsplit(".", 1)[-1]
        args = row.layer.args if row.layer is not None else None
        code: Callable[[list[str]], str]
        if row.type == "add":
            code = " + ".join
        elif row.type == "mul":
            code = " * ".join
        elif row.type == "concat":
            self.uses_torch = True
            code = lambda names, d=args.dim: f"torch.cat([{', '.join(names)}], dim={d})"  # noqa: E731
        elif row.type in ("split", "chunk"):
            self.uses_torch = True
            first = args.split_size_or_sections if row.type == "split" else args.chunks
            first = list(first) if isinstance(first, tuple) else first
            code = lambda names, f=row.type, a=first, d=args.dim: f"torch.{f}({names[0]}, {a}, dim={d})"  # noqa: E731
        elif row.type == "global_avgpool":  # the mean over the spatial dimensions
            dims = tuple(range(2, len(row.input_shape)))
            code = lambda names, d=dims: f"{names[0]}.mean(dim={d!r})"  # noqa: E731
        elif size_of(row):
            self.uses_functional = True
            extra = "" if args.align_corners is None else f", align_corners={args.align_corners}"
            code = lambda names, m=args.mode, e=extra: (  # noqa: E731
                f'F.interpolate({names[0]}, size={names[1]}.shape[2:], mode="{m}"{e})'
            )
        else:
            shared = self.plan.shared_name(step)
            callee = self.access(shared or row.name, scope)
            if (shared or row.name) in self.parameters:
                code = lambda names, c=callee: f"{c} * {names[0]}"  # noqa: E731
            else:
                code = lambda names, c=callee: f"{c}({', '.join(names)})"  # noqa: E731
        shared = self.plan.shared_name(step)
        if shared is not None:
            named = keeps_name(hint, [re.escape(shared.rsplit(".", 1)[-1]) + r"_\d+"])
        elif row.type in EXPRESSIONS or size_of(row):
            named = keeps_name(hint, [re.escape(row.type) + r"(_\d+)?"])
        else:
            named = False
        return Op(code, step.inputs, step.outputs, hint, pieces=row.output_shapes is not None, named=named)

    def forward(self, ops: list[Op], inputs: list[int], outputs: list[int], labels: dict[int, str]) -> tuple[list[str], list[str]]:
        """(parameter names, body lines) of a forward running ``ops``."""
        readers: dict[int, set[int]] = {}
        for n, op in enumerate(ops):
            for t in op.inputs:
                readers.setdefault(t, set()).add(n)
        for t in outputs:
            readers.setdefault(t, set()).add(len(ops))
        taken: set[str] = set()

        def fresh(text: str) -> str:
            name, count = variable(text), 1
            while name in taken:
                count += 1
                name = f"{variable(text)}_{count}"
            taken.add(name)
            return name

        names: dict[int, str] = {}
        if len(inputs) == 1:
            names[inputs[0]] = "x"
            chain = "out" if readers.get(inputs[0], set()) - {0} else "x"
        else:
            for t in inputs:
                names[t] = fresh(labels.get(t, f"input{t}"))
            chain = "x"
        lines: list[str] = []
        for n, op in enumerate(ops):
            text = op.code([names[t] for t in op.inputs])
            targets = []
            if op.named and any(readers.get(t) for t in op.outputs):
                var = fresh(op.hint)
                for i, t in enumerate(op.outputs):
                    names[t] = f"{var}[{i}]" if op.pieces else var
                lines.append(wrap(f"{' ' * 8}{var} = {text}")[8:])
                continue
            for t in op.outputs:
                read = readers.get(t, set())
                if not read:
                    targets.append("_")
                elif read == {n + 1} and len(op.outputs) == 1:
                    names[t] = chain
                    targets.append(chain)
                else:
                    names[t] = fresh(op.hint if len(op.outputs) == 1 else f"{op.hint}_{len(targets)}")
                    targets.append(names[t])
            left = ", ".join(targets)
            if op.pieces and len(targets) == 1:
                left = f"({left},)"
            lines.append(wrap(f"{' ' * 8}{left} = {text}")[8:])
        result = ", ".join(names[t] for t in outputs)
        lines.append(f"return {result}")
        params = [names[t] for t in inputs]
        return params, lines

    def labels(self, tensors: list[int]) -> dict[int, str]:
        """A readable name for each tensor a block reads: its maker's last name segment."""
        out: dict[int, str] = {}
        for t in tensors:
            made = self.plan.producer.get(t)
            if made is not None:
                out[t] = self.plan.names[made].rsplit(".", 1)[-1]
        for tensor in self.plan.graph.inputs:
            out[tensor.id] = tensor.name
        return out

    def module(self, path: str) -> str:
        """The constructor of a block that is a module of its own."""
        positions = self.plan.under[path]
        kids = self.children(path, positions)
        self.kinds[path] = "seq"  # tried first: children 0, 1, ... run as a chain
        ops: list[Op] = []
        self.ops(path, path, positions, ops)
        inputs, outputs = self.plan.ext_inputs(path), self.plan.ext_outputs(path)
        names = [name for name, _ in kids]
        chained = (
            len(inputs) == 1 and len(outputs) == 1 and len(ops) == len(kids) and not any(o.pieces for o in ops)
            and names == [str(i) for i in range(len(kids))]
            and all(op.code(["v"]) == f"self[{i}](v)" for i, op in enumerate(ops))
            and all(op.inputs == ((inputs[0],) if i == 0 else ops[i - 1].outputs) for i, op in enumerate(ops))
            and ops[-1].outputs == (outputs[0],)
        )  # fmt: skip
        if chained:
            return "nn.Sequential(" + indent("".join(f"\n{code}," for _, code in kids), 4) + "\n)"
        self.kinds[path] = "class"
        # the ops were written before this block's kind was known: write them again
        ops = []
        self.ops(path, path, positions, ops)
        parent, _, last = path.rpartition(".")
        hint = f"{parent}_block" if last.isdigit() and parent else last
        name = self.class_for(hint, kids, ops, inputs, outputs)
        return name + "()"

    def class_for(
        self, name: str, kids: list[tuple[str, str]], ops: list[Op], inputs: list[int], outputs: list[int]
    ) -> str:  # fmt: skip
        init = ["super().__init__()"]
        for child, code in kids:
            if is_identifier(child):
                init.append(wrap(f"{' ' * 8}self.{child} = {code}")[8:])
            else:
                init.append(wrap(f'{" " * 8}self.add_module("{child}", {code})')[8:])
        params, lines = self.forward(ops, inputs, outputs, self.labels(inputs))
        signature = ", ".join(f"{p}: torch.Tensor" for p in params)
        returns = "torch.Tensor" if len(outputs) == 1 else "tuple[torch.Tensor, ...]"
        body = (
            "    def __init__(self) -> None:\n" + indent("\n".join(init), 8) + "\n\n"
            + wrap(f"    def forward(self, {signature}) -> {returns}:", 100) + "\n"
            + indent("\n".join(lines), 8) + "\n"
        )  # fmt: skip
        known = self.by_code.get(body)
        if known is not None:
            return known
        class_name = camel(name) or "Block"
        base, count = class_name, 1
        while class_name in self.classes:
            count += 1
            class_name = f"{base}{count}"
        self.classes[class_name] = f"class {class_name}(nn.Module):\n{body}"
        self.by_code[body] = class_name
        return class_name

    def top(self, model_name: str) -> str:
        plan = self.plan
        positions = list(range(len(plan.steps)))
        kids = self.children("", positions)
        ops: list[Op] = []
        self.ops("", "", positions, ops)
        inputs = [t.id for t in plan.graph.inputs]
        outputs = [t.id for t in plan.graph.outputs]
        return self.class_for(model_name, kids, ops, inputs, outputs)


def keeps_name(hint: str, defaults: list[str]) -> bool:
    """Whether a row that is no module's first call (a merge, a split, ``size_of``, a
    second call) writes its result to a variable named as the row: where the name is not
    the one fx import gives such a call anyway (``add``, ``add_1``, ``conv_1``), which it
    reads back from ``NAME = ...`` (``fx_in.bound_name``), so the round trip keeps it."""
    return not any(re.fullmatch(pattern, hint) for pattern in defaults)


def size_of(row: Row) -> bool:
    """Whether the row is ``upsample: {size_of: NAME}`` (it reads NAME's size)."""
    return row.type == "upsample" and len(row.sources) == 2


def constructor_arguments(module: Any) -> str:
    """A torch.nn module's constructor arguments as a person writes them: the required ones
    by position, the others by name where they differ from the default, each read from the
    module's attribute of the same name (PyTorch keeps them all); a size given per
    dimension as one number where all dimensions agree, as PyTorch accepts it."""
    import inspect

    from torch import nn

    positional: list[str] = []
    keywords: list[str] = []
    for name, parameter in inspect.signature(type(module).__init__).parameters.items():
        if name in ("self", "device", "dtype") or parameter.kind in (
            parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD,
        ):  # fmt: skip
            continue
        if not hasattr(module, name):
            if parameter.default is parameter.empty:
                return module.extra_repr()  # a module that does not keep its arguments
            continue
        value = getattr(module, name)
        if isinstance(value, nn.Parameter) or value is None and name == "bias":
            value = value is not None  # bias=True/False is kept as the tensor or None
        if isinstance(value, nn.Module):
            continue
        if isinstance(value, tuple | list) and value and len(set(value)) == 1 and name != "normalized_shape":
            value = value[0]
        default = parameter.default
        if isinstance(default, tuple | list) and default and len(set(default)) == 1:
            default = default[0]
        if parameter.default is parameter.empty:
            positional.append(repr(value))
        elif value != default or type(value) is not type(default) and default is not None:
            keywords.append(f"{name}={value!r}")
    return ", ".join(positional + keywords)


def wrap(line: str, width: int = 88) -> str:
    """``target = Call(a, b, ...)`` over several lines where it is longer than ``width``."""
    if len(line) <= width or not line.endswith(")") or "(" not in line:
        return line
    head, _, rest = line.partition("(")
    args = split_arguments(rest[:-1])
    return head + "(\n" + "".join(f"    {a},\n" for a in args) + ")"


def split_arguments(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def camel(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    text = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if text and text[0].isdigit():
        text = "Block" + text
    return text


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.split("\n"))


def pytorch_code(report: Report) -> str:
    """The source of a module computing the report's model: classes, then the model's."""
    if report.error is not None:
        raise report.error
    if report.graph is None:
        raise SpecError("the model has no graph to write")
    writer = Writer(report)
    model_name = camel(report.model or "") or "Model"
    if not model_name[0].isalpha():
        model_name = "Model" + model_name
    top = writer.top(model_name)
    if top != model_name:  # the top level came out like a block: give it its own name
        writer.classes[model_name] = f"class {model_name}({top}):\n    pass\n"
    order = [name for name in writer.classes if name != model_name] + [model_name]
    inputs = report.graph.inputs
    outputs = report.graph.outputs
    shown_in = ", ".join(f"{t.name} {list(t.shape)}" for t in inputs) if len(inputs) > 1 else str(list(inputs[0].shape))
    shown_out = ", ".join(f"{t.name} {list(t.shape)}" for t in outputs) if len(outputs) > 1 else str(list(outputs[0].shape))
    header = [
        f'"""{report.model or "Model"}: PyTorch code written by cnncalc export from',
        f"{report.source}",
        "",
        f"Input{'s' if len(inputs) > 1 else ''} {shown_in} (batch first), "
        f"output{'s' if len(outputs) > 1 else ''} {shown_out};",
        f"{report.totals.params:,} parameters, {report.totals.macs:,} MACs at this input.",
        '"""',
        "",
    ]
    header = [wrap_text(line) for line in header]
    if writer.uses_any:
        header += ["from typing import Any", ""]
    header += ["import torch"]
    if writer.uses_functional:
        header.append("import torch.nn.functional as F")
    header += ["from torch import nn", "", "", ""]
    body = [HELPERS[name] for name in sorted(writer.helpers)]
    body += [writer.library[name] for name in sorted(writer.library)]
    body += [writer.classes[name] for name in order]
    samples = ", ".join(f"torch.randn({', '.join(map(str, t.shape))})" for t in inputs)
    shown = "tuple(out.shape)" if len(outputs) == 1 else "[tuple(o.shape) for o in out]"
    footer = (
        'if __name__ == "__main__":\n'
        f"    model = {model_name}()\n"
        f"    out = model({samples})\n"
        f"    print({shown})\n"
    )
    return "\n".join(header) + "\n\n".join(body) + "\n\n" + footer


def wrap_text(line: str, width: int = 100) -> str:
    """A docstring line broken at spaces before ``width``."""
    out, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return "\n".join(out)
