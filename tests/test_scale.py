"""Large models work and stream: 100,000 rows from one inline spec, a generated YAML file
of explicit entries, and JSON and CSV written a row at a time. Speed is measured by
tests/benchmarks/run.py, not asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc import Report, analyse, load_model
from cnncalc.render import render

LAYERS = 100_000


@pytest.fixture(scope="module")
def deep_report() -> Report:
    spec = f"{LAYERS // 2} * (conv2d(16, 3, padding=1) -> relu)"
    return analyse(load_model(spec, (16, 32, 32)))


def test_a_100k_layer_inline_model(deep_report: Report) -> None:
    assert deep_report.error is None
    assert len(deep_report.rows) == LAYERS
    assert [row.index for row in deep_report.rows[:3]] == [1, 2, 3]
    last = deep_report.rows[-1]
    assert (last.index, last.name, last.output_shape) == (
        LAYERS, f"sequential1.{LAYERS // 2 - 1}.1", (1, 16, 32, 32)
    )  # fmt: skip
    assert deep_report.totals.params == LAYERS // 2 * (16 * 16 * 3 * 3 + 16)
    # The receptive field grows by 2 per 3×3 convolution, exactly, to the last row.
    assert last.receptive_field == (1 + 2 * LAYERS // 2,) * 2


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_json_and_csv_are_streamed_row_by_row(deep_report: Report, fmt: str) -> None:
    pieces = list(render(deep_report, "params", fmt))
    head, first = pieces[:2]
    if fmt == "csv":
        assert head.startswith("index,") and first.startswith("1,")
        assert len(pieces) == 1 + LAYERS
        return
    assert '"layers": [' in head and '"index": 1,' in first
    assert len(pieces) == 1 + LAYERS + 1  # the head, one piece a row, the totals
    document = json.loads("".join(pieces))
    assert len(document["layers"]) == LAYERS
    assert document["totals"]["params"] == deep_report.totals.params


def test_an_explicit_yaml_file_of_many_entries(tmp_path: Path) -> None:
    entries = 20_000
    cycle = ["conv2d: {out_channels: 8, kernel_size: 3, padding: 1}", "batchnorm2d", "relu"]
    lines = ["input: [8, 16, 16]", "layers:"] + [f"  - {cycle[i % 3]}" for i in range(entries)]
    path = tmp_path / "deep.yaml"
    path.write_text("\n".join(lines) + "\n")
    report = analyse(load_model(str(path)))
    assert report.error is None and len(report.rows) == entries
    assert report.rows[-1].line == entries + 2  # each row keeps its line in the file
    assert report.rows[-1].name == f"{cycle[(entries - 1) % 3].split(':')[0]}{entries}"


def test_a_failing_layer_deep_in_a_large_model() -> None:
    spec = f"{LAYERS} * relu -> linear(10) -> conv2d(4, 3)"
    report = analyse(load_model(spec, (8,)))
    assert len(report.rows) == LAYERS + 1
    assert str(report.error).startswith(f"inline spec: layer {LAYERS + 2} (conv2d3): conv2d expects")


def test_a_unet_with_1000_skip_connections() -> None:
    """1,000 encoder outputs stay alive until their decoder level adds them back: 3,000
    rows, each add reading the matching encoder level."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from run import unet_yaml

    from cnncalc.model.document import build_model
    from cnncalc.model.yaml_loader import load_yaml

    skips = 1000
    report = analyse(build_model(load_yaml(unet_yaml(skips)), "unet"))
    assert report.error is None
    assert len(report.rows) == 3 * skips
    adds = [row for row in report.rows if row.type == "add"]
    assert [row.sources for row in adds[:2]] == [("e999", "d999"), ("e998", "d998")]
    assert adds[-1].sources == ("e0", "d0")
    assert report.totals.params == 2 * skips * (8 * 8 * 9 + 8)
    # every encoder output is alive at the deepest point: the estimate holds them all
    from cnncalc.memory import estimate

    element = 4 * 8 * 16 * 16
    assert estimate(report).activation_bytes >= (skips + 1) * element
