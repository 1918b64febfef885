"""The command line: every command and format, exit codes, stdout and stderr apart."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke as run

from cnncalc.cli import cli

CONFIGS = Path(__file__).parent.parent / "configs"
TINY = "conv2d(2, 3) -> relu"


def test_every_command_has_help_with_an_example() -> None:
    """One test over every registered command, so a new command cannot go without help."""
    assert {"shapes", "params", "execute", "layers", "conv", "solve", "explain"} <= set(cli.commands)
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert (result.exit_code, result.stderr) == (0, ""), name
        assert result.stdout.startswith(f"Usage: cli {name}")
        assert f"cnncalc {name}" in (command.help or ""), f"{name} help has no example"
        formats = next((p for p in command.params if p.name == "fmt"), None)
        if formats is not None:  # one option name, table first, csv wherever tables are
            assert formats.opts == ["--format"] and formats.type.choices[:3] == ("table", "json", "csv")
    assert run("--help").exit_code == 0


def test_shapes_table_whole_output() -> None:
    result = run("shapes", "--input", "1x8x8", TINY)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "inline spec: input [1, 1, 8, 8]\n"
        "#    name     type    input         output        kernel    stride    padding    dilation    receptive field    jump    rf start\n"
        "---  -------  ------  ------------  ------------  --------  --------  ---------  ----------  -----------------  ------  ----------\n"
        "1    conv2d1  conv2d  [1, 1, 8, 8]  [1, 2, 6, 6]  3×3       1×1       0×0        1×1         3×3                1×1     0, 0\n"
        "2    relu2    relu    [1, 2, 6, 6]  [1, 2, 6, 6]                                             3×3                1×1     0, 0\n"
        "output: [1, 2, 6, 6]\n"
    )


def test_params_table_totals_and_human_figures() -> None:
    result = run("params", str(CONFIGS / "resnet50.yaml"))
    assert result.exit_code == 0
    assert "params: 25,557,032 (25.6 M)" in result.stdout
    assert "MACs: 4,089,184,256 (4.09 G)" in result.stdout
    assert "memory (float32): params 97.5 MiB" in result.stdout


def test_params_json_skeleton() -> None:
    result = run("params", str(CONFIGS / "seed-lenet.yaml"), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["model"] == "LeNet-5"
    assert data["input_shape"] == [1, 1, 32, 32]
    assert data["output_shape"] == [1, 10]
    first = data["layers"][0]
    assert {k: first[k] for k in ("index", "name", "type", "input_shape", "output_shape", "params", "macs", "flops")} == {
        "index": 1, "name": "conv2d1", "type": "conv2d", "input_shape": [1, 1, 32, 32],
        "output_shape": [1, 6, 28, 28], "params": 156, "macs": 117600, "flops": 239904,
    }
    assert first["receptive_field"] == [5, 5] and first["jump"] == [1, 1] and first["rf_start"] == [0, 0]
    assert "receptive_field" not in data["layers"][-1]  # (N, F) rows have no spatial dimensions
    assert set(data["totals"]) == {
        "params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops",
        "param_bytes", "activation_bytes",
    }
    assert data["totals"]["params"] == 61706


def test_batch_and_dtype() -> None:
    data = json.loads(run("params", TINY, "--input", "1,8,8", "--batch", "4", "--dtype", "float16", "--format", "json").stdout)
    assert data["input_shape"] == [4, 1, 8, 8]
    assert data["layers"][0]["macs"] == 4 * 2 * 6 * 6 * 9
    assert data["totals"]["param_bytes"] == 20 * 2


def test_csv_and_markdown() -> None:
    result = run("shapes", TINY, "--input", "1x8x8", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["name"], r["output_shape"], r["kernel_size"]) for r in table] == [
        ("conv2d1", "[1, 2, 6, 6]", "3x3"), ("relu2", "[1, 2, 6, 6]", ""),
    ]
    markdown = run("params", TINY, "--input", "1x8x8", "--format", "markdown").stdout
    assert markdown == (
        "### inline spec\n\n"
        "| #   | name    | type   | output       | params   | MACs   | FLOPs   | params %   | FLOPs %   |\n"
        "|-----|---------|--------|--------------|----------|--------|---------|------------|-----------|\n"
        "| 1   | conv2d1 | conv2d | [1, 2, 6, 6] | 20       | 648    | 1,368   | 100.0%     | 95.0%     |\n"
        "| 2   | relu2   | relu   | [1, 2, 6, 6] | 0        | 0      | 72      | 0.0%       | 5.0%      |\n"
        "\n"
        "- output: [1, 2, 6, 6]\n"
        "- params: 20\n"
        "  - trainable: 20  non-trainable: 0  buffers: 0\n"  # nested under params, not '-   trainable'
        "- MACs: 648\n"
        "- FLOPs: 1,440 (1.44 K)\n"
        "- memory (float32): params 80 B, activations 832 B\n"
    )


def test_standard_input() -> None:
    result = run("shapes", "-", "--format", "json", stdin="input: [3, 8, 8]\nlayers: [{conv2d: [4, 3]}]\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["output_shape"] == [1, 4, 6, 6]


def test_impossible_shape_prints_rows_before_and_exits_2(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("input: [1, 28, 28]\nlayers:\n  - conv2d: [4, 5]\n  - relu\n  - conv2d: [8, 30]\n")
    result = run("shapes", str(path))
    assert result.exit_code == 2
    assert "relu2" in result.stdout and "stopped before layer 3" in result.stdout
    assert result.stderr == (
        f"error: {path}:5: layer 3 (conv2d3): conv2d kernel is larger than the padded input: "
        "padded input 24×24, kernel 30×30 (kernel_size 30×30, dilation 1×1) on input [1, 4, 24, 24]\n"
    )
    data = json.loads(run("shapes", str(path), "--format", "json").stdout)
    assert len(data["layers"]) == 2 and data["output_shape"] is None and "conv2d3" in data["error"]


@pytest.mark.parametrize(
    ("args", "stderr_part"),
    [
        (("shapes", "missing.yaml"), "error: missing.yaml: no such file"),
        (("shapes", "conv2d(6, 5"), "error: inline spec, column 12: conv2d( is never closed"),
        (("shapes", "conv2d(6, 5)"), "error: inline spec: no input shape"),
        (("shapes", TINY, "--input", "3xax3"), "--input must look like 3x224x224 or 3,224,224, got '3xax3'"),
        (("shapes", TINY, "--input", "1x8x8", "--batch", "0"), "Invalid value for '--batch'"),
        (("shapes", TINY, "--input", "1x8x8", "--format", "xml"), "Invalid value for '--format'"),
        (("params", "conv2d(6, 5, stride=0)", "--input", "1x8x8"), "error: inline spec: layer 1 (conv2d1): conv2d stride must be >= 1, got 0"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, stderr_part) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert stderr_part in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_layers_lists_every_type_and_alias() -> None:
    text = run("layers").stdout
    for name in ("conv2d", "conv_transpose3d", "adaptive_maxpool1d", "global_avgpool", "pixel_shuffle",
                 "layernorm", "hardswish", "log_softmax", "residual", "maxpooling2d", "filters"):
        assert name in text
    data = json.loads(run("layers", "--format", "json").stdout)
    conv = next(e for e in data["layers"] if e["type"] == "conv2d")
    assert conv["positional"][:2] == ["out_channels", "kernel_size"]
    assert {"name": "in_channels", "default": "null", "inferred": True} in conv["arguments"]


def test_whole_process_entry_point(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "params", str(CONFIGS / "seed-lenet.yaml"), "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 61706
    bad = subprocess.run([sys.executable, "-m", "cnncalc", "shapes", "relu("], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_every_command_reports_errors_in_one_place_with_the_error_s_exit_code(monkeypatch) -> None:
    """The group maps a CnncalcError from any command to stderr and its ``exit_code``."""
    from cnncalc.errors import CnncalcError
    from cnncalc.tutor.window import WindowSpec

    class Refused(CnncalcError):
        exit_code = 3

    def refuse(*args: object) -> None:
        raise Refused("no, with the numbers 1 and 2")

    monkeypatch.setattr(WindowSpec, "build", refuse)
    result = run("conv", "--input", "6", "--kernel", "3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "", "error: no, with the numbers 1 and 2\n")
    monkeypatch.undo()
    refused = run("conv", "--input", "3", "--kernel", "5")  # the real layer refuses: exit 2
    assert (refused.exit_code, refused.stderr) == (2, "error: conv1d kernel is larger than the padded "
                                                      "input: padded input 3, kernel 5 (kernel_size 5, "
                                                      "dilation 1) on input [1, 1, 3]\n")  # fmt: skip
