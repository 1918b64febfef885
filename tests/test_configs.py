"""The ready models in configs/: each one loads, and its figures are PyTorch's own.

Three kinds of check:
- every file in configs/ loads and analyses, and its totals add up from its rows;
- the classic networks, at their own 3x224x224 input, give torchvision's published params
  and GMACs, and the exact MACs measured with PyTorch (no torch needed here);
- every config with a hand-written builder in ``reference_nets.py`` gives the output shape,
  params and MACs that PyTorch computes for that builder, in total and row by row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from published import PUBLISHED

from cnncalc import analyse, load_model

if TYPE_CHECKING:
    import torch

CONFIGS = Path(__file__).parent.parent / "configs"
CONFIG_FILES = sorted(p.name for p in CONFIGS.iterdir() if p.suffix in {".yaml", ".yml", ".json"})

Shape = tuple[int, ...]

# The input each config with a reference builder is compared with PyTorch on. The big nets
# run on 64x64, which keeps every layer at 1x1 or more and the suite fast; their full-size
# figures are checked against PUBLISHED.
COMPARE_INPUT: dict[str, Shape] = {
    "seed-lenet.yaml": (1, 32, 32),
    "seed-keras.yaml": (1, 28, 28),
    "lenet5.yaml": (1, 28, 28),
    "alexnet.yaml": (3, 64, 64),
    "vgg16.yaml": (3, 64, 64),
    "resnet18.yaml": (3, 64, 64),
    "resnet50.yaml": (3, 64, 64),
    "mobilenetv2.yaml": (3, 64, 64),
    "unet.yaml": (1, 64, 64),
}

MERGE_TYPES = {"add", "concat", "mul"}


@functools.cache
def report_for(name: str, input_shape: Shape | None = None) -> Any:
    """cnncalc's analysis of a config, batch 1, optionally on another input."""
    overrides = {} if input_shape is None else {"input_shape": input_shape}
    return analyse(load_model(str(CONFIGS / name), **overrides), batch=1)


def file_input(name: str) -> Shape:
    return tuple(yaml.safe_load((CONFIGS / name).read_text())["input"])


# ---- every config ------------------------------------------------------------------------
def test_configs_found() -> None:
    assert set(COMPARE_INPUT) <= set(CONFIG_FILES)
    assert set(PUBLISHED) <= set(CONFIG_FILES)


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_config_loads_and_analyses(name: str) -> None:
    report = report_for(name)
    assert report.error is None, report.error
    assert report.output_shape[0] == 1
    assert report.rows
    assert report.output_shape == report.outputs[0].shape
    produced = {row.name: row.output_shape for row in report.rows}
    for output in report.outputs:  # an output is a row's tensor (or a piece of a split)
        assert produced.get(output.name, output.shape) == output.shape
    assert report.totals.params == sum(row.params for row in report.rows)
    assert report.totals.macs == sum(row.macs for row in report.rows if row.used)


# ---- published figures at full size ------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_figures(name: str) -> None:
    published = PUBLISHED[name]
    report = report_for(name)
    assert file_input(name) == (3, 224, 224)
    assert report.output_shape == (1, 1000)
    assert report.totals.params == published["params"]
    assert report.totals.trainable_params == published["params"]
    assert f"{round(report.totals.macs / 1e9, 2):.2f}" == published["gmacs"]
    assert report.totals.macs == published["macs"]


# ---- comparison with PyTorch -------------------------------------------------------------
@dataclass(frozen=True)
class TorchFigures:
    output_shape: Shape
    params: int
    macs: int
    rows: tuple[tuple[Shape, int], ...]  # (output shape, own params) of each leaf module run


@functools.cache
def torch_figures(name: str, input_shape: Shape) -> TorchFigures:
    """Build the reference network once and run a batch-1 random input through it."""
    identity = pytest.importorskip("torch").nn.Identity
    import reference_nets

    build, _ = reference_nets.REFERENCE[name]
    module = build()
    rows: list[tuple[Shape, int]] = []

    def record(
        leaf: torch.nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor
    ) -> None:
        rows.append((tuple(output.shape), reference_nets.count_params(leaf)))

    # Identity stands for an absent shortcut, which has no row in cnncalc.
    leaves = [m for m in module.modules() if not list(m.children()) and not isinstance(m, identity)]
    handles = [leaf.register_forward_hook(record) for leaf in leaves]
    output_shape, macs = reference_nets.run(module, input_shape)
    for handle in handles:
        handle.remove()
    return TorchFigures(output_shape, reference_nets.count_params(module), macs, tuple(rows))


def compare(name: str) -> tuple[Any, TorchFigures]:
    input_shape = COMPARE_INPUT[name]
    override = None if input_shape == file_input(name) else input_shape
    return report_for(name, override), torch_figures(name, input_shape)


def test_every_reference_is_compared() -> None:
    pytest.importorskip("torch")
    import reference_nets

    assert set(reference_nets.REFERENCE) == set(COMPARE_INPUT)
    for name, (_, input_shape) in reference_nets.REFERENCE.items():
        assert file_input(name) == input_shape, name


@pytest.mark.parametrize("name", sorted(COMPARE_INPUT))
def test_output_shape_matches_torch(name: str) -> None:
    report, expected = compare(name)
    assert report.output_shape == expected.output_shape


@pytest.mark.parametrize("name", sorted(COMPARE_INPUT))
def test_params_match_torch(name: str) -> None:
    report, expected = compare(name)
    assert report.totals.params == expected.params


@pytest.mark.parametrize("name", sorted(COMPARE_INPUT))
def test_macs_match_torch(name: str) -> None:
    report, expected = compare(name)
    assert report.totals.macs == expected.macs


@pytest.mark.parametrize("name", sorted(COMPARE_INPUT))
def test_rows_match_torch_leaves(name: str) -> None:
    """Leaf rows, in execution order, have PyTorch's output shapes and parameter counts."""
    report, expected = compare(name)
    rows = [(row.output_shape, row.params) for row in report.rows if row.type not in MERGE_TYPES]
    assert tuple(rows) == expected.rows


# ---- names as torchvision's ---------------------------------------------------------------
TORCHVISION_NAMED = (
    "alexnet.yaml", "vgg16.yaml", "resnet18.yaml", "resnet50.yaml", "mobilenetv2.yaml", "unet.yaml",
)  # fmt: skip


@pytest.mark.parametrize("name", TORCHVISION_NAMED)
def test_rows_with_params_are_named_as_torchvision_names_parameters(name: str) -> None:
    """The rows that hold parameters are exactly the module's ``named_parameters()``
    prefixes, in order (``conv1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, ``fc``)."""
    pytest.importorskip("torch")
    import reference_nets

    build, _ = reference_nets.REFERENCE[name]
    report = report_for(name)
    assert [row.name for row in report.rows if row.params] == reference_nets.parameter_prefixes(build())


def test_torchvision_names_spelled_out() -> None:
    """A few names as torchvision prints them, without torch."""
    names = {row.name for row in report_for("resnet50.yaml").rows}
    assert {"conv1", "bn1", "layer1.0.conv1", "layer1.0.downsample.0", "layer4.2.bn3", "fc"} <= names
    names = {row.name for row in report_for("mobilenetv2.yaml").rows}
    assert {"features.0.0", "features.1.conv.0.0", "features.2.conv.1.0", "features.18.0", "classifier.1"} <= names
    names = {row.name for row in report_for("vgg16.yaml").rows}
    assert {"features.0", "features.28", "classifier.6"} <= names
