"""Counting conventions (SPEC §6) against PyTorch: params equal ``parameters()``, buffers
equal ``buffers()``, MACs and FLOPs equal ``torch.utils.flop_counter`` on convolution and
linear layers, including the cases other tools get wrong."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc import analyse, load_model  # noqa: E402


def torch_flops(module: nn.Module, shape: tuple[int, ...]) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(torch.randn(shape))
    return counter.get_total_flops()


def report(spec: str, shape: tuple[int, ...]):
    result = analyse(load_model(spec, input_shape=shape[1:]), batch=shape[0])
    assert result.error is None, result.error
    return result


# Peers known to be wrong here: torchinfo/thop/torchscan over-count transposed convolution by
# stride², calflops reports 0 for grouped transposed convolution, torchinfo is 10× low on
# linear over a (2, 10, 64) input.
FLOP_CASES = [
    ("conv2d(8, 3, stride=2, padding=1, bias=false)", (2, 4, 9, 9), lambda: nn.Conv2d(4, 8, 3, 2, 1, bias=False)),
    ("conv2d(8, 3, groups=4, bias=false)", (1, 4, 9, 9), lambda: nn.Conv2d(4, 8, 3, groups=4, bias=False)),
    ("conv1d(8, 5, dilation=2, bias=false)", (1, 3, 20), lambda: nn.Conv1d(3, 8, 5, dilation=2, bias=False)),
    ("conv3d(4, 3, bias=false)", (1, 2, 5, 6, 7), lambda: nn.Conv3d(2, 4, 3, bias=False)),
    ("conv_transpose2d(8, 4, stride=2, padding=1, bias=false)", (1, 16, 7, 7), lambda: nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False)),
    ("conv_transpose2d(8, 3, stride=3, groups=2, bias=false)", (1, 4, 5, 5), lambda: nn.ConvTranspose2d(4, 8, 3, 3, groups=2, bias=False)),
    ("conv_transpose1d(6, 5, stride=4, bias=false)", (2, 3, 7), lambda: nn.ConvTranspose1d(3, 6, 5, 4, bias=False)),
    ("linear(32, bias=false)", (2, 10, 64), lambda: nn.Linear(64, 32, bias=False)),
    ("linear(10, bias=false)", (3, 400), lambda: nn.Linear(400, 10, bias=False)),
]


@pytest.mark.parametrize(("spec", "shape", "build"), FLOP_CASES, ids=[c[0] for c in FLOP_CASES])
def test_macs_and_flops_match_flop_counter(spec, shape, build) -> None:
    counted = torch_flops(build(), shape)
    totals = report(spec, shape).totals
    assert totals.flops == counted
    assert totals.macs * 2 == counted


def test_transposed_macs_by_hand() -> None:
    # each of the 16·7·7 input elements meets 8 output channels through a 4×4 kernel
    assert report("conv_transpose2d(8, 4, stride=2, padding=1)", (1, 16, 7, 7)).totals.macs == 16 * 7 * 7 * 8 * 4 * 4


def test_grouped_transposed_macs_by_hand() -> None:
    assert report("conv_transpose2d(8, 3, stride=3, groups=2)", (1, 4, 5, 5)).totals.macs == 4 * 5 * 5 * (8 // 2) * 3 * 3


def test_linear_on_nd_input_counts_every_position() -> None:
    # (2, 10, 64) -> (2, 10, 32): 2·10 rows of 64×32 multiply-accumulates
    assert report("linear(32)", (2, 10, 64)).totals.macs == 2 * 10 * 64 * 32


def test_bias_adds_one_flop_per_output_element() -> None:
    totals = report("conv2d(6, 5)", (1, 1, 32, 32)).totals
    assert totals.macs == 6 * 28 * 28 * 1 * 5 * 5
    assert totals.flops == 2 * totals.macs + 6 * 28 * 28


def test_frozen_params_stay_in_the_total() -> None:
    totals = report("linear(10, trainable=false) -> linear(5)", (1, 20)).totals
    assert totals.params == 210 + 55
    assert (totals.trainable_params, totals.non_trainable_params) == (55, 210)


PARAM_CASES = [
    ("batchnorm2d", (2, 6, 4, 4), lambda: nn.BatchNorm2d(6)),
    ("batchnorm2d(track_running_stats=false)", (2, 6, 4, 4), lambda: nn.BatchNorm2d(6, track_running_stats=False)),
    ("instancenorm2d(affine=true, track_running_stats=true)", (2, 6, 4, 4), lambda: nn.InstanceNorm2d(6, affine=True, track_running_stats=True)),
    ("groupnorm(2)", (2, 6, 4, 4), lambda: nn.GroupNorm(2, 6)),
    ("layernorm((4, 4))", (2, 6, 4, 4), lambda: nn.LayerNorm((4, 4))),
    ("prelu(6)", (2, 6, 4, 4), lambda: nn.PReLU(6)),
    ("conv_transpose2d(6, 3, groups=3)", (1, 6, 4, 4), lambda: nn.ConvTranspose2d(6, 6, 3, groups=3)),
]


@pytest.mark.parametrize(("spec", "shape", "build"), PARAM_CASES, ids=[c[0] for c in PARAM_CASES])
def test_params_and_buffers_match_torch(spec, shape, build) -> None:
    module = build()
    totals = report(spec, shape).totals
    assert totals.params == sum(p.numel() for p in module.parameters())
    assert totals.buffers == sum(b.numel() for b in module.buffers())


def test_memory_figures_follow_dtype() -> None:
    model = load_model("conv2d(4, 3)", input_shape=(3, 8, 8))
    wide, narrow = analyse(model, dtype="float32").totals, analyse(model, dtype="float16").totals
    assert wide.param_bytes == (4 * 3 * 9 + 4) * 4 and narrow.param_bytes == (4 * 3 * 9 + 4) * 2
    assert wide.activation_bytes == (3 * 8 * 8 + 4 * 6 * 6) * 4
    assert analyse(model, dtype="int8").totals.param_bytes == 4 * 3 * 9 + 4
