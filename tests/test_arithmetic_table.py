"""Every layer type's arithmetic, without torch: output shape, params, MACs and FLOPs of one
layer, the expected values written as the arithmetic that gives them, so a reader can check
each row by hand (``(32 - 3 + 2) // 1 + 1``). Batch 1; ``test_completeness.py`` requires a
row for every registered type. PyTorch's own answers are in ``test_layers_torch.py``."""

from __future__ import annotations

import pytest

from cnncalc import analyse, load_model

# (inline spec, one sample's shape, output shape, params, MACs, FLOPs)
TABLE = [
    # convolution: out = (L + 2p - d(k - 1) - 1) // s + 1; MACs = out elements × C_in/groups × prod(k)
    ("conv1d(4, 3)", (2, 10), (1, 4, (10 - 3) // 1 + 1), 4 * 2 * 3 + 4,
     4 * 8 * 2 * 3, 2 * (4 * 8 * 2 * 3) + 4 * 8),
    ("conv2d(16, 3, padding=1)", (3, 32, 32), (1, 16, (32 - 3 + 2) // 1 + 1, 32), 16 * 3 * 3 * 3 + 16,
     16 * 32 * 32 * 3 * 3 * 3, 2 * (16 * 32 * 32 * 27) + 16 * 32 * 32),
    ("conv2d(8, 3, stride=2, groups=2, bias=false)", (4, 9, 9), (1, 8, (9 - 3) // 2 + 1, 4),
     8 * (4 // 2) * 9, 8 * 4 * 4 * (4 // 2) * 9, 2 * (8 * 16 * 2 * 9)),
    ("conv2d(2, 3, dilation=2, padding='same')", (1, 7, 7), (1, 2, 7, 7), 2 * 9 + 2,
     2 * 49 * 9, 2 * (2 * 49 * 9) + 2 * 49),
    ("conv3d(2, 3, stride=2)", (1, 7, 7, 7), (1, 2, (7 - 3) // 2 + 1, 3, 3), 2 * 1 * 27 + 2,
     2 * 27 * 1 * 27, 2 * (2 * 27 * 27) + 2 * 27),
    # transposed: out = (L - 1)s - 2p + d(k - 1) + output_padding + 1; MACs = in elements × C_out/groups × prod(k)
    ("conv_transpose1d(4, 3, stride=2)", (2, 5), (1, 4, (5 - 1) * 2 - 0 + 1 * (3 - 1) + 0 + 1), 2 * 4 * 3 + 4,
     2 * 5 * 4 * 3, 2 * (2 * 5 * 4 * 3) + 4 * 11),
    ("conv_transpose2d(8, 4, stride=2, padding=1)", (16, 7, 7), (1, 8, (7 - 1) * 2 - 2 + 3 + 1, 14),
     16 * 8 * 16 + 8, 16 * 49 * 8 * 16, 2 * (16 * 49 * 8 * 16) + 8 * 14 * 14),
    ("conv_transpose3d(2, 2, stride=2)", (1, 3, 3, 3), (1, 2, (3 - 1) * 2 + (2 - 1) + 1, 6, 6),
     1 * 2 * 8 + 2, 27 * 2 * 8, 2 * (27 * 2 * 8) + 2 * 6 * 6 * 6),
    # max and average pooling: prod(kernel) FLOPs per output element; stride = kernel
    ("maxpool1d(2)", (3, 9), (1, 3, (9 - 2) // 2 + 1), 0, 0, 3 * 4 * 2),
    ("maxpool2d(3, stride=2, padding=1)", (64, 112, 112), (1, 64, (112 + 2 - 3) // 2 + 1, 56), 0, 0,
     64 * 56 * 56 * 9),
    ("maxpool3d(2, ceil_mode=true)", (1, 5, 5, 5), (1, 1, -(-(5 - 2) // 2) + 1, 3, 3), 0, 0, 27 * 8),
    ("maxpool1d(2, stride=2, padding=1, ceil_mode=true)", (1, 5), (1, 1, -(-(5 + 2 - 2) // 2) + 1 - 1),
     0, 0, 3 * 2),  # the 4th window would start at (4 - 1)·2 - 1 = 5, in the right padding
    ("avgpool1d(3, stride=2, padding=1)", (2, 10), (1, 2, (10 + 2 - 3) // 2 + 1), 0, 0, 2 * 5 * 3),
    ("avgpool2d(2)", (3, 7, 7), (1, 3, (7 - 2) // 2 + 1, 3), 0, 0, 3 * 9 * 4),
    ("avgpool3d(2, stride=1)", (1, 4, 4, 4), (1, 1, 4 - 2 + 1, 3, 3), 0, 0, 27 * 8),
    # adaptive and global pooling: 1 FLOP per input element
    ("adaptive_avgpool1d(4)", (2, 10), (1, 2, 4), 0, 0, 2 * 10),
    ("adaptive_avgpool2d(1)", (8, 7, 7), (1, 8, 1, 1), 0, 0, 8 * 49),
    ("adaptive_avgpool3d((2, 3, 4))", (1, 4, 6, 8), (1, 1, 2, 3, 4), 0, 0, 4 * 6 * 8),
    ("adaptive_maxpool1d(3)", (1, 9), (1, 1, 3), 0, 0, 9),
    ("adaptive_maxpool2d((2, 2))", (4, 8, 8), (1, 4, 2, 2), 0, 0, 4 * 64),
    ("adaptive_maxpool3d(1)", (2, 3, 3, 3), (1, 2, 1, 1, 1), 0, 0, 2 * 27),
    ("global_avgpool", (8, 7, 7), (1, 8), 0, 0, 8 * 49),
    ("global_maxpool", (4, 5), (1, 4), 0, 0, 4 * 5),
    # dense: MACs = out elements × in_features
    ("linear(10)", (20,), (1, 10), 20 * 10 + 10, 10 * 20, 2 * (10 * 20) + 10),
    ("linear(3, bias=false)", (5, 4), (1, 5, 3), 4 * 3, 5 * 3 * 4, 2 * (5 * 3 * 4)),
    # reshaping: no arithmetic
    ("flatten", (16, 4, 4), (1, 16 * 4 * 4), 0, 0, 0),
    ("unflatten(1, (4, 4))", (16,), (1, 4, 4), 0, 0, 0),
    ("reshape(4, -1)", (16,), (1, 4, 16 // 4), 0, 0, 0),
    ("zeropad1d(2)", (3, 5), (1, 3, 5 + 2 + 2), 0, 0, 0),
    ("zeropad2d((1, 2, 3, 4))", (1, 5, 5), (1, 1, 5 + 3 + 4, 5 + 1 + 2), 0, 0, 0),  # (left, right, top, bottom)
    ("zeropad3d(1)", (1, 2, 2, 2), (1, 1, 4, 4, 4), 0, 0, 0),
    ("zeropadding1d(2)", (3, 5), (1, 3, 5 + 2 + 2), 0, 0, 0),
    ("zeropadding2d(((1, 2), (3, 4)))", (1, 5, 5), (1, 1, 5 + 1 + 2, 5 + 3 + 4), 0, 0, 0),  # first dimension first
    ("zeropadding3d(1)", (1, 2, 2, 2), (1, 1, 4, 4, 4), 0, 0, 0),
    ("pixel_shuffle(2)", (8, 3, 3), (1, 8 // 2**2, 3 * 2, 3 * 2), 0, 0, 0),
    ("pixel_unshuffle(2)", (2, 6, 6), (1, 2 * 2**2, 6 // 2, 6 // 2), 0, 0, 0),
    # upsampling: linear modes 3 FLOPs per output element per spatial dimension, nearest 0
    ("upsample(scale_factor=2, mode='bilinear')", (3, 4, 4), (1, 3, 8, 8), 0, 0, 3 * 2 * (3 * 8 * 8)),
    ("upsample(size=7)", (2, 3), (1, 2, 7), 0, 0, 0),
    ("upsampling1d(2)", (3, 4), (1, 3, 4 * 2), 0, 0, 0),
    ("upsampling2d(2, interpolation='bilinear')", (1, 3, 3), (1, 1, 6, 6), 0, 0, 3 * 2 * 36),
    ("upsampling3d(2)", (1, 2, 2, 2), (1, 1, 4, 4, 4), 0, 0, 0),
    # normalisation: batch norm 2 FLOPs an element; the others 5, +2 when affine
    ("batchnorm1d", (16,), (1, 16), 2 * 16, 0, 2 * 16),
    ("batchnorm2d", (8, 4, 4), (1, 8, 4, 4), 2 * 8, 0, 2 * 8 * 16),
    ("batchnorm3d", (2, 2, 2, 2), (1, 2, 2, 2, 2), 2 * 2, 0, 2 * 16),
    ("batchnorm", (4, 6, 6), (1, 4, 6, 6), 2 * 4, 0, 2 * 4 * 36),
    ("instancenorm1d", (2, 8), (1, 2, 8), 0, 0, 5 * 16),
    ("instancenorm2d(affine=true)", (3, 4, 4), (1, 3, 4, 4), 2 * 3, 0, (5 + 2) * 48),
    ("instancenorm3d", (1, 2, 2, 2), (1, 1, 2, 2, 2), 0, 0, 5 * 8),
    ("groupnorm(2)", (4, 3, 3), (1, 4, 3, 3), 2 * 4, 0, (5 + 2) * 36),
    ("layernorm", (4, 10), (1, 4, 10), 2 * 10, 0, (5 + 2) * 40),
    # regularisation: identity at inference
    ("layernorm2d", (6, 4, 4), (1, 6, 4, 4), 2 * 6, 0, (5 + 2) * 6 * 16),
    ("layernorm2d(elementwise_affine=false)", (6, 4, 4), (1, 6, 4, 4), 0, 0, 5 * 6 * 16),
    # scaling: C params, one multiply an element
    ("layer_scale", (6, 5, 5), (1, 6, 5, 5), 6, 0, 6 * 25),
    # reordering: only the dimensions move
    ("permute(0, 2, 3, 1)", (3, 4, 5), (1, 4, 5, 3), 0, 0, 0),
    ("transpose(1, -1)", (3, 4, 5), (1, 5, 4, 3), 0, 0, 0),
    # stochastic depth: identity at inference
    ("stochastic_depth(0.1)", (3, 4, 4), (1, 3, 4, 4), 0, 0, 0),
    ("dropout(0.5)", (10,), (1, 10), 0, 0, 0),
    ("dropout1d", (3, 8), (1, 3, 8), 0, 0, 0),
    ("dropout2d", (3, 4, 4), (1, 3, 4, 4), 0, 0, 0),
    ("dropout3d", (2, 2, 2, 2), (1, 2, 2, 2, 2), 0, 0, 0),
    # activations: 1 FLOP an element; softmax and log_softmax 3; prelu holds its slope
    *[(name, (2, 4, 4), (1, 2, 4, 4), 0, 0, 2 * 16) for name in (
        "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "sigmoid",
        "hardsigmoid", "hardswish", "tanh",
    )],
    ("identity", (2, 4, 4), (1, 2, 4, 4), 0, 0, 0),
    ("softmax", (10,), (1, 10), 0, 0, 3 * 10),
    ("log_softmax", (10,), (1, 10), 0, 0, 3 * 10),
    ("prelu", (2, 4, 4), (1, 2, 4, 4), 1, 0, 2 * 16),
    ("prelu(2)", (2, 4, 4), (1, 2, 4, 4), 2, 0, 2 * 16),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "sample", "shape", "params", "macs", "flops"), TABLE,
                         ids=[f"{row[0]} on {row[1]}" for row in TABLE])  # fmt: skip
def test_layer_arithmetic(spec, sample, shape, params, macs, flops) -> None:
    report = analyse(load_model(spec, input_shape=sample))
    assert report.error is None, report.error
    (row,) = report.rows
    assert (row.output_shape, row.params, row.macs, row.flops) == (shape, params, macs, flops)
