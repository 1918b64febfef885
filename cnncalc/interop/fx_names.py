"""Names from the source a module was traced from: ``merged = a + b`` names the ``add``
row ``merged``, ``tower_right = self.tower(right)`` names the rows of the tower's second
call ``tower_right.0``, ``tower_right.1``, …

fx records where each call was made (a node's ``stack_trace``), not the variable it went
to, so the variable is read from the statement at that line, parsed with ``ast`` (never
run). Only a name a person gave one value on purpose counts: the single target of a plain
assignment, assigned nowhere else in its function (not ``out = self.relu(out)``, not
``out += identity``, not an argument). Reading nothing else, the rule needs no torch.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass

from .torch_out import RESERVED  # names export writes with a trailing underscore

FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


@dataclass(frozen=True)
class Statement:
    """A plain ``NAME = value`` assignment of a function, by where it sits."""

    file: str
    first: int
    last: int
    name: str | None  # the target, where it is a name assigned only here
    call: str | None  # ``a.b`` where the statement's value is the call ``self.a.b(...)``


def frames(stack_trace: str) -> list[tuple[str, int]]:
    """(file, line) of each frame of a recorded stack, outermost first."""
    return [(file, int(line)) for file, line, _ in FRAME.findall(stack_trace or "")]


class Source:
    """The statements of the files a trace passed through, parsed once each."""

    def __init__(self) -> None:
        self.files: dict[str, list[tuple[int, int, ast.stmt, ast.AST]]] = {}

    def statement(self, file: str, line: int) -> Statement | None:
        """The innermost statement at ``file:line``; None where the file cannot be read."""
        found = None
        for first, last, stmt, function in self.parsed(file):
            if first <= line <= last and (found is None or last - first <= found[1] - found[0]):
                found = (first, last, stmt, function)
        if found is None:
            return None
        first, last, stmt, function = found
        name = call = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
            if assignments(function, target) == 1:
                name = original(target)
        value = getattr(stmt, "value", None)
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return | ast.Expr) and isinstance(value, ast.Call):
            call = attribute_path(value.func)
        return Statement(file, first, last, name, call)

    def parsed(self, file: str) -> list[tuple[int, int, ast.stmt, ast.AST]]:
        known = self.files.get(file)
        if known is None:
            known = self.files[file] = []
            try:
                with open(file, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read(), file)
            except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
                return known
            for function in ast.walk(tree):
                if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    for stmt in ast.walk(function):
                        if isinstance(stmt, ast.stmt) and stmt is not function:
                            known.append((stmt.lineno, stmt.end_lineno or stmt.lineno, stmt, function))
        return known


def assignments(function: ast.AST, name: str) -> int:
    """How often ``name`` is bound in the function: stores of it, and as an argument."""
    count = sum(1 for n in ast.walk(function) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store))
    args = function.args  # type: ignore[attr-defined]
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return count + sum(1 for a in every if a is not None and a.arg == name)


def original(name: str) -> str:
    """The row name a variable stands for: ``out_`` is ``out``, as export spells it."""
    stem = name[:-1]
    if name.endswith("_") and (stem in RESERVED or keyword.iskeyword(stem)):
        return stem
    return name


def attribute_path(func: ast.expr) -> str | None:
    """``a.b.0`` for ``self.a.b[0]`` (a submodule of ``self``), else None."""
    parts: list[str] = []
    while True:
        if isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        elif isinstance(func, ast.Subscript) and isinstance(func.slice, ast.Constant):
            parts.append(str(func.slice.value))
            func = func.value
        elif isinstance(func, ast.Name) and func.id == "self" and parts:
            return ".".join(reversed(parts))
        else:
            return None
