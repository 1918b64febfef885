"""--depth, the tree drawing, ×N and --columns of shapes and params (SPEC §8)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc import analyse, load_model
from cnncalc.cli import cli
from cnncalc.viewrender import COLUMNS, render_tree_table, shorten
from cnncalc.views import build_tree, depth_for, tree_lines, visible

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))

NESTED = """\
name: nested
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
    name: stem
  - sequential:
      - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
      - relu
    name: stage
    repeat: 2
  - residual:
      body:
        - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
        - relu
      shortcut:
        - conv2d: {out_channels: 4, kernel_size: 1}
    name: res
  - flatten
  - linear: 10
    name: head
"""
# 3·4·3·3 + 4 weights and bias of each 3x3 conv on 4 channels: 4·4·9 + 4 = 148
CONV = 4 * 4 * 9 + 4
SUMMARY = (
    "output: [1, 10]\n"
    "params: 3,146 (3.15 K)\n"
    "  trainable: 3,146  non-trainable: 0  buffers: 0\n"
    "MACs: 38,144 (38.1 K)\n"
    "FLOPs: 78,602 (78.6 K)\n"
    "memory (float32): params 12.3 KiB, activations 10.8 KiB\n"
)


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture
def nested(tmp_path: Path) -> str:
    path = tmp_path / "nested.yaml"
    path.write_text(NESTED)
    return str(path)


def test_tree_drawing_whole_output(nested: str) -> None:
    result = run("params", nested, "--columns", "index,name,type,output,params,macs")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == (
        "nested: input [1, 3, 8, 8]\n"
        "#    name           type     output        params    MACs\n"
        "---  -------------  -------  ------------  --------  ------\n"
        "1    stem           conv2d   [1, 4, 8, 8]  112       6,912\n"
        "     stage                   [1, 4, 8, 8]\n"
        "     ├─ 0                    [1, 4, 8, 8]\n"
        "2    │  ├─ conv2d1  conv2d   [1, 4, 8, 8]  148       9,216\n"
        "3    │  └─ relu2    relu     [1, 4, 8, 8]  0         0\n"
        "     └─ 1                    [1, 4, 8, 8]\n"
        "4       ├─ conv2d1  conv2d   [1, 4, 8, 8]  148       9,216\n"
        "5       └─ relu2    relu     [1, 4, 8, 8]  0         0\n"
        "     res                     [1, 4, 8, 8]\n"
        "6    ├─ conv2d1     conv2d   [1, 4, 8, 8]  148       9,216\n"
        "7    ├─ relu2       relu     [1, 4, 8, 8]  0         0\n"
        "     ├─ shortcut             [1, 4, 8, 8]\n"
        "8    │  └─ conv2d1  conv2d   [1, 4, 8, 8]  20        1,024\n"
        "9    └─ add         add      [1, 4, 8, 8]  0         0\n"
        "10   flatten4       flatten  [1, 256]      0         0\n"
        "11   head           linear   [1, 10]       2,570     2,560\n"
    ) + SUMMARY


def test_depth_one_folds_copies_as_times_n(nested: str) -> None:
    result = run("params", nested, "--depth", "1", "--columns", "index,name,type,params,macs")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "nested: input [1, 3, 8, 8]\n"
        "#    name         type      params    MACs\n"
        "---  -----------  --------  --------  ------\n"
        "1    stem         conv2d    112       6,912\n"
        "     stage\n"
        f"2–5  └─ 0–1 ×2    4 layers  {2 * CONV}       {2 * 4 * 64 * 4 * 9:,}\n"
        "     res\n"
        f"6    ├─ conv2d1   conv2d    {CONV}       {4 * 64 * 4 * 9:,}\n"
        "7    ├─ relu2     relu      0         0\n"
        f"8    ├─ shortcut  1 layer   20        {4 * 64 * 4:,}\n"
        "9    └─ add       add       0         0\n"
        "10   flatten4     flatten   0         0\n"
        "11   head         linear    2,570     2,560\n"
    ) + SUMMARY


def test_depth_zero_folds_every_top_level_block(nested: str) -> None:
    result = run("shapes", nested, "--depth", "0", "--columns", "index,name,type,input,output,receptive_field")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "nested: input [1, 3, 8, 8]\n"
        "#    name      type      input         output        receptive field\n"
        "---  --------  --------  ------------  ------------  -----------------\n"
        "1    stem      conv2d    [1, 3, 8, 8]  [1, 4, 8, 8]  3×3\n"
        "2–5  stage     4 layers  [1, 4, 8, 8]  [1, 4, 8, 8]  7×7\n"
        "6–9  res       4 layers  [1, 4, 8, 8]  [1, 4, 8, 8]  9×9\n"
        "10   flatten4  flatten   [1, 4, 8, 8]  [1, 256]\n"
        "11   head      linear    [1, 256]      [1, 10]\n"
        "output: [1, 10]\n"
    )


def test_json_kind_rows_and_block_subtotals(nested: str) -> None:
    data = json.loads(run("params", nested, "--depth", "0", "--format", "json").stdout)
    assert data["depth"] == 0
    assert [(r["name"], r["kind"]) for r in data["layers"]] == [
        ("stem", "layer"), ("stage", "block"), ("res", "block"), ("flatten4", "layer"), ("head", "layer"),
    ]
    stage = data["layers"][1]
    assert stage | {} == stage and {k: stage[k] for k in (
        "type", "depth", "parent", "from", "input_shape", "output_shape", "params", "macs",
        "layers", "first_index", "last_index", "param_bytes", "activation_bytes",
    )} == {
        "type": "block", "depth": 0, "parent": None, "from": ["stem"], "input_shape": [1, 4, 8, 8],
        "output_shape": [1, 4, 8, 8], "params": 2 * CONV, "macs": 2 * 4 * 64 * 4 * 9, "layers": 4,
        "first_index": 2, "last_index": 5, "param_bytes": 2 * CONV * 4,
        "activation_bytes": 4 * 4 * 64 * 4,  # four rows' outputs of 4x8x8 floats
    }  # fmt: skip
    assert data["layers"][2]["from"] == ["stage"] and data["layers"][3]["from"] == ["res"]
    full = json.loads(run("params", nested, "--format", "json").stdout)
    assert all(r["kind"] == "layer" for r in full["layers"]) and len(full["layers"]) == 11
    add = next(r for r in full["layers"] if r["name"] == "res.add")
    assert add["from"] == ["res.relu2", "res.shortcut.conv2d1"] and add["parent"] == "res"
    assert full["layers"][1]["depth"] == 2 and full["layers"][1]["parent"] == "stage.0"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_subtotals_add_up_to_the_totals_at_every_depth(config: Path) -> None:
    report = analyse(load_model(str(config)))
    tree = build_tree(report)
    t = report.totals
    for depth in (None, *range(tree.max_depth + 1)):
        rows = visible(tree, depth)
        assert sum(n.params for n in rows) == t.params, depth
        assert sum(n.trainable_params for n in rows) == t.trainable_params, depth
        assert sum(n.macs for n in rows) == t.macs, depth
        assert sum(n.flops for n in rows) == t.flops, depth
        assert sum(n.buffers for n in rows) == t.buffers, depth
        assert sum(n.layers for n in rows) == len(report.rows), depth
        # every leaf row is inside exactly one visible row, in execution order
        spans = [(n.first, n.last) for n in rows]
        assert spans[0][0] == 0 and spans[-1][1] == len(report.rows) - 1
        assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:]))
    data = json.loads(run("params", str(config), "--depth", "1", "--format", "json").stdout)
    assert sum(r["params"] for r in data["layers"]) == t.params
    assert sum(r["macs"] for r in data["layers"]) == t.macs
    assert sum(r["flops"] for r in data["layers"]) == t.flops
    size = 4  # float32
    inside = sum(r["activation_bytes"] if r["kind"] == "block" else
                 size * _numel(r["output_shape"]) for r in data["layers"])  # fmt: skip
    assert inside + size * _numel(data["input_shape"]) == t.activation_bytes
    assert data["totals"] == json.loads(run("params", str(config), "--format", "json").stdout)["totals"]


def _numel(shape: list[int]) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def columns_of(table: list[str]) -> list[list[str]]:
    """A "simple" table cut into cells at the spans of its rule of dashes."""
    import re

    spans = [m.span() for m in re.finditer(r"-+", table[1])]
    return [[line[a:b + 1].strip() if i + 1 == len(spans) else line[a:spans[i + 1][0]].strip()
             for i, (a, b) in enumerate(spans)] for line in table]  # fmt: skip


def test_columns_table_has_exactly_those_columns_in_order() -> None:
    config = str(CONFIGS[0].parent / "resnet18.yaml")
    result = run("params", config, "--depth", "0", "--columns", "memory,name,macs_pct")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    end = lines.index("output: [1, 1000]")
    cells = columns_of(lines[1:end])
    assert cells[0] == ["memory", "name", "MACs %"]
    body = cells[2:]
    assert [row[1] for row in body] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
        "flatten10", "fc",
    ]  # fmt: skip
    assert body[0] == ["3.06 MiB", "conv1", "6.5%"]  # 64·112·112 floats; 118 M of 1.81 G MACs
    assert all(len(line) <= len(lines[2]) for line in lines[3:end])  # nothing beyond the last column
    markdown = run("params", config, "--depth", "0", "--columns", "name,params", "--format", "markdown")
    assert "| name      | params    |" in markdown.stdout
    assert "| layer1    | 147,968   |" in markdown.stdout  # 2 basic blocks: 2·(2·64·64·9 + 2·128)


def test_unknown_column_lists_the_valid_keys() -> None:
    result = run("params", "conv2d(2, 3) -> relu", "--input", "1x8x8", "--columns", "name,colour")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"unknown column 'colour'; valid columns: {', '.join(COLUMNS)}" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("params", "conv2d(2, 3)", "--input", "1x8x8", "--depth", "-1").exit_code == 2
    assert "expected an integer >= 0 or all, got '-1'" in run(
        "params", "conv2d(2, 3)", "--input", "1x8x8", "--depth", "-1").stderr
    json_columns = run("params", "conv2d(2, 3)", "--input", "1x8x8", "--columns", "name", "--format", "json")
    assert json_columns.exit_code == 2 and "--columns picks table" in json_columns.stderr
    with_execute = run("params", "conv2d(2, 3)", "--input", "1x8x8", "--depth", "0", "--execute")
    assert with_execute.exit_code == 2 and "do not combine with --execute" in with_execute.stderr


def test_every_key_renders_on_every_kind_of_row(nested: str) -> None:
    result = run("params", nested, "--depth", "1", "--columns", ",".join(COLUMNS))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[:3] == ["#", "name", "type"]


def test_csv_follows_the_folded_rows(nested: str) -> None:
    result = run("params", nested, "--depth", "0", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["name"], r["kind"], r["layers"]) for r in rows] == [
        ("stem", "layer", "1"), ("stage", "block", "4"), ("res", "block", "4"),
        ("flatten4", "layer", "1"), ("head", "layer", "1"),
    ]
    assert sum(int(r["params"]) for r in rows) == 3146
    picked = run("params", nested, "--depth", "0", "--format", "csv", "--columns", "name,params,kernel")
    assert picked.stdout.splitlines()[:3] == ["name,params,kernel", "stem,112,3x3", f"stage,{2 * CONV},"]


def test_table_fits_the_width_by_shortening_names_only() -> None:
    report = analyse(load_model(str(CONFIGS[0].parent / "resnet50.yaml")))
    tree = build_tree(report)
    wide = "".join(render_tree_table(tree, "params", None)).splitlines()
    narrow = "".join(render_tree_table(tree, "params", None, width=120)).splitlines()
    assert max(map(len, wide)) > 120
    body = slice(3, 3 + len(tree_lines(tree, None)))
    assert max(len(line) for line in narrow[body]) <= 120
    end = 3 + len(tree_lines(tree, None))
    before, after = columns_of(wide[1:end]), columns_of(narrow[1:end])
    for old, new in zip(before[2:], after[2:]):  # every cell but the name is kept whole
        assert old[:1] + old[2:] == new[:1] + new[2:]
        assert new[1] == old[1] or "…" in new[1]
    assert any("…" in line for line in narrow)
    assert shorten("bottleneck_body1", 9) == "bott…ody1"
    # where even the numbers do not fit, names stop at 8 characters and the table is wider
    tiny = "".join(render_tree_table(tree, "params", None, width=20)).splitlines()
    assert max(len(line) for line in tiny[body]) > 20


def test_default_depth_fits_a_screen() -> None:
    report = analyse(load_model(str(CONFIGS[0].parent / "resnet50.yaml")))
    tree = build_tree(report)
    assert depth_for(tree, 10_000) is None  # everything fits: nothing folded
    depth = depth_for(tree, 40)
    assert depth is not None and len(tree_lines(tree, depth)) <= 40 < len(tree_lines(tree, depth + 1))
    assert depth_for(tree, 1) == 0


def test_on_a_terminal_a_big_table_folds_to_fit_with_a_note() -> None:
    """Run in a pseudo-terminal of 130×40: the table is folded to the deepest depth whose
    lines fit, no line is wider than the terminal, and stderr says how to see everything."""
    import os
    import pty
    import subprocess
    import sys

    config = str(CONFIGS[0].parent / "resnet50.yaml")
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS="130", LINES="40")
    root = Path(__file__).parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", "params", config], stdout=follower,
        stderr=subprocess.PIPE, env=env, cwd=root, timeout=60,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert done.returncode == 0
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    tree = build_tree(analyse(load_model(config)))
    depth = depth_for(tree, 40 - 10)
    assert depth is not None
    assert done.stderr.decode() == (
        f"note: folded to --depth {depth} to fit the terminal's 40 lines; "
        "--depth all shows all 175 layers\n"
    )
    assert len(lines) <= 40 and max(len(line) for line in lines) <= 130
    assert lines[-2] == "FLOPs: 8,217,632,232 (8.22 G)"


def test_graph_facts_from_names_and_the_plan() -> None:
    from cnncalc.graphview import row_depth, row_parent, row_sources

    assert (row_depth("layer1.0.conv1"), row_parent("layer1.0.conv1")) == (2, "layer1.0")
    assert (row_depth("fc"), row_parent("fc")) == (0, None)
    report = analyse(load_model(
        'conv2d(4, 3, padding=1) -> residual(conv2d(4, 3, padding=1) -> relu) '
        '-> parallel(relu, conv2d(4, 1), merge="add")', (3, 8, 8)))  # fmt: skip
    assert list(zip([r.name for r in report.rows], row_sources(report))) == [
        ("conv2d1", ("input",)),
        ("residual2.conv2d1", ("conv2d1",)),
        ("residual2.relu2", ("residual2.conv2d1",)),
        ("residual2.add", ("residual2.relu2", "conv2d1")),  # the identity shortcut: the block's input
        ("parallel3.0.relu1", ("residual2.add",)),  # every branch starts from the block's input
        ("parallel3.1.conv2d1", ("residual2.add",)),
        ("parallel3.add", ("parallel3.0.relu1", "parallel3.1.conv2d1")),
    ]
    failed = analyse(load_model("conv2d(4, 3) -> conv2d(4, 9)", (3, 8, 8)))
    assert failed.error is not None and row_sources(failed) == [("input",)]
