"""The graph configs (U-Net, FPN, Siamese, DeepLabV3, ShuffleNetV2, ConvNeXt-Tiny, ResNets,
MobileNetV2) through every interop path, against their torchvision-named references of
``reference_nets.py`` and ``reference_graphs.py``, at small inputs:

- export → the generated module loads the reference's ``state_dict`` by name, strictly,
  and computes what the reference computes;
- export → fx import gives the config's rows again: names, shapes, params, MACs;
- the reference → ONNX (batch norm kept and folded) → cnncalc and → ``cnncalc import`` →
  YAML → ``cnncalc params`` give the config's figures.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc import analyse, load_model
from cnncalc.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
sys.path.insert(0, str(ROOT / "tests"))

Shapes = dict[str, tuple[int, ...]]
# one sample per input, small enough for 2 cores; each is a size the config's network takes
# (the Siamese tower's linear layer fixes 64x64)
SMALL: dict[str, Shapes] = {
    "alexnet": {"input": (3, 64, 64)},
    "vgg16": {"input": (3, 32, 32)},
    "resnet18": {"input": (3, 64, 64)},
    "resnet50": {"input": (3, 64, 64)},
    "mobilenetv2": {"input": (3, 64, 64)},
    "unet": {"input": (1, 64, 64)},
    "convnext_tiny": {"input": (3, 64, 64)},
    "shufflenetv2": {"input": (3, 64, 64)},
    "deeplabv3_resnet50": {"input": (3, 64, 64)},
    "fpn_detector": {"input": (3, 64, 64)},
    "siamese": {"left": (1, 64, 64), "right": (1, 64, 64)},
}
TORCHVISION_NAMED = list(SMALL)  # the configs whose rows carry the reference's module names
GRAPH_CONFIGS = [n for n in SMALL if n not in ("alexnet", "vgg16")]
NEW_GRAPHS = ["convnext_tiny", "shufflenetv2", "deeplabv3_resnet50", "fpn_detector", "siamese"]


def builder(config: str) -> Any:
    import reference_graphs
    import reference_nets

    found = reference_nets.REFERENCE.get(f"{config}.yaml") or reference_graphs.GRAPHS[f"{config}.yaml"]
    return found[0]


def override(config: str) -> Any:
    shapes = SMALL[config]
    return shapes["input"] if list(shapes) == ["input"] else shapes


def input_options(config: str) -> list[str]:
    shapes = SMALL[config]
    if list(shapes) == ["input"]:
        return ["--input", "x".join(map(str, shapes["input"]))]
    return [a for k, v in shapes.items() for a in ("--input", f"{k}={'x'.join(map(str, v))}")]


@functools.cache
def config_report(config: str) -> Any:
    return analyse(load_model(str(CONFIGS / f"{config}.yaml"), override(config)))


def rows(report: Any) -> list[tuple[Any, ...]]:
    return [(r.name, r.type, r.output_shape, r.params, r.macs) for r in report.rows]


def figures(report: Any) -> tuple[Any, ...]:
    return [t.shape for t in report.outputs], report.totals.params, report.totals.macs


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``cnncalc export CONFIG --to pytorch -o FILE`` at the small input, once per config:
    the file and its model class."""
    directory = tmp_path_factory.mktemp("export")

    @functools.cache
    def make(config: str) -> tuple[Path, str]:
        from cnncalc.interop.torch_out import camel

        path = directory / f"{config}.py"
        result = CliRunner().invoke(
            cli, ["export", str(CONFIGS / f"{config}.yaml"), "--to", "pytorch", "-o", str(path),
                  *input_options(config)],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return path, camel(config_report(config).model)

    return make


def load_code(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- 1. torchvision's state_dict loads by name ---------------------------------------------
@pytest.mark.parametrize("config", TORCHVISION_NAMED)
def test_export_loads_the_torchvision_named_state_dict_strictly(config: str, exports: Any) -> None:
    """The reference's own ``state_dict`` (torchvision's names: ``layer1.0.conv1.weight``,
    ``features.1.0.layer_scale``, ``backbone.layer4.2.bn3.running_var``) loads into the
    generated module under the same names with ``strict=True``, and both compute the same
    outputs on the same random input, of cnncalc's shapes. (The LeNets and the seed
    networks leave their rows unnamed; their references are bare ``nn.Sequential``s, whose
    tensors load position by position in ``test_interop.py``.)"""
    torch = pytest.importorskip("torch")
    path, class_name = exports(config)
    torch.manual_seed(0)
    reference = builder(config)().eval()
    model = getattr(load_code(path), class_name)().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    report = config_report(config)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    assert sum(p.numel() for p in reference.parameters()) == report.totals.params
    samples = [torch.randn(1, *shape) for shape in SMALL[config].values()]
    with torch.no_grad():
        ours, theirs = model(*samples), reference(*samples)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert [tuple(o.shape) for o in ours] == [t.shape for t in report.outputs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


# ---- 3a. spec -> export -> fx import ------------------------------------------------------
@pytest.mark.parametrize("config", GRAPH_CONFIGS)
def test_round_trip_spec_export_fx_rows(config: str, exports: Any) -> None:
    """fx reads the generated module back with the config's rows: the same names, types,
    shapes, params and MACs, row by row. A block used twice (the Siamese tower, the FPN
    head) is one module called twice, its weights counted once; its second call's rows
    keep their names (``tower_right.0``) through ``tower_right = self.tower(right)``, and
    merges, splits and ``size_of`` rows theirs (``merged2``, ``halves``) through the
    variables export assigns them to."""
    pytest.importorskip("torch")
    path, class_name = exports(config)
    again = analyse(load_model(f"{path}:{class_name}", override(config)))
    assert again.error is None
    expected = config_report(config)
    assert figures(again) == figures(expected)
    assert rows(again) == rows(expected)
    assert again.graph is not None and expected.graph is not None
    # fx shares a module's weights where it has any; a second ReLU is a row of its own
    by_index = {step.row.index: step.row for step in expected.graph.steps}
    weighted = [s.row.name for s in expected.graph.steps if s.shares is not None and by_index[s.shares].params]
    assert [s.row.name for s in again.graph.steps if s.shares is not None] == weighted
    if config in ("siamese", "fpn_detector"):
        assert weighted


def test_fx_module_with_two_inputs_from_the_command_line(exports: Any) -> None:
    """``--input NAME=DIMS`` once per argument of ``forward(left, right)``; the tower is
    one module called twice, so its params count once and its MACs twice."""
    pytest.importorskip("torch")
    path, class_name = exports("siamese")
    result = CliRunner().invoke(
        cli, ["params", f"{path}:{class_name}", "--input", "left=1x64x64", "--input", "right=1x64x64",
              "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = config_report("siamese")
    assert data["totals"]["params"] == expected.totals.params
    assert data["totals"]["macs"] == expected.totals.macs
    tower = [r for r in expected.rows if r.name.startswith("tower.")]
    again = [r for r in expected.rows if r.name.startswith("tower_right.")]
    assert sum(r.params for r in tower) > 0 and sum(r.params for r in again) == 0
    assert sum(r.macs for r in again) == sum(r.macs for r in tower) > 0
    result = CliRunner().invoke(cli, ["params", f"{path}:{class_name}", "--input", "1x64x64"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:{class_name}: forward takes 2 tensors (left, right); give each as "
        "--input NAME=DIMS\n"
    )


# ---- 3b. interpolate to another tensor's size -----------------------------------------------
def test_fx_interpolate_to_another_tensors_size(tmp_path: Path) -> None:
    """``F.interpolate(x, size=y.shape[-2:])`` is ``upsample: {size_of: y}``: the row takes
    y's spatial size at any input size, as PyTorch does."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "lateral.py"
    path.write_text(textwrap.dedent('''
        import torch.nn.functional as F
        from torch import nn

        class Lateral(nn.Module):
            def __init__(self):
                super().__init__()
                self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
                self.deeper = nn.Conv2d(8, 8, 3, stride=2, padding=1)
                self.side = nn.Conv2d(3, 8, 1)

            def forward(self, x):
                fine = self.side(x)
                coarse = self.deeper(self.down(x))
                up = F.interpolate(coarse, size=fine.shape[-2:], mode="bilinear", align_corners=False)
                return fine + up
    '''))
    from cnncalc.interop import foreign_document

    doc = foreign_document(f"{path}:Lateral", (3, 37, 50), None)
    assert doc is not None
    assert doc["layers"][3] == {
        "upsample": {"size_of": "side", "mode": "bilinear", "align_corners": False},
        "name": "up",
    }  # fmt: skip
    # the call is named after the variable it is assigned to; the unassigned sum by its type
    assert [e["name"] for e in doc["layers"]] == ["side", "down", "deeper", "up", "add"]
    spec = importlib.util.spec_from_file_location("lateral", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.Lateral().eval()
    for size in ((3, 37, 50), (3, 64, 64)):
        report = analyse(load_model(f"{path}:Lateral", size))
        with torch.no_grad():
            expected = tuple(net(torch.zeros(1, *size)).shape)
        assert report.output_shape == expected
        up = next(r for r in report.rows if r.type == "upsample")
        assert up.output_shape == (1, 8, *size[1:])
        assert report.totals.params == sum(p.numel() for p in net.parameters())


def test_fx_names_rows_after_the_variables_they_are_assigned_to(tmp_path: Path) -> None:
    """A call that is the whole value of a name assigned once in ``forward`` is named after
    it; an operand inside a statement, a name assigned again (``out``) or an argument keeps
    fx's name by type; a module's first call keeps its path, its second the variable."""
    pytest.importorskip("torch")
    path = tmp_path / "names.py"
    path.write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Names(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.act = nn.ReLU()

            def forward(self, x):
                out = self.conv(x)
                out = self.act(out)
                merged = out + x
                out = out * merged
                total = torch.cat([out, merged], 1) + torch.cat([merged, out], 1)
                x = torch.relu(total)
                twice = self.conv(
                    merged,
                )
                return twice, x
    '''))
    from cnncalc.interop import foreign_graph

    graph = foreign_graph(f"{path}:Names", (4, 8, 8), None)
    assert [(e.name, e.type, e.share) for e in graph.entries] == [
        ("conv", "conv2d", None), ("act", "relu", None), ("merged", "add", None),
        ("mul", "mul", None), ("concat", "concat", None), ("concat_1", "concat", None),
        ("total", "add", None), ("relu", "relu", None), ("twice", "conv2d", "conv"),
    ]  # fmt: skip


# ---- 3c. ONNX -> import -> YAML -> params --------------------------------------------------
@functools.cache
def onnx_file(config: str, folded: bool, directory: str) -> str:
    """The reference written by torch.onnx.export at the small input: batch norm kept
    (training mode preserved, no constant folding) or folded (eval). ConvNeXt has no batch
    norm; its "kept" file is eval without constant folding (training mode would write
    stochastic depth's random mask, which is no layer). DeepLabV3's kept file is written at
    batch 2: batch norm in training mode refuses the 1x1 map of its image pooling at batch
    1 (cnncalc takes the batch from --batch, not from the file)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    module = builder(config)()
    shapes = SMALL[config]
    batch = 2 if config == "deeplabv3_resnet50" and not folded else 1
    sample = tuple(torch.randn(batch, *s) for s in shapes.values())
    names = None if list(shapes) == ["input"] else list(shapes)
    path = str(Path(directory) / f"{config}-{'folded' if folded else 'bn'}.onnx")
    if folded:
        torch.onnx.export(module.eval(), sample, path, dynamo=False, input_names=names)
    elif config == "convnext_tiny":
        torch.onnx.export(module.eval(), sample, path, dynamo=False, input_names=names, do_constant_folding=False)
    else:
        torch.onnx.export(
            module.train(), sample, path, dynamo=False, input_names=names, do_constant_folding=False,
            training=torch.onnx.TrainingMode.PRESERVE,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("onnx"))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("folded", [False, True], ids=["bn", "folded"])
@pytest.mark.parametrize("config", NEW_GRAPHS)
def test_onnx_graph_config_equals_config_and_torch(config: str, folded: bool, onnx_dir: str) -> None:
    """cnncalc on the reference's ONNX file: the config's output shapes, MACs and params
    (less the folded batch norms), and torch's own parameter count with batch norm kept;
    the weighted rows carry the reference's module names."""
    path = onnx_file(config, folded, onnx_dir)
    report = analyse(load_model(path))
    assert report.error is None, report.error
    expected = config_report(config)
    assert [t.shape for t in report.outputs] == [t.shape for t in expected.outputs]
    assert report.totals.macs == expected.totals.macs
    batchnorm = sum(r.params for r in expected.rows if r.type.startswith("batchnorm")) // 2
    assert report.totals.params == expected.totals.params - (batchnorm if folded else 0)
    if not folded:
        assert report.totals.params == sum(p.numel() for p in builder(config)().parameters())
    if not folded and config != "convnext_tiny":
        # (ConvNeXt's LayerNorm2d is Transpose, LayerNormalization, Transpose in the file:
        # three rows under one module scope, the weighted one named ``…_1``)
        weighted = [r.name for r in expected.rows if r.params]
        assert sorted(r.name for r in report.rows if r.params) == sorted(weighted)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("folded", [False, True], ids=["bn", "folded"])
@pytest.mark.parametrize("config", NEW_GRAPHS)
def test_import_onnx_graph_yaml_gives_the_same_figures(config: str, folded: bool, onnx_dir: str,
                                                       tmp_path: Path) -> None:  # fmt: skip
    """``cnncalc import`` writes the ONNX graph as YAML (``from:``, ``share:``,
    ``size_of``, several inputs and outputs) that ``cnncalc params`` reads back with the
    file's figures and rows."""
    path = onnx_file(config, folded, onnx_dir)
    out = tmp_path / "model.yaml"
    result = CliRunner().invoke(cli, ["import", path, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(cli, ["params", str(out), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    from_onnx = analyse(load_model(path))
    assert data["totals"]["params"] == from_onnx.totals.params
    assert data["totals"]["macs"] == from_onnx.totals.macs
    assert rows(analyse(load_model(str(out)))) == rows(from_onnx)


# ---- what the new readings refuse, by name ------------------------------------------------
def slice_model(tmp_path: Path, pieces: list[tuple[int, int]]) -> str:
    """An ONNX graph taking ``pieces`` of axis 1 of an 8-channel input, joined back."""
    onnx = pytest.importorskip("onnx")
    import numpy as np

    h = onnx.helper
    nodes, initializers, outs = [], [], []
    for i, (start, end) in enumerate(pieces):
        for what, value in (("s", start), ("e", end), ("a", 1)):
            initializers.append(onnx.numpy_helper.from_array(np.array([value], dtype=np.int64), f"{what}{i}"))
        nodes.append(h.make_node("Slice", ["x", f"s{i}", f"e{i}", f"a{i}"], [f"p{i}"], name=f"/Slice_{i}"))
        outs.append(f"p{i}")
    nodes.append(h.make_node("Concat", outs[::-1], ["y"], name="/Concat", axis=1))
    graph = h.make_graph(
        nodes, "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 4, 4])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], initializers,
    )  # fmt: skip
    path = tmp_path / "slices.onnx"
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), str(path))
    return str(path)


def test_onnx_slices_following_each_other_are_one_split(tmp_path: Path) -> None:
    from cnncalc.interop import foreign_document

    path = slice_model(tmp_path, [(0, 3), (3, 8)])
    doc = foreign_document(path, None, None)
    assert doc is not None
    assert doc["layers"] == [
        {"split": {"split_size_or_sections": [3, 5]}, "name": "slice"},
        {"concat": None, "name": "concat", "from": ["slice.1", "slice.0"]},
    ]
    assert analyse(load_model(path)).output_shape == (1, 8, 4, 4)
    # one piece only: the rest of the axis is a last piece nothing reads
    doc = foreign_document(slice_model(tmp_path, [(0, 3)]), None, None)
    assert doc is not None and doc["layers"][0]["split"] == {"split_size_or_sections": [3, 5]}


def test_onnx_slice_that_skips_is_refused(tmp_path: Path) -> None:
    path = slice_model(tmp_path, [(2, 8)])
    result = CliRunner().invoke(cli, ["params", path])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: Slice node '/Slice_0' (node 1) takes [2:8] of axis 1 (size 8); only "
        "pieces that follow each other from 0 have a layer type (a split), and the next starts at 0\n"
    )


def test_fx_interpolate_to_a_computed_size_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "computed.py"
    path.write_text(textwrap.dedent('''
        import torch.nn.functional as F
        from torch import nn

        class Computed(nn.Module):
            def forward(self, x):
                return F.interpolate(x, size=(x.shape[2] * 2, x.shape[3] * 2))
    '''))
    result = CliRunner().invoke(cli, ["shapes", f"{path}:Computed", "--input", "3x8x8"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:Computed: call interpolate(...) takes its size from a computed value; "
        f"give numbers or another tensor's y.shape[2:] at {path}:7 (return F.interpolate(x, "
        "size=(x.shape[2] * 2, x.shape[3] * 2)))\n"
    )
