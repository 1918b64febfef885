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
