"""Each layer type's saved-for-backward rule as arithmetic, without torch (the torch
comparison is tests/test_memory_saved.py). Expected values are written as sums a reader
can check: elements × bytes per element."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnncalc import load_model
from cnncalc.layers import ALL_TYPES
from cnncalc.layers.base import LayerType, SaveContext, Saved
from cnncalc.training_memory import BudgetError, Moment, Setup, TrainingMemory, with_budget

README = Path(__file__).resolve().parents[1] / "README.md"

FP32_CPU = SaveContext(itemsize=4, param_itemsize=4, device="cpu")
FP32_CUDA = SaveContext(itemsize=4, param_itemsize=4, device="cuda")
AMP_CPU_HALF_INPUT = SaveContext(itemsize=2, param_itemsize=4, autocast=2, device="cpu")
AMP_CUDA_HALF_INPUT = SaveContext(itemsize=2, param_itemsize=4, autocast=2, device="cuda")
AMP_FIRST = SaveContext(itemsize=4, param_itemsize=4, autocast=2, device="cuda", input_grad=False)
IMAGE = (2, 4, 8, 8)


def layer(spec: str) -> LayerType:
    node = load_model(spec, (4, 8, 8)).layers[0]
    assert node.layer is not None
    return node.layer


def saved(spec: str, shape: tuple[int, ...], ctx: SaveContext) -> Saved:
    made = layer(spec)
    return made.saved_bytes(shape, made.output_shape(shape), ctx)


@pytest.mark.parametrize(
    "spec, shape, ctx, expected",
    [
        ("conv2d(6, 3)", IMAGE, FP32_CPU, Saved(input=True)),
        # same padding: the padded copy 2·4·10·10 elements
        ("conv2d(6, 3, padding='same')", IMAGE, FP32_CPU, Saved(new=(2 * 4 * 10 * 10 * 4,))),
        # reflect: the padded copy, and the pad's own input
        ("conv2d(6, 3, padding=1, padding_mode='reflect')", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 10 * 10 * 4,))),
        # autocast on the model input: fp16 copies of the input and the 6·4·3·3 weight
        ("conv2d(6, 3)", IMAGE, AMP_FIRST, Saved(new=(2 * 4 * 8 * 8 * 2,), weights=(6 * 4 * 3 * 3 * 2,))),
        ("conv2d(6, 3)", IMAGE, AMP_CPU_HALF_INPUT, Saved(input=True, weights=(6 * 4 * 3 * 3 * 2,))),
        ("conv_transpose2d(6, 2, stride=2)", IMAGE, AMP_CUDA_HALF_INPUT, Saved(input=True, weights=(4 * 6 * 2 * 2 * 2,))),
        ("linear(5)", (2, 16), FP32_CPU, Saved(input=True)),
        # a frozen linear saves neither factor that is not a parameter
        ("linear(5)", (2, 16), SaveContext(4, 4, device="cpu", param_grad=False), Saved()),
        ("linear(5)", (2, 16), AMP_CUDA_HALF_INPUT, Saved(input=True, weights=(16 * 5 * 2,))),
        ("maxpool2d(2)", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 4 * 4 * 8,))),
        ("avgpool2d(2)", IMAGE, FP32_CPU, Saved(input=True)),
        # CPU autocast pools 3-D in float32: a float32 copy of the fp16 input
        ("maxpool3d(2)", (2, 4, 4, 4, 4), AMP_CPU_HALF_INPUT, Saved(new=(2 * 4 * 64 * 4, 2 * 4 * 8 * 8))),
        ("maxpool3d(2)", (2, 4, 4, 4, 4), AMP_CUDA_HALF_INPUT, Saved(input=True, new=(2 * 4 * 8 * 8,))),
        ("adaptive_avgpool2d(1)", IMAGE, FP32_CPU, Saved()),
        ("adaptive_avgpool2d(2)", IMAGE, FP32_CPU, Saved(input=True)),
        ("adaptive_maxpool2d(1)", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 8,))),
        ("global_avgpool", IMAGE, FP32_CPU, Saved()),
        ("global_maxpool", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 8,))),
        ("batchnorm2d", IMAGE, FP32_CPU, Saved(input=True, new=(4 * 4, 4 * 4))),
        # autocast: statistics in float32 beside the fp16 input
        ("batchnorm2d", IMAGE, AMP_CUDA_HALF_INPUT, Saved(input=True, new=(4 * 4, 4 * 4))),
        ("batchnorm2d(affine=False, track_running_stats=False)", IMAGE, AMP_CPU_HALF_INPUT, Saved(input=True, new=(4 * 2, 4 * 2))),
        ("instancenorm2d", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 4,) * 2)),
        ("instancenorm2d(affine=True, track_running_stats=True)", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 4,) * 5)),
        ("groupnorm(2)", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 2 * 4,) * 2)),
        # CUDA autocast runs group and layer norm in float32: the float32 copy is saved
        ("groupnorm(2)", IMAGE, AMP_CUDA_HALF_INPUT, Saved(new=(2 * 4 * 8 * 8 * 4, 2 * 2 * 4, 2 * 2 * 4))),
        ("layernorm", IMAGE, FP32_CPU, Saved(input=True, new=(2 * 4 * 8 * 4,) * 2)),
        ("layernorm", IMAGE, AMP_CPU_HALF_INPUT, Saved(input=True, new=(2 * 4 * 8 * 4,) * 2)),
        # dropout: a bool mask on CUDA, one in the input's type on CPU
        ("dropout(0.5)", IMAGE, FP32_CUDA, Saved(new=(2 * 4 * 8 * 8 * 1,))),
        ("dropout(0.5)", IMAGE, FP32_CPU, Saved(new=(2 * 4 * 8 * 8 * 4,))),
        ("dropout(0.5, inplace=True)", IMAGE, FP32_CUDA, Saved(new=(2 * 4 * 8 * 8 * 4,))),
        ("dropout2d(0.5)", IMAGE, FP32_CUDA, Saved(new=(2 * 4 * 4,))),
        ("dropout(0.0)", IMAGE, FP32_CUDA, Saved()),
        ("dropout(1.0)", IMAGE, FP32_CUDA, Saved(new=(4,))),
        ("relu", IMAGE, FP32_CPU, Saved(output=True)),
        ("relu(inplace=True)", IMAGE, FP32_CPU, Saved(output=True)),
        ("silu", IMAGE, FP32_CPU, Saved(input=True)),
        # in place, autograd keeps a copy of the input the gradient needs
        ("silu(inplace=True)", IMAGE, FP32_CPU, Saved(new=(2 * 4 * 8 * 8 * 4,))),
        ("leaky_relu(inplace=True)", IMAGE, FP32_CPU, Saved(output=True)),
        ("sigmoid", IMAGE, FP32_CPU, Saved(output=True)),
        ("gelu", IMAGE, FP32_CPU, Saved(input=True)),
        ("softmax(1)", IMAGE, FP32_CPU, Saved(output=True)),
        ("prelu", IMAGE, AMP_CUDA_HALF_INPUT, Saved(input=True, weights=(1 * 2,))),
        ("identity", IMAGE, FP32_CPU, Saved()),
        ("flatten", IMAGE, FP32_CPU, Saved()),
        ("zeropad2d(1)", IMAGE, FP32_CPU, Saved()),
        ("upsample(scale_factor=2, mode='bilinear')", IMAGE, FP32_CPU, Saved()),
        ("upsample(size=[2, 2], mode='area')", IMAGE, FP32_CPU, Saved(input=True)),
    ],
)
def test_saved_rule(spec: str, shape: tuple[int, ...], ctx: SaveContext, expected: Saved) -> None:
    assert saved(spec, shape, ctx) == expected


def test_output_precision_under_autocast() -> None:
    conv = layer("conv2d(6, 3)")
    assert conv.output_itemsize(IMAGE, AMP_FIRST) == 2
    assert layer("softmax(1)").output_itemsize(IMAGE, AMP_CUDA_HALF_INPUT) == 4
    assert layer("softmax(1)").output_itemsize(IMAGE, AMP_CPU_HALF_INPUT) == 2
    assert layer("layernorm").output_itemsize(IMAGE, AMP_CUDA_HALF_INPUT) == 4
    assert layer("avgpool3d(2)").output_itemsize((2, 4, 4, 4, 4), AMP_CPU_HALF_INPUT) == 4
    assert layer("batchnorm2d").output_itemsize(IMAGE, AMP_CUDA_HALF_INPUT) == 2


def test_views_and_in_place_results_share_the_input_storage() -> None:
    for spec in ("flatten", "reshape(-1)", "unflatten(1, [2, 2])", "identity", "relu(inplace=True)", "dropout(0.0)"):
        assert layer(spec).aliases_input(), spec
    for spec in ("relu", "dropout(0.5)", "zeropad2d(1)", "conv2d(4, 1)"):
        assert not layer(spec).aliases_input(), spec
    assert layer("dropout(0.5)").aliases_input(training=False)


def test_convolution_weight_copy_at_cpu_inference_only() -> None:
    conv = layer("conv2d(6, 3)")
    assert conv.workspace_bytes(IMAGE, FP32_CPU, training=False) == 6 * 4 * 3 * 3 * 4
    assert conv.workspace_bytes(IMAGE, FP32_CPU, training=True) == 0
    assert conv.workspace_bytes(IMAGE, FP32_CUDA, training=False) == 0


def test_every_layer_type_has_its_own_rule() -> None:
    """Merges and splits read or make several tensors, so the graph simulation states what
    they save (tests/test_memory_saved.py measures them); every other type states its own."""
    from cnncalc.layers.merge import MergeLayer, SplitLayer

    missing = [
        cls.type_name for cls in ALL_TYPES
        if cls.saved_bytes is LayerType.saved_bytes and not issubclass(cls, MergeLayer | SplitLayer)
    ]  # fmt: skip
    assert not missing


def test_readme_lists_what_every_layer_type_saves() -> None:
    text = README.read_text()
    section = text.split("### What each layer type saves for backward", 1)[1].split("\n### ", 1)[0]
    listed = {cell.strip().strip("`") for line in section.splitlines() if line.startswith("| `")
              for cell in line.split("|")[1].split(",")}  # fmt: skip
    missing = {cls.type_name for cls in ALL_TYPES} - listed
    assert not missing, f"README's saved-for-backward table lacks {sorted(missing)}"


# ---- the largest batch within a budget ---------------------------------------------------------
class Figures:
    """A stand-in for the analysis at batch n: peak = max over moments of a·n + c."""

    def __init__(self, moments: list[tuple[int, int]], resident: int = 0) -> None:
        self.moments_of = moments
        self.resident = resident
        self.calls: list[int] = []

    def __call__(self, n: int) -> TrainingMemory:
        self.calls.append(n)
        totals = [self.resident + a * n + c for a, c in self.moments_of]
        return TrainingMemory(
            report=None, setup=Setup(), saved={}, alive={}, param_bytes=self.resident,  # type: ignore[arg-type]
            buffer_bytes=0, grad_bytes=0, optimizer_bytes=0, saved_activation_bytes=0,
            transient_bytes=0, peak_bytes=max(totals), peak=Moment("forward", 1, 0, 0, 0),
            moments=totals,
        )  # fmt: skip


def test_max_batch_solves_the_affine_moments() -> None:
    # moments 100·n + 50 and 30·n + 400 over a resident 1,000: within 10,000 the first
    # binds at n = floor((10,000 − 1,000 − 50) / 100) = 89
    figures = Figures([(100, 50), (30, 400)], resident=1000)
    result = with_budget(figures(1), 10_000, figures)
    assert result.max_batch == (10_000 - 1000 - 50) // 100 == 89
    assert result.max_batch_peak == 1000 + 100 * 89 + 50
    assert set(figures.calls) == {1, 2, 89, 90}  # solved from 1 and 2, confirmed at 89 and 90


def test_max_batch_falls_back_to_bisection_where_not_affine() -> None:
    class Quadratic(Figures):
        def __call__(self, n: int) -> TrainingMemory:
            self.moments_of = [(n, 0)]  # peak n², not affine in n
            return super().__call__(n)

    figures = Quadratic([])
    assert with_budget(figures(1), 10_000, figures).max_batch == 100  # 100² = 10,000


def test_a_budget_below_batch_one_is_refused() -> None:
    figures = Figures([(100, 50)], resident=1000)
    with pytest.raises(BudgetError) as caught:
        with_budget(figures(1), 999, figures)
    assert "parameters and optimizer state alone need 1000 B (1,000 bytes)" in str(caught.value)
