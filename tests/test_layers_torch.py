"""Every layer type against real PyTorch: a table of cases built directly in torch.nn, where
cnncalc's output shape (or refusal) and parameter count must equal torch's. The refusal
messages need no torch and run everywhere; the torch cases skip themselves without it."""

from __future__ import annotations

import pytest
from cnncalc_oracle import REFUSED, cnncalc_shape, repro

from cnncalc import analyse, load_model

try:
    import torch
    from reference_nets import LayerNorm2d, Permute, StochasticDepth
    from torch import nn
except ImportError:  # the cases below are built only when their test runs, which needs torch
    torch = nn = LayerNorm2d = Permute = StochasticDepth = None

# (inline spec, batched input shape, the same layer built in torch)
CASES = [
    # convolution
    ("conv1d(4, 3)", (1, 2, 5), lambda: nn.Conv1d(2, 4, 3)),
    ("conv2d(64, 7, stride=2, padding=3)", (1, 3, 224, 224), lambda: nn.Conv2d(3, 64, 7, 2, 3)),
    ("conv2d(4, 3, stride=2, padding=(1, 0))", (1, 3, 8, 8), lambda: nn.Conv2d(3, 4, 3, 2, (1, 0))),
    ("conv2d(4, 3, dilation=2, padding=1)", (1, 3, 10, 10), lambda: nn.Conv2d(3, 4, 3, padding=1, dilation=2)),
    ("conv2d(4, 5, padding=1)", (1, 3, 5, 5), lambda: nn.Conv2d(3, 4, 5, padding=1)),
    ("conv2d(4, 5)", (1, 3, 3, 3), lambda: nn.Conv2d(3, 4, 5)),
    ("conv2d(4, 3, dilation=2)", (1, 3, 4, 4), lambda: nn.Conv2d(3, 4, 3, dilation=2)),
    ("conv3d(4, 3)", (1, 2, 2, 5, 5), lambda: nn.Conv3d(2, 4, 3)),
    ("conv3d(4, (1, 3, 3), padding=(0, 1, 1))", (2, 2, 3, 6, 6), lambda: nn.Conv3d(2, 4, (1, 3, 3), padding=(0, 1, 1))),
    ("conv2d(9, 3, groups=3)", (1, 6, 8, 8), lambda: nn.Conv2d(6, 9, 3, groups=3)),
    ("conv2d(4, 3, groups=2)", (1, 3, 8, 8), lambda: nn.Conv2d(3, 4, 3, groups=2)),
    ("conv2d(3, 3, groups=2)", (1, 4, 8, 8), lambda: nn.Conv2d(4, 3, 3, groups=2)),
    ("conv2d(4, 3, padding='same')", (1, 3, 5, 5), lambda: nn.Conv2d(3, 4, 3, padding="same")),
    ("conv2d(4, 4, padding='same')", (1, 3, 5, 5), lambda: nn.Conv2d(3, 4, 4, padding="same")),
    ("conv2d(4, (4, 2), padding='same', dilation=(1, 3))", (1, 3, 5, 5), lambda: nn.Conv2d(3, 4, (4, 2), padding="same", dilation=(1, 3))),
    ("conv2d(4, 7, padding='same')", (1, 3, 1, 1), lambda: nn.Conv2d(3, 4, 7, padding="same")),
    ("conv2d(4, 3, padding='valid', stride=2)", (1, 3, 7, 7), lambda: nn.Conv2d(3, 4, 3, 2, padding="valid")),
    ("conv2d(4, 3, padding='full', dilation=2)", (1, 3, 5, 5), lambda: nn.Conv2d(3, 4, 3, padding=4, dilation=2)),
    ("conv2d(4, 3, padding=2, padding_mode='reflect')", (1, 3, 3, 3), lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect")),
    ("conv2d(4, 3, padding=3, padding_mode='reflect')", (1, 3, 3, 3), lambda: nn.Conv2d(3, 4, 3, padding=3, padding_mode="reflect")),
    ("conv2d(4, 3, padding=3, padding_mode='circular')", (1, 3, 3, 3), lambda: nn.Conv2d(3, 4, 3, padding=3, padding_mode="circular")),
    ("conv2d(4, 3, padding=4, padding_mode='circular')", (1, 3, 3, 3), lambda: nn.Conv2d(3, 4, 3, padding=4, padding_mode="circular")),
    ("conv2d(4, 3, padding=10, padding_mode='replicate')", (1, 3, 1, 1), lambda: nn.Conv2d(3, 4, 3, padding=10, padding_mode="replicate")),
    ("conv1d(1, 3, padding=-1, padding_mode='circular')", (1, 1, 6), lambda: nn.Conv1d(1, 1, 3, padding=-1, padding_mode="circular")),
    ("conv1d(1, 3, padding=-1)", (1, 1, 6), lambda: nn.Conv1d(1, 1, 3, padding=-1)),
    ("conv2d(4, 3, bias=false)", (2, 3, 6, 6), lambda: nn.Conv2d(3, 4, 3, bias=False)),
    # transposed convolution
    ("conv_transpose1d(4, 3, stride=2)", (1, 2, 3), lambda: nn.ConvTranspose1d(2, 4, 3, 2)),
    ("conv_transpose2d(8, 3, stride=2, padding=1, output_padding=1)", (1, 16, 7, 7), lambda: nn.ConvTranspose2d(16, 8, 3, 2, 1, 1)),
    ("conv_transpose2d(8, 4, stride=2, padding=1)", (1, 16, 7, 7), lambda: nn.ConvTranspose2d(16, 8, 4, 2, 1)),
    ("conv_transpose3d(4, (2, 3, 4), stride=(1, 2, 3), padding=(0, 1, 1), output_padding=(0, 1, 2))", (1, 2, 3, 3, 3),
     lambda: nn.ConvTranspose3d(2, 4, (2, 3, 4), (1, 2, 3), (0, 1, 1), (0, 1, 2))),
    ("conv_transpose1d(4, 3, stride=2, output_padding=2)", (1, 2, 3), lambda: nn.ConvTranspose1d(2, 4, 3, 2, output_padding=2)),
    ("conv_transpose1d(4, 3, stride=1, dilation=2, output_padding=1)", (1, 2, 3), lambda: nn.ConvTranspose1d(2, 4, 3, 1, output_padding=1, dilation=2)),
    ("conv_transpose2d(4, 3, padding=3)", (1, 2, 2, 2), lambda: nn.ConvTranspose2d(2, 4, 3, padding=3)),
    ("conv_transpose2d(4, 3, padding=2)", (1, 2, 2, 2), lambda: nn.ConvTranspose2d(2, 4, 3, padding=2)),
    ("conv_transpose2d(4, 7)", (1, 2, 1, 1), lambda: nn.ConvTranspose2d(2, 4, 7)),
    ("conv_transpose2d(6, 3, groups=2)", (1, 4, 3, 3), lambda: nn.ConvTranspose2d(4, 6, 3, groups=2)),
    ("conv_transpose2d(6, 3, groups=2)", (1, 3, 3, 3), lambda: nn.ConvTranspose2d(3, 6, 3, groups=2)),
    # pooling
    ("maxpool2d(3)", (1, 1, 8, 8), lambda: nn.MaxPool2d(3)),
    ("maxpool2d(3, stride=2, padding=1)", (1, 64, 112, 112), lambda: nn.MaxPool2d(3, 2, 1)),
    ("maxpool2d(3, stride=1, dilation=2)", (1, 1, 10, 10), lambda: nn.MaxPool2d(3, 1, dilation=2)),
    ("maxpool2d(3, stride=2, padding=1, dilation=2, ceil_mode=true)", (1, 1, 9, 9), lambda: nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True)),
    ("maxpool1d(2, stride=2, padding=1, ceil_mode=true)", (1, 1, 5), lambda: nn.MaxPool1d(2, 2, 1, ceil_mode=True)),
    ("maxpool1d(3, stride=2, padding=1, ceil_mode=true)", (1, 1, 6), lambda: nn.MaxPool1d(3, 2, 1, ceil_mode=True)),
    ("maxpool1d(4, stride=4, padding=2, ceil_mode=true)", (1, 1, 6), lambda: nn.MaxPool1d(4, 4, 2, ceil_mode=True)),
    ("maxpool1d(4, stride=3, padding=2, ceil_mode=true)", (1, 1, 10), lambda: nn.MaxPool1d(4, 3, 2, ceil_mode=True)),
    ("maxpool1d(2, stride=2, padding=2)", (1, 1, 8), lambda: nn.MaxPool1d(2, 2, 2)),
    ("maxpool2d(2, stride=1, padding=2, dilation=3)", (1, 1, 8, 8), lambda: nn.MaxPool2d(2, 1, 2, 3)),
    ("maxpool2d(3)", (1, 1, 2, 2), lambda: nn.MaxPool2d(3)),
    ("maxpool2d(3, ceil_mode=true)", (1, 1, 2, 2), lambda: nn.MaxPool2d(3, ceil_mode=True)),
    ("maxpool3d(2, padding=1)", (1, 1, 1, 1, 1), lambda: nn.MaxPool3d(2, padding=1)),
    ("avgpool1d(3)", (1, 1, 2), lambda: nn.AvgPool1d(3)),
    ("avgpool2d(3, padding=1)", (1, 1, 2, 2), lambda: nn.AvgPool2d(3, padding=1)),
    ("avgpool3d(3, padding=1)", (1, 1, 2, 2, 2), lambda: nn.AvgPool3d(3, padding=1)),
    ("avgpool3d(2, stride=1)", (1, 2, 3, 4, 5), lambda: nn.AvgPool3d(2, 1)),
    ("avgpool2d(2, stride=2, padding=2)", (1, 1, 8, 8), lambda: nn.AvgPool2d(2, 2, 2)),
    ("avgpool2d(3, stride=2, ceil_mode=true, count_include_pad=false)", (1, 2, 7, 6), lambda: nn.AvgPool2d(3, 2, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avgpool2d((None, 3))", (1, 2, 7, 9), lambda: nn.AdaptiveAvgPool2d((None, 3))),
    ("adaptive_avgpool2d(5)", (1, 2, 3, 3), lambda: nn.AdaptiveAvgPool2d(5)),
    ("adaptive_maxpool3d((None, 2, None))", (1, 2, 3, 5, 7), lambda: nn.AdaptiveMaxPool3d((None, 2, None))),
    ("adaptive_avgpool1d(2)", (1, 2, 3), lambda: nn.AdaptiveAvgPool1d(2)),
    ("adaptive_avgpool2d((2, 2, 2))", (1, 2, 3, 3), lambda: nn.AdaptiveAvgPool2d((2, 2, 2))),
    ("adaptive_avgpool3d((2, 3, 4))", (1, 1, 4, 6, 8), lambda: nn.AdaptiveAvgPool3d((2, 3, 4))),
    ("adaptive_maxpool1d(3)", (1, 1, 10), lambda: nn.AdaptiveMaxPool1d(3)),
    ("adaptive_maxpool2d((2, 3))", (1, 2, 7, 8), lambda: nn.AdaptiveMaxPool2d((2, 3))),
    ("global_avgpool", (2, 8, 5, 7), lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())),
    ("global_maxpool(keepdims=true)", (2, 8, 5, 7, 3), lambda: nn.AdaptiveMaxPool3d(1)),
    # dense and reshaping
    ("linear(3)", (2, 5, 6, 7, 4), lambda: nn.Linear(4, 3)),
    ("linear(3, in_features=4)", (2, 5), lambda: nn.Linear(4, 3)),
    ("linear(3, bias=false)", (2, 4), lambda: nn.Linear(4, 3, bias=False)),
    ("flatten", (2, 3, 4, 5), lambda: nn.Flatten()),
    ("flatten(0, -1)", (2, 3, 4, 5), lambda: nn.Flatten(0, -1)),
    ("flatten(-3, -2)", (2, 3, 4, 5), lambda: nn.Flatten(-3, -2)),
    ("flatten(2, 1)", (2, 3, 4, 5), lambda: nn.Flatten(2, 1)),
    ("flatten(4)", (2, 3, 4, 5), lambda: nn.Flatten(4)),
    ("unflatten(1, (2, -1))", (2, 12, 5), lambda: nn.Unflatten(1, (2, -1))),
    ("unflatten(1, (5, 2))", (2, 12, 5), lambda: nn.Unflatten(1, (5, 2))),
    ("reshape(4, -1)", (2, 16), lambda: nn.Unflatten(1, (4, -1))),
    ("reshape(12)", (2, 3, 4), lambda: nn.Flatten()),
    ("pixel_shuffle(2)", (1, 8, 3, 3), lambda: nn.PixelShuffle(2)),
    ("pixel_shuffle(2)", (1, 6, 3, 3), lambda: nn.PixelShuffle(2)),
    ("pixel_unshuffle(2)", (1, 2, 4, 6), lambda: nn.PixelUnshuffle(2)),
    ("pixel_unshuffle(2)", (1, 2, 5, 6), lambda: nn.PixelUnshuffle(2)),
    ("zeropad2d(1)", (1, 1, 3, 3), lambda: nn.ZeroPad2d(1)),
    ("zeropad2d((1, 2, 3, 4))", (1, 1, 3, 3), lambda: nn.ZeroPad2d((1, 2, 3, 4))),
    ("zeropad2d((-1, -1, 0, 0))", (1, 1, 3, 3), lambda: nn.ZeroPad2d((-1, -1, 0, 0))),
    ("zeropad2d((-2, -2, 0, 0))", (1, 1, 3, 3), lambda: nn.ZeroPad2d((-2, -2, 0, 0))),
    ("zeropad2d((1, 2))", (1, 1, 3, 3), lambda: nn.ZeroPad2d((1, 2))),
    ("zeropad3d((1, 2, 3, 4, 5, 6))", (1, 1, 2, 3, 4), lambda: nn.ZeroPad3d((1, 2, 3, 4, 5, 6))),
    ("zeropad1d(2)", (1, 3, 5), lambda: nn.ZeroPad1d(2)),
    ("zeropadding1d(2)", (1, 3, 5), lambda: nn.ZeroPad1d(2)),
    ("zeropadding2d(((1, 2), (3, 4)))", (1, 1, 5, 5), lambda: nn.ZeroPad2d((3, 4, 1, 2))),
    ("zeropadding3d(1)", (1, 1, 2, 2, 2), lambda: nn.ZeroPad3d(1)),
    ("upsample(scale_factor=1.5)", (1, 1, 3, 3), lambda: nn.Upsample(scale_factor=1.5)),
    ("upsample(scale_factor=0.7)", (1, 1, 10), lambda: nn.Upsample(scale_factor=0.7)),
    ("upsample(scale_factor=0.29)", (1, 1, 29), lambda: nn.Upsample(scale_factor=0.29)),
    ("upsample(scale_factor=(2, 3))", (1, 1, 3, 3), lambda: nn.Upsample(scale_factor=(2, 3))),
    ("upsample(scale_factor=0.1)", (1, 1, 3), lambda: nn.Upsample(scale_factor=0.1)),
    ("upsample(size=(5, 7), mode='bilinear', align_corners=true)", (1, 2, 3, 3), lambda: nn.Upsample((5, 7), mode="bilinear", align_corners=True)),
    ("upsample(scale_factor=2, mode='bilinear')", (1, 1, 3), lambda: nn.Upsample(scale_factor=2, mode="bilinear")),
    ("upsample(scale_factor=2, mode='trilinear')", (1, 1, 2, 3, 3), lambda: nn.Upsample(scale_factor=2, mode="trilinear")),
    ("upsample(scale_factor=2, align_corners=true)", (1, 1, 3, 3), lambda: nn.Upsample(scale_factor=2, align_corners=True)),
    ("upsampling2d((2, 3))", (1, 4, 5, 5), lambda: nn.Upsample(scale_factor=(2.0, 3.0))),
    ("upsampling1d(2)", (1, 3, 4), lambda: nn.Upsample(scale_factor=2.0)),
    ("upsampling3d(2)", (1, 1, 2, 2, 2), lambda: nn.Upsample(scale_factor=2.0)),
    # normalisation
    ("batchnorm1d", (4, 6), lambda: nn.BatchNorm1d(6)),
    ("batchnorm1d", (4, 6, 10), lambda: nn.BatchNorm1d(6)),
    ("batchnorm2d", (2, 6, 5, 5), lambda: nn.BatchNorm2d(6)),
    ("batchnorm2d(affine=false)", (2, 6, 5, 5), lambda: nn.BatchNorm2d(6, affine=False)),
    ("batchnorm3d", (2, 6, 2, 5, 5), lambda: nn.BatchNorm3d(6)),
    ("batchnorm2d", (2, 6, 5), lambda: nn.BatchNorm2d(6)),
    ("batchnormalization", (2, 6, 5, 5), lambda: nn.BatchNorm2d(6)),
    ("groupnorm(3)", (2, 6, 5, 5), lambda: nn.GroupNorm(3, 6)),
    ("groupnorm(4)", (2, 6, 5, 5), lambda: nn.GroupNorm(4, 6)),
    ("instancenorm2d(affine=true)", (2, 6, 5, 5), lambda: nn.InstanceNorm2d(6, affine=True)),
    ("instancenorm1d", (2, 6, 5), lambda: nn.InstanceNorm1d(6)),
    ("instancenorm3d", (2, 3, 2, 4, 4), lambda: nn.InstanceNorm3d(3)),
    ("layernorm", (2, 5, 8), lambda: nn.LayerNorm(8)),
    ("layernorm((5, 8))", (2, 5, 8), lambda: nn.LayerNorm((5, 8))),
    ("layernorm(16, bias=false)", (2, 4, 16), lambda: nn.LayerNorm(16, bias=False)),
    # activations and dropout
    ("relu", (2, 3, 4, 4), lambda: nn.ReLU()),
    ("leaky_relu(0.2)", (2, 3), lambda: nn.LeakyReLU(0.2)),
    ("prelu", (2, 3, 4, 4), lambda: nn.PReLU()),
    ("prelu(3)", (2, 3, 4, 4), lambda: nn.PReLU(3)),
    ("prelu(4)", (2, 3, 4, 4), lambda: nn.PReLU(4)),
    ("gelu(approximate='tanh')", (2, 3), lambda: nn.GELU("tanh")),
    ("softmax(dim=1)", (2, 10), lambda: nn.Softmax(dim=1)),
    ("softmax(dim=3)", (2, 10), lambda: nn.Softmax(dim=3)),
    ("log_softmax", (2, 4, 10), lambda: nn.LogSoftmax(dim=-1)),
    ("dropout(0.3)", (2, 10), lambda: nn.Dropout(0.3)),
    ("dropout2d", (2, 3, 4, 4), lambda: nn.Dropout2d()),
    ("dropout1d", (2, 3, 8), lambda: nn.Dropout1d()),
    ("dropout3d", (2, 3, 2, 2, 2), lambda: nn.Dropout3d()),
    ("relu6", (2, 3), lambda: nn.ReLU6()),
    ("elu", (2, 3), lambda: nn.ELU()),
    ("selu", (2, 3), lambda: nn.SELU()),
    ("silu", (2, 3), lambda: nn.SiLU()),
    ("mish", (2, 3), lambda: nn.Mish()),
    ("sigmoid", (2, 3), lambda: nn.Sigmoid()),
    ("hardsigmoid", (2, 3), lambda: nn.Hardsigmoid()),
    ("hardswish", (2, 3), lambda: nn.Hardswish()),
    ("tanh", (2, 3), lambda: nn.Tanh()),
    ("identity", (2, 3), lambda: nn.Identity()),
    # reordering, ConvNeXt's channel norm and layer scale, stochastic depth
    ("permute(0, 2, 3, 1)", (2, 3, 4, 5), lambda: Permute([0, 2, 3, 1])),
    ("permute(0, -1, 1, -2)", (2, 3, 4, 5), lambda: Permute([0, -1, 1, -2])),
    ("permute(1, 0)", (3, 7), lambda: Permute([1, 0])),
    ("permute(0, 2, 1)", (2, 3, 4, 5), lambda: Permute([0, 2, 1])),
    ("permute(0, 2, 2, 1)", (2, 3, 4, 5), lambda: Permute([0, 2, 2, 1])),
    ("permute(0, -1, 3, 1)", (2, 3, 4, 5), lambda: Permute([0, -1, 3, 1])),
    ("permute(0, 2, 3, 4)", (2, 3, 4, 5), lambda: Permute([0, 2, 3, 4])),
    ("permute(0, 1, 2, 3, 4)", (2, 3, 4, 5), lambda: Permute([0, 1, 2, 3, 4])),
    ("transpose(1, -1)", (2, 3, 4, 5), lambda: Transpose(1, -1)),
    ("transpose(0, 2)", (2, 3, 4), lambda: Transpose(0, 2)),
    ("transpose(2, 2)", (2, 3, 4), lambda: Transpose(2, 2)),
    ("transpose(1, 3)", (2, 3, 4), lambda: Transpose(1, 3)),
    ("transpose(-4, 1)", (2, 3, 4), lambda: Transpose(-4, 1)),
    ("layernorm2d", (2, 6, 5, 5), lambda: LayerNorm2d(6)),
    ("layernorm2d(1e-6, elementwise_affine=false)", (2, 6, 5, 5), lambda: LayerNorm2d(6, 1e-6, elementwise_affine=False)),
    ("layernorm2d(bias=false)", (2, 6, 5, 5), lambda: LayerNorm2d(6, bias=False)),
    ("layernorm2d(normalized_shape=4)", (2, 6, 5, 5), lambda: LayerNorm2d(4)),
    ("layernorm2d", (2, 6, 1, 1), lambda: LayerNorm2d(6)),
    ("layernorm2d", (2, 6, 5), lambda: ChannelLayerNorm(6)),
    ("layernorm2d", (2, 6, 3, 4, 5), lambda: ChannelLayerNorm(6)),
    ("layer_scale", (2, 6, 5, 5), lambda: LayerScale(6, 4)),
    ("layer_scale(0.5)", (2, 6, 5, 5), lambda: LayerScale(6, 4, 0.5)),
    ("layer_scale(num_channels=4)", (2, 6, 5, 5), lambda: LayerScale(4, 4)),
    ("layer_scale", (2, 6, 5), lambda: LayerScale(6, 3)),
    ("layer_scale", (2, 6), lambda: LayerScale(6, 2)),
    ("stochastic_depth(0.1)", (2, 3, 4, 4), lambda: StochasticDepth(0.1, "row")),
    ("drop_path(0.2, 'batch')", (2, 5), lambda: StochasticDepth(0.2, "batch")),
    ("stochastic_depth(1.0)", (4, 3), lambda: StochasticDepth(1.0, "row")),
    ("stochastic_depth(1.5)", (2, 3), lambda: StochasticDepth(1.5, "row")),
    ("stochastic_depth(0.5, mode='col')", (2, 3), lambda: StochasticDepth(0.5, "col")),
]


if nn is not None:  # the torch modules the cases above build

    class Transpose(nn.Module):
        """``x.transpose(dim0, dim1)`` as a module (torch.nn has none)."""

        def __init__(self, dim0: int, dim1: int) -> None:
            super().__init__()
            self.dims = (dim0, dim1)

        def forward(self, x):
            return x.transpose(*self.dims)


    class ChannelLayerNorm(nn.LayerNorm):
        """torchvision's LayerNorm2d for any rank: the channels moved last, normalised, moved back."""

        def forward(self, x):
            out = nn.functional.layer_norm(x.movedim(1, -1), self.normalized_shape, self.weight, self.bias, self.eps)
            return out.movedim(-1, 1)


    class LayerScale(nn.Module):
        """torchvision CNBlock's ``layer_scale``: a (C, 1, ..., 1) parameter times the input."""

        def __init__(self, channels: int, rank: int, value: float = 1e-6) -> None:
            super().__init__()
            self.layer_scale = nn.Parameter(torch.ones(channels, *[1] * (rank - 2)) * value)

        def forward(self, x):
            return self.layer_scale * x


def torch_params(build) -> int:
    return sum(p.numel() for p in build().parameters())


@pytest.mark.parametrize(("spec", "shape", "build"), CASES, ids=[f"{c[0]} on {c[1]}" for c in CASES])
def test_layer_matches_torch(spec, shape, build) -> None:
    pytest.importorskip("torch")
    from torch_oracle import torch_shape

    expected = torch_shape(build, shape)
    computed = cnncalc_shape(spec, shape)
    assert computed == expected, repro(spec, shape)
    if expected != REFUSED:
        report = analyse(load_model(spec, input_shape=shape[1:]), batch=shape[0])
        assert report.totals.params == torch_params(build), repro(spec, shape)


# Where PyTorch refuses, cnncalc refuses first, with the reason and the numbers.
REFUSALS = [
    ("conv2d(4, 5)", (3, 3, 3),
     "conv2d kernel is larger than the padded input: padded input 3×3, kernel 5×5 "
     "(kernel_size 5×5, dilation 1×1) on input [1, 3, 3, 3]"),
    ("conv2d(4, 3, groups=2)", (3, 8, 8), "conv2d input channels 3 are not divisible by groups 2"),
    ("conv2d(3, 3, groups=2)", (4, 8, 8), "conv2d out_channels 3 is not divisible by groups 2"),
    ("conv2d(4, 3, stride=0)", (3, 8, 8), "conv2d stride must be >= 1, got 0"),
    ("conv2d(4, (3, 3, 3))", (3, 8, 8),
     "conv2d kernel_size must be one integer or a list of 2, got [3, 3, 3]"),
    ("conv2d(4, 3, padding='half')", (3, 8, 8),
     "conv2d padding must be an integer, a list of 2 integers or one of valid, same, full, got 'half'"),
    ("conv2d(4, 3, padding=3, padding_mode='reflect')", (3, 3, 3),
     "conv2d reflect padding (3, 3) must be smaller than the input size 3"),
    ("conv1d(1, 3, padding=-1)", (1, 6),
     "conv1d negative padding -1 is only supported with a padding_mode other than zeros"),
    ("conv2d(4, 3)", (3, 8), "conv2d expects a (N, C, H, W) input, got [1, 3, 8] (2-D per sample)"),
    ("conv_transpose1d(4, 3, stride=2, output_padding=2)", (2, 3),
     "conv_transpose1d output_padding 2 must be smaller than either stride 2 or dilation 1"),
    ("conv_transpose2d(4, 3, padding=2)", (2, 2, 2),
     "conv_transpose2d output size 0×0 is too small for input [1, 2, 2, 2]: "
     "(L − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1 must be at least 1"),
    ("maxpool2d(2, stride=2, padding=2)", (1, 8, 8),
     "maxpool2d padding 2 must be at most half the kernel size 2 (kernel_size // 2 = 1)"),
    ("maxpool2d(3)", (1, 2, 2),
     "maxpool2d output size 0×0 is too small: kernel 3×3 (dilation 1×1, padding 0×0) does not fit the input [1, 1, 2, 2]"),
    ("avgpool3d(3, padding=1)", (1, 2, 2, 2),
     "avgpool3d input 2×2×2 is smaller than the kernel 3×3×3: AvgPool3d needs the unpadded input to hold the kernel"),
    ("avgpool2d(2, divisor_override=0)", (1, 4, 4), "avgpool2d divisor_override must not be zero"),
    ("linear(10, in_features=5)", (4,),
     "linear in_features 5 but the input's last dimension is 4 (input [1, 4])"),
    ("flatten -> linear(10, in_features=400)", (16, 4, 4),
     "linear in_features 400 but the flattened input has 256 = 16×4×4"),
    ("flatten(2, 1)", (3, 4, 5),
     "flatten start_dim 2 comes after end_dim 1 for input [1, 3, 4, 5]"),
    ("pixel_shuffle(2)", (6, 3, 3), "pixel_shuffle channels 6 are not divisible by upscale_factor² = 4"),
    ("upsample(scale_factor=0.1)", (1, 3), "upsample output size 0 is below 1 for input [1, 1, 3]"),
    ("upsample(scale_factor=2, mode='bilinear')", (1, 3),
     "upsample mode bilinear needs a 2-D spatial input, got [1, 1, 3]"),
    ("groupnorm(4)", (6, 5, 5), "groupnorm channels 6 are not divisible by num_groups 4"),
    ("batchnorm2d(num_features=4)", (6, 5, 5), "batchnorm2d num_features 4 but the input has 6 channels"),
    ("softmax(dim=3)", (10,), "softmax dim 3 is out of range for input [1, 10] (expected -2..1)"),
    ("conv2d(4, 3, bogus=1)", (3, 8, 8),
     "conv2d has no argument 'bogus'; it takes bias, dilation, groups, in_channels, kernel_size, "
     "out_channels, padding, padding_mode, stride"),
    ("conv2d(4, 3, strid=2)", (3, 8, 8),
     "conv2d has no argument 'strid' (did you mean stride?); it takes bias, dilation, groups, "
     "in_channels, kernel_size, out_channels, padding, padding_mode, stride"),
    ("conv2d(kernel_size=3)", (3, 8, 8), "conv2d needs out_channels"),
    ("conv2d(4, 3, bias=1)", (3, 8, 8), "conv2d bias must be true or false, got 1"),
    ("conv2d(4.5, 3)", (3, 8, 8), "conv2d out_channels must be an integer, got 4.5"),
    ("dropout(1.5)", (3,), "dropout p must be <= 1.0, got 1.5"),
    ("permute(0, 2, 1)", (3, 4, 5),
     "permute dims [0, 2, 1] has 3 entries but the input [1, 3, 4, 5] has 4 dimensions, the batch included"),
    ("permute(2, 3, 1)", (3, 4, 5),
     "permute dims [2, 3, 1] has 3 entries but the input [1, 3, 4, 5] has 4 dimensions, the batch "
     "included (Keras's Permute((2, 3, 1)) is permute(0, 2, 3, 1))"),
    ("permute(0, -1, 3, 1)", (3, 4, 5),
     "permute dims [0, -1, 3, 1] is not a permutation of 0..3: dim 3 appears more than once"),
    ("permute(0, 2, 3, 4)", (3, 4, 5), "permute dim 4 is out of range for a 4-D input (expected -4..3)"),
    ("permute(0, 1.5)", (3,), "permute dims must be an integer, got 1.5"),
    ("permute(1)", (5,),
     "permute dims [1] has 1 entry but the input [1, 5] has 2 dimensions, the batch included "
     "(Keras's Permute((1,)) is permute(0, 1))"),
    ("transpose(1, 3)", (3, 4), "transpose dim1 3 is out of range for a 3-D input (expected -3..2)"),
    ("transpose(1)", (3, 4), "transpose needs dim1"),
    ("layernorm2d(normalized_shape=4)", (6, 5, 5), "layernorm2d normalized_shape 4 but the input has 6 channels"),
    ("flatten(0, -1) -> layernorm2d", (4,), "layernorm2d expects a (N, C, ...) input, got [4] (0-D per sample)"),
    ("layer_scale(num_channels=4)", (6, 5, 5), "layer_scale num_channels 4 but the input has 6 channels"),
    ("layer_scale(init_value='big')", (6, 5, 5), "layer_scale init_value must be a number, got 'big'"),
    ("stochastic_depth", (3,), "stochastic_depth needs p"),
    ("drop_path(1.5)", (3,), "drop_path p must be <= 1.0, got 1.5"),
    ("stochastic_depth(-0.1)", (3,), "stochastic_depth p must be >= 0.0, got -0.1"),
    ("stochastic_depth(0.5, mode='col')", (3,), "stochastic_depth mode must be one of row, batch, got 'col'"),
]


@pytest.mark.parametrize(("spec", "shape", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_message(spec, shape, message) -> None:
    report = analyse(load_model(spec, input_shape=shape))
    assert report.error is not None, f"{spec} on {shape} should be refused"
    assert report.error.message == message
