"""Pasting PyTorch and Keras: ``nn.Conv2d(3, 16, 3)`` takes PyTorch's signature,
``nn.Sequential(...)`` is an inline model, a short form that reads a pasted line differently
says so, Keras's ``activation=`` adds its own row, and inputs written channels-last or with
the batch get a hint. Pasted constructors are compared with the real PyTorch modules built
from the same text's arguments."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli
from cnncalc.model.inline import Call, parse_inline
from cnncalc.model.pytorch_signatures import SIGNATURES, torch_class


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def rows_of(text: str, sample: tuple[int, ...]) -> tuple[list[dict[str, Any]], str]:
    result = run("params", "--input", "x".join(map(str, sample)), text, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["layers"], result.stderr


def as_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(as_tuples(v) for v in value)
    return value


def torch_module(text: str) -> Any:
    """The PyTorch module a pasted constructor names, built from the arguments the inline
    parser read out of the same text (never evaluated)."""
    from torch import nn

    [entry] = parse_inline(text)
    [(name, call)] = entry.items()
    assert isinstance(call, Call)
    cls = getattr(nn, torch_class(name) or "")
    keywords = {k: as_tuples(v) for k, v in call.keywords.items()}
    return cls(*as_tuples(call.positional), **keywords)


# (pasted constructor, one sample's shape); every class of the signature table appears.
CONSTRUCTORS = [
    ("nn.Conv1d(2, 4, 5, padding=2, padding_mode='reflect')", (2, 20)),
    ("nn.Conv2d(3, 16, 3)", (3, 32, 32)),
    ("nn.Conv2d(3, 16, kernel_size=(3, 5), stride=2, padding=1, bias=False)", (3, 17, 19)),
    ("nn.Conv2d(4, 8, 3, 1, 'same', 2, 2)", (4, 10, 10)),
    ("torch.nn.Conv2d(1, 6, 5)", (1, 32, 32)),
    ("nn.Conv3d(2, 4, 3, stride=(1, 2, 2))", (2, 8, 9, 9)),
    ("nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1)", (4, 9)),
    ("nn.ConvTranspose2d(16, 8, 4, 2, 1)", (16, 7, 7)),
    ("nn.ConvTranspose3d(2, 4, 2, 2, groups=2)", (2, 3, 3, 3)),
    ("nn.Linear(4096, 10)", (4096,)),
    ("nn.Linear(in_features=12, out_features=5, bias=False)", (3, 12)),
    ("nn.Linear(10, 5, True, None, None)", (10,)),
    ("nn.BatchNorm1d(16, 1e-3, 0.01, affine=False)", (16,)),
    ("nn.BatchNorm2d(64)", (64, 4, 4)),
    ("nn.BatchNorm3d(4, track_running_stats=False, bias=True)", (4, 2, 3, 3)),
    ("nn.InstanceNorm1d(3)", (3, 10)),
    ("nn.InstanceNorm2d(8, affine=True)", (8, 5, 5)),
    ("nn.InstanceNorm3d(2, eps=1e-3)", (2, 3, 3, 3)),
    ("nn.GroupNorm(4, 16)", (16, 6, 6)),
    ("nn.LayerNorm((8, 8))", (4, 8, 8)),
    ("nn.LayerNorm(10, elementwise_affine=False)", (3, 10)),
    ("nn.MaxPool1d(3, 2, 1, ceil_mode=True)", (2, 10)),
    ("nn.MaxPool2d(2)", (3, 9, 9)),
    ("nn.MaxPool3d(2, dilation=1)", (1, 4, 4, 4)),
    ("nn.AvgPool1d(2)", (2, 7)),
    ("nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", (3, 9, 9)),
    ("nn.AvgPool3d(2, divisor_override=3)", (2, 4, 4, 4)),
    ("nn.AdaptiveAvgPool1d(3)", (2, 9)),
    ("nn.AdaptiveAvgPool2d((1, 1))", (8, 7, 7)),
    ("nn.AdaptiveAvgPool3d((2, None, 3))", (1, 4, 5, 6)),
    ("nn.AdaptiveMaxPool1d(4)", (3, 10)),
    ("nn.AdaptiveMaxPool2d((2, 3), return_indices=False)", (3, 8, 9)),
    ("nn.AdaptiveMaxPool3d(2)", (1, 4, 4, 4)),
    ("nn.Flatten()", (2, 3, 4)),
    ("nn.Flatten(2, -1)", (2, 3, 4)),
    ("nn.Unflatten(1, (2, 6))", (12,)),
    ("nn.ZeroPad1d(2)", (3, 5)),
    ("nn.ZeroPad2d((1, 2, 0, 3))", (1, 4, 4)),
    ("nn.ZeroPad3d(1)", (2, 3, 3, 3)),
    ("nn.PixelShuffle(2)", (8, 3, 3)),
    ("nn.PixelUnshuffle(2)", (2, 4, 6)),
    ("nn.Upsample(scale_factor=2, mode='bilinear')", (3, 5, 5)),
    ("nn.Upsample(size=(7, 9), recompute_scale_factor=None)", (3, 4, 4)),
    ("nn.UpsamplingNearest2d(size=6)", (3, 4, 4)),
    ("nn.UpsamplingBilinear2d(scale_factor=2)", (3, 4, 4)),
    ("nn.Dropout(0.2)", (10,)),
    ("nn.Dropout1d(p=0.1)", (3, 5)),
    ("nn.Dropout2d(0.3, True)", (3, 4, 4)),
    ("nn.Dropout3d()", (2, 3, 3, 3)),
    ("nn.ReLU(inplace=True)", (3, 4, 4)),
    ("nn.ReLU6()", (3, 4, 4)),
    ("nn.LeakyReLU(0.2)", (3, 4, 4)),
    ("nn.PReLU(3)", (3, 4, 4)),
    ("nn.ELU(alpha=0.5)", (3, 4, 4)),
    ("nn.SELU()", (3, 4, 4)),
    ("nn.GELU(approximate='tanh')", (3, 4, 4)),
    ("nn.SiLU()", (3, 4, 4)),
    ("nn.Mish()", (3, 4, 4)),
    ("nn.Sigmoid()", (3, 4, 4)),
    ("nn.Hardsigmoid()", (3, 4, 4)),
    ("nn.Hardswish()", (3, 4, 4)),
    ("nn.Tanh()", (3, 4, 4)),
    ("nn.Softmax(dim=1)", (3, 4, 4)),
    ("nn.LogSoftmax(1)", (3, 4, 4)),
    ("nn.Softmax(dim=None)", (5,)),
    ("nn.Identity()", (3, 4, 4)),
]


def test_every_table_row_has_a_case() -> None:
    pasted = {torch_class(next(iter(parse_inline(text)[0]))) for text, _ in CONSTRUCTORS}
    assert pasted == {s.torch_name for s in SIGNATURES.values()}


@pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")  # dim=None
@pytest.mark.parametrize(("text", "sample"), CONSTRUCTORS)
def test_pasted_constructor_agrees_with_pytorch(text: str, sample: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    module = torch_module(text).eval()
    with torch.no_grad():
        out = module(torch.randn(1, *sample))
    [row], stderr = rows_of(text, sample)
    assert stderr == ""
    assert row["output_shape"] == list(out.shape)
    assert row["params"] == sum(p.numel() for p in module.parameters())
    assert row["buffers"] == sum(b.numel() for b in module.buffers())


def test_signature_table_is_pytorchs() -> None:
    """Each row's parameters are PyTorch's positional-or-keyword parameters in order, its
    required count PyTorch's, and every keyword-only one is known."""
    pytest.importorskip("torch")
    from torch import nn

    for signature in SIGNATURES.values():
        params = list(inspect.signature(getattr(nn, signature.torch_name)).parameters.values())
        ordered = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        keyword_only = {p.name for p in params if p.kind is p.KEYWORD_ONLY}
        assert tuple(p.name for p in ordered) == signature.parameters, signature.torch_name
        required = [p for p in ordered if p.default is p.empty]
        assert len(required) == signature.required, signature.torch_name
        assert keyword_only <= set(signature.torch_only), signature.torch_name
        for name, default in signature.torch_only.items():
            assert {p.name: p.default for p in params}[name] == default, signature.torch_name


SEQUENTIAL = (
    "nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True), "
    "nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), "
    "nn.Flatten(), nn.Dropout(0.5), nn.Linear(32, 10))"
)


def test_pasted_sequential_is_the_model_and_agrees_with_pytorch() -> None:
    torch = pytest.importorskip("torch")
    block = parse_inline(SEQUENTIAL)  # the model is nn.Sequential's children, pasted calls
    children = [torch_module(f"{name}({_args(call)})") for e in block for name, call in e.items()]
    model = torch.nn.Sequential(*children).eval()
    rows, stderr = rows_of(SEQUENTIAL, (3, 32, 32))
    assert stderr == ""
    assert [r["name"] for r in rows] == [
        "conv2d1", "batchnorm2d2", "relu3", "maxpool2d4", "conv2d5", "relu6",
        "adaptive_avgpool2d7", "flatten8", "dropout9", "linear10",
    ]  # fmt: skip
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for row, child in zip(rows, children, strict=True):
            x = child(x)
            assert row["output_shape"] == list(x.shape), row["name"]
            assert row["params"] == sum(p.numel() for p in child.parameters()), row["name"]
    assert sum(r["params"] for r in rows) == sum(p.numel() for p in model.parameters())


def _args(call: Call) -> str:
    """A Call written back as the inline form writes arguments."""
    from cnncalc.model.pytorch_signatures import as_python

    parts = [as_python(v) for v in call.positional]
    return ", ".join(parts + [f"{k}={as_python(v)}" for k, v in call.keywords.items()])


def test_pasted_sequential_is_parsed_by_the_inline_parser() -> None:
    assert parse_inline("nn.Sequential(nn.ReLU(), nn.Linear(4, 2))") == [
        {"nn.ReLU": Call([], {})}, {"nn.Linear": Call([4, 2], {})},
    ]  # fmt: skip
    assert parse_inline("torch.nn.Sequential(nn.ReLU()) -> relu") == [
        {"sequential": [{"nn.ReLU": Call([], {})}]}, "relu",
    ]  # fmt: skip


def test_pasted_constructors_in_yaml(tmp_path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(
        "input: [3, 8, 8]\nlayers:\n  - nn.Conv2d: [3, 4, 3]\n  - nn.BatchNorm2d: 4\n"
        "  - nn.ReLU\n  - nn.Sequential: [nn.Flatten, {nn.Linear: {in_features: 144, out_features: 2}}]\n"
    )
    rows, stderr = rows_of(str(path), (3, 8, 8))
    assert stderr == ""
    assert [(r["type"], r["output_shape"], r["params"]) for r in rows] == [
        ("conv2d", [1, 4, 6, 6], 4 * 3 * 3 * 3 + 4),
        ("batchnorm2d", [1, 4, 6, 6], 2 * 4),
        ("relu", [1, 4, 6, 6], 0),
        ("flatten", [1, 144], 0),
        ("linear", [1, 2], 144 * 2 + 2),
    ]
    assert [r["name"] for r in rows][3:] == ["sequential4.0", "sequential4.1"]


@pytest.mark.parametrize(
    ("text", "sample", "message"),
    [
        ("nn.Conv2d(3, 16, 3)", "4x32x32",
         "inline spec: layer 1 (conv2d1): conv2d in_channels 3 but the input has 4 channels"),
        ("nn.Linear(4096, 10)", "2048",
         "inline spec: layer 1 (linear1): linear in_features 4096 but the input's last "
         "dimension is 2048 (input [1, 2048])"),
        ("nn.Flatten() -> nn.Linear(400, 10)", "16x4x4",
         "inline spec: layer 2 (linear2): linear in_features 400 but the flattened input has "
         "256 = 16×4×4"),
        ("nn.BatchNorm2d(64)", "32x8x8",
         "inline spec: layer 1 (batchnorm2d1): batchnorm2d num_features 64 but the input has "
         "32 channels"),
        ("nn.GroupNorm(4, 16)", "8x8x8",
         "inline spec: layer 1 (groupnorm1): groupnorm num_channels 16 but the input has "
         "8 channels"),
        ("nn.ConvTranspose2d(8, 4, 2)", "16x8x8",
         "inline spec: layer 1 (conv_transpose2d1): conv_transpose2d in_channels 8 but the "
         "input has 16 channels"),
        ("nn.Conv2d(16, 3)", "16x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d needs kernel_size: PyTorch's Conv2d "
         "takes in_channels, out_channels, kernel_size first"),
        ("nn.Conv2d(out_channels=16, kernel_size=3)", "3x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d needs in_channels: PyTorch's Conv2d "
         "takes in_channels, out_channels, kernel_size first"),
        ("nn.Conv2d(3, 16, 3, filters=4)", "3x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d has no argument 'filters'; PyTorch's "
         "signature is Conv2d(in_channels, out_channels, kernel_size, stride, padding, "
         "dilation, groups, bias, padding_mode, device, dtype)"),
        ("nn.Conv2d(3, 16, 3, 1, 0, 1, 1, True, 'zeros', None, None, 7)", "3x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d takes at most 11 positional arguments "
         "(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, "
         "padding_mode, device, dtype), got 12"),
        ("nn.Conv2d(3, 16, 3, in_channels=3)", "3x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d got in_channels both by position and "
         "by name"),
        ("nn.BatchNorm2d(3, bias=False)", "3x8x8",
         "inline spec: layer 1 (nn.BatchNorm2d1): nn.BatchNorm2d bias=False is not supported: "
         "cnncalc's batchnorm2d has no bias (only PyTorch's default, True)"),
        ("nn.AdaptiveMaxPool2d(1, True)", "3x8x8",
         "inline spec: layer 1 (nn.AdaptiveMaxPool2d1): nn.AdaptiveMaxPool2d "
         "return_indices=True is not supported: cnncalc's adaptive_maxpool2d has no "
         "return_indices (only PyTorch's default, False)"),
        ("nn.Conv2x(3, 16, 3)", "3x8x8",
         "inline spec: layer 1 (nn.Conv2x1): unknown PyTorch layer 'nn.Conv2x' (did you mean "
         "nn.Conv2d?); the nn. form takes PyTorch's constructors of cnncalc's layer types "
         "(`cnncalc layers` lists them)"),
        ("nn.Conv2d(3, 16, 3, activation='relu')", "3x8x8",
         "inline spec: layer 1 (nn.Conv2d1): nn.Conv2d has no argument 'activation' "
         "(PyTorch's activations are layers of their own, as -> nn.ReLU()); PyTorch's "
         "signature is Conv2d(in_channels, out_channels, kernel_size, stride, padding, "
         "dilation, groups, bias, padding_mode, device, dtype)"),
    ],
)  # fmt: skip
def test_pasted_constructor_refusals(text: str, sample: str, message: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


# ---- the short form read as a pasted line ------------------------------------------------
def test_short_form_that_reads_a_pasted_line_differently_says_so() -> None:
    result = run("shapes", "--input", "3x32x32", "conv2d(3, 16, 3)")
    assert result.exit_code == 0  # the exit status is unchanged: the short form is valid
    assert result.stderr == (
        "note: layer 1 (conv2d1): conv2d(3, 16, 3) reads 3 as out_channels, 16 as "
        "kernel_size, 3 as stride (the short form leaves in_channels out); a pasted PyTorch "
        "line, Conv2d(in_channels, out_channels, kernel_size, ...), is written "
        "nn.Conv2d(3, 16, 3)\n"
    )
    assert "[1, 3, 6, 6]" in result.stdout  # (32 - 16) // 3 + 1 = 6: what the short form says
    pasted = run("shapes", "--input", "3x32x32", "nn.Conv2d(3, 16, 3)")
    assert (pasted.exit_code, pasted.stderr) == (0, "")
    assert "output: [1, 16, 30, 30]" in pasted.stdout


@pytest.mark.parametrize(
    ("text", "sample", "note"),
    [
        ("batchnorm2d(64)", "64x8x8",
         "layer 1 (batchnorm2d1): batchnorm2d(64) reads 64 as eps (the short form leaves "
         "num_features out); a pasted PyTorch line, BatchNorm2d(num_features, ...), is written "
         "nn.BatchNorm2d(64)"),
        ("relu -> conv_transpose2d(8, 4, 2, padding=1)", "8x5x5",
         "layer 2 (conv_transpose2d2): conv_transpose2d(8, 4, 2, padding=1) reads 8 as "
         "out_channels, 4 as kernel_size, 2 as stride (the short form leaves in_channels out); "
         "a pasted PyTorch line, ConvTranspose2d(in_channels, out_channels, kernel_size, ...), "
         "is written nn.ConvTranspose2d(8, 4, 2, padding=1)"),
    ],
)  # fmt: skip
def test_short_form_notes(text: str, sample: str, note: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert result.exit_code == 0
    assert result.stderr == f"note: {note}\n"


@pytest.mark.parametrize(
    ("text", "sample"),
    [
        ("conv2d(16, 3, 1)", "3x8x8"),  # the first argument is not the input's channels
        ("conv2d(64, 3, padding=1)", "64x8x8"),  # PyTorch would need a kernel_size
        ("conv2d(64, 3, 1, in_channels=64)", "64x8x8"),  # in_channels named: no confusion
        ("conv2d(out_channels=3, kernel_size=3)", "3x8x8"),  # nothing positional
        ("linear(10)", "10"),  # nn.Linear(10) lacks out_features
    ],
)
def test_no_note_where_the_readings_cannot_be_confused(text: str, sample: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert (result.exit_code, result.stderr) == (0, "")


def test_short_form_error_says_how_a_pasted_line_is_written() -> None:
    result = run("shapes", "--input", "4096", "linear(4096, 10)")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: inline spec: layer 1 (linear1): linear bias must be true or false, got 10; a "
        "pasted PyTorch line, Linear(in_features, out_features, ...), is written "
        "nn.Linear(4096, 10)\n"
    )


# ---- Keras's activation= ------------------------------------------------------------------
def test_keras_activation_adds_its_own_row_inline() -> None:
    text = "Conv2D(16, 3, activation='relu') -> flatten -> Dense(10, activation=softmax)"
    rows, stderr = rows_of(text, (3, 8, 8))
    assert stderr == ""
    assert [(r["name"], r["type"], r["output_shape"], r["params"]) for r in rows] == [
        ("conv2d1", "conv2d", [1, 16, 6, 6], 16 * 3 * 3 * 3 + 16),
        ("conv2d1.activation", "relu", [1, 16, 6, 6], 0),
        ("flatten2", "flatten", [1, 576], 0),
        ("linear3", "linear", [1, 10], 576 * 10 + 10),
        ("linear3.activation", "softmax", [1, 10], 0),
    ]


def test_keras_activation_in_yaml_with_name_and_repeat(tmp_path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(
        "input: [3, 8, 8]\nlayers:\n"
        "  - Conv2D: {filters: 4, kernel_size: 3, padding: same, activation: relu}\n"
        "    name: stem\n"
        "  - conv2d: {out_channels: 4, kernel_size: 1, activation: hard_sigmoid}\n"
        "    repeat: 2\n"
        "  - conv_transpose2d: {out_channels: 2, kernel_size: 2, stride: 2, activation: linear}\n"
        "  - Dense: {units: 3, activation: null}\n"
    )
    rows, _ = rows_of(str(path), (3, 8, 8))
    assert [(r["name"], r["type"]) for r in rows] == [
        ("stem", "conv2d"), ("stem.activation", "relu"),
        ("conv2d2.0", "conv2d"), ("conv2d2.0.activation", "hardsigmoid"),
        ("conv2d2.1", "conv2d"), ("conv2d2.1.activation", "hardsigmoid"),
        ("conv_transpose2d3", "conv_transpose2d"),  # Keras's linear: no activation
        ("linear4", "linear"),  # Keras's default, None: no activation
    ]  # fmt: skip


def test_keras_activation_runs_in_pytorch() -> None:
    pytest.importorskip("torch")
    result = run("execute", "--input", "3x8x8", "Conv2D(4, 3, activation='relu') -> flatten -> Dense(2, activation='sigmoid')")
    assert result.exit_code == 0, result.stderr
    assert "all 5 layers confirmed" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv2d(4, 3, activation='relux')",
         "conv2d activation must name an activation (relu, relu6, leaky_relu, elu, selu, "
         "gelu, silu, mish, sigmoid, hardsigmoid, hardswish, tanh, identity, softmax, "
         "log_softmax, prelu, or linear for none), got 'relux'"),
        ("conv2d(4, 3, activation=3)",
         "conv2d activation must name an activation (relu, relu6, leaky_relu, elu, selu, "
         "gelu, silu, mish, sigmoid, hardsigmoid, hardswish, tanh, identity, softmax, "
         "log_softmax, prelu, or linear for none), got 3"),
        ("maxpool2d(2, activation='relu')",
         "maxpool2d takes no activation (Keras's activation= belongs to convolutions and "
         "dense layers); add the activation as a layer of its own"),
    ],
)  # fmt: skip
def test_keras_activation_refusals(text: str, message: str) -> None:
    result = run("shapes", "--input", "3x8x8", text)
    assert result.exit_code == 2
    assert result.stderr == f"error: inline spec: layer 1 ({text.split('(')[0]}1): {message}\n"


# ---- channels-last and batch-included inputs ---------------------------------------------
@pytest.mark.parametrize(
    ("sample", "text", "message"),
    [
        ("28x28x1", "conv2d(16, 3)",
         "conv2d kernel is larger than the padded input: padded input 28×1, kernel 3×3 "
         "(kernel_size 3×3, dilation 1×1) on input [1, 28, 28, 1]; cnncalc is channels-first: "
         "28x28x1 reads as 28 channels of 28×1; for 1 channel of 28×28 give 1x28x28"),
        ("28x28x1", "nn.Conv2d(1, 16, 3)",
         "conv2d in_channels 1 but the input has 28 channels; cnncalc is channels-first: "
         "28x28x1 reads as 28 channels of 28×1; for 1 channel of 28×28 give 1x28x28"),
        ("224x224x3", "nn.Conv2d(3, 64, 7, 2, 3)",
         "conv2d in_channels 3 but the input has 224 channels; cnncalc is channels-first: "
         "224x224x3 reads as 224 channels of 224×3; for 3 channels of 224×224 give 3x224x224"),
        ("1x3x32x32", "conv2d(16, 3)",
         "conv2d expects a (N, C, H, W) input, got [1, 1, 3, 32, 32] (4-D per sample); if the "
         "first 1 is the batch, leave it out: the input is one sample, 3x32x32, and --batch "
         "sets the batch"),
        ("8x3x32x32", "residual(conv2d(3, 3, padding=1))",
         "conv2d expects a (N, C, H, W) input, got [1, 8, 3, 32, 32] (4-D per sample); if the "
         "first 8 is the batch, leave it out: the input is one sample, 3x32x32, and --batch "
         "sets the batch"),
    ],
)  # fmt: skip
def test_input_layout_hints(sample: str, text: str, message: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert result.exit_code == 2
    name = "conv2d1"  # an unnamed residual block adds no segment of its own
    assert result.stderr == f"error: inline spec: layer 1 ({name}): {message}\n"


def test_channels_last_input_that_works_gets_a_note() -> None:
    result = run("shapes", "--input", "32x32x3", "conv2d(16, 3) -> relu")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: cnncalc is channels-first: 32x32x3 reads as 32 channels of 32×3; for 3 channels "
        "of 32×32 give 3x32x32\n"
    )
    assert "output: [1, 16, 30, 1]" in result.stdout


@pytest.mark.parametrize(
    ("sample", "text"),
    [
        ("64x16x4", "conv2d(8, 3)"),  # 16 is not large beside 4: plausibly 64 channels
        ("32x32x3", "relu"),  # no window in the first layer
        ("32x32x3", "nn.Conv2d(32, 8, 3)"),  # 32 input channels, said outright
        ("3x32x32", "conv2d(8, 3)"),
    ],
)
def test_no_layout_note_where_the_input_is_plausibly_channels_first(sample: str, text: str) -> None:
    result = run("shapes", "--input", sample, text)
    assert (result.exit_code, result.stderr) == (0, "")


def test_no_hint_where_no_rearrangement_fits() -> None:
    result = run("shapes", "--input", "3x32x32", "conv1d(4, 3)")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: inline spec: layer 1 (conv1d1): conv1d expects a (N, C, L) input, got "
        "[1, 3, 32, 32] (3-D per sample)\n"
    )
