"""Graphs of named tensors (SPEC §1 "Graphs" and "Names", §5's graph keys): ``from:``,
``outputs:``, ``inputs:``, merges, split/chunk, ``share:``, ``size_of``, unused entries,
scoping, the names rows get, and the exact message of every way a graph can be wrong.
No torch here; ``test_graph_torch.py`` runs the same graphs in PyTorch."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from cnncalc import SpecError, analyse, load_model
from cnncalc.cli import cli


def write(tmp_path, text: str, name: str = "model.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def report_of(source: str, **kw):
    report = analyse(load_model(source, **kw))
    assert report.error is None, report.error
    return report


def error_of(source: str, **kw) -> str:
    try:
        report = analyse(load_model(source, **kw))
    except SpecError as exc:
        return str(exc)
    assert report.error is not None, "expected an error"
    return str(report.error)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


UNET = """
    name: tiny U-Net
    input: [3, 64, 64]
    define:
      double_conv:
        params: {c: 16}
        layers:
          - conv2d: {out_channels: "${c}", kernel_size: 3, padding: 1}
          - relu
    layers:
      - double_conv: {c: 16}
        name: enc1
      - maxpool2d: 2
      - double_conv: {c: 32}
        name: enc2
      - conv_transpose2d: {out_channels: 16, kernel_size: 2, stride: 2}
        name: up1
      - concat:
        from: [enc1, up1]
      - conv2d: {out_channels: 2, kernel_size: 1}
        name: head
      - upsample: {size_of: input, mode: bilinear}
        name: logits
      - global_avgpool:
        from: enc2
        name: presence
    outputs: [logits, presence]
"""


# ---- from:, outputs:, merges ---------------------------------------------------------------
def test_a_unet_with_skip_connection_and_two_outputs(tmp_path) -> None:
    report = report_of(write(tmp_path, UNET))
    rows = {row.name: row for row in report.rows}
    assert [row.name for row in report.rows] == [
        "enc1.conv2d1", "enc1.relu2", "maxpool2d2", "enc2.conv2d1", "enc2.relu2", "up1",
        "concat5", "head", "logits", "presence",
    ]  # fmt: skip
    assert rows["concat5"].sources == ("enc1.relu2", "up1")
    assert rows["concat5"].input_shapes == ((1, 16, 64, 64), (1, 16, 64, 64))
    assert rows["concat5"].output_shape == (1, 32, 64, 64)
    assert rows["presence"].sources == ("enc2.relu2",)
    assert rows["logits"].sources == ("head", "input")
    assert [(t.name, t.shape) for t in report.outputs] == [
        ("logits", (1, 2, 64, 64)), ("presence", (1, 32)),
    ]  # fmt: skip
    assert report.output_shape == (1, 2, 64, 64)
    assert all(row.used for row in report.rows)


def test_upsample_size_of_input_follows_any_input_size(tmp_path) -> None:
    path = write(tmp_path, UNET)
    for size in ((3, 64, 64), (3, 48, 80), (3, 32, 32)):
        report = report_of(path, input_shape=size)
        assert report.outputs[0].shape == (1, 2, *size[1:])
    # bilinear upsampling: 3 FLOPs per output element per spatial dimension
    logits = next(r for r in report_of(path).rows if r.name == "logits")
    assert logits.flops == 3 * 2 * (2 * 64 * 64)


def test_json_graph_keys(tmp_path) -> None:
    result = run("shapes", write(tmp_path, UNET), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first = data["layers"][0]
    assert (first["name"], first["from"], first["depth"], first["parent"], first["used"]) == (
        "enc1.conv2d1", ["input"], 1, "enc1", True,
    )  # fmt: skip
    concat = next(r for r in data["layers"] if r["name"] == "concat5")
    assert (concat["from"], concat["depth"], concat["parent"]) == (["enc1.relu2", "up1"], 0, None)
    assert data["outputs"] == [
        {"name": "logits", "shape": [1, 2, 64, 64]}, {"name": "presence", "shape": [1, 32]},
    ]  # fmt: skip
    assert data["output_shape"] == [1, 2, 64, 64]
    assert "inputs" not in data  # one input: input_shape says it all
    assert "shares" not in first


def test_add_and_mul_broadcast_as_torch(tmp_path) -> None:
    path = write(tmp_path, """
        input: [8, 6, 6]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 1}
            name: a
          - adaptive_avgpool2d: 1
            name: pooled
          - add:
            from: [a, pooled]
          - mul:
            from: [pooled, a]
    """)
    rows = report_of(path).rows
    assert [(r.type, r.output_shape, r.flops) for r in rows[2:]] == [
        ("add", (1, 8, 6, 6), 8 * 6 * 6), ("mul", (1, 8, 6, 6), 8 * 6 * 6),
    ]  # fmt: skip


def test_concat_takes_a_dim(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 6, 6]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1}
            name: a
          - cat: {dim: 3}
            from: [input, a]
          - concat: -2
            from: [a, input, a]
    """)
    assert [r.output_shape for r in report_of(path).rows] == [
        (1, 4, 6, 6), (1, 4, 6, 12), (1, 4, 18, 6),
    ]  # fmt: skip


def test_residual_is_shorthand_for_the_same_graph(tmp_path) -> None:
    block = report_of(write(tmp_path, """
        input: [8, 16, 16]
        layers:
          - residual:
              body: [{conv2d: [8, 3, 1, 1]}, relu]
              shortcut: [{conv2d: [8, 1]}]
    """, "block.yaml"))
    graph = report_of(write(tmp_path, """
        input: [8, 16, 16]
        layers:
          - conv2d: [8, 3, 1, 1]
          - relu
          - conv2d: [8, 1]
            from: input
          - add:
            from: [relu2, conv2d3]
    """, "graph.yaml"))
    figures = [(r.type, r.output_shape, r.params, r.macs, r.flops, r.receptive_field) for r in block.rows]
    assert figures == [
        (r.type, r.output_shape, r.params, r.macs, r.flops, r.receptive_field) for r in graph.rows
    ]
    assert block.totals == graph.totals
    assert block.rows[-1].sources == ("residual1.relu2", "residual1.shortcut.conv2d1")


def test_receptive_field_is_the_union_where_paths_meet(tmp_path) -> None:
    # A 5x5 path (two 3x3 convs) and a 7x7 path with stride 2 (start -3) meet in an add:
    # the union spans -3 .. 6, 10 wide, the coarser jump 2... the paths must agree in
    # shape, so the 3x3 path pools by 2 as well: field 6 (5 + (2-1)*1), jump 2, start 0.
    path = write(tmp_path, """
        input: [1, 16, 16]
        layers:
          - conv2d: [1, 3]
          - conv2d: [1, 3]
          - maxpool2d: 2
            name: small
          - conv2d: {out_channels: 1, kernel_size: 7, stride: 2, padding: 1}
            from: input
            name: big
          - add:
            from: [small, big]
    """)
    rows = {r.name: r for r in report_of(path).rows}
    assert (rows["small"].receptive_field, rows["small"].rf_start) == ((6, 6), (0, 0))
    assert (rows["big"].receptive_field, rows["big"].rf_start) == ((7, 7), (-1, -1))
    # union: from -1 to max(0 + 6 - 1, -1 + 7 - 1) = 5, so 7 wide
    assert rows["add5"].receptive_field == (7, 7)
    assert rows["add5"].rf_start == (-1, -1)
    assert rows["add5"].jump == (2, 2)


# ---- split and chunk -------------------------------------------------------------------------
def test_chunk_pieces_and_a_merge_that_takes_them_all(tmp_path) -> None:
    path = write(tmp_path, """
        input: [6, 4, 4]
        layers:
          - chunk: 4                 # torch.chunk: pieces of ceil(6/4) = 2, so 3 of them
            name: c
          - relu
            from: c.2
          - concat:
            from: c
            name: whole
          - add:
            from: [c.0, c.1, relu2]
    """.replace("- relu\n            from", "- relu:\n            from"))
    report = report_of(path)
    chunk, relu, whole, add = report.rows
    assert chunk.output_shapes == ((1, 2, 4, 4),) * 3
    assert relu.sources == ("c.2",)
    assert (whole.sources, whole.output_shape) == (("c.0", "c.1", "c.2"), (1, 6, 4, 4))
    assert (add.output_shape, add.flops) == ((1, 2, 4, 4), 2 * 2 * 4 * 4)


def test_split_sizes_and_sections(tmp_path) -> None:
    path = write(tmp_path, """
        input: [7, 4, 4]
        layers:
          - split: 3
            name: s
          - split: {split_size_or_sections: [1, 3], dim: 2}
            from: s.0
            name: t
          - concat: {dim: 2}
            from: t
    """)
    rows = report_of(path).rows
    assert rows[0].output_shapes == ((1, 3, 4, 4), (1, 3, 4, 4), (1, 1, 4, 4))
    assert rows[1].output_shapes == ((1, 3, 1, 4), (1, 3, 3, 4))
    assert rows[2].output_shape == (1, 3, 4, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- split: [[2, 2]]\n", "model.yaml:3: layer 1 (split1): split sections [2, 2] sum to 4 but dim 1 has size 6"),
        ("- chunk: {chunks: 2, dim: 4}\n", "model.yaml:3: layer 1 (chunk1): chunk dim 4 is out of range for a 4-D input (expected -4..3)"),
        ("- chunk: 2\n  name: c\n- relu\n",
         "model.yaml:5: layer 2 (relu2): relu reads one tensor but gets 2 (c.0, c.1); say which with from: NAME.0, NAME.1, …"),
        ("- chunk: 2\n  name: c\n- relu: {}\n  from: c.2\n",
         "model.yaml:5: layer 2 (relu2): from c.2: c has 2 pieces (c.0, c.1); there is no piece 2"),
        ("- relu: {}\n  name: r\n- relu: {}\n  from: r.0\n",
         "model.yaml:5: layer 2 (relu2): from r.0: r is one tensor, not a split or a repeat; there is no piece 0"),
    ],
)
def test_split_errors(tmp_path, text: str, message: str) -> None:
    path = write(tmp_path, "input: [6, 4, 4]\nlayers:\n" + textwrap.indent(text, ""))
    assert error_of(path).replace(path, "model.yaml") == message


# ---- scoping and the errors of names -------------------------------------------------------------
def test_dotted_paths_reach_into_earlier_blocks(tmp_path) -> None:
    path = write(tmp_path, """
        input: [3, 32, 32]
        layers:
          - sequential:
              - sequential:
                  - conv2d: [8, 3, 2, 1]
                  - relu
                name: layer1
              - sequential:
                  - conv2d: [16, 3, 2, 1]
                  - relu
                name: layer2
            name: backbone
          - conv2d: [4, 1]
            from: backbone.layer1
            name: p1
          - conv2d: [4, 1]
            from: backbone.layer2.0
            name: p2
    """)
    rows = {r.name: r for r in report_of(path).rows}
    assert rows["backbone.layer1.0"].parent == "backbone.layer1"
    assert rows["backbone.layer1.0"].depth == 2
    assert rows["p1"].sources == ("backbone.layer1.1",)
    assert rows["p1"].output_shape == (1, 4, 16, 16)
    assert rows["p2"].sources == ("backbone.layer2.0",)
    assert rows["p2"].output_shape == (1, 4, 8, 8)


def test_a_defined_block_sees_only_its_own_entries_and_its_input(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        define:
          skip:
            layers:
              - conv2d: [4, 3, 1, 1]
              - add:
                from: [input, conv2d1]
          leaky:
            layers:
              - relu: {}
                from: outer
        layers:
          - relu: {}
            name: outer
          - skip
            name: s
          - leaky
    """.replace("- skip\n            name", "- skip:\n            name"))
    message = error_of(path).replace(path, "model.yaml")
    assert message.startswith(
        "model.yaml:11: layer 4 (relu1): from outer: no such name in scope; names in scope: input"
    )


def test_a_defined_block_reads_its_own_input(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        define:
          skip:
            layers:
              - conv2d: [4, 3, 1, 1]
              - add:
                from: [input, conv2d1]
        layers:
          - relu: {}
            name: outer
          - skip: {}
            name: s
    """)
    rows = report_of(path).rows
    assert [(r.name, r.sources) for r in rows] == [
        ("outer", ("input",)), ("s.conv2d1", ("outer",)), ("s.add2", ("outer", "s.conv2d1")),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("- relu: {}\n  name: enc1\n- relu: {}\n  from: enc2\n",
         "model.yaml:5: layer 2 (relu2): from enc2: no such name in scope (did you mean enc1?); "
         "names in scope: input, enc1"),
        ("- relu: {}\n  from: later\n- relu: {}\n  name: later\n",
         "model.yaml:3: layer 1 (relu1): from later: later is entry 2 of its list, after this one "
         "(entry 1); a name refers to an earlier entry, so the graph has no cycles"),
        ("- relu: {}\n  name: me\n  from: me\n",
         "model.yaml:3: layer 1 (me): from me: an entry cannot read itself (a cycle)"),
        ("- relu: {}\n  name: a\n- relu: {}\n  name: a\n- relu: {}\n  from: a\n",
         "model.yaml:7: layer 3 (relu3): from a: the name is ambiguous: entries 1, 2 of one list "
         "are all called that; give them distinct names"),
        ("- sequential: [relu]\n  name: b\n- relu: {}\n  from: b.nope\n",
         "model.yaml:5: layer 2 (relu2): from b.nope: b has no 'nope'; it has 0"),
    ],
)
def test_name_errors(tmp_path, layers: str, message: str) -> None:
    path = write(tmp_path, "input: [4, 8, 8]\nlayers:\n" + layers)
    assert error_of(path).replace(path, "model.yaml") == message


def test_merge_of_incompatible_shapes_names_every_input(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        layers:
          - conv2d: [4, 3]
            name: small
          - add:
            from: [input, small]
    """)
    assert error_of(path).replace(path, "model.yaml") == (
        "model.yaml:6: layer 2 (add2): add needs shapes that are equal or broadcast (as "
        "PyTorch's +), got input [1, 4, 8, 8], small [1, 4, 6, 6]"
    )
    path = write(tmp_path, """
        input: [4, 8, 8]
        layers:
          - conv2d: [4, 3]
            name: small
          - concat:
            from: [input, small]
    """)
    assert error_of(path).replace(path, "model.yaml") == (
        "model.yaml:6: layer 2 (concat2): concat needs equal shapes except dim 1, got input "
        "[1, 4, 8, 8], small [1, 4, 6, 6]"
    )
    assert error_of("relu -> add", input_shape=(4,)) == (
        "inline spec: layer 2 (add2): add takes 2 or more tensors (from: [A, B]), got 1: relu1 [1, 4]"
    )


def test_errors_print_the_rows_before_and_exit_2(tmp_path) -> None:
    path = write(tmp_path, "input: [4, 8, 8]\nlayers:\n- relu\n- relu: {}\n  from: nowhere\n")
    result = run("shapes", path)
    assert result.exit_code == 2
    assert "relu1" in result.stdout and "stopped before layer 2" in result.stdout
    assert result.stderr.startswith(f"error: {path}:4: layer 2 (relu2): from nowhere: no such name")


# ---- outputs and unused entries ---------------------------------------------------------------
def test_an_entry_no_output_needs_counts_params_not_macs(tmp_path) -> None:
    path = write(tmp_path, """
        input: [8]
        layers:
          - linear: 4
            name: trunk
          - linear: 2
            name: aux
          - linear: 3
            from: trunk
            name: head
    """)
    report = report_of(path)
    aux = report.rows[1]
    assert (aux.name, aux.used, aux.macs) == ("aux", False, 4 * 2)
    assert report.totals.params == (8 * 4 + 4) + (4 * 2 + 2) + (4 * 3 + 3)
    assert report.totals.macs == 8 * 4 + 4 * 3
    assert report.totals.flops == (2 * 8 * 4 + 4) + (2 * 4 * 3 + 3)
    result = run("params", path, "--format", "json")
    assert result.exit_code == 0
    assert [r["used"] for r in json.loads(result.stdout)["layers"]] == [True, False, True]
    assert result.stderr == (
        "note: 1 row no output needs (params counted, MACs and FLOPs not): aux\n"
    )


def test_outputs_may_name_pieces_and_unknown_outputs_fail(tmp_path) -> None:
    path = write(tmp_path, "input: [4, 2, 2]\nlayers:\n- chunk: 2\n  name: c\noutputs: [c, c.1]\n")
    assert [(t.name, t.shape) for t in report_of(path).outputs] == [
        ("c.0", (1, 2, 2, 2)), ("c.1", (1, 2, 2, 2)), ("c.1", (1, 2, 2, 2)),
    ]  # fmt: skip
    path = write(tmp_path, "input: [4]\nlayers:\n- relu: {}\n  name: r\noutputs: [r, q]\n")
    assert error_of(path).replace(path, "model.yaml") == (
        "model.yaml: outputs q: no such name in scope; names in scope: input, r"
    )


# ---- several inputs ---------------------------------------------------------------------------
TWO_INPUTS = """
    inputs: {image: [3, 16, 16], mask: [1, 16, 16]}
    layers:
      - conv2d: [8, 3, 1, 1]
        name: features
      - conv2d: [8, 3, 1, 1]
        from: mask
        name: gate
      - mul:
        from: [features, gate]
"""


def test_two_inputs_and_input_name_dims(tmp_path) -> None:
    path = write(tmp_path, TWO_INPUTS)
    report = report_of(path)
    assert [(t.name, t.shape) for t in report.inputs] == [
        ("image", (1, 3, 16, 16)), ("mask", (1, 1, 16, 16)),
    ]  # fmt: skip
    assert report.input_shape == (1, 3, 16, 16)
    assert report.totals.activation_bytes == 4 * (3 * 256 + 256 + 3 * 8 * 256)
    result = run("shapes", path, "--input", "image=3x8x8", "--input", "mask=1x8x8", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inputs"] == [
        {"name": "image", "shape": [1, 3, 8, 8]}, {"name": "mask", "shape": [1, 1, 8, 8]},
    ]  # fmt: skip
    assert data["output_shape"] == [1, 8, 8, 8]
    plain = run("shapes", path, "--input", "3x8x8")
    assert plain.exit_code == 2
    assert plain.stderr == (
        f"error: {path}: the model has 2 inputs (image, mask); give each as --input NAME=DIMS\n"
    )
    wrong = run("shapes", path, "--input", "picture=3x8x8")
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        f"error: {path}: --input picture=...: the model has no input 'picture' (inputs: image, mask)\n"
    )


def test_an_input_nobody_reads_is_an_error(tmp_path) -> None:
    path = write(tmp_path, TWO_INPUTS.replace("from: mask", "from: image"))
    result = run("shapes", path)
    assert result.exit_code == 2
    assert "features" in result.stdout  # the rows are still printed
    assert result.stderr == (
        f"error: {path}: input mask is read by no entry; read it with from: mask, or leave it "
        "out of inputs\n"
    )


# ---- shared weights ------------------------------------------------------------------------------
SIAMESE = """
    inputs: {left: [1, 12, 12], right: [1, 12, 12]}
    layers:
      - sequential:
          - conv2d: [4, 3]
          - relu
          - flatten
          - linear: 8
        name: tower
      - share: tower
        from: right
        name: tower_right
      - add:
        from: [tower, tower_right]
"""


def test_share_counts_params_once_and_macs_at_every_use(tmp_path) -> None:
    report = report_of(write(tmp_path, SIAMESE))
    rows = {r.name: r for r in report.rows}
    conv_params, linear_params = 4 * 9 + 4, 4 * 10 * 10 * 8 + 8
    assert rows["tower.0"].params == conv_params
    assert (rows["tower_right.0"].params, rows["tower_right.0"].shares) == (0, "tower.0")
    assert (rows["tower_right.3"].params, rows["tower_right.3"].shares) == (0, "tower.3")
    assert rows["tower_right.0"].sources == ("right",)
    assert rows["tower_right.0"].macs == rows["tower.0"].macs == 4 * 10 * 10 * 9
    assert report.totals.params == conv_params + linear_params
    assert report.totals.macs == 2 * (4 * 10 * 10 * 9 + 400 * 8)
    data = json.loads(run("params", write(tmp_path, SIAMESE), "--format", "json").stdout)
    shared = next(r for r in data["layers"] if r["name"] == "tower_right.3")
    assert (shared["params"], shared["shares"]) == (0, "tower.3")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- conv2d: [4, 5]\n  share: c\n  from: input\n",
         "model.yaml:5: layer 2 (conv2d2): share c: this conv2d differs from c in kernel_size "
         "[5, 5] vs [3, 3]; a shared layer has its arguments (write just share: NAME)"),
        ("- linear: 4\n  share: c\n",
         "model.yaml:5: layer 2 (linear2): share c: c is conv2d, this entry is linear"),
        ("- share: c\n",
         "model.yaml:5: layer 2 (share2): share c: c holds 40 params for input [1, 1, 8, 8]; on "
         "this input [1, 4, 6, 6] the same layer would need 148"),
        ("- share: d\n",
         "model.yaml:5: layer 2 (share2): share d: no such name in scope; names in scope: input, c"),
    ],
)
def test_share_errors(tmp_path, entry: str, message: str) -> None:
    path = write(tmp_path, "input: [1, 8, 8]\nlayers:\n- conv2d: [4, 3]\n  name: c\n" + entry)
    assert error_of(path).replace(path, "model.yaml") == message


def test_share_of_one_copy_of_a_repeat_applies_that_copy_once(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        layers:
          - name: block
            repeat: 3
            sequential:
              - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
              - relu
          - share: block.1
          - share: block
    """)
    rows = report_of(path).rows
    conv = 4 * 64 * 4 * 9
    assert [(r.name, r.shares, r.params, r.macs) for r in rows[6:]] == [
        ("share2.0", "block.1.0", 0, conv), ("share2.1", "block.1.1", 0, 0),
        ("share3.0.0", "block.0.0", 0, conv), ("share3.0.1", "block.0.1", 0, 0),
        ("share3.1.0", "block.1.0", 0, conv), ("share3.1.1", "block.1.1", 0, 0),
        ("share3.2.0", "block.2.0", 0, conv), ("share3.2.1", "block.2.1", 0, 0),
    ]  # fmt: skip


def test_share_beside_the_same_layer_is_a_shared_use(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        layers:
          - conv2d: [4, 3, 1, 1]
            name: c
          - conv2d: [4, 3, 1, 1]
            share: c
    """)
    second = report_of(path).rows[1]
    assert (second.params, second.shares, second.macs) == (0, "c", 4 * 64 * 4 * 9)


# ---- names --------------------------------------------------------------------------------------
def test_names_follow_nn_sequential_and_unnamed_blocks_add_no_segment(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4, 8, 8]
        define:
          block:
            layers:
              - residual:
                  body:
                    - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
                      name: conv1
                    - batchnorm2d: {}
                      name: bn1
                  shortcut:
                    - sequential: [{conv2d: [4, 1]}, batchnorm2d]
                      name: downsample
              - relu
        layers:
          - sequential: [block, block]
            name: layer1
          - residual: {body: [relu]}
          - residual: {body: [relu]}
    """)
    names = [r.name for r in report_of(path).rows]
    assert names == [
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.downsample.0", "layer1.0.downsample.1",
        "layer1.0.add", "layer1.0.relu2",
        "layer1.1.conv1", "layer1.1.bn1", "layer1.1.downsample.0", "layer1.1.downsample.1",
        "layer1.1.add", "layer1.1.relu2",
        # two unnamed residuals would both hold relu1 and add: each keeps its segment
        "residual2.relu1", "residual2.add", "residual3.relu1", "residual3.add",
    ]


def test_an_explicit_name_wins_even_zero(tmp_path) -> None:
    path = write(tmp_path, 'input: [4]\nlayers:\n- sequential:\n  - relu: {}\n    name: "7"\n  - relu\n  name: s\n')
    assert [r.name for r in report_of(path).rows] == ["s.7", "s.1"]


# ---- the inline form ---------------------------------------------------------------------------
def test_inline_from_name_and_share() -> None:
    spec = (
        "conv2d(4, 3, padding=1, name=a) -> relu -> conv2d(4, 1, from=input, name=b) "
        "-> add(from=[relu2, b]) -> share(a) -> chunk(2, name=c) -> concat(from=[c.1, c.0])"
    )
    report = report_of(spec, input_shape=(4, 8, 8))
    assert [(r.name, r.sources) for r in report.rows] == [
        ("a", ("input",)), ("relu2", ("a",)), ("b", ("input",)), ("add4", ("relu2", "b")),
        ("share5", ("add4",)), ("c", ("share5",)), ("concat7", ("c.1", "c.0")),
    ]  # fmt: skip
    assert report.rows[4].shares == "a"


def test_a_repeated_entry_is_its_last_copy_and_name_i_copy_i(tmp_path) -> None:
    path = write(tmp_path, """
        input: [2, 8, 8]
        layers:
          - conv2d: [2, 3, 1, 1]
            repeat: 3
            name: c
          - add:
            from: [c.0, c, c.1]
    """)
    add = report_of(path).rows[-1]
    assert add.sources == ("c.0", "c.2", "c.1")
    path = write(tmp_path, "input: [2]\nlayers:\n- relu: {}\n  repeat: 2\n  name: r\n- relu: {}\n  from: r.2\n")
    assert error_of(path).replace(path, "model.yaml") == (
        "model.yaml:6: layer 3 (relu2): from r.2: r has 2 copies (r.0 … r.1)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "3x8x8", "--input", "1x8x8"], "give one --input DIMS, or --input NAME=DIMS for each input, got '3x8x8'"),
        (["--input", "=3x8x8"], "--input NAME=DIMS needs a name, got '=3x8x8'"),
        (["--input", "image=3x8x8", "--input", "image=3x4x4"], "--input image is given twice"),
        (["--input", "image=3by8"], "--input image must look like 3x224x224 or 3,224,224, got '3by8'"),
    ],
)
def test_input_option_errors(tmp_path, args: list[str], message: str) -> None:
    result = run("shapes", write(tmp_path, TWO_INPUTS), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_shared_uses_count_against_max_layers(monkeypatch) -> None:
    import cnncalc.graph

    monkeypatch.setattr(cnncalc.graph, "MAX_LAYERS", 5)
    message = error_of("sequential(relu -> relu, name=b) -> share(b) -> share(b)", input_shape=(4,))
    assert message == (
        "inline spec: layer 5 (share3): share b: the model expands to more than 5 layers with "
        "its shared uses (limit MAX_LAYERS)"
    )
