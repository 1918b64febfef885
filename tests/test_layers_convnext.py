"""The layer types ConvNeXt and other modern networks need: permute, transpose, layernorm2d,
layer_scale and stochastic_depth (drop_path). Counts written as arithmetic, receptive
fields, the spellings a model file may use, the catalogue and README, and (where torch is
installed) the modules ``execute`` builds against torchvision's own definitions, written
in plain torch in ``reference_nets.py``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc import analyse, load_model
from cnncalc.cli import cli

README = Path(__file__).parent.parent / "README.md"
NEW_TYPES = ("permute", "transpose", "layernorm2d", "layer_scale", "stochastic_depth")


def report(spec: str, shape: tuple[int, ...]):
    result = analyse(load_model(spec, input_shape=shape[1:]), batch=shape[0])
    assert result.error is None, str(result.error)
    return result


# (spec, batched input, output shape, params, buffers, MACs, FLOPs)
COUNTS = [
    ("permute(0, 2, 3, 1)", (2, 3, 4, 5), (2, 4, 5, 3), 0, 0, 0, 0),
    ("permute(0, -1, 1, -2)", (2, 3, 4, 5), (2, 5, 3, 4), 0, 0, 0, 0),
    ("transpose(1, -1)", (2, 3, 4, 5), (2, 5, 4, 3), 0, 0, 0, 0),
    ("transpose(0, 1)", (2, 3, 4), (3, 2, 4), 0, 0, 0, 0),
    # statistics 3 and normalise 2 per element, +2 for the affine scale and shift
    ("layernorm2d", (2, 6, 5, 5), (2, 6, 5, 5), 2 * 6, 0, 0, 2 * 6 * 5 * 5 * (5 + 2)),
    ("layernorm2d(elementwise_affine=false)", (2, 6, 5, 5), (2, 6, 5, 5), 0, 0, 0, 2 * 6 * 5 * 5 * 5),
    ("layernorm2d(bias=false)", (2, 6, 5, 5), (2, 6, 5, 5), 6, 0, 0, 2 * 6 * 5 * 5 * (5 + 2)),
    ("layernorm2d", (1, 8, 7), (1, 8, 7), 2 * 8, 0, 0, 8 * 7 * (5 + 2)),
    # one multiply per element, one learnable factor per channel
    ("layer_scale", (2, 6, 5, 5), (2, 6, 5, 5), 6, 0, 0, 2 * 6 * 5 * 5),
    ("layer_scale(0.1)", (3, 10), (3, 10), 10, 0, 0, 3 * 10),
    ("stochastic_depth(0.1)", (2, 6, 5, 5), (2, 6, 5, 5), 0, 0, 0, 0),
    ("drop_path(0.5, 'batch')", (4, 10), (4, 10), 0, 0, 0, 0),
]


@pytest.mark.parametrize(("spec", "shape", "out", "params", "buffers", "macs", "flops"), COUNTS,
                         ids=[c[0] for c in COUNTS])  # fmt: skip
def test_counts(spec, shape, out, params, buffers, macs, flops) -> None:
    totals = (result := report(spec, shape)).totals
    assert result.output_shape == out
    assert (totals.params, totals.buffers, totals.macs, totals.flops) == (params, buffers, macs, flops)


# ---- receptive fields -----------------------------------------------------------------------
def fields(spec: str, sample: tuple[int, ...]) -> list[tuple[int, ...] | None]:
    return [row.receptive_field for row in report(spec, (1, *sample)).rows]


def test_norm_scale_and_drop_path_keep_the_field() -> None:
    assert fields("conv2d(4, 3) -> layernorm2d -> layer_scale -> drop_path(0.1) -> conv2d(4, 3)", (2, 9, 9)) == [
        (3, 3), (3, 3), (3, 3), (3, 3), (5, 5),
    ]  # fmt: skip


def test_a_reordering_that_moves_spatial_dims_has_no_field() -> None:
    # Channels-last puts W and C at dims 2 and 3: no field is defined there, nor after the
    # permute back (the field is carried only along dims 2, ... of (N, C, ...)).
    assert fields("conv2d(4, 3) -> permute(0, 2, 3, 1) -> linear(4) -> permute(0, 3, 1, 2)", (2, 9, 9)) == [
        (3, 3), None, None, None,
    ]  # fmt: skip
    assert fields("conv2d(4, 3) -> transpose(2, 3)", (2, 9, 9)) == [(3, 3), None]
    assert fields("conv2d(4, 3) -> transpose(1, -1)", (2, 9, 9)) == [(3, 3), None]


def test_a_reordering_that_keeps_spatial_dims_keeps_the_field() -> None:
    spec = "conv2d(4, 3) -> transpose(0, 1) -> permute(1, 0, -2, -1) -> transpose(3, 3) -> conv2d(4, 3)"
    assert fields(spec, (2, 9, 9)) == [(3, 3), (3, 3), (3, 3), (3, 3), (5, 5)]


# ---- how a model file writes them ------------------------------------------------------------
@pytest.mark.parametrize("entry", ["permute: [0, 2, 3, 1]", "permute: {dims: [0, 2, 3, 1]}"])
def test_permute_in_yaml(entry: str, tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(f"input: [3, 4, 5]\nlayers:\n  - {entry}\n")
    assert analyse(load_model(str(path))).output_shape == (1, 4, 5, 3)


@pytest.mark.parametrize("spec", ["permute(0, 2, 3, 1)", "permute((0, 2, 3, 1))", "permute(dims=[0, 2, 3, 1])"])
def test_permute_inline(spec: str) -> None:
    assert report(spec, (1, 3, 4, 5)).output_shape == (1, 4, 5, 3)


def test_yaml_spellings_of_the_other_types(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(
        "input: [6, 4, 4]\n"
        "layers:\n"
        "  - transpose: [2, 3]\n"
        "  - LayerNorm2d: {eps: 1.0e-6}\n"
        "  - layer_scale: {init_values: 1.0e-5}\n"   # timm's keyword
        "  - DropPath: {drop_prob: 0.1}\n"           # timm's class and keyword
        "  - stochastic_depth: [0.2, batch]\n"
    )
    result = analyse(load_model(str(path)))
    assert result.error is None
    assert [row.type for row in result.rows] == ["transpose", "layernorm2d", "layer_scale", "stochastic_depth", "stochastic_depth"]
    layers = [row.layer.args for row in result.rows]
    assert layers[1].eps == 1e-6 and layers[2].init_value == 1e-5
    assert (layers[3].p, layers[3].mode) == (0.1, "row")
    assert (layers[4].p, layers[4].mode) == (0.2, "batch")


# ---- catalogue and README -------------------------------------------------------------------
def test_catalogue_lists_the_types() -> None:
    result = CliRunner().invoke(cli, ["layers", "--format", "json"])
    assert result.exit_code == 0
    entries = {e["type"]: e for e in json.loads(result.stdout)["layers"]}
    assert entries["permute"]["family"] == entries["transpose"]["family"] == "reordering"
    assert entries["permute"]["positional"] == ["dims"]
    assert entries["transpose"]["positional"] == ["dim0", "dim1"]
    assert entries["layernorm2d"]["family"] == "normalisation"
    assert [a["name"] for a in entries["layernorm2d"]["arguments"] if a["inferred"]] == ["normalized_shape"]
    assert entries["layer_scale"]["family"] == "scaling"
    assert {"name": "init_value", "default": "1e-06", "inferred": False} in entries["layer_scale"]["arguments"]
    assert entries["stochastic_depth"]["aliases"] == ["drop_path"]
    assert {"name": "p", "default": "required", "inferred": False} in entries["stochastic_depth"]["arguments"]
    table = CliRunner().invoke(cli, ["layers"]).stdout
    assert re.search(r"^stochastic_depth\s+regularisation\s+drop_path", table, re.MULTILINE)


def test_readme_counts_every_type() -> None:
    text = README.read_text()
    counts = text[text.index("## What each layer counts") : text.index("## Performance")]
    table_rows = [line for line in counts.splitlines() if line.startswith("| ")]
    for name in NEW_TYPES:
        assert any(re.search(rf"\b{name}\b", line) for line in table_rows), name


# ---- against PyTorch ------------------------------------------------------------------------
def reference_modules():
    """(spec, batched input, the layer as torchvision builds it) in plain torch."""
    torch = pytest.importorskip("torch")
    from reference_nets import LayerNorm2d, Permute, StochasticDepth

    class CNBlockScale(torch.nn.Module):  # the layer_scale parameter of torchvision's CNBlock
        def __init__(self, dim: int, value: float) -> None:
            super().__init__()
            self.layer_scale = torch.nn.Parameter(torch.ones(dim, 1, 1) * value)

        def forward(self, x):
            return self.layer_scale * x

    return [
        ("permute(0, 2, 3, 1)", (2, 3, 4, 5), Permute([0, 2, 3, 1])),
        ("permute(0, -1, 1, -2)", (2, 3, 4, 5), Permute([0, -1, 1, -2])),
        ("transpose(1, -1)", (2, 3, 4, 5), None),
        ("layernorm2d(1e-6)", (2, 6, 5, 5), LayerNorm2d(6, eps=1e-6)),
        ("layernorm2d(bias=false)", (2, 6, 5, 5), LayerNorm2d(6, bias=False)),
        ("layer_scale(0.25)", (2, 6, 5, 5), CNBlockScale(6, 0.25)),
        ("stochastic_depth(0.3)", (2, 6, 5, 5), StochasticDepth(0.3, "row")),
        ("drop_path(0.3, 'batch')", (4, 6, 5), StochasticDepth(0.3, "batch")),
    ]


def built(spec: str, shape: tuple[int, ...]):
    """The module ``execute`` builds for the spec's one layer."""
    return report(spec, shape).rows[0].layer.to_torch(shape)


def test_modules_compute_what_torchvision_computes() -> None:
    torch = pytest.importorskip("torch")
    for spec, shape, reference in reference_modules():
        ours = built(spec, shape).eval()
        x = torch.randn(shape)
        with torch.no_grad():
            for mine, theirs in zip(ours.parameters(), (reference or ours).parameters(), strict=True):
                assert mine.shape == theirs.shape, spec
                mine.copy_(torch.randn_like(mine))
                theirs.copy_(mine)
            expected = x.transpose(1, -1) if reference is None else reference.eval()(x)
            assert torch.equal(ours(x), expected), spec


def test_layer_scale_starts_at_init_value() -> None:
    torch = pytest.importorskip("torch")
    module = built("layer_scale", (2, 6, 5, 5))
    assert torch.equal(module.scale, torch.full((6, 1, 1), 1e-6))
    x = torch.randn(2, 6, 5, 5)
    assert torch.allclose(module(x), x * 1e-6)


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_trains_as_torchvision(mode: str) -> None:
    torch = pytest.importorskip("torch")
    from reference_nets import StochasticDepth

    ours, theirs = built(f"stochastic_depth(0.5, '{mode}')", (8, 3, 4)), StochasticDepth(0.5, mode)
    x = torch.randn(8, 3, 4)
    torch.manual_seed(1)
    expected = theirs.train()(x)
    torch.manual_seed(1)
    got = ours.train()(x)
    assert torch.equal(got, expected)
    kept = (got != 0).flatten(1).any(1)
    assert 0 < int(kept.sum()) < 8 if mode == "row" else int(kept.sum()) in (0, 8)
    assert torch.equal(ours.eval()(x), x)  # inference: the identity
    assert torch.equal(built("stochastic_depth(1.0)", (8, 3, 4)).train()(x), torch.zeros_like(x))


def test_no_hidden_multiply_accumulates_and_no_buffers() -> None:
    """PyTorch's flop counter finds no matmul or convolution in any of them (cnncalc's
    MACs, 0), and none holds a buffer."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    for spec, shape, reference in reference_modules():
        for module in filter(None, (built(spec, shape), reference)):
            counter = FlopCounterMode(display=False)
            with torch.no_grad(), counter:
                module.eval()(torch.randn(shape))
            assert counter.get_total_flops() == 2 * report(spec, shape).totals.macs == 0, spec
            assert sum(b.numel() for b in module.buffers()) == report(spec, shape).totals.buffers == 0


def test_a_chain_of_every_type_is_confirmed_by_execute() -> None:
    pytest.importorskip("torch")
    spec = (
        "conv2d(8, 7, padding=3, groups=4) -> permute(0, 2, 3, 1) -> layernorm(eps=1e-6) -> linear(16) "
        "-> gelu -> linear(8) -> permute(0, 3, 1, 2) -> layer_scale -> drop_path(0.1) -> layernorm2d "
        "-> transpose(2, 3) -> stochastic_depth(0.2, 'batch') -> flatten -> layer_scale(0.5)"
    )
    result = CliRunner().invoke(cli, ["execute", "--input", "4x6x5", "--batch", "2", "--format", "json", spec])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "all 14 layers confirmed"
    assert data["output_shape"] == [2, 8 * 5 * 6]
