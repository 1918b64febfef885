"""ONNX files and PyTorch modules in, PyTorch code out (SPEC §11).

The reference networks of ``reference_nets.py`` (the configs' twins in plain torch.nn) are
exported with ``torch.onnx.export`` in both batch-norm modes and traced with torch.fx;
cnncalc's figures on them must equal the config's and PyTorch's own. Networks that are not
chains need the named-tensor graph format (``from:``) in the loader; their tests skip,
saying so, where the loader does not read it yet.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc import analyse, load_model
from cnncalc.cli import cli
from cnncalc.interop import kind_of
from cnncalc.interop.document import Entry, Graph, document, to_yaml
from cnncalc.model import load_document

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
REFERENCE_NETS = ROOT / "tests" / "reference_nets.py"
CHAINS = ["seed-lenet", "seed-keras", "lenet5", "alexnet"]
# at the configs' own input sizes; every graph config (FPN, Siamese, DeepLabV3, ShuffleNetV2,
# ConvNeXt-Tiny too) goes through export, fx and ONNX at small sizes in test_interop_graphs.py
GRAPHS = ["resnet18", "resnet50", "mobilenetv2", "unet"]


@functools.cache
def graphs_supported() -> bool:
    """Whether the loader reads named-tensor graphs (``from:`` and merge layer types)."""
    probe = {
        "input": [2, 4, 4],
        "layers": [{"relu": None, "name": "a"}, {"add": None, "from": ["input", "a"]}],
    }
    try:
        report = analyse(load_document(probe, "<probe>"))
    except Exception:  # noqa: BLE001 - any refusal means: not yet
        return False
    return report.error is None and report.output_shape == (1, 2, 4, 4)


needs_graphs = pytest.mark.skipif(
    "not graphs_supported()", reason="the loader does not read `from:` graphs (SPEC §1) yet"
)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def figures(report: Any) -> tuple[Any, int, int, int]:
    return report.output_shape, report.totals.params, report.totals.macs, len(report.rows)


def config_report(name: str) -> Any:
    return analyse(load_model(str(CONFIGS / f"{name}.yaml")))


# ---- building ONNX files with torch ------------------------------------------------------
@functools.cache
def exported(name: str, folded: bool, directory: str) -> str:
    """The reference network of ``name`` written by torch.onnx.export: batch norm kept
    (training mode preserved, no constant folding) or folded into the convolutions."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    sys.path.insert(0, str(ROOT / "tests"))
    import reference_nets

    build, shape = reference_nets.REFERENCE[f"{name}.yaml"]
    module = build()
    path = str(Path(directory) / f"{name}-{'folded' if folded else 'bn'}.onnx")
    sample = (torch.randn(1, *shape),)
    if folded:
        module.eval()
        torch.onnx.export(module, sample, path, dynamo=False)
    else:
        module.train()
        torch.onnx.export(
            module, sample, path, dynamo=False, do_constant_folding=False,
            training=torch.onnx.TrainingMode.PRESERVE,
        )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("onnx"))


def batchnorm_channels(report: Any) -> int:
    return sum(row.params // 2 for row in report.rows if row.type.startswith("batchnorm"))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", CHAINS)
def test_onnx_chain_with_batchnorm_kept_equals_config_and_torch(name: str, onnx_dir: str) -> None:
    path = exported(name, False, onnx_dir)  # skips without torch or onnx
    import reference_nets

    report = analyse(load_model(path))
    expected = config_report(name)
    assert figures(report) == figures(expected)
    build, _ = reference_nets.REFERENCE[f"{name}.yaml"]
    assert report.totals.params == reference_nets.count_params(build())
    assert [r.output_shape for r in report.rows] == [r.output_shape for r in expected.rows]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", CHAINS)
def test_onnx_chain_with_batchnorm_folded(name: str, onnx_dir: str) -> None:
    """Folding removes each batch norm's row and its 2·C params and gives the convolution
    before it (which had none) a bias of C; MACs stay, since batch norm has none."""
    path = exported(name, True, onnx_dir)
    report = analyse(load_model(path))
    expected = config_report(name)
    bn_rows = sum(1 for row in expected.rows if row.type.startswith("batchnorm"))
    dropout_rows = sum(1 for row in expected.rows if row.type.startswith("dropout"))
    assert report.output_shape == expected.output_shape
    assert report.totals.macs == expected.totals.macs
    assert report.totals.params == expected.totals.params - batchnorm_channels(expected)
    assert len(report.rows) == len(expected.rows) - bn_rows - dropout_rows  # eval drops dropout


@pytest.mark.filterwarnings("ignore")
def test_onnx_names_are_the_module_paths(onnx_dir: str) -> None:
    """Rows carry the exporter's module scopes: ``0.3`` is features[3] of AlexNet."""
    report = analyse(load_model(exported("alexnet", False, onnx_dir)))
    torch_names = [name for name, _ in __import__("reference_nets").alexnet().named_parameters()]
    with_params = [f"{row.name}.{p}" for row in report.rows if row.params for p in ("weight", "bias")]
    assert with_params == torch_names


@needs_graphs
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", GRAPHS)
def test_onnx_graph_with_batchnorm_kept_equals_config(name: str, onnx_dir: str) -> None:
    report = analyse(load_model(exported(name, False, onnx_dir)))
    expected = config_report(name)
    assert report.output_shape == expected.output_shape
    assert report.totals.params == expected.totals.params
    assert report.totals.macs == expected.totals.macs


@needs_graphs
@pytest.mark.filterwarnings("ignore")
def test_onnx_resnet50_figures(onnx_dir: str) -> None:
    report = analyse(load_model(exported("resnet50", False, onnx_dir)))
    assert (report.totals.params, report.totals.macs) == (25_557_032, 4_089_184_256)


@pytest.mark.filterwarnings("ignore")
def test_onnx_resnet_document_is_a_graph(onnx_dir: str) -> None:
    """The residual additions read their two inputs by name; identical blocks share one
    definition whose shortcut reads the block's ``input``."""
    from cnncalc.interop import foreign_document

    doc = foreign_document(exported("resnet18", False, onnx_dir), None, None)
    assert doc is not None
    body = doc["define"]["block_layer1_0"]["layers"]
    assert [e["name"] for e in body] == ["conv1", "bn1", "relu", "conv2", "bn2", "add", "relu_out"]
    assert body[5] == {"add": None, "name": "add", "from": ["bn2", "input"]}
    layer1 = next(e for e in doc["layers"] if e.get("name") == "layer1")
    assert layer1["sequential"] == [{"block_layer1_0": None, "name": "0"}, {"block_layer1_0": None, "name": "1"}]
    layer2 = next(e for e in doc["layers"] if e.get("name") == "layer2")["sequential"]
    first = {e["name"]: e for e in layer2[0]["sequential"]}
    assert first["downsample"]["sequential"][0]["from"] == "layer1"
    assert first["add"] == {"add": None, "name": "add", "from": ["bn2", "downsample"]}
    # inside layer2.1, "0" is the block layer2.0 before it
    assert next(e for e in layer2[1]["sequential"] if e["name"] == "add")["from"] == ["bn2", "0"]


# ---- ONNX files written by hand (no torch needed) -----------------------------------------
def onnx_model(nodes: list[Any], inputs: list[Any], outputs: list[Any], initializers: list[Any]) -> Any:
    onnx = pytest.importorskip("onnx")
    graph = onnx.helper.make_graph(nodes, "g", inputs, outputs, initializers)
    return onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])


def conv_model(extra: list[Any], dims: list[Any], out: str = "y") -> Any:
    onnx = pytest.importorskip("onnx")
    import numpy as np

    h = onnx.helper
    weight = onnx.numpy_helper.from_array(np.zeros((8, 3, 3, 3), dtype=np.float32), "w")
    bias = onnx.numpy_helper.from_array(np.zeros(8, dtype=np.float32), "b")
    nodes = [h.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]), *extra]
    return onnx_model(
        nodes,
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, dims)],
        [h.make_tensor_value_info(out, onnx.TensorProto.FLOAT, None)],
        [weight, bias],
    )


def test_onnx_unsupported_operator_is_refused_by_name(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = conv_model([onnx.helper.make_node("Erf", ["c"], ["y"], name="my_erf")], [1, 3, 8, 8])
    path = tmp_path / "erf.onnx"
    onnx.save(model, str(path))
    result = invoke("params", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: Erf node 'my_erf' (node 2) has no cnncalc layer type, so it cannot "
        "be counted\n"
    )


def test_onnx_unsqueeze_without_axes_is_refused(tmp_path: Path) -> None:
    """Unsqueeze needs its axes, as an attribute (before opset 13) or its second input."""
    onnx = pytest.importorskip("onnx")
    model = conv_model([onnx.helper.make_node("Unsqueeze", ["c"], ["y"], name="unsq")], [1, 3, 8, 8])
    path = tmp_path / "unsqueeze.onnx"
    onnx.save(model, str(path))
    result = invoke("params", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: Unsqueeze node 'unsq' (node 2) has no axes\n"


def test_onnx_symbolic_dimensions_take_input(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = conv_model([onnx.helper.make_node("Relu", ["c"], ["y"], name="relu")], ["N", 3, "H", "W"])
    path = tmp_path / "dynamic.onnx"
    onnx.save(model, str(path))
    result = invoke("shapes", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: input 'x' has symbolic dimensions [N, 3, H, W]; give --input with "
        "one sample's sizes, e.g. --input 3x224x224\n"
    )
    result = invoke("params", str(path), "--input", "3x32x48", "--batch", "4", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output_shape"] == [4, 8, 32, 48]
    assert data["totals"]["params"] == 8 * 3 * 3 * 3 + 8
    assert data["totals"]["macs"] == 4 * 8 * 32 * 48 * 3 * 3 * 3


def test_onnx_shared_initializer_is_one_set_of_weights(tmp_path: Path) -> None:
    """Two Gemm nodes reading one initializer: the second shares the first's weights."""
    onnx = pytest.importorskip("onnx")
    import numpy as np

    h = onnx.helper
    w = onnx.numpy_helper.from_array(np.zeros((4, 4), dtype=np.float32), "w")
    nodes = [
        h.make_node("Gemm", ["x", "w"], ["a"], name="/fc/Gemm", transB=1),
        h.make_node("Relu", ["a"], ["b"], name="/relu/Relu"),
        h.make_node("Gemm", ["b", "w"], ["y"], name="/fc_1/Gemm", transB=1),
    ]
    model = onnx_model(
        nodes, [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w],
    )  # fmt: skip
    path = tmp_path / "shared.onnx"
    onnx.save(model, str(path))
    from cnncalc.interop import foreign_document

    doc = foreign_document(str(path), None, None)
    assert doc is not None
    assert doc["layers"] == [
        {"linear": {"out_features": 4, "bias": False}, "name": "fc"},
        {"relu": None, "name": "relu"},
        {"share": "fc", "name": "fc_1"},
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"\x08\x07\x12\xff\xff\xff", "DecodeError"), (b"not an onnx file at all", "DecodeError")],
)
def test_onnx_corrupt_file_is_a_clean_refusal(tmp_path: Path, content: bytes, why: str) -> None:
    pytest.importorskip("onnx")
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    result = invoke("params", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: not a readable ONNX file")
    assert "Traceback" not in result.stderr


@pytest.mark.filterwarnings("ignore")
def test_onnx_truncated_file_is_a_clean_refusal(tmp_path: Path, onnx_dir: str) -> None:
    whole = Path(exported("lenet5", False, onnx_dir)).read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(whole[: len(whole) // 2])
    result = invoke("params", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: not a readable ONNX file")


def test_onnx_missing_file(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    result = invoke("params", str(tmp_path / "absent.onnx"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'absent.onnx'}: cannot read: No such file or directory\n"


@pytest.mark.filterwarnings("ignore")
def test_params_on_onnx_never_imports_torch(onnx_dir: str) -> None:
    path = exported("lenet5", False, onnx_dir)
    code = (
        f"import sys; from cnncalc.cli import main; sys.argv = ['cnncalc', 'params', {path!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'\nprint('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("ok\n")


# ---- import: ONNX -> YAML -> the same figures -------------------------------------------
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", ["lenet5", "alexnet"])
def test_import_onnx_writes_yaml_with_the_same_figures(name: str, onnx_dir: str, tmp_path: Path) -> None:
    path = exported(name, False, onnx_dir)
    out = tmp_path / "model.yaml"
    result = invoke("import", path, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith(f"# Imported from {path} by cnncalc import.\n")
    from_yaml = analyse(load_model(str(out)))
    from_onnx = analyse(load_model(path))
    assert figures(from_yaml) == figures(from_onnx)
    assert [r.name for r in from_yaml.rows] == [r.name for r in from_onnx.rows]


def test_import_refuses_other_sources() -> None:
    result = invoke("import", str(CONFIGS / "lenet5.yaml"))
    assert result.exit_code == 2
    assert "import reads an .onnx file or a PyTorch module" in result.stderr


# ---- documents: blocks from names ---------------------------------------------------------
def test_document_nests_blocks_and_shares_identical_ones() -> None:
    entries = [
        Entry("conv2d", {"out_channels": 4, "kernel_size": 3}, "stem"),
        Entry("conv2d", {"out_channels": 4, "kernel_size": 1}, "layer1.0.conv"),
        Entry("relu", None, "layer1.0.relu"),
        Entry("conv2d", {"out_channels": 4, "kernel_size": 1}, "layer1.1.conv"),
        Entry("relu", None, "layer1.1.relu"),
        Entry("flatten", None, "flatten"),
    ]
    doc = document(Graph("tiny", {"input": (3, 8, 8)}, entries, ["flatten"]))
    assert doc == {
        "name": "tiny",
        "input": [3, 8, 8],
        "define": {"block_layer1_0": {"layers": [
            {"conv2d": {"out_channels": 4, "kernel_size": 1}, "name": "conv"},
            {"relu": None, "name": "relu"},
        ]}},
        "layers": [
            {"conv2d": {"out_channels": 4, "kernel_size": 3}, "name": "stem"},
            {"sequential": [{"block_layer1_0": None, "name": "0"}, {"block_layer1_0": None, "name": "1"}],
             "name": "layer1"},
            {"flatten": None, "name": "flatten"},
        ],
    }  # fmt: skip
    report = analyse(load_document(doc, "<doc>"))
    assert [r.name for r in report.rows] == [e.name for e in entries]
    text = to_yaml(doc)
    assert "      - conv2d: {out_channels: 4, kernel_size: 1}\n        name: conv\n" in text
    assert figures(analyse(load_document(__import__("yaml").safe_load(text), "<yaml>"))) == figures(report)


def test_document_references_are_unambiguous() -> None:
    """A reference to ``a.0`` from inside ``b.0`` is not written ``0``, which ``b`` holds too."""
    entries = [
        Entry("relu", None, "a.0"),
        Entry("relu", None, "b.0"),
        Entry("add", None, "b.1", ["b.0", "a.0"]),
    ]
    doc = document(Graph(None, {"input": (3,)}, entries, ["b.1"]))
    assert doc["layers"][1]["sequential"][1]["from"] == ["0", "a"]


def test_kind_of_sources() -> None:
    assert kind_of("model.onnx") == "onnx"
    assert kind_of("nets/model.py:Net") == "module"
    assert kind_of("torchvision.models:resnet18") == "module"
    assert kind_of("conv2d(6, 5) -> relu") is None
    assert kind_of("configs/lenet5.yaml") is None


# ---- torch.fx in ----------------------------------------------------------------------
def fx_source(name: str) -> str:
    return f"{REFERENCE_NETS}:{name}"


@pytest.mark.parametrize(("config", "builder"), [("lenet5", "lenet5"), ("alexnet", "alexnet"),
                                                 ("seed-lenet", "seed_lenet"), ("seed-keras", "seed_keras")])  # fmt: skip
def test_fx_chain_equals_config_row_by_row(config: str, builder: str) -> None:
    pytest.importorskip("torch")
    import reference_nets

    expected = config_report(config)
    report = analyse(load_model(fx_source(builder), expected.input_shape[1:]))
    assert figures(report) == figures(expected)
    assert [(r.output_shape, r.params, r.macs) for r in report.rows] == [
        (r.output_shape, r.params, r.macs) for r in expected.rows
    ]
    module = getattr(reference_nets, builder)()
    assert [r.name for r in report.rows if r.params] == [
        name for name, m in module.named_modules() if list(m.parameters(recurse=False))
    ]


def test_fx_args_are_passed_to_the_factory() -> None:
    pytest.importorskip("torch")
    import reference_nets

    result = invoke("params", fx_source("AlexNet"), "--input", "3x224x224", "--args",
                    '{"num_classes": 10}', "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output_shape"] == [1, 10]
    assert data["totals"]["params"] == reference_nets.count_params(reference_nets.AlexNet(10))


def test_fx_functional_calls_are_rows(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent('''
        import torch
        import torch.nn.functional as F
        from torch import nn

        class Net(nn.Module):
            def __init__(self, width=8):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3, padding=1)
                self.fc = nn.Linear(width, 10)

            def forward(self, x):
                x = F.relu(self.conv(x))
                x = F.adaptive_avg_pool2d(x, 1)
                x = x.view(x.size(0), -1)
                return torch.softmax(self.fc(x), dim=1)
    '''))
    report = analyse(load_model(f"{path}:Net", (3, 16, 16)))
    assert [(r.name, r.type, r.output_shape) for r in report.rows] == [
        ("conv", "conv2d", (1, 8, 16, 16)), ("relu", "relu", (1, 8, 16, 16)),
        ("adaptive_avgpool2d", "adaptive_avgpool2d", (1, 8, 1, 1)),
        ("flatten", "flatten", (1, 8)), ("fc", "linear", (1, 10)), ("softmax", "softmax", (1, 10)),
    ]  # fmt: skip
    assert report.totals.params == 8 * 3 * 9 + 8 + 8 * 10 + 10


def test_fx_untraceable_module_names_the_line(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "flow.py"
    path.write_text(textwrap.dedent('''
        from torch import nn

        class Flow(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                if x.sum() > 0:
                    return self.conv(x)
                return x
    '''))
    result = invoke("shapes", f"{path}:Flow", "--input", "3x8x8")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:Flow: torch.fx cannot trace it: TraceError: ")
    assert result.stderr.endswith(f"at {path}:10 (if x.sum() > 0:)\n")


def test_fx_module_without_layer_type_is_named(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "rnn.py"
    path.write_text(textwrap.dedent('''
        from torch import nn

        class Rnn(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(4, 4)

            def forward(self, x):
                return self.lstm(x)[0]
    '''))
    result = invoke("shapes", f"{path}:Rnn", "--input", "5x4")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:Rnn: module lstm (LSTM) has no cnncalc layer type at {path}:10 "
        "(return self.lstm(x)[0])\n"
    )


def test_fx_needs_an_input_shape() -> None:
    pytest.importorskip("torch")
    result = invoke("shapes", fx_source("lenet5"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {fx_source('lenet5')}: a PyTorch module has no input shape of its own: give "
        "--input, e.g. --input 3x224x224\n"
    )


def test_fx_resnet50_at_4096_allocates_nothing() -> None:
    """Tracing and shape propagation on the meta device: a ResNet-50 at 3x4096x4096 (whose
    activations alone would be tens of GiB) stays far below 1 GiB of peak memory."""
    pytest.importorskip("torch")
    code = textwrap.dedent(f'''
        import re, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from cnncalc.interop import foreign_graph
        graph = foreign_graph({fx_source("resnet50")!r}, (3, 4096, 4096), None)
        # VmHWM: this process's own peak (ru_maxrss would carry over the parent's from fork)
        status = open("/proc/self/status").read()
        print(len(graph.entries), re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
    ''')
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    entries, peak_kib = map(int, done.stdout.split())
    assert entries == len(config_report("resnet50").rows)
    assert peak_kib * 1024 < 1024**3


@needs_graphs
@pytest.mark.parametrize(("config", "builder"), [("resnet18", "resnet18"), ("resnet50", "resnet50"),
                                                 ("mobilenetv2", "mobilenet_v2"), ("unet", "unet")])  # fmt: skip
def test_fx_graph_equals_config(config: str, builder: str) -> None:
    pytest.importorskip("torch")
    expected = config_report(config)
    report = analyse(load_model(fx_source(builder), expected.input_shape[1:]))
    assert figures(report) == figures(expected)


# ---- export: PyTorch code out ----------------------------------------------------------
def exported_code(config: str, tmp_path: Path) -> tuple[Path, Any]:
    out = tmp_path / f"{config.replace('-', '_')}.py"
    result = invoke("export", str(CONFIGS / f"{config}.yaml"), "--to", "pytorch", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out, config_report(config)


def load_code(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ALL_CONFIGS = sorted(p.stem for p in CONFIGS.glob("*.yaml"))


@pytest.mark.parametrize("config", ALL_CONFIGS)
def test_export_runs_in_torch_with_cnncalcs_figures(config: str, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path, report = exported_code(config, tmp_path)
    from cnncalc.interop.torch_out import camel

    module = load_code(path)
    model = getattr(module, camel(report.model))()
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    rows = [r for r in report.rows if r.params]
    # a module's own parameter (ConvNeXt's layer_scale) is named as its row, not its module
    names = sorted({n.rsplit(".", 1)[0] if n.rsplit(".", 1)[-1] in ("weight", "bias") else n
                    for n, _ in model.named_parameters()})  # fmt: skip
    assert names == sorted(r.name for r in rows)
    with torch.no_grad():
        out = model.eval()(*[torch.zeros(t.shape) for t in report.inputs])
    outs = out if isinstance(out, tuple) else (out,)
    assert [tuple(o.shape) for o in outs] == [t.shape for t in report.outputs]


@pytest.mark.parametrize("config", ALL_CONFIGS)
def test_export_is_ruff_clean(config: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    path, _ = exported_code(config, tmp_path)
    done = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP", "--line-length", "100", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("config", ["lenet5", "seed-lenet", "seed-keras"])
def test_export_loads_the_reference_state_dict(config: str, tmp_path: Path) -> None:
    """The generated module holds the reference network's tensors in the same order and
    shapes; loaded under the generated names, strictly. (These configs leave their rows
    unnamed and their references are bare ``nn.Sequential``s; the torchvision-named ones
    load by name in test_interop_graphs.py.)"""
    torch = pytest.importorskip("torch")
    import reference_nets

    path, report = exported_code(config, tmp_path)
    from cnncalc.interop.torch_out import camel

    model = getattr(load_code(path), camel(report.model))()
    build, shape = reference_nets.REFERENCE[f"{config}.yaml"]
    reference = build().eval()
    ours, theirs = model.state_dict(), reference.state_dict()
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    model.load_state_dict(dict(zip(ours, theirs.values())), strict=True)
    sample = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(model.eval()(sample), reference(sample), atol=1e-5)


@pytest.mark.parametrize("config", ["lenet5", "alexnet", "seed-lenet", "seed-keras", "vgg16"])
def test_round_trip_spec_export_fx_import(config: str, tmp_path: Path) -> None:
    """spec → export → fx import gives the same figures and row names."""
    pytest.importorskip("torch")
    path, report = exported_code(config, tmp_path)
    from cnncalc.interop.torch_out import camel

    again = analyse(load_model(f"{path}:{camel(report.model)}", report.input_shape[1:]))
    assert figures(again) == figures(report)
    assert [r.name for r in again.rows if r.params] == [r.name for r in report.rows if r.params]


@needs_graphs
@pytest.mark.parametrize("config", GRAPHS)
def test_round_trip_of_graphs(config: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path, report = exported_code(config, tmp_path)
    from cnncalc.interop.torch_out import camel

    again = analyse(load_model(f"{path}:{camel(report.model)}", report.input_shape[1:]))
    assert figures(again) == figures(report)


# ---- many operators: ONNX, fx and torch agree ------------------------------------------
def operator_zoo() -> Any:
    """A chain through the operators torch.onnx.export writes for common layers."""
    torch = pytest.importorskip("torch")
    from torch import nn

    class Zoo(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pad = nn.ZeroPad2d((1, 2, 0, 1))
            self.conv = nn.Conv2d(3, 8, 3, stride=2, dilation=1)
            self.bn = nn.BatchNorm2d(8)
            self.act1 = nn.ReLU6()
            self.act2 = nn.LeakyReLU(0.2)
            self.act3 = nn.Hardswish()
            self.act4 = nn.SiLU()
            self.act5 = nn.GELU()
            self.act6 = nn.ELU()
            self.pool = nn.AvgPool2d(2, stride=1, padding=1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.mpool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
            self.deconv = nn.ConvTranspose2d(8, 4, 2, stride=2)
            self.gpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(4, 6)
            self.prelu = nn.PReLU(6)
            self.drop = nn.Dropout(0.25)
            self.head = nn.Linear(6, 5, bias=False)
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x: Any) -> Any:
            x = self.bn(self.conv(self.pad(x)))
            x = self.act6(self.act5(self.act4(self.act3(self.act2(self.act1(x))))))
            x = self.mpool(self.up(self.pool(x)))
            x = self.gpool(self.deconv(x))
            x = x.view(x.size(0), -1)
            x = self.drop(self.prelu(self.fc(x)))
            return self.softmax(self.head(x))

    return torch, Zoo


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("folded", [False, True])
def test_onnx_operator_zoo_equals_fx_and_torch(folded: bool, tmp_path: Path) -> None:
    torch, zoo = operator_zoo()
    pytest.importorskip("onnx")
    module = zoo()
    sample = torch.randn(1, 3, 20, 24)
    path = str(tmp_path / "zoo.onnx")
    if folded:
        torch.onnx.export(module.eval(), (sample,), path, dynamo=False)
    else:
        torch.onnx.export(
            module.train(), (sample,), path, dynamo=False, do_constant_folding=False,
            training=torch.onnx.TrainingMode.PRESERVE,
        )  # fmt: skip
    source = tmp_path / "zoo_module.py"
    source.write_text(
        "from typing import Any\nimport torch\nfrom torch import nn\n"
        + textwrap.dedent(__import__("inspect").getsource(operator_zoo)).split("    class Zoo", 1)[1]
        .replace("\n    ", "\n").replace("(nn.Module):", "class Zoo(nn.Module):", 1)
        .rsplit("return torch, Zoo", 1)[0]
    )  # fmt: skip
    from_onnx = analyse(load_model(path))
    from_fx = analyse(load_model(f"{source}:Zoo", (3, 20, 24)))
    with torch.no_grad():
        expected_shape = tuple(module.eval()(sample).shape)
    assert from_onnx.error is None and from_fx.error is None
    assert from_onnx.output_shape == from_fx.output_shape == expected_shape
    bn = 2 * 8  # folding moves batch norm into the conv's bias, which it already has
    torch_params = sum(p.numel() for p in module.parameters())
    assert from_fx.totals.params == torch_params
    assert from_onnx.totals.params == torch_params - (bn if folded else 0)
    assert from_onnx.totals.macs == from_fx.totals.macs
    types = [r.type for r in from_onnx.rows]
    assert "silu" in types and "relu6" in types and "hardswish" in types
    assert ("dropout" in types) is not folded


def test_onnx_keras_layout_transposes(tmp_path: Path) -> None:
    """A converter's NHWC pattern: Transpose into NCHW, Conv, Transpose back. Transposes
    that undo each other are no rows; one that stays is a ``permute`` row."""
    onnx = pytest.importorskip("onnx")
    import numpy as np

    h = onnx.helper
    weight = onnx.numpy_helper.from_array(np.zeros((8, 3, 3, 3), dtype=np.float32), "w")
    nodes = [
        h.make_node("Transpose", ["x"], ["t"], name="to_nchw", perm=[0, 3, 1, 2]),
        h.make_node("Transpose", ["t"], ["u"], name="back", perm=[0, 2, 3, 1]),
        h.make_node("Transpose", ["u"], ["v"], name="again", perm=[0, 3, 1, 2]),
        h.make_node("Conv", ["v", "w"], ["c"], name="conv", pads=[0, 0, 1, 1], strides=[2, 2]),
        h.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    model = onnx_model(
        nodes, [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 16, 16, 3])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [weight],
    )  # fmt: skip
    path = tmp_path / "keras.onnx"
    onnx.save(model, str(path))
    from cnncalc.interop import foreign_document

    doc = foreign_document(str(path), None, None)
    assert doc is not None
    assert doc["input"] == [16, 16, 3]
    assert doc["layers"] == [
        {"permute": [0, 3, 1, 2], "name": "to_nchw"},
        {"zeropad2d": {"padding": [0, 1, 0, 1]}, "name": "conv_pad"},
        {"conv2d": {"out_channels": 8, "kernel_size": 3, "stride": 2, "bias": False}, "name": "conv"},
        {"relu": None, "name": "relu"},
    ]
    if __import__("cnncalc.layers", fromlist=["find_type"]).find_type("permute") is None:
        pytest.skip("the permute layer type is not in this cnncalc yet")
    report = analyse(load_model(str(path)))
    # Keras's strided "same": ceil(16 / 2) = 8, the one pad row and column at the end
    assert report.output_shape == (1, 8, 8, 8)
    assert [r.type for r in report.rows] == ["permute", "zeropad2d", "conv2d", "relu"]


@pytest.mark.filterwarnings("ignore")
def test_execute_confirms_an_onnx_model(onnx_dir: str) -> None:
    pytest.importorskip("torch")
    result = invoke("execute", exported("alexnet", False, onnx_dir))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(f"all {len(config_report('alexnet').rows)} layers confirmed\n")


def test_fx_residual_entries_read_by_name() -> None:
    """``x + shortcut`` in a forward is an ``add`` entry, named after the block whose
    forward made it, reading both tensors by their producers' names."""
    pytest.importorskip("torch")
    from cnncalc.interop import foreign_graph

    graph = foreign_graph(fx_source("resnet18"), (3, 64, 64), None)
    adds = [e for e in graph.entries if e.type == "add"]
    assert len(adds) == 8
    assert (adds[0].name, adds[0].inputs) == ("layer1.0.add", ["layer1.0.bn2", "maxpool"])
    assert (adds[2].name, adds[2].inputs) == ("layer2.0.add", ["layer2.0.bn2", "layer2.0.downsample.1"])
    assert graph.entries[-1].name == "fc" and graph.outputs == ["fc"]  # the classifier


def test_export_inline_spec_to_stdout() -> None:
    torch = pytest.importorskip("torch")
    result = invoke("export", "--input", "1x8x8", "conv2d(4, 3) -> relu -> flatten -> linear(10)")
    assert result.exit_code == 0, result.stderr
    namespace: dict[str, Any] = {}
    exec(compile(result.stdout, "<export>", "exec"), namespace)  # noqa: S102 - the code under test
    model = namespace["Model"]()
    assert tuple(model(torch.zeros(1, 1, 8, 8)).shape) == (1, 10)
    assert [n for n, _ in model.named_parameters()] == [
        "conv2d1.weight", "conv2d1.bias", "linear4.weight", "linear4.bias",
    ]  # fmt: skip


def test_onnx_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MAX_ONNX_BYTES (2 GiB) at a small value: a file at the limit is read, one byte more
    is refused naming the limit."""
    onnx = pytest.importorskip("onnx")
    from cnncalc.interop import onnx_in

    path = tmp_path / "small.onnx"
    onnx.save(conv_model([onnx.helper.make_node("Relu", ["c"], ["y"], name="r")], [1, 3, 8, 8]), str(path))
    size = path.stat().st_size
    monkeypatch.setattr(onnx_in, "MAX_ONNX_BYTES", size)
    assert invoke("params", str(path)).exit_code == 0
    monkeypatch.setattr(onnx_in, "MAX_ONNX_BYTES", size - 1)
    result = invoke("params", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {path}: the ONNX file is {size:,} bytes, more than {size - 1:,} (limit MAX_ONNX_BYTES)"
    )


def test_yaml_scalars_read_back_as_written(tmp_path: Path) -> None:
    """Numbers YAML 1.1 would read as text (``1e-05``) and names it would read as numbers or
    booleans (``4.0``, ``yes``) are spelled so that they load back as they were."""
    doc = {
        "input": [3, 8, 8],
        "layers": [
            {"batchnorm2d": {"eps": 1e-05, "momentum": 0.01}, "name": "4.0"},
            {"leaky_relu": {"negative_slope": 0.2}, "name": "yes"},
            {"upsample": {"scale_factor": 2.0, "mode": "nearest"}, "name": "up"},
        ],
    }
    text = to_yaml(doc)
    assert "- batchnorm2d: {eps: 1.0e-05, momentum: 0.01}\n    name: \"4.0\"\n" in text
    assert __import__("yaml").safe_load(text) == doc
    path = tmp_path / "scalars.yaml"
    path.write_text(text)
    report = analyse(load_model(str(path)))
    assert [r.name for r in report.rows] == ["4.0", "yes", "up"]


# ---- graphs checked entry by entry, without the loader ---------------------------------
def walk_graph(graph: Graph, batch: int = 1) -> tuple[Any, int, int, list[tuple[str, Any, int]]]:
    """(output shape, params, MACs, rows) of an imported graph, computed entry by entry with
    cnncalc's layer types: the check of a translation that needs no graph-reading loader."""
    from cnncalc.layers import find_type
    from cnncalc.layers.merge import broadcast

    shapes: dict[str, Any] = {k: (batch, *v) for k, v in graph.inputs.items()}
    previous = next(iter(shapes))
    params = macs = 0
    rows = []
    for entry in graph.entries:
        sources = [shapes[name] for name in (entry.inputs or [previous])]
        if entry.type in ("add", "mul"):
            out, own, cost = broadcast(sources), 0, 0
        elif entry.type == "concat":
            dim = (entry.args or {}).get("dim", 1)
            out = list(sources[0])
            out[dim] = sum(s[dim] for s in sources)
            out, own, cost = tuple(out), 0, 0
        else:
            cls = find_type(entry.type)
            assert cls is not None, entry.type
            args = entry.args or {}
            layer = cls.from_arguments(list(args), {}) if isinstance(args, list) else cls.from_arguments([], args)
            out = tuple(layer.output_shape(sources[0]))
            own = 0 if entry.share else layer.params(sources[0])
            cost = layer.macs(sources[0], out)
        shapes[entry.name] = out
        params, macs = params + own, macs + cost
        rows.append((entry.name, out, own))
        previous = entry.name
    return shapes[graph.outputs[0]], params, macs, rows


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("folded", [False, True])
def test_onnx_graph_entries_equal_config_and_torch(name: str, folded: bool, onnx_dir: str) -> None:
    """ResNets, MobileNetV2 and U-Net from ONNX: output shape, params and MACs of the
    translated graph equal the config's (params less the folded batch norms' shifts)."""
    from cnncalc.interop import foreign_graph

    graph = foreign_graph(exported(name, folded, onnx_dir), None, None)
    out, params, macs, _ = walk_graph(graph)
    expected = config_report(name)
    assert out == expected.output_shape
    assert macs == expected.totals.macs
    assert params == expected.totals.params - (batchnorm_channels(expected) if folded else 0)


@pytest.mark.filterwarnings("ignore")
def test_onnx_resnet50_graph_figures(onnx_dir: str) -> None:
    from cnncalc.interop import foreign_graph

    _, params, macs, _ = walk_graph(foreign_graph(exported("resnet50", False, onnx_dir), None, None))
    assert (params, macs) == (25_557_032, 4_089_184_256)


@pytest.mark.parametrize(("config", "builder"), [("resnet18", "resnet18"), ("resnet50", "resnet50"),
                                                 ("mobilenetv2", "mobilenet_v2"), ("unet", "unet")])  # fmt: skip
def test_fx_graph_entries_equal_torch_row_by_row(config: str, builder: str) -> None:
    """fx import of the graph networks: each module row has PyTorch's own output shape and
    parameter count, under the module's name; totals equal the config's."""
    torch = pytest.importorskip("torch")
    import reference_nets

    from cnncalc.interop import foreign_graph

    expected = config_report(config)
    graph = foreign_graph(fx_source(builder), expected.input_shape[1:], None)
    out, params, macs, rows = walk_graph(graph)
    assert (out, params, macs) == (expected.output_shape, expected.totals.params, expected.totals.macs)
    module = getattr(reference_nets, builder)()
    seen: dict[str, Any] = {}

    def recorder(name: str) -> Any:
        def record(leaf: Any, _inputs: Any, output: Any) -> None:
            seen.setdefault(name, (tuple(output.shape), sum(p.numel() for p in leaf.parameters())))

        return record

    hooks = [
        m.register_forward_hook(recorder(name)) for name, m in module.named_modules()
        if not list(m.children()) and not isinstance(m, torch.nn.Identity)
    ]  # fmt: skip
    with torch.no_grad():
        module.eval()(torch.zeros(expected.input_shape))
    for hook in hooks:
        hook.remove()
    ours = {name: (shape, own) for name, shape, own in rows if name in seen}
    assert ours == seen


def test_fx_module_called_twice(tmp_path: Path) -> None:
    """A module with weights called again shares them (``share:``); one without weights
    called again is a row of its own."""
    pytest.importorskip("torch")
    path = tmp_path / "siamese.py"
    path.write_text(textwrap.dedent('''
        from torch import nn

        class Twice(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.act(self.conv(self.act(self.conv(x))))
    '''))
    from cnncalc.interop import foreign_document

    doc = foreign_document(f"{path}:Twice", (4, 8, 8), None)
    assert doc is not None and doc["name"] == "Twice"
    assert doc["layers"] == [
        {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}, "name": "conv"},
        {"relu": None, "name": "act"},
        {"share": "conv", "name": "conv_1"},
        {"relu": None, "name": "act_1"},
    ]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("config", "builder"), [("resnet18", "resnet18"), ("mobilenetv2", "mobilenet_v2"),
                                                 ("unet", "unet")])  # fmt: skip
def test_onnx_and_fx_agree_entry_by_entry(config: str, builder: str, onnx_dir: str) -> None:
    """The same network read from its ONNX file and from its module: the same rows, names,
    types and inputs. (Not AlexNet: the exporter writes its AdaptiveAvgPool2d(6) on a 6×6
    input as an AveragePool of kernel 1, which is what the file then holds.)"""
    from cnncalc.interop import foreign_graph

    from_onnx = foreign_graph(exported(config, False, onnx_dir), None, None)
    from_fx = foreign_graph(fx_source(builder), config_report(config).input_shape[1:], None)
    assert [(e.name, e.type, e.inputs, e.share) for e in from_onnx.entries] == [
        (e.name, e.type, e.inputs, e.share) for e in from_fx.entries
    ]
    assert walk_graph(from_onnx)[:3] == walk_graph(from_fx)[:3]


@pytest.mark.filterwarnings("ignore")
def test_layer_scale_from_fx_and_onnx(tmp_path: Path) -> None:
    """ConvNeXt's ``self.layer_scale * x`` with a learnable (C, 1, 1) parameter is a
    ``layer_scale`` row of C params, read from the module and from its ONNX file."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    path = tmp_path / "scaled.py"
    path.write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1)
                self.layer_scale = nn.Parameter(torch.ones(8, 1, 1) * 1e-6)

            def forward(self, x):
                return self.layer_scale * self.conv(x)
    '''))
    from cnncalc.interop import foreign_graph

    from_fx = foreign_graph(f"{path}:Scaled", (3, 8, 8), None)
    assert [(e.name, e.type, e.args) for e in from_fx.entries][:2] == [
        ("conv", "conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("layer_scale", "layer_scale", None),
    ]
    module = load_code(path).Scaled()
    onnx_path = str(tmp_path / "scaled.onnx")
    torch.onnx.export(module, (torch.randn(1, 3, 8, 8),), onnx_path, dynamo=False)
    graph = foreign_graph(onnx_path, None, None)
    assert [(e.type, e.args) for e in graph.entries] == [
        ("conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("layer_scale", {"init_value": 1e-06}),
    ]
    assert walk_graph(graph)[1] == sum(p.numel() for p in module.parameters())


def test_import_output_that_cannot_be_written(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "small.onnx"
    onnx.save(conv_model([onnx.helper.make_node("Relu", ["c"], ["y"], name="r")], [1, 3, 8, 8]), str(path))
    target = tmp_path / "missing" / "model.yaml"
    result = invoke("import", str(path), "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {target}: No such file or directory\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [("{num_classes: 10}", "not JSON"), ("[10]", "must be a JSON object of keyword arguments")],
)
def test_args_must_be_a_json_object(value: str, message: str) -> None:
    result = invoke("params", fx_source("alexnet"), "--input", "3x224x224", "--args", value)
    assert result.exit_code == 2
    assert "Invalid value for '--args'" in result.stderr and message in result.stderr
