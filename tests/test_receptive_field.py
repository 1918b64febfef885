"""Receptive fields (Araujo et al., Distill 2019): hand-worked values, VGG-16's published
figures, and a PyTorch gradient probe on random small networks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cnncalc import analyse, load_model

CONFIGS = Path(__file__).parent.parent / "configs"


def rows(spec: str, sample: tuple[int, ...]):
    report = analyse(load_model(spec, input_shape=sample))
    assert report.error is None, report.error
    return report.rows


def test_hand_worked_chain() -> None:
    conv1, conv2, pool, conv3 = rows(
        "conv2d(4, 3, padding=1) -> conv2d(4, 3, padding=1) -> maxpool2d(2) -> conv2d(4, 3, dilation=2)", (1, 32, 32)
    )
    assert (conv1.receptive_field, conv1.jump, conv1.rf_start) == ((3, 3), (1, 1), (-1, -1))
    assert (conv2.receptive_field, conv2.rf_start) == ((3 + 2, 3 + 2), (-2, -2))
    assert (pool.receptive_field, pool.jump) == ((5 + 1, 5 + 1), (2, 2))
    # dilated 3-tap kernel spans 5 positions of a layer whose jump is 2
    assert (conv3.receptive_field, conv3.jump) == ((6 + (5 - 1) * 2,) * 2, (2, 2))


def test_vgg16_published_fields() -> None:
    report = analyse(load_model(str(CONFIGS / "vgg16.yaml")))
    convs = [r for r in report.rows if r.type == "conv2d"]
    pools = [r for r in report.rows if r.type == "maxpool2d"]
    assert convs[-1].receptive_field == (196, 196)  # conv5_3
    assert pools[-1].receptive_field == (212, 212)  # pool5
    assert pools[-1].jump == (32, 32)


def test_merge_takes_the_union_of_branches() -> None:
    *_, merge = rows("parallel(conv1d(2, 1), conv1d(2, 5, padding=2), merge=add)", (1, 16))
    assert (merge.receptive_field, merge.rf_start) == ((5,), (-2,))


def test_no_field_without_spatial_dims_or_after_upsampling() -> None:
    conv, up, flat = rows("conv2d(2, 3) -> upsample(scale_factor=2) -> flatten", (1, 8, 8))
    assert conv.receptive_field == (3, 3)
    assert up.receptive_field is None and up.spatial
    assert flat.receptive_field is None and not flat.spatial


torch = pytest.importorskip("torch")


@st.composite
def probe_networks(draw):
    """Small 1-D or 2-D stacks of convolutions and average pools, as (inline spec, torch layers)."""
    nd = draw(st.integers(1, 2))
    layers, modules = [], []
    for _ in range(draw(st.integers(1, 4))):
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        if draw(st.booleans()):
            p = draw(st.integers(0, 2))
            layers.append(f"conv{nd}d(1, {k}, stride={s}, padding={p}, dilation={d}, bias=false)")
            conv = getattr(torch.nn, f"Conv{nd}d")(1, 1, k, s, p, d, bias=False)
            torch.nn.init.ones_(conv.weight)
            modules.append(conv)
        else:
            p = draw(st.integers(0, k // 2))
            layers.append(f"avgpool{nd}d({k}, stride={s}, padding={p})")
            modules.append(getattr(torch.nn, f"AvgPool{nd}d")(k, s, p))
    size = draw(st.integers(12, 40))
    return nd, " -> ".join(layers), torch.nn.Sequential(*modules), size


@given(probe_networks())
def test_field_matches_gradient_probe(network) -> None:
    nd, spec, module, size = network
    report = analyse(load_model(spec, input_shape=(1, *([size] * nd))))
    if report.error is not None:
        return  # an input too small for the stack: the refusal is tested elsewhere
    last = report.rows[-1]
    out_sizes = last.output_shape[2:]
    centre = tuple(n // 2 for n in out_sizes)
    spans = []
    for dim in range(nd):
        start = last.rf_start[dim] + centre[dim] * last.jump[dim]
        spans.append((start, start + last.receptive_field[dim] - 1))
    # Where the field reaches into padding its extremes are not real pixels to probe.
    assume(all(0 <= lo and hi <= size - 1 for lo, hi in spans))
    x = torch.ones((1, 1, *([size] * nd)), requires_grad=True)
    out = module(x)
    out[(0, 0, *centre)].backward()
    touched = x.grad[0, 0].nonzero()
    for dim in range(nd):
        got = (int(touched[:, dim].min()), int(touched[:, dim].max()))
        assert got == spans[dim], f"dim {dim}: cnncalc shapes --input 1x{'x'.join([str(size)] * nd)} \"{spec}\""
