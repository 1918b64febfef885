"""Output-size arithmetic of convolution and pooling, one spatial dimension at a time.

Every function takes and returns integers. They are PyTorch 2.13's rules exactly; the
layer classes, the ``conv``/``solve`` helpers and the receptive-field walk all use them,
so a rule is written once.
"""

from __future__ import annotations


def effective_kernel(kernel: int, dilation: int) -> int:
    """The span a dilated kernel covers: ``dilation·(kernel − 1) + 1``."""
    return dilation * (kernel - 1) + 1


def window_numerator(size: int, kernel: int, pad_left: int, pad_right: int, dilation: int) -> int:
    """``L + pad_l + pad_r − dilation·(k − 1) − 1``: how far the last window may start past
    the first; divided by the stride, rounded, plus one, it is the number of windows."""
    return size + pad_left + pad_right - effective_kernel(kernel, dilation)


def conv_output_size(
    size: int, kernel: int, stride: int, pad_left: int, pad_right: int, dilation: int = 1
) -> int:
    """``floor((L + pad_l + pad_r − dilation·(k − 1) − 1) / stride) + 1``.

    May return a value below 1; the caller decides whether that is an error.
    """
    return window_numerator(size, kernel, pad_left, pad_right, dilation) // stride + 1


def pool_output_size(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """PyTorch's pooling size: floor, or ceil with the last window dropped when it would
    start inside the right padding (``(out − 1)·stride ≥ L + padding``)."""
    numerator = window_numerator(size, kernel, padding, padding, dilation)
    if ceil_mode:
        numerator += stride - 1
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def transposed_output_size(
    size: int, kernel: int, stride: int, padding: int, output_padding: int = 0, dilation: int = 1
) -> int:
    """``(L − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1``."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) padding of ``padding='same'``.

    Stride 1 is PyTorch's rule: total ``dilation·(k − 1)``, the odd pad at the end. A larger
    stride follows TensorFlow/Keras: output ``ceil(L / stride)``, total pad
    ``max((out − 1)·stride + dilation·(k − 1) + 1 − L, 0)``, the odd pad at the end. For
    stride 1 the two rules agree.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def full_padding(kernel: int, dilation: int = 1) -> int:
    """Padding of ``padding='full'`` on each side: ``dilation·(k − 1)`` (Keras/Theano)."""
    return dilation * (kernel - 1)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """The [start, end) input window of each output of adaptive pooling:
    ``start = floor(i·L/out)``, ``end = ceil((i + 1)·L/out)``."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]
