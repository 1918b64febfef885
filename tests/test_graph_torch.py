"""Graphs in real PyTorch: ``execute`` builds a module whose forward follows the graph,
calls one module object for a shared layer, confirms every row and every output; and the
graph layer types agree with torch's own functions."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from test_graph import SIAMESE, TWO_INPUTS, UNET

torch = pytest.importorskip("torch")

from cnncalc import analyse, load_model  # noqa: E402
from cnncalc.cli import cli  # noqa: E402
from cnncalc.execute import Builder, execute  # noqa: E402


def write(tmp_path, text: str) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("text", [UNET, SIAMESE, TWO_INPUTS])
def test_execute_confirms_every_row_and_output(tmp_path, text: str) -> None:
    result = run("execute", write(tmp_path, text), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert all(row["match"] is True for row in data["layers"])
    outputs = len(data["outputs"])
    assert data["verdict"] == (
        f"all {len(data['layers'])} layers" + (f" and {outputs} outputs" if outputs > 1 else "")
        + " confirmed"
    )  # fmt: skip


def test_unet_at_another_size_runs_in_torch(tmp_path) -> None:
    result = run("execute", write(tmp_path, UNET), "--input", "3x40x56")
    assert result.exit_code == 0, result.output
    assert "logits [1, 2, 40, 56], presence [1, 32]" in result.stdout


def test_a_shared_layer_is_one_module_object(tmp_path) -> None:
    report = analyse(load_model(write(tmp_path, SIAMESE)))
    model = Builder("cpu", torch.float32, len(report.rows), None).model(report.graph)
    steps = {step.row.name: step for step in report.graph.steps}
    first, second = steps["tower.0"], steps["tower_right.0"]
    assert second.shares == first.row.index
    assert model.modules_by_row[second.shares] is model.modules_by_row[first.row.index]
    assert sum(p.numel() for p in model.parameters()) == report.totals.params
    # both towers are the one set of weights: on the same input they give the same output
    x = torch.randn(1, 1, 12, 12)
    with torch.no_grad():
        tower = x
        for index in (1, 2, 3, 4):
            tower = model.modules_by_row[index](tower)
        assert torch.equal(model(x, x), tower + tower)
    check = execute(report)
    assert check.ok
    assert check.checks[second.row.index].actual_params == 0


def test_graph_module_computes_what_the_graph_says(tmp_path) -> None:
    """The forward of a split/merge/skip graph equals the same computation written in
    torch by hand with the built modules."""
    path = write(tmp_path, """
        input: [6, 5, 5]
        layers:
          - conv2d: [6, 3, 1, 1]
            name: a
          - chunk: 2
            name: c
          - mul:
            from: [c.1, c.0]
          - concat:
            from: [input, mul3]
          - add:
            from: [concat4, a]
    """.replace("from: [concat4, a]", "from: [concat4, concat4]"))
    report = analyse(load_model(path))
    assert report.error is None, report.error
    model = Builder("cpu", torch.float32, len(report.rows), None).model(report.graph).eval()
    conv = model.modules_by_row[1]
    x = torch.randn(1, 6, 5, 5)
    with torch.no_grad():
        a = conv(x)
        c0, c1 = torch.chunk(a, 2, dim=1)
        cat = torch.cat([x, c1 * c0], dim=1)
        assert torch.equal(model(x), cat + cat)


@pytest.mark.parametrize(
    ("size", "how", "dim"),
    [(7, ("split", 3), 1), (7, ("split", [2, 5]), 1), (6, ("chunk", 4), 1), (5, ("chunk", 2), -1),
     (9, ("chunk", 9), 2), (4, ("split", 10), 1)],
)
def test_split_and_chunk_pieces_are_torchs(size: int, how: tuple[str, object], dim: int) -> None:
    kind, arg = how
    shape = (1, size, size, size)
    spec = f"{kind}({list(arg) if isinstance(arg, list) else arg}, dim={dim})"
    report = analyse(load_model(spec, input_shape=shape[1:]))
    assert report.error is None, report.error
    x = torch.zeros(shape)
    pieces = torch.split(x, arg, dim) if kind == "split" else torch.chunk(x, arg, dim)
    assert report.rows[0].output_shapes == tuple(tuple(p.shape) for p in pieces)


@pytest.mark.parametrize(
    ("a", "b"),
    [((4, 1, 6), (1, 5, 1)), ((3, 4, 4), (3, 1, 1)), ((2, 3, 3), (3,)), ((1,), (5, 2, 2))],
)
@pytest.mark.parametrize("how", ["add", "mul"])
def test_add_and_mul_broadcast_like_torch(tmp_path, a, b, how: str) -> None:
    path = write(tmp_path, f"""
        inputs: {{x: {list(a)}, y: {list(b)}}}
        layers:
          - {how}:
            from: [x, y]
    """)
    report = analyse(load_model(path))
    assert report.error is None, report.error
    assert report.rows[-1].output_shape == tuple((torch.zeros(1, *a) + torch.zeros(1, *b)).shape)
    assert execute(report).ok


@pytest.mark.parametrize(
    ("groups", "shape"),
    [(2, (1, 4, 3, 3)), (2, (1, 4, 5)), (1, (2, 6, 2, 2)), (3, (1, 6, 2, 2, 2)), (2, (1, 3, 2, 2)),
     (2, (1, 4)), (4, (1, 116, 28, 28))],
)
def test_channel_shuffle_is_torchs(groups: int, shape: tuple[int, ...]) -> None:
    from cnncalc_oracle import cnncalc_shape
    from torch_oracle import REFUSED, torch_shape

    spec = f"channel_shuffle({groups})"
    expected = torch_shape(lambda: torch.nn.ChannelShuffle(groups), shape)
    assert cnncalc_shape(spec, shape) == expected
    if expected != REFUSED:
        assert execute(analyse(load_model(spec, input_shape=shape[1:]), batch=shape[0])).ok


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        ("channel_shuffle(2)", (3, 2, 2), "channel_shuffle needs channels divisible by groups, got 3 channels and 2 groups"),
        ("channel_shuffle(2)", (4,), "channel_shuffle expects an input with more than 2 dimensions, got [1, 4]"),
        ("channel_shuffle(0)", (4, 2, 2), "channel_shuffle groups must be >= 1, got 0"),
    ],
)
def test_channel_shuffle_refusals(spec: str, shape, message: str) -> None:
    try:
        report = analyse(load_model(spec, input_shape=shape))
    except Exception as exc:  # noqa: BLE001 - a refused argument is raised while loading
        assert str(exc).endswith(message)
        return
    assert report.error is not None and report.error.message == message
