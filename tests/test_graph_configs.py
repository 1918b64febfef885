"""The graph models in configs/ against the same networks in plain torch.nn
(``reference_graphs.py``): every output's shape, params, MACs to the integer, and the rows
with parameters named as the module's ``named_parameters()``; the published figures at
full size. ``test_execute.py`` runs every config through ``execute``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from cnncalc import analyse, load_model

CONFIGS = Path(__file__).parent.parent / "configs"
GRAPH_CONFIGS = ("shufflenetv2.yaml", "deeplabv3_resnet50.yaml", "fpn_detector.yaml", "siamese.yaml")
# Sizes that keep the runs quick; DeepLab is checked at 520x520 against the published
# figures below, without torch.
COMPARED_ON = {"deeplabv3_resnet50.yaml": (3, 72, 88)}


def report_for(name: str, sample: tuple[int, ...] | None = None) -> Any:
    report = analyse(load_model(str(CONFIGS / name), sample))
    assert report.error is None, report.error
    return report


@functools.cache
def torch_figures(name: str) -> tuple[tuple[tuple[int, ...], ...], int, int, list[str]]:
    pytest.importorskip("torch")
    import reference_graphs

    build, inputs = reference_graphs.GRAPHS[name]
    module = build()
    shapes, macs = reference_graphs.run(module, inputs)
    prefixes = list(dict.fromkeys(n.rpartition(".")[0] for n, _ in module.named_parameters()))
    return shapes, sum(p.numel() for p in module.parameters()), macs, prefixes


@pytest.mark.parametrize("name", GRAPH_CONFIGS)
def test_graph_config_matches_torch(name: str) -> None:
    shapes, params, macs, prefixes = torch_figures(name)
    report = report_for(name, COMPARED_ON.get(name))
    assert tuple(t.shape for t in report.outputs) == shapes
    assert report.totals.params == params
    assert report.totals.macs == macs
    assert [row.name for row in report.rows if row.params] == prefixes


@pytest.mark.parametrize(
    ("name", "params", "macs", "gmacs"),
    [
        # torchvision's published figures: 2,278,604 params and 0.14 GFLOPS for ShuffleNetV2
        # x1.0 at 224x224; 42,004,074 params and 178.72 GFLOPS for DeepLabV3-ResNet50 at
        # 520x520 (torchvision's GFLOPS are multiply-accumulates)
        ("shufflenetv2.yaml", 2_278_604, 144_907_992, "0.145"),
        ("deeplabv3_resnet50.yaml", 42_004_074, 178_721_945_088, "178.722"),
    ],
)
def test_published_figures_at_full_size(name: str, params: int, macs: int, gmacs: str) -> None:
    report = report_for(name)
    assert report.totals.params == params
    assert report.totals.macs == macs
    assert f"{report.totals.macs / 1e9:.3f}" == gmacs


def test_deeplab_is_right_at_any_input_size() -> None:
    for size in ((3, 520, 520), (3, 512, 512), (3, 97, 131)):
        report = report_for("deeplabv3_resnet50.yaml", size)
        assert [(t.name, t.shape) for t in report.outputs] == [
            ("out", (1, 21, *size[1:])), ("aux", (1, 21, *size[1:])),
        ]  # fmt: skip


def test_siamese_counts_the_tower_once_and_runs_it_twice() -> None:
    report = report_for("siamese.yaml")
    tower = [r for r in report.rows if r.name.startswith("tower.")]
    shared = [r for r in report.rows if r.name.startswith("tower_right.")]
    assert [r.shares for r in shared] == [r.name for r in tower]
    assert sum(r.params for r in shared) == 0
    assert sum(r.macs for r in shared) == sum(r.macs for r in tower) > 0


def test_fpn_detector_has_three_outputs_and_a_shared_head() -> None:
    report = report_for("fpn_detector.yaml")
    assert [(t.name, t.shape) for t in report.outputs] == [
        ("head", (1, 18, 32, 32)), ("head2", (1, 18, 16, 16)), ("head3", (1, 18, 8, 8)),
    ]  # fmt: skip
    # the ReLU between the head's convs is one module too
    assert [r.shares for r in report.rows if r.shares] == ["head.0", "head.1", "head.2"] * 2
