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
from published import PUBLISHED, gigas

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
    "convnext_tiny.yaml": (3, 64, 64),
}

MERGE_TYPES = {"add", "concat", "mul"}
# A layer_scale row stands for a parameter that torchvision keeps on the block itself
# (CNBlock.layer_scale), not in a module of its own.
OWN_PARAMETER_TYPES = {"layer_scale"}
# Configs whose rows with parameters are named as the reference module's parameters.


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
    assert gigas(report.totals.macs, published["gmacs"]) == published["gmacs"]
    assert report.totals.macs == published["macs"]


# ---- comparison with PyTorch -------------------------------------------------------------
@dataclass(frozen=True)
class TorchFigures:
    output_shape: Shape
    params: int
    macs: int
    rows: tuple[tuple[Shape, int], ...]  # (output shape, own params) of each leaf module run
    # Parameters a module holds beside its children (torchvision's CNBlock.layer_scale), in
    # module order: (module's output shape, their count).
    own: tuple[tuple[Shape, int], ...]


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
    holders = [
        m for m in module.modules() if list(m.children()) and list(m.parameters(recurse=False))
    ]
    own: dict[int, tuple[Shape, int]] = {}

    def record_own(holder: torch.nn.Module, _inputs: tuple[Any, ...], output: Any) -> None:
        own[id(holder)] = (tuple(output.shape), sum(p.numel() for p in holder.parameters(recurse=False)))

    handles += [holder.register_forward_hook(record_own) for holder in holders]
    output_shape, macs = reference_nets.run(module, input_shape)
    for handle in handles:
        handle.remove()
    return TorchFigures(
        output_shape, reference_nets.count_params(module), macs, tuple(rows),
        tuple(own[id(holder)] for holder in holders),
    )  # fmt: skip


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
    rows = [
        (row.output_shape, row.params) for row in report.rows
        if row.type not in MERGE_TYPES | OWN_PARAMETER_TYPES
    ]  # fmt: skip
    assert tuple(rows) == expected.rows
    own = [(row.output_shape, row.params) for row in report.rows if row.type in OWN_PARAMETER_TYPES]
    assert tuple(own) == expected.own


# ---- names as torchvision's, a module's own parameters included (ConvNeXt's layer_scale) -------
def parameter_prefixes(module: torch.nn.Module) -> dict[str, int]:
    """Each parameter's module path (``features.0.0`` for ``features.0.0.weight``), or the
    parameter's own name where a module holds it beside its children
    (``features.1.0.layer_scale``), with the parameters counted under it."""
    prefixes: dict[str, int] = {}
    for name, parameter in module.named_parameters():
        path, _, leaf = name.rpartition(".")
        key = path if leaf in ("weight", "bias") else name
        prefixes[key] = prefixes.get(key, 0) + parameter.numel()
    return prefixes


def names_with_params(name: str) -> dict[str, int]:
    return {row.name: row.params for row in report_for(name).rows if row.params}


@pytest.mark.parametrize("name", ["convnext_tiny.yaml"])
def test_rows_with_params_are_torchvision_names_with_own_parameters(name: str) -> None:
    pytest.importorskip("torch")
    import reference_nets

    assert names_with_params(name) == parameter_prefixes(reference_nets.REFERENCE[name][0]())


def test_convnext_settings_that_do_not_count_are_torchvisions_too() -> None:
    """Stochastic depth rising to 0.1 over the blocks, layer scale 1e-6 and LayerNorm's eps
    1e-6: they change no figure, so only this test would notice them wrong."""
    torch = pytest.importorskip("torch")
    import reference_nets

    rows = report_for("convnext_tiny.yaml").rows
    module = reference_nets.convnext_tiny()
    drops = [m.p for m in module.modules() if isinstance(m, reference_nets.StochasticDepth)]
    assert [r.layer.args.p for r in rows if r.type == "stochastic_depth"] == drops
    assert (drops[0], drops[-1], len(drops)) == (0.0, 0.1, 18)
    scales = [m.layer_scale for m in module.modules() if isinstance(m, reference_nets.CNBlock)]
    # the parameters hold 1e-6 in float32
    assert [float(torch.tensor(r.layer.args.init_value)) for r in rows if r.type == "layer_scale"] == [
        float(s.detach().flatten()[0]) for s in scales
    ]
    assert len(scales) == 18
    norms = [m.eps for m in module.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert [r.layer.args.eps for r in rows if r.type in ("layernorm", "layernorm2d")] == norms


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
