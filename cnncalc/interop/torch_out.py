"""PyTorch code out: an analysed model as the source of ``nn.Module`` classes.

The module tree follows the rows' dotted names: a row ``layer1.0.conv1`` is the attribute
``conv1`` of the block ``0`` of the block ``layer1``, so ``named_parameters()`` of the code
are the rows' names. A block whose children are numbered ``0, 1, …`` and run one after
another is an ``nn.Sequential``; any other block (one holding a residual or parallel
merge, or named children) is a class of its own, and blocks whose code comes out the same
share one class. Each layer's constructor is the one ``execute`` builds (the layer type's
``to_torch``), written as PyTorch prints it (``extra_repr``). Nothing here imports torch
at module level; ``to_torch`` does, so exporting needs torch installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..report import Merge, Report, Row

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
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
class Block:
    """A container in the module tree: its full path and the plan items inside it."""

    path: str
    items: list[Any] = field(default_factory=list)


class Writer:
    def __init__(self) -> None:
        self.classes: dict[str, str] = {}  # class name -> source
        self.by_code: dict[str, str] = {}  # class body -> class name
        self.helpers: set[str] = set()
        self.uses_torch = False
        self.uses_functional = False
        self.uses_any = False
        self.library: dict[str, str] = {}  # class name -> source copied from cnncalc

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

    # ---- the tree ----------------------------------------------------------------------
    @staticmethod
    def path_of(item: Any) -> str:
        return item.row.name if isinstance(item, Merge) else item.name

    def group(self, items: list[Any], prefix: str) -> list[Any]:
        """Items at this level: rows, merges whose row sits here, and sub-blocks of the
        consecutive items under one next path segment."""
        out: list[Any] = []
        for item in items:
            relative = self.path_of(item)[len(prefix) :]
            head, dot, _ = relative.partition(".")
            if not dot:
                out.append(item)
                continue
            path = prefix + head
            if out and isinstance(out[-1], Block) and out[-1].path == path:
                out[-1].items.append(item)
            else:
                out.append(Block(path, [item]))
        return out

    def children(self, items: list[Any], prefix: str) -> list[tuple[str, str]]:
        """(name, constructor) of every module this level holds, in order."""
        out: list[tuple[str, str]] = []
        for item in self.group(items, prefix):
            if isinstance(item, Block):
                out.append((item.path[len(prefix) :], self.block(item)))
            elif isinstance(item, Merge):
                for branch in item.branches:
                    out.extend(self.children(branch, prefix))
            else:
                out.append((item.name[len(prefix) :], self.constructor(item)))
        return out

    def call(self, name: str) -> str:
        if IDENTIFIER.match(name):
            return f"self.{name}"
        return f"getattr(self, {name!r})"

    def block(self, block: Block) -> str:
        prefix = block.path + "."
        kids = self.children(block.items, prefix)
        plain = all(not isinstance(i, Merge) for i in self.group(block.items, prefix))
        if plain and [name for name, _ in kids] == [str(i) for i in range(len(kids))]:
            inner = "".join(f"\n{code}," for _, code in kids)
            return "nn.Sequential(" + indent(inner, 4) + "\n)"
        return self.class_for(block.path.rsplit(".", 1)[-1], block.items, prefix, kids) + "()"

    def class_for(self, name: str, items: list[Any], prefix: str, kids: list[tuple[str, str]]) -> str:
        init = ["super().__init__()"]
        for child, code in kids:
            if IDENTIFIER.match(child):
                init.append(wrap(f"{' ' * 8}self.{child} = {code}")[8:])
            else:
                init.append(wrap(f"{' ' * 8}self.add_module({child!r}, {code})")[8:])
        lines: list[str] = []
        result = self.branchy_forward(items, prefix, lines)
        lines.append(f"return {result}")
        body = (
            "    def __init__(self) -> None:\n" + indent("\n".join(init), 8) + "\n\n"
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n" + indent("\n".join(lines), 8) + "\n"
        )
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

    def branchy_forward(self, items: list[Any], prefix: str, lines: list[str]) -> str:
        """forward's lines where merges read several branches of the same input."""
        names = iter(f"y{i}" for i in range(1, 10_000))

        def run(items: list[Any], x: str, result: str) -> str:
            for item in self.group(items, prefix):
                if isinstance(item, Merge):
                    outs = []
                    for branch in item.branches:
                        outs.append(run(branch, x, next(names)) if branch else x)
                    if len(outs) == 1:
                        outs.append(x)
                    if item.how == "concat":
                        self.uses_torch = True
                        expression = f"torch.cat([{', '.join(outs)}], dim=1)"
                    else:
                        expression = (" + " if item.how == "add" else " * ").join(outs)
                    lines.append(f"{result} = {expression}")
                else:
                    name = item.path[len(prefix) :] if isinstance(item, Block) else item.name[len(prefix) :]
                    lines.append(f"{result} = {self.call(name)}({x})")
                x = result
            return x

        return run(items, "x", "x")


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
    writer = Writer()
    model_name = camel(report.model or "") or "Model"
    if not model_name[0].isalpha():
        model_name = "Model" + model_name
    kids = writer.children(report.plan, "")
    top = writer.class_for(model_name, report.plan, "", kids)
    if top != model_name:  # the top level came out like a block: give it its own name
        writer.classes[model_name] = f"class {model_name}({top}):\n    pass\n"
    order = [name for name in writer.classes if name != model_name] + [model_name]
    header = [
        f'"""{report.model or "Model"}: PyTorch code written by cnncalc export from',
        f"{report.source}",
        "",
        f"Input {list(report.input_shape)} (batch first), output {list(report.output_shape or ())};",
        f"{report.totals.params:,} parameters, {report.totals.macs:,} MACs at this input.",
        '"""',
        "",
    ]
    if writer.uses_any:
        header += ["from typing import Any", ""]
    header += ["import torch"]
    if writer.uses_functional:
        header.append("import torch.nn.functional as F")
    header += ["from torch import nn", "", "", ""]
    body = [HELPERS[name] for name in sorted(writer.helpers)]
    body += [writer.library[name] for name in sorted(writer.library)]
    body += [writer.classes[name] for name in order]
    footer = (
        'if __name__ == "__main__":\n'
        f"    model = {model_name}()\n"
        f"    print(model(torch.randn({', '.join(map(str, report.input_shape))})).shape)\n"
    )
    return "\n".join(header) + "\n\n".join(body) + "\n\n" + footer
