"""Each command imports only what it needs: the tutor is not loaded for ``params``, the
table printer's dependencies not for JSON, the model reader not for ``--help`` or ``conv``.
Measured in a fresh interpreter per command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import sys\n"
    "from cnncalc.cli import main\n"
    "sys.argv = ['cnncalc', *{args!r}]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exit:\n"
    "    assert exit.code in (0, None), exit.code\n"
    "import json\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)


def modules_loaded(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.splitlines()[-1]))


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["params", "configs/resnet50.yaml", "--format", "json"],
         {"cnncalc.tutor", "cnncalc.catalogue", "tabulate", "csv", "difflib", "torch",
          "dataclasses", "cnncalc.model.inline"}),
        (["params", "configs/resnet50.yaml"], {"cnncalc.tutor", "tabulate", "csv", "torch"}),
        (["shapes", "configs/lenet5.yaml", "--format", "csv"], {"cnncalc.tutor", "tabulate", "torch"}),
        (["--help"], {"cnncalc.layers", "cnncalc.model", "cnncalc.graph", "cnncalc.tutor", "yaml"}),
        (["layers"], {"cnncalc.model", "cnncalc.graph", "cnncalc.tutor", "tabulate", "yaml"}),
        (["conv", "--input", "6", "--kernel", "3"],
         {"cnncalc.graph", "cnncalc.tutor.solve", "cnncalc.tutor.explain", "tabulate", "yaml", "csv"}),
        (["explain", "--values", "0..5", "--weight", "1,1"], {"cnncalc.graph", "cnncalc.tutor.solve", "yaml"}),
    ],
)  # fmt: skip
def test_a_command_imports_only_what_it_needs(args: list[str], absent: set[str]) -> None:
    assert absent.isdisjoint(modules_loaded(*args))


def runtime_imports() -> dict[str, set[str]]:
    """Each cnncalc module's module-level imports of other cnncalc modules, those under
    ``if TYPE_CHECKING`` left out (they never run)."""
    import ast

    package = ROOT / "cnncalc"
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges = graph.setdefault(name, set())
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.level:
                stem = ".".join(
                    base[: len(base) - node.level + 1] + ([node.module] if node.module else [])
                )
                for alias in node.names:
                    child = f"{stem}.{alias.name}"
                    is_module = (ROOT / Path(*child.split("."))).with_suffix(".py").exists() or (
                        ROOT / Path(*child.split("."))
                    ).is_dir()
                    edges.add(child if is_module else stem)
    return graph


def test_no_module_imports_itself_through_others() -> None:
    """No import cycle among cnncalc's modules (execute and render were one)."""
    graph = runtime_imports()
    assert "cnncalc.render" not in graph["cnncalc.execute"]
    assert "cnncalc.execute" not in graph["cnncalc.render"]
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for child in graph.get(name, ()):
            visit(child, (*path, name))
        done.add(name)

    for module in graph:
        visit(module, ())


GC_PROBE = (
    "import gc, json, sys\n"
    "default = gc.get_threshold()\n"
    "import cnncalc.cli\n"
    "library = [gc.isenabled(), gc.get_threshold() == default, gc.get_freeze_count()]\n"
    "from cnncalc.__main__ import main\n"
    "passes = []\n"
    "gc.callbacks.append(lambda phase, info: phase == 'stop' and passes.append(1))\n"
    "sys.argv = ['cnncalc', 'params', 'configs/resnet50.yaml', '--format', 'json']\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exit:\n"
    "    assert exit.code in (0, None), exit.code\n"
    "process = [gc.get_threshold()[0], gc.get_freeze_count() > 0, len(passes)]\n"
    "print(json.dumps([library, process]), file=sys.stderr)\n"
)


def test_the_process_spares_the_collector_and_the_library_does_not() -> None:
    """The ``cnncalc`` process (``cnncalc/__main__.py``, also the installed script) freezes
    what exists out of the collector's passes and raises its young threshold, so
    ``params`` on ResNet-50 (tens of thousands of objects, none of them garbage) runs no
    collection at all; importing ``cnncalc.cli`` changes nothing."""
    from cnncalc.__main__ import YOUNG_THRESHOLD

    result = subprocess.run(
        [sys.executable, "-c", GC_PROBE], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    library, process = json.loads(result.stderr.splitlines()[-1])
    assert library == [True, True, 0]
    assert process == [YOUNG_THRESHOLD, True, 0]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'cnncalc = "cnncalc.__main__:main"' in pyproject
