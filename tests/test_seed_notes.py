"""The worked examples of SEED-NOTES.md, each as a test (the values of the worked sums are
in test_tutor_explain.py)."""

from __future__ import annotations

from pathlib import Path

from cnncalc import analyse, load_model

CONFIGS = Path(__file__).parent.parent / "configs"


def rows(spec: str, sample: tuple[int, ...], batch: int = 1):
    report = analyse(load_model(spec, input_shape=sample), batch=batch)
    assert report.error is None, report.error
    return report.rows


def test_floor_of_a_non_integer_result() -> None:
    # (6 − 3)/2 + 1 = 2.5 → 2
    assert rows("conv2d(64, 3, stride=2)", (3, 6, 6))[0].output_shape == (1, 64, (6 - 3) // 2 + 1, 2)


def test_conv2d_5_to_10_channels() -> None:
    row = rows("conv2d(10, kernel_size=3)", (5, 100, 100))[0]
    assert row.output_shape == (1, 10, 98, 98)
    assert row.params == 10 * 5 * 3 * 3 + 10  # weight (10, 5, 3, 3) and a bias per filter


def test_same_padding_is_kernel_over_two_rings() -> None:
    three, five = rows("conv2d(1, 3, padding='same') -> conv2d(1, 5, padding='same')", (1, 9, 9))
    assert (three.window.pad_left, three.window.pad_right) == ((1, 1), (1, 1))
    assert (five.window.pad_left, five.window.pad_right) == ((2, 2), (2, 2))
    assert five.output_shape == (1, 1, 9, 9)


def test_padded_5x5_example_keeps_its_size() -> None:
    assert rows("conv2d(1, 3, padding=1, bias=false)", (1, 5, 5))[0].output_shape == (1, 1, 5, 5)


def test_maxpool_stride_defaults_to_kernel() -> None:
    row = rows("maxpool2d(kernel_size=2)", (1, 4, 4))[0]
    assert row.output_shape == (1, 1, 2, 2) and row.window.stride == (2, 2)


def test_maxpool_drops_the_column_no_window_fits() -> None:
    assert rows("maxpool2d(kernel_size=2, stride=2)", (1, 4, 5))[0].output_shape == (1, 1, 2, 2)


def test_maxpool1d_keeps_channels() -> None:
    assert rows("maxpool1d(2, 2)", (1, 16))[0].output_shape == (1, 1, 8)
    assert rows("maxpool1d(2, 2)", (2, 8))[0].output_shape == (1, 2, 4)


def test_filters_span_all_input_channels() -> None:
    row = rows("conv2d(16, 5)", (14, 20, 20))[0]
    assert row.output_shape[1] == 16
    assert row.params == 16 * (14 * 5 * 5) + 16  # 16 filters of depth 14


def test_conv1d_on_sixteen_values() -> None:
    assert rows("conv1d(1, 3, bias=false)", (1, 16))[0].output_shape == (1, 1, 14)
    assert rows("conv1d(1, 3, bias=false)", (2, 8))[0].output_shape == (1, 1, 6)


def test_pooling_has_no_parameters() -> None:
    assert [r.params for r in rows("maxpool2d(2) -> avgpool2d(2)", (3, 8, 8))] == [0, 0]


def test_transposed_kernel_larger_than_input() -> None:
    assert rows("conv_transpose2d(4, 7)", (2, 1, 1))[0].output_shape == (1, 4, 7, 7)


def test_keras_style_network_from_the_notes() -> None:
    report = analyse(load_model(str(CONFIGS / "seed-keras.yaml")))
    assert report.error is None
    spatial = [r.output_shape for r in report.rows if r.type in ("conv2d", "maxpool2d")]
    assert spatial == [
        (1, 4, 24, 24), (1, 8, 22, 22), (1, 8, 11, 11), (1, 16, 9, 9), (1, 16, 4, 4),
    ]
    flat = next(r for r in report.rows if r.type == "flatten")
    assert flat.output_shape == (1, 16 * 4 * 4)
    assert report.output_shape == (1, 10)


def test_lenet_from_the_spec() -> None:
    report = analyse(load_model(str(CONFIGS / "seed-lenet.yaml")))
    first = report.rows[0]
    assert (first.name, first.params, first.macs, first.flops) == ("conv2d1", 156, 117600, 239904)
    assert report.totals.params == 61706
