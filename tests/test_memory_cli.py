"""``cnncalc memory`` on the command line, and the training FLOPs of ``params``: figures
worked out by hand, every format, the largest batch, bad input. No torch needed."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = "conv2d(4, 3) -> relu"  # on 1x5x5: conv output 4x3x3
CHAIN = "conv2d(4, 3) -> relu -> conv2d(4, 1) -> relu"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def memory_json(*args: str) -> dict:
    result = run("memory", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# Hand-worked, conv2d(4, 3) -> relu on 1x5x5, batch 1, float32, Adam:
#   params 4·1·3·3 + 4 = 40 → 160 B; gradients 160 B
#   adam: two moments 2·160 = 320 B, plus on CPU a 4-byte `step` per tensor (weight, bias) → 328
#   saved: conv its input 1·5·5·4 = 100 B; relu its output 4·3·3·4 = 144 B → 244 B
#   moments beyond the resident 160 + 328 = 488:
#     forward conv   input 100 + conv output 144                             = 244
#     forward relu   + relu output 144                                        = 388
#     backward relu  saved 244 + gradients of relu and conv outputs 2·144     = 532
#     backward conv  saved 244 + weight/bias gradients 160 + conv output grad = 548
#     optimizer      gradients 160 + input/output 244 + 2 temporaries of the
#                    weight (CPU Adam: sqrt, then the division) 2·144          = 692
#   peak 488 + 692 = 1,180 at the optimizer step; transient 244 + 288 = 532.
TINY_TABLE = """\
inline spec: input [1, 1, 5, 5], training, adam, fp32, cpu
#    name     type    output        saved    saved %
---  -------  ------  ------------  -------  ---------
1    conv2d1  conv2d  [1, 4, 3, 3]  100      41.0%
2    relu2    relu    [1, 4, 3, 3]  144      59.0%
parameters: 160 B
gradients: 160 B
optimizer state (adam): 328 B
saved activations: 244 B
transient (largest at any moment): 532 B
peak: 1,180 (1.15 KiB) at optimizer step
"""


def test_table_whole_output_worked_by_hand() -> None:
    result = run("memory", "--input", "1x5x5", TINY, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == TINY_TABLE


def test_cuda_rules_keep_adams_step_on_the_host_and_its_temporaries_all_at_once() -> None:
    """CUDA: the `step` tensors live in host memory (320 B of state on the GPU) and foreach
    Adam makes one temporary of every parameter (160 B): peak 480 + 160 + 244 + 160."""
    data = memory_json("--input", "1x5x5", TINY)
    assert data["device"] == "cuda"
    assert data["memory"] == {
        "param_bytes": 160, "buffer_bytes": 0, "grad_bytes": 160, "optimizer_bytes": 320,
        "saved_activation_bytes": 244, "transient_bytes": 244 + 160, "peak_bytes": 480 + 160 + 244 + 160,
        "peak_phase": "optimizer step", "peak_row": None,
    }  # fmt: skip
    assert [row["saved_bytes"] for row in data["layers"]] == [100, 144]


@pytest.mark.parametrize(
    "optimizer, state", [("sgd", 0), ("momentum", 160), ("adam", 2 * 160 + 2 * 4), ("adamw", 2 * 160 + 2 * 4)]
)
def test_optimizer_state(optimizer: str, state: int) -> None:
    data = memory_json("--input", "1x5x5", TINY, "--device", "cpu", "--optimizer", optimizer)
    assert data["memory"]["optimizer_bytes"] == state
    assert data["optimizer"] == optimizer


def test_json_keys_and_peak_bounds() -> None:
    data = memory_json(str(ROOT / "configs" / "resnet18.yaml"), "--batch", "8", "--budget", "24GiB")
    m = data["memory"]
    assert {"param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes",
            "transient_bytes", "peak_bytes"} <= set(m)  # fmt: skip
    assert all("saved_bytes" in row for row in data["layers"])
    assert sum(row["saved_bytes"] for row in data["layers"]) == m["saved_activation_bytes"]
    resident = m["param_bytes"] + m["buffer_bytes"] + m["optimizer_bytes"]
    low = resident + m["saved_activation_bytes"]
    assert low <= m["peak_bytes"] <= low + m["grad_bytes"] + m["transient_bytes"]
    assert m["param_bytes"] == m["grad_bytes"] == 11_689_512 * 4
    assert m["optimizer_bytes"] == 2 * 11_689_512 * 4  # CUDA: `step` is on the host
    assert data["budget_bytes"] == 24 * 1024**3 and isinstance(data["max_batch"], int)


@pytest.mark.parametrize(
    "model, args",
    [
        (TINY, ["--input", "1x5x5", "--budget", "10KiB", "--device", "cpu"]),
        (str(ROOT / "configs" / "resnet18.yaml"), ["--budget", "24GiB", "--precision", "amp-fp16"]),
        (str(ROOT / "configs" / "unet.yaml"), ["--budget", "16GB", "--optimizer", "sgd"]),
        (str(ROOT / "configs" / "mobilenetv2.yaml"), ["--budget", "3GiB", "--inference"]),
    ],
)
def test_max_batch_is_the_largest_that_fits(model: str, args: list[str]) -> None:
    data = memory_json(model, *args)
    best, budget = data["max_batch"], data["budget_bytes"]
    at = memory_json(model, *args, "--batch", str(best))["memory"]["peak_bytes"]
    beyond = memory_json(model, *args, "--batch", str(best + 1))["memory"]["peak_bytes"]
    assert at == data["max_batch_peak_bytes"]
    assert at <= budget < beyond


def test_budget_verdict_lines() -> None:
    result = run("memory", "--input", "1x5x5", TINY, "--device", "cpu", "--budget", "10KiB", "--batch", "20")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[-2] == "budget 10 KiB (10,240 bytes): batch 20 does not fit"
    assert lines[-1].startswith("largest batch that fits: 18 (peak ")


def test_inference_frees_tensors_after_their_last_use() -> None:
    """Input 100 B and four outputs of 144 B: at most the input and two outputs are alive
    at once (388 B), not all of them (100 + 4·144 = 676 B); params 40 + 20 → 240 B."""
    data = memory_json("--input", "1x5x5", CHAIN, "--inference")
    assert data["memory"]["peak_bytes"] == 240 + 100 + 2 * 144
    assert data["totals"]["activation_bytes"] == 100 + 4 * 144
    assert [row["alive_bytes"] for row in data["layers"]] == [244, 388, 388, 388]
    in_place = memory_json("--input", "1x5x5", "conv2d(4, 3) -> relu(inplace=True) -> conv2d(4, 1)", "--inference")
    assert [row["alive_bytes"] for row in in_place["layers"]] == [244, 244, 388]
    # at inference dropout passes its input through
    dropout = memory_json("--input", "1x5x5", "conv2d(4, 3) -> dropout(0.5) -> conv2d(4, 1)", "--inference")
    assert [row["alive_bytes"] for row in dropout["layers"]] == [244, 244, 388]


def test_inference_table_says_what_it_counts() -> None:
    result = run("memory", "--input", "1x5x5", CHAIN, "--inference")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "inline spec: input [1, 1, 5, 5], inference, fp32, cuda"
    assert result.stdout.endswith(
        "parameters: 240 B\nactivations alive at the peak: 388 B\npeak: 628 B at forward, row 2 (relu2)\n"
    )


def test_precision_halves_activations_and_parameters() -> None:
    full = memory_json("--input", "1x5x5", TINY)["memory"]
    half = memory_json("--input", "1x5x5", TINY, "--precision", "bf16")["memory"]
    assert half["param_bytes"] * 2 == full["param_bytes"]
    assert half["saved_activation_bytes"] * 2 == full["saved_activation_bytes"]
    # autocast: fp32 parameters; conv saves the fp16 copies of its input (50 B) and weight
    # (36·2 = 72 B), relu its fp16 output (72 B)
    amp = memory_json("--input", "1x5x5", TINY, "--precision", "amp-fp16")
    assert amp["memory"]["param_bytes"] == 160
    assert [row["saved_bytes"] for row in amp["layers"]] == [50 + 72, 72]


def test_dtype_names_the_precision_where_precision_is_not_given() -> None:
    assert memory_json("--input", "1x5x5", TINY, "--dtype", "bfloat16")["precision"] == "bf16"
    clash = run("memory", "--input", "1x5x5", TINY, "--dtype", "float16", "--precision", "bf16")
    assert clash.exit_code == 2
    assert "--dtype float16 and --precision bf16 disagree" in clash.stderr
    int8 = run("memory", "--input", "1x5x5", TINY, "--dtype", "int8")
    assert int8.exit_code == 2
    assert "memory has no int8 training" in int8.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--optimizer", "lamb"], "Invalid value for '--optimizer': 'lamb' is not one of 'sgd', 'momentum', 'adam', 'adamw'."),
        (["--precision", "fp8"], "Invalid value for '--precision': 'fp8' is not one of 'fp32', 'fp16', 'bf16', 'amp-fp16', 'amp-bf16'."),
        (["--budget", "5XB"], "Invalid value for '--budget': expected a size such as 2GiB, 500MB or 1048576 (bytes), got '5XB'"),
        (["--budget", "100"], "error: not even batch 1 fits the budget of 100 B (100 bytes): parameters and optimizer state alone need 480 B (480 bytes)"),
        (["--budget", "600"], "error: not even batch 1 fits the budget of 600 B (600 bytes): its peak is 1.02 KiB (1,044 bytes), of which parameters, buffers and optimizer state 480 B"),
        (["--budget", "100", "--inference"], "error: not even batch 1 fits the budget of 100 B (100 bytes): parameters alone need 160 B (160 bytes)"),
    ],
)
def test_bad_input_exits_2_with_the_numbers(args: list[str], message: str) -> None:
    result = run("memory", "--input", "1x5x5", TINY, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_model_that_does_not_fit_its_shapes_exits_2() -> None:
    result = run("memory", "--input", "1x2x2", "conv2d(4, 3)")
    assert result.exit_code == 2
    assert "kernel is larger than the padded input" in result.stderr


def test_csv_and_markdown() -> None:
    result = run("memory", "--input", "1x5x5", TINY, "--format", "csv", "--device", "cpu")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["name"], r["saved_bytes"]) for r in rows] == [("conv2d1", "100"), ("relu2", "144")]
    markdown = run("memory", "--input", "1x5x5", TINY, "--format", "markdown", "--device", "cpu").stdout
    assert markdown.startswith("### inline spec: input [1, 1, 5, 5], training, adam, fp32, cpu\n\n| #")
    assert "- peak: 1,180 (1.15 KiB) at optimizer step\n" in markdown


def test_memory_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from cnncalc.cli import main\n"
        "sys.argv = ['cnncalc', 'memory', 'configs/resnet50.yaml', '--format', 'json', '--budget', '8GiB']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


# ---- params: training FLOPs ------------------------------------------------------------------
def test_params_reports_training_flops_worked_by_hand() -> None:
    """conv2d(4, 3) -> relu -> flatten -> linear(2) on 1x5x5:
    conv   forward 2·324 + 36 = 684 (MACs 36·1·9 = 324); backward: the first layer computes
           no gradient of its input, so the weight's 2·324 and the bias's 36 = 684
    relu   forward 36, backward 36;  flatten 0
    linear forward 2·72 + 2 = 146 (MACs 2·36); backward 2·72 for the input, 2·72 for the
           weight and 2 for the bias = 290."""
    spec = "conv2d(4, 3) -> relu -> flatten -> linear(2)"
    data = json.loads(run("params", "--input", "1x5x5", spec, "--format", "json").stdout)
    assert data["totals"]["flops"] == 684 + 36 + 146
    assert data["totals"]["training_flops"] == 684 + 684 + 36 + 36 + 146 + 290
    table = run("params", "--input", "1x5x5", spec).stdout
    assert "training FLOPs per step (forward + backward): 1,876 (1.88 K)\n" in table
    assert "activations (all outputs kept) " in table


def test_training_flops_of_frozen_layers(tmp_path: Path) -> None:
    """A frozen stem computes no gradient at all; a frozen layer after a trained one
    computes only its input's (2·MACs)."""
    path = tmp_path / "frozen.yaml"
    path.write_text(
        "input: [1, 5, 5]\nlayers:\n"
        "  - conv2d: {out_channels: 4, kernel_size: 3}\n    trainable: false\n"
        "  - relu\n"
        "  - conv2d: {out_channels: 4, kernel_size: 1}\n"
        "  - conv2d: {out_channels: 2, kernel_size: 1}\n    trainable: false\n"
    )
    data = json.loads(run("params", str(path), "--format", "json").stdout)
    forward = data["totals"]["flops"]
    # second conv: MACs 36·4 = 144, trained, input needs no gradient: 2·144 + 36 (bias)
    # third conv: MACs 18·4 = 72, frozen, input needs a gradient: 2·72
    assert data["totals"]["training_flops"] == forward + (2 * 144 + 36) + 2 * 72
