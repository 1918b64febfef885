"""Thousands of random single-layer configurations against PyTorch: convolution, transposed
convolution, max and average pooling in 1, 2 and 3 dimensions with strides, dilation,
groups, ceil_mode, output_padding and the padding strings. cnncalc's output shape, or its
refusal, must be torch's. A failure prints a ready-to-paste ``cnncalc shapes`` command."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from cnncalc_oracle import REFUSED, cnncalc_shape, inline_call, repro  # noqa: E402
from torch import nn  # noqa: E402
from torch_oracle import torch_shape  # noqa: E402


def per_dim(nd: int, low: int, high: int) -> st.SearchStrategy:
    """An int or a tuple of ``nd`` ints in [low, high]."""
    return st.one_of(
        st.integers(low, high), st.tuples(*[st.integers(low, high)] * nd)
    )


def spread(value, nd: int) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,) * nd


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_ch = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
    out_ch = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
    sizes = draw(st.tuples(*[st.integers(1, 12 if nd < 3 else 7)] * nd))
    kernel = draw(per_dim(nd, 1, 5))
    stride = draw(per_dim(nd, 1, 3))
    dilation = draw(per_dim(nd, 1, 3))
    padding = draw(st.one_of(per_dim(nd, 0, 3), st.sampled_from(["valid", "same", "full"])))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    return nd, in_ch, out_ch, sizes, kernel, stride, dilation, padding, groups, mode


@given(conv_cases())
def test_conv_matches_torch(case) -> None:
    nd, in_ch, out_ch, sizes, kernel, stride, dilation, padding, groups, mode = case
    shape = (1, in_ch, *sizes)
    spec = inline_call(
        f"conv{nd}d", out_ch, kernel, stride=stride, padding=padding, dilation=dilation,
        groups=groups, padding_mode=mode,
    )  # fmt: skip
    computed = cnncalc_shape(spec, shape)
    conv = getattr(nn, f"Conv{nd}d")
    strided = any(s > 1 for s in spread(stride, nd))
    if padding == "same" and strided:
        # PyTorch refuses strided 'same'; cnncalc follows TensorFlow: ceil(in / stride).
        if computed != REFUSED:
            wanted = tuple(math.ceil(n / s) for n, s in zip(sizes, spread(stride, nd)))
            assert computed == (1, out_ch, *wanted), repro(spec, shape)
        return
    torch_padding = padding
    if padding == "full":
        torch_padding = tuple(d * (k - 1) for d, k in zip(spread(dilation, nd), spread(kernel, nd)))
    expected = torch_shape(
        lambda: conv(in_ch, out_ch, kernel, stride, torch_padding, dilation, groups, padding_mode=mode),
        shape,
    )
    assert computed == expected, repro(spec, shape)


@st.composite
def transposed_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    in_ch = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
    out_ch = groups * draw(st.integers(1, 2))
    sizes = draw(st.tuples(*[st.integers(1, 6)] * nd))
    kernel = draw(per_dim(nd, 1, 4))
    stride = draw(per_dim(nd, 1, 3))
    padding = draw(per_dim(nd, 0, 3))
    output_padding = draw(per_dim(nd, 0, 3))
    dilation = draw(per_dim(nd, 1, 3))
    return nd, in_ch, out_ch, sizes, kernel, stride, padding, output_padding, groups, dilation


@given(transposed_cases())
def test_transposed_matches_torch(case) -> None:
    nd, in_ch, out_ch, sizes, kernel, stride, padding, output_padding, groups, dilation = case
    shape = (1, in_ch, *sizes)
    spec = inline_call(
        f"conv_transpose{nd}d", out_ch, kernel, stride=stride, padding=padding,
        output_padding=output_padding, groups=groups, dilation=dilation,
    )  # fmt: skip
    module = getattr(nn, f"ConvTranspose{nd}d")
    expected = torch_shape(
        lambda: module(in_ch, out_ch, kernel, stride, padding, output_padding, groups, dilation=dilation),
        shape,
    )
    assert cnncalc_shape(spec, shape) == expected, repro(spec, shape)


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    sizes = draw(st.tuples(*[st.integers(1, 12 if nd < 3 else 7)] * nd))
    kernel = draw(per_dim(nd, 1, 5))
    stride = draw(st.one_of(st.none(), per_dim(nd, 1, 4)))
    padding = draw(per_dim(nd, 0, 3))
    dilation = draw(per_dim(nd, 1, 3)) if kind == "max" else 1
    ceil_mode = draw(st.booleans())
    channels = draw(st.integers(1, 3))
    return nd, kind, sizes, kernel, stride, padding, dilation, ceil_mode, channels


@given(pool_cases())
def test_pool_matches_torch(case) -> None:
    nd, kind, sizes, kernel, stride, padding, dilation, ceil_mode, channels = case
    shape = (2, channels, *sizes)
    keywords = {"stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    if kind == "max":
        keywords["dilation"] = dilation
        build = lambda: getattr(nn, f"MaxPool{nd}d")(kernel, stride, padding, dilation, ceil_mode=ceil_mode)  # noqa: E731
    else:
        build = lambda: getattr(nn, f"AvgPool{nd}d")(kernel, stride, padding, ceil_mode)  # noqa: E731
    if stride is None:
        del keywords["stride"]
    spec = inline_call(f"{kind}pool{nd}d", kernel, **keywords)
    assert cnncalc_shape(spec, shape) == torch_shape(build, shape), repro(spec, shape)


@given(
    st.integers(1, 3),
    st.tuples(st.integers(1, 20), st.integers(1, 20), st.integers(1, 20)),
    st.one_of(st.floats(0.05, 4.0, allow_nan=False), st.integers(1, 4)),
    st.sampled_from(["nearest", "area", "nearest-exact"]),
)
def test_upsample_scale_matches_torch(nd, sizes, factor, mode) -> None:
    shape = (1, 2, *sizes[:nd])
    spec = inline_call("upsample", scale_factor=factor, mode=mode)
    expected = torch_shape(lambda: nn.Upsample(scale_factor=factor, mode=mode), shape)
    assert cnncalc_shape(spec, shape) == expected, repro(spec, shape)


@st.composite
def reorder_cases(draw):
    """A random shape with permute dims or transpose dims, mostly valid, sometimes off by
    a length, a repeat or a range."""
    rank = draw(st.integers(1, 5))
    shape = (draw(st.integers(1, 3)), *draw(st.tuples(*[st.integers(1, 5)] * (rank - 1))))
    if draw(st.booleans()):
        dims = draw(st.permutations(range(rank)))
        dims = [d - rank if draw(st.booleans()) else d for d in dims]
        if draw(st.integers(0, 3)) == 0:  # a wrong length, a repeat or a dim out of range
            dims = draw(st.lists(st.integers(-rank - 1, rank), min_size=max(1, rank - 1), max_size=rank + 1))
        return "permute", tuple(dims), shape
    return "transpose", (draw(st.integers(-rank - 1, rank)), draw(st.integers(-rank - 1, rank))), shape


@given(reorder_cases())
def test_permute_and_transpose_match_torch(case) -> None:
    kind, dims, shape = case
    spec = inline_call(kind, *dims)
    method = torch.Tensor.permute if kind == "permute" else torch.Tensor.transpose

    class Reorder(nn.Module):
        def forward(self, x):
            return method(x, *dims)

    assert cnncalc_shape(spec, shape) == torch_shape(Reorder, shape), repro(spec, shape)


@given(
    st.integers(2, 5),
    st.integers(1, 6),
    st.one_of(st.none(), st.integers(1, 6)),
    st.sampled_from(["layernorm2d", "layer_scale"]),
)
def test_channel_layers_match_torch(rank, channels, given_channels, kind) -> None:
    """layernorm2d and layer_scale on (N, C, ...) of any rank, with the channel count given
    or inferred: shape or refusal, and params, as torch's own LayerNorm over the channels
    and torchvision's (C, 1, ..., 1) scale."""
    shape = (2, channels, *[3] * (rank - 2))
    inferred = {"layernorm2d": "normalized_shape", "layer_scale": "num_channels"}[kind]
    spec = inline_call(kind, **({} if given_channels is None else {inferred: given_channels}))
    c = channels if given_channels is None else given_channels

    class Reference(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(c) if kind == "layernorm2d" else None
            self.scale = nn.Parameter(torch.ones(c, *[1] * (rank - 2))) if kind == "layer_scale" else None

        def forward(self, x):
            if self.norm is not None:
                return self.norm(x.movedim(1, -1)).movedim(-1, 1)
            return self.scale * x

    expected = torch_shape(Reference, shape)
    if kind == "layer_scale" and c != channels and 1 in (c, channels):
        # torch broadcasts a (c, 1, ...) scale against one channel, or a single factor over
        # every channel; cnncalc refuses a num_channels that is not the input's, as it
        # does for every size it infers
        assert expected != REFUSED
        expected = REFUSED
    assert cnncalc_shape(spec, shape) == expected, repro(spec, shape)
    if expected != REFUSED:
        from cnncalc import analyse, load_model

        params = analyse(load_model(spec, input_shape=shape[1:]), batch=2).totals.params
        assert params == sum(p.numel() for p in Reference().parameters()), repro(spec, shape)
