"""Every registered layer type is complete: a PyTorch comparison case, a row of the torch-free
arithmetic table, a catalogue entry, a row of the README's FLOPs table (which is generated
from the layer classes), and a stated FLOPs rule wherever a class computes its own FLOPs.
Adding a layer type without these fails here, naming the type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_arithmetic_table
import test_layers_torch

from cnncalc.catalogue import catalogue, flops_table
from cnncalc.layers import ALL_TYPES, LayerType, find_type

README = Path(__file__).resolve().parent.parent / "README.md"
TYPES = [cls.type_name for cls in ALL_TYPES]
TABLE_START = "<!-- flops-table:"
TABLE_END = "<!-- /flops-table -->"


def types_in(specs: list[str]) -> set[str]:
    """The registered layer types an inline spec names (``flatten -> linear(10)``)."""
    found = set()
    for spec in specs:
        for part in spec.split("->"):
            match = re.match(r"\s*\d*\s*\*?\s*\(?\s*(\w+)", part)
            cls = find_type(match[1]) if match else None
            if cls is not None:
                found.add(cls.type_name)
    return found


TORCH_CASES = types_in([case[0] for case in test_layers_torch.CASES])
ARITHMETIC_ROWS = types_in([row[0] for row in test_arithmetic_table.TABLE])


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(TABLE_START)
    start = text.index("\n", start) + 1
    return text[start : text.index(TABLE_END)]


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_a_torch_case(name: str) -> None:
    assert name in TORCH_CASES, f"{name}: add a case to CASES in tests/test_layers_torch.py"


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_an_arithmetic_row(name: str) -> None:
    assert name in ARITHMETIC_ROWS, f"{name}: add a row to TABLE in tests/test_arithmetic_table.py"


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_a_catalogue_entry(name: str) -> None:
    entry = next((e for e in catalogue() if e["type"] == name), None)
    assert entry is not None, f"{name} is missing from cnncalc layers"
    assert entry["family"] and entry["doc"] and entry["flops"], entry


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_a_readme_row(name: str) -> None:
    rows = [line.split("|")[1] for line in readme_table().splitlines()[2:]]
    assert any(name in [n.strip() for n in row.split(",")] for row in rows), (
        f"{name} has no row in the README's FLOPs table"
    )


def test_the_readme_flops_table_is_the_catalogue() -> None:
    assert readme_table() == flops_table(), (
        "README.md's FLOPs table differs from the layer classes; replace it with:\n" + flops_table()
    )


@pytest.mark.parametrize("cls", ALL_TYPES, ids=TYPES)
def test_a_class_computing_its_own_flops_states_its_rule(cls: type[LayerType]) -> None:
    """``flops_rule`` must be defined by the class that defines ``flops`` or a subclass, so
    a new formula cannot inherit an old description."""
    flops_owner = next(k for k in cls.__mro__ if "flops" in k.__dict__)
    if flops_owner is LayerType:
        return
    rule_owner = next(k for k in cls.__mro__ if "flops_rule" in k.__dict__)
    assert issubclass(rule_owner, flops_owner) and cls.flops_rule, (
        f"{cls.type_name} computes its own FLOPs ({flops_owner.__name__}.flops) but states no "
        "flops_rule for the README"
    )
