"""``cnncalc execute`` and ``--execute``: every row confirmed by a real PyTorch run, the
disagreements made visible, and the run refused before it could hurt the machine."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke as run

from cnncalc import analyse, load_model
from cnncalc.cli import ProgressBar
from cnncalc.errors import RunError
from cnncalc.layers import find_type
from cnncalc.memory import estimate, parse_size

try:
    import torch

    from cnncalc.execute import execute
except ImportError:  # the tests that run PyTorch skip themselves; the rest run anyway
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="runs the model in PyTorch")

CONFIGS = Path(__file__).parent.parent / "configs"
CONFIG_FILES = sorted(p.name for p in CONFIGS.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
# Inputs that keep every layer at 1x1 or more and the run quick; the rest use their own.
SMALL_INPUT = {
    "alexnet.yaml": "3x64x64", "vgg16.yaml": "3x64x64", "resnet18.yaml": "3x64x64",
    "resnet50.yaml": "3x64x64", "mobilenetv2.yaml": "3x64x64", "unet.yaml": "1x64x64",
    "convnext_tiny.yaml": "3x64x64",
    "shufflenetv2.yaml": "3x64x64", "deeplabv3_resnet50.yaml": "3x64x64",
}  # fmt: skip
TINY = "conv2d(2, 3) -> relu"


def report_for(spec: str, sample: tuple[int, ...], **options):
    return analyse(load_model(spec, sample), **options)


def cells(line: str) -> list[str]:
    """A table line's cells (they are two or more spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


# ---- every config passes --------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_config_is_confirmed(name: str) -> None:
    args = ["execute", str(CONFIGS / name), "--format", "json"]
    if name in SMALL_INPUT:
        args += ["--input", SMALL_INPUT[name]]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True
    outputs = f" and {len(data['outputs'])} outputs" if len(data["outputs"]) > 1 else ""
    assert data["verdict"] == f"all {len(data['layers'])} layers{outputs} confirmed"
    for row in data["layers"]:
        assert row["match"] is True, row
        assert row["actual_shape"] == row["output_shape"]
        assert row["actual_params"] == row["params"]
    assert result.stderr == data["verdict"] + "\n"


# ---- the outputs ----------------------------------------------------------------------------
@needs_torch
def test_table_whole_output() -> None:
    result = run("execute", "--input", "1x8x8", TINY)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "inline spec: input [1, 1, 8, 8]\n"
        "#    name     type    input         output        params    actual        torch params    match\n"
        "---  -------  ------  ------------  ------------  --------  ------------  --------------  -------\n"
        "1    conv2d1  conv2d  [1, 1, 8, 8]  [1, 2, 6, 6]  20        [1, 2, 6, 6]  20              ✓\n"
        "2    relu2    relu    [1, 2, 6, 6]  [1, 2, 6, 6]  0         [1, 2, 6, 6]  0               ✓\n"
        "output: [1, 2, 6, 6]\n"
        "all 2 layers confirmed\n"
    )


@needs_torch
def test_json_rows_and_top() -> None:
    result = run("execute", "--input", "3x17x17", "--batch", "2", "--format", "json",
                 "conv2d(4, 3, stride=2, padding='same') -> flatten -> linear(5)")  # fmt: skip
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["device"] == "cpu" and data["seed"] == 0
    assert [row["actual_shape"] for row in data["layers"]] == [
        [2, 4, 9, 9],  # TensorFlow's same: ceil(17 / 2)
        [2, 4 * 9 * 9],
        [2, 5],
    ]
    assert [row["actual_params"] for row in data["layers"]] == [4 * 3 * 3 * 3 + 4, 0, 324 * 5 + 5]
    assert all(row["match"] is True for row in data["layers"])
    assert "seconds" not in data["layers"][0]


@needs_torch
def test_csv_and_timings() -> None:
    result = run("execute", "--input", "1x8x8", TINY, "--format", "csv", "--timings")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["actual"], r["torch_params"], r["match"]) for r in rows] == [
        ("[1, 2, 6, 6]", "20", "true"), ("[1, 2, 6, 6]", "0", "true"),
    ]  # fmt: skip
    assert all(float(r["seconds"]) >= 0 for r in rows)
    assert result.stderr == "all 2 layers confirmed\n"  # machine formats keep stdout clean
    table = run("execute", "--input", "1x8x8", TINY, "--timings").stdout
    assert table.splitlines()[1].split()[-2:] == ["match", "time"]
    assert table.splitlines()[3].endswith(" ms")
    data = json.loads(
        run("execute", "--input", "1x8x8", TINY, "--format", "json", "--timings").stdout
    )
    assert all(isinstance(row["seconds"], float) for row in data["layers"])


@needs_torch
def test_markdown_verdict_is_a_list_item() -> None:
    result = run("execute", "--input", "1x8x8", TINY, "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.endswith("- output: [1, 2, 6, 6]\n- all 2 layers confirmed\n")


@needs_torch
def test_shapes_and_params_execute_in_place() -> None:
    shapes = run("shapes", "--execute", "--input", "1x8x8", TINY)
    assert shapes.exit_code == 0
    header = shapes.stdout.splitlines()[1].split()
    assert header[:5] == ["#", "name", "type", "input", "output"]
    assert header[-2:] == ["actual", "match"]
    assert shapes.stdout.splitlines()[3].endswith("[1, 2, 6, 6]  ✓")
    assert shapes.stdout.endswith("all 2 layers confirmed\n")
    params = run("params", "--execute", "--input", "1x8x8", TINY)
    assert params.exit_code == 0
    assert params.stdout.splitlines()[1].split()[-4:] == ["actual", "torch", "params", "match"]
    assert "params: 20" in params.stdout and params.stdout.endswith("all 2 layers confirmed\n")
    data = json.loads(
        run("params", "--execute", "--input", "1x8x8", TINY, "--format", "json").stdout
    )
    assert data["ok"] is True and data["totals"]["params"] == 20
    assert data["layers"][0]["actual_shape"] == [1, 2, 6, 6]


def test_run_options_need_execute_on_shapes() -> None:
    result = run("shapes", "--input", "1x8x8", TINY, "--seed", "3")
    assert result.exit_code == 2
    assert "--seed needs --execute" in result.stderr


@needs_torch
def test_batch_dtypes_and_inference_mode() -> None:
    # batchnorm1d on one sample: in training mode PyTorch refuses ("more than 1 value per
    # channel"); execute runs in eval mode, where the running statistics are used.
    spec = "linear(3) -> batchnorm1d -> dropout(0.9) -> softmax"
    for dtype in ("float32", "float16", "bfloat16"):
        result = run("execute", "--input", "4", spec, "--dtype", dtype, "--format", "json")
        assert result.exit_code == 0, (dtype, result.stderr)
        assert json.loads(result.stdout)["layers"][-1]["actual_shape"] == [1, 3]
    data = json.loads(
        run("execute", "--input", "4", spec, "--batch", "5", "--format", "json").stdout
    )
    assert data["layers"][-1]["actual_shape"] == [5, 3]


@needs_torch
def test_seed_makes_the_run_reproducible() -> None:
    """Same seed, same input and weights, same output; the caller's RNG is left alone."""
    outputs = []

    def keep_output(module, inputs, output) -> None:
        outputs.append(output.clone())

    report = report_for("conv2d(3, 3) -> relu -> flatten -> linear(2)", (2, 6, 6))
    handle = torch.nn.modules.module.register_module_forward_hook(keep_output)
    try:
        torch.manual_seed(123)
        expected_next = torch.rand(1)
        torch.manual_seed(123)
        for seed in (7, 7, 8):
            assert execute(report, seed=seed).ok
            outputs.append(None)  # a separator: the last output before it is the model's
        assert torch.equal(torch.rand(1), expected_next)
    finally:
        handle.remove()
    finals = [outputs[i - 1] for i, out in enumerate(outputs) if out is None]
    assert torch.equal(finals[0], finals[1])
    assert not torch.equal(finals[0], finals[2])


# ---- disagreements are visible --------------------------------------------------------------
@needs_torch
def test_a_planted_wrong_shape_formula_is_caught(monkeypatch) -> None:
    conv2d = find_type("conv2d")
    right = conv2d.output_shape

    def one_too_wide(self, shape):
        out = right(self, shape)
        return (*out[:-1], out[-1] + 1)

    monkeypatch.setattr(conv2d, "output_shape", one_too_wide)
    result = run("execute", "--input", "1x8x8", TINY)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert cells(lines[3])[4:] == ["[1, 2, 6, 7]", "20", "[1, 2, 6, 6]", "20", "✗ shape"]
    assert cells(lines[4])[-1] == "✗ shape"  # relu's input was wrong too, so its shape is
    assert lines[-1] == (
        "2 of 2 layers differ from PyTorch: row 1 (conv2d1): shape [1, 2, 6, 7] vs PyTorch "
        "[1, 2, 6, 6]; row 2 (relu2): shape [1, 2, 6, 7] vs PyTorch [1, 2, 6, 6]"
    )
    data = json.loads(run("execute", "--input", "1x8x8", TINY, "--format", "json").stdout)
    assert data["ok"] is False
    assert [row["match"] for row in data["layers"]] == [False, False]
    assert data["layers"][0]["actual_shape"] == [1, 2, 6, 6]


@needs_torch
def test_a_planted_wrong_params_formula_is_caught(monkeypatch) -> None:
    linear = find_type("linear")
    monkeypatch.setattr(linear, "params", lambda self, shape: shape[-1] * self.args.out_features)
    result = run("execute", "--input", "1x8x8", "conv2d(2, 3) -> flatten -> linear(4)")
    assert result.exit_code == 1
    assert cells(result.stdout.splitlines()[5])[-4:] == ["288", "[1, 4]", "292", "✗ params"]
    assert result.stdout.splitlines()[-1] == (
        "1 of 3 layers differ from PyTorch: row 3 (linear3): params 288 vs PyTorch 292"
    )


@needs_torch
def test_pytorch_raising_stops_the_run_at_that_row(monkeypatch) -> None:
    """cnncalc predicting a shape PyTorch refuses is a cnncalc bug: the row shows
    PyTorch's error, the run stops there, exit 1."""
    conv2d = find_type("conv2d")
    monkeypatch.setattr(conv2d, "output_shape", lambda self, shape: (shape[0], 4, 1, 1))
    result = run("execute", "--input", "3x4x4", "relu -> conv2d(4, 9) -> relu")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert cells(lines[3])[-1] == "✓"
    assert cells(lines[4])[-3:] == ["RuntimeError", "-", "✗ raised"]
    assert cells(lines[5])[-3:] == ["-", "-", "not run"]
    assert lines[-1] == (
        "PyTorch raised at row 2 (conv2d2) where cnncalc computed [1, 4, 1, 1]: RuntimeError: "
        "Calculated padded input size per channel: (4 x 4). Kernel size: (9 x 9). Kernel size "
        "can't be greater than actual input size; the run stopped there (1 rows confirmed, "
        "1 not run)"
    )
    data = json.loads(
        run(
            "execute", "--input", "3x4x4", "relu -> conv2d(4, 9) -> relu", "--format", "json"
        ).stdout
    )
    assert [row["match"] for row in data["layers"]] == [True, False, None]
    assert data["layers"][1]["error"].startswith("RuntimeError: Calculated padded input size")
    assert data["layers"][1]["actual_shape"] is None and data["ok"] is False


@needs_torch
def test_a_module_pytorch_will_not_build_is_reported_on_its_row(monkeypatch) -> None:
    def refuse(self, shape):
        raise ValueError("padding='same' is not supported for strided convolutions")

    monkeypatch.setattr(find_type("conv2d"), "to_torch", refuse)
    result = run("execute", "--input", "1x8x8", TINY, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["layers"][0]["error"] == (
        "ValueError: padding='same' is not supported for strided convolutions "
        "(while building the module)"
    )


@needs_torch
def test_a_kernel_missing_for_the_dtype_is_not_a_disagreement() -> None:
    result = run("execute", "--input", "2x4x4x4", "relu -> avgpool3d(2)", "--dtype", "float16")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: PyTorch has no float16 kernel on cpu for row 2 (avgpool3d2): NotImplementedError"
    )
    assert result.stderr.rstrip().endswith("run with --dtype float32 to confirm the rest")
    assert result.stdout.splitlines()[3].endswith("✓")  # the rows before it still confirmed


# ---- refusals: exit 2 -----------------------------------------------------------------------
def test_analysis_error_prints_the_rows_before_it_and_exits_2() -> None:
    result = run("execute", "--input", "1x8x8", "conv2d(2, 3) -> relu -> conv2d(4, 9)")
    assert result.exit_code == 2
    assert cells(result.stdout.splitlines()[3])[-3:] == ["-", "-", "not run"]
    assert "stopped before layer 3" in result.stdout
    assert result.stderr.startswith(
        "error: inline spec: layer 3 (conv2d3): conv2d kernel is larger"
    )
    data = json.loads(
        run(
            "execute",
            "--input",
            "1x8x8",
            "conv2d(2, 3) -> relu -> conv2d(4, 9)",
            "--format",
            "json",
        ).stdout
    )
    assert data["ok"] is False and len(data["layers"]) == 2 and "conv2d3" in data["error"]
    assert data["layers"][0]["match"] is None


@needs_torch
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dtype", "int8"), "error: --dtype int8 cannot run: PyTorch has no int8 kernels"),
        (("--device", "tpu"), "Invalid value for '--device'"),
        (
            ("--max-memory", "lots"),
            "expected a size such as 2GiB, 500MB or 1048576 (bytes), got 'lots'",
        ),
        (("--max-memory", "0"), "the size must be at least 1 byte"),
    ],
)
def test_runs_pytorch_cannot_make_exit_2(args, message) -> None:
    result = run("execute", "--input", "1x8x8", TINY, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@needs_torch
def test_cuda_absent_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = run("execute", "--input", "1x8x8", TINY, "--device", "cuda")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: CUDA is not available on this machine (torch.cuda.is_available() is False)\n"
    )


@needs_torch
def test_memory_guard_refuses_a_run_larger_than_the_limit() -> None:
    # conv2d(2, 3) -> relu on 1x8x8, in float32 elements: parameters 20, and one copy of
    # the largest layer's (20). Activations peak in relu: the model input (64, held by
    # the caller), relu's input and output (72 each). conv2d's moment is smaller: the
    # model input, its copy for the kernel (64) and the output (72).
    needed = estimate(report_for(TINY, (1, 8, 8)))
    assert needed.parameter_bytes == (20 + 20) * 4
    assert needed.activation_bytes == (64 + 72 + 72) * 4
    over = run("execute", "--input", "1x8x8", TINY, "--max-memory", str(needed.total - 1))
    assert over.exit_code == 2
    assert over.stderr == (
        "error: the run would need about 992 B (992 bytes: parameters 160 B, activations "
        "832 B), more than the 991 B it may use; raise --max-memory, or run a smaller "
        "--input or --batch\n"
    )
    assert (
        run("execute", "--input", "1x8x8", TINY, "--max-memory", str(needed.total)).exit_code == 0
    )


@needs_torch
def test_huge_inputs_shapes_handles_are_refused_not_crashed() -> None:
    spec = "conv2d(64, 3, padding=1) -> relu -> maxpool2d(2)"
    assert run("shapes", "--input", "3x100000x100000", spec).exit_code == 0
    result = run("execute", "--input", "3x100000x100000", spec)  # default limit
    assert result.exit_code == 2
    assert re.match(
        r"error: the run would need about 5.35 TiB \(5,880,\d{3},\d{3},\d{3} bytes", result.stderr
    )
    assert "Traceback" not in result.stderr


def test_memory_estimate_keeps_block_inputs_alive() -> None:
    """Inside a residual block the block input waits for the merge; parallel branches'
    outputs wait for each other. One float32 element is 4 bytes; relu has no window."""
    n = 1 * 4 * 8 * 8  # elements of every tensor here
    chain = estimate(report_for("relu -> relu -> relu", (4, 8, 8)))
    assert chain.activation_bytes == 4 * 3 * n  # the model input (held), one relu's in and out
    residual = estimate(report_for("relu -> residual(relu -> relu)", (4, 8, 8)))
    # in the body's second relu: model input, block input, body input, body output
    assert residual.activation_bytes == 4 * 4 * n
    parallel = estimate(report_for("parallel(relu, relu, relu, merge='add')", (4, 8, 8)))
    # at the merge: model input (= block input), three branch outputs, the sum
    assert parallel.activation_bytes == 4 * 5 * n


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1048576), ("2GiB", 2 * 1024**3), ("500MB", 500 * 1000**2), ("1.5G", 3 * 2**29),
        ("64 kib", 65536), ("3kB", 3000), ("1T", 1024**4), ("10b", 10),
    ],
)  # fmt: skip
def test_memory_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@needs_torch
def test_library_refuses_what_it_cannot_run() -> None:
    with pytest.raises(RunError, match="int8 cannot run"):
        execute(report_for(TINY, (1, 8, 8), dtype="int8"))
    with pytest.raises(RunError, match="would need about"):
        execute(report_for(TINY, (1, 8, 8)), max_memory=100)
    failed = report_for("conv2d(2, 9)", (1, 8, 8))
    with pytest.raises(type(failed.error)):
        execute(failed)


# ---- torch stays out of shapes and params; its absence is explained --------------------------
def test_shapes_and_params_never_import_torch() -> None:
    code = (
        "import sys\n"
        "from cnncalc.cli import main\n"
        "for args in (['shapes', 'configs/resnet18.yaml'], ['params', 'configs/unet.yaml', '--format', 'json']):\n"
        "    sys.argv = ['cnncalc', *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code in (0, None), exit.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=CONFIGS.parent,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_missing_torch_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed\n"
        "from cnncalc.cli import main\n"
        f"sys.argv = ['cnncalc', 'execute', '--input', '1x8x8', {TINY!r}]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: PyTorch is not installed; running the model needs it: "
        "pip install 'cnncalc[torch]'\n"
    )
    assert result.stdout == ""


# ---- the progress bar -------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_erases_itself() -> None:
    stream = Terminal()
    bar = ProgressBar(stream)
    bar.started -= bar.DELAY  # the run has taken more than a moment
    bar("running", 3, 4)
    bar.close()
    drawn = stream.getvalue()
    assert drawn.startswith("\rrunning [" + "#" * 22 + "." * 8 + "] 3/4 layers")
    assert drawn.endswith("\r" + " " * len("running [] 3/4 layers" + "x" * 30) + "\r")


def test_progress_bar_is_silent_off_a_terminal_and_for_quick_runs() -> None:
    pipe = io.StringIO()
    bar = ProgressBar(pipe)
    bar.started -= bar.DELAY
    bar("running", 1, 2)
    bar.close()
    assert pipe.getvalue() == ""
    terminal = Terminal()
    quick = ProgressBar(terminal)
    quick("running", 1, 2)
    quick.close()
    assert terminal.getvalue() == ""
