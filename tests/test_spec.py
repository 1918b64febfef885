"""Reading models: every entry form of SPEC §1, the inline form of §2, define/${...}, and the
exact message of each way a spec can be wrong."""

from __future__ import annotations

import textwrap

import pytest

from cnncalc import LimitError, SpecError, analyse, load_model


def write(tmp_path, text: str, name: str = "model.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def shapes_of(source: str, **kw) -> list[tuple[str, tuple[int, ...]]]:
    report = analyse(load_model(source, **kw))
    assert report.error is None, report.error
    return [(row.name, row.output_shape) for row in report.rows]


def error_of(source: str, **kw) -> str:
    try:
        report = analyse(load_model(source, **kw))
    except (SpecError, LimitError) as exc:
        return str(exc)
    assert report.error is not None, "expected an error"
    return str(report.error)


def test_entry_forms_are_equivalent(tmp_path) -> None:
    forms = [
        "conv2d: {out_channels: 6, kernel_size: 5, stride: 1}",
        "conv2d: [6, 5, 1]",
        "Conv2d: [6, 5]",
        "Conv2D: {filters: 6, kernel_size: 5, strides: 1}",
        "conv_2d: {out_channels: 6, kernel_size: [5, 5]}",
    ]
    for form in forms:
        path = write(tmp_path, f"input: [1, 32, 32]\nlayers:\n  - {form}\n  - relu\n")
        assert shapes_of(path) == [("conv2d1", (1, 6, 28, 28)), ("relu2", (1, 6, 28, 28))], form


def test_scalar_is_first_positional_and_bare_names(tmp_path) -> None:
    path = write(tmp_path, """
        input: [400]
        layers:
          - linear: 120
          - ReLU
          - Dense: {units: 10, use_bias: false}
          - batchnorm1d
    """)
    assert shapes_of(path) == [
        ("linear1", (1, 120)), ("relu2", (1, 120)), ("linear3", (1, 10)), ("batchnorm1d4", (1, 10))
    ]


def test_name_repeat_trainable(tmp_path) -> None:
    path = write(tmp_path, """
        input: [8]
        layers:
          - linear: 8
            name: fc
            trainable: false
          - relu: {}
            repeat: 2
          - sequential: [{linear: 4}, tanh]
            name: head
            repeat: 2
    """)
    report = analyse(load_model(path))
    assert [r.name for r in report.rows] == [
        "fc", "relu2.0", "relu2.1", "head.0.0", "head.0.1", "head.1.0", "head.1.1",
    ]
    assert report.totals.params == 72 + 36 + 20
    assert report.totals.non_trainable_params == 72
    assert report.totals.trainable_params == 56


def test_trainable_false_on_a_block_freezes_its_layers(tmp_path) -> None:
    path = write(tmp_path, """
        input: [4]
        layers:
          - sequential: [{linear: 4}, {linear: 2}]
            trainable: false
          - linear: 1
    """)
    totals = analyse(load_model(path)).totals
    assert (totals.trainable_params, totals.non_trainable_params) == (3, 20 + 10)


def test_residual_parallel_and_merges(tmp_path) -> None:
    path = write(tmp_path, """
        input: [8, 16, 16]
        layers:
          - residual:
              body: [{conv2d: [16, 3, 2, 1]}, relu]
              shortcut: [{conv2d: [16, 1, 2]}]
            name: block
          - parallel:
              branches: [[{conv2d: [4, 1]}], [{conv2d: [6, 3], padding: same}], []]
          - residual: {body: [global_avgpool, {linear: 26}, sigmoid, {unflatten: [1, [26, 1, 1]]}], merge: mul}
            name: se
    """.replace("{conv2d: [6, 3], padding: same}", "{conv2d: {out_channels: 6, kernel_size: 3, padding: same}}"))
    assert shapes_of(path) == [
        ("block.conv2d1", (1, 16, 8, 8)),
        ("block.relu2", (1, 16, 8, 8)),
        ("block.shortcut.conv2d1", (1, 16, 8, 8)),
        ("block.add", (1, 16, 8, 8)),
        ("parallel2.0.conv2d1", (1, 4, 8, 8)),
        ("parallel2.1.conv2d1", (1, 6, 8, 8)),
        ("parallel2.concat", (1, 26, 8, 8)),
        ("se.global_avgpool1", (1, 26)),
        ("se.linear2", (1, 26)),
        ("se.sigmoid3", (1, 26)),
        ("se.unflatten4", (1, 26, 1, 1)),
        ("se.mul", (1, 26, 8, 8)),
    ]


def test_squeeze_excitation_gate_broadcasts(tmp_path) -> None:
    path = write(tmp_path, """
        input: [16, 8, 8]
        layers:
          - residual:
              body: [global_avgpool, {linear: 4}, relu, {linear: 16}, sigmoid, {unflatten: [1, [16, 1, 1]]}]
              merge: mul
            name: se
    """)
    rows = analyse(load_model(path)).rows
    assert rows[-1].name == "se.mul"
    assert rows[-1].input_shapes == ((1, 16, 1, 1), (1, 16, 8, 8))
    assert rows[-1].output_shape == (1, 16, 8, 8)


def test_merge_mismatch_names_block_and_every_branch() -> None:
    message = error_of("parallel(conv2d(4, 1), conv2d(4, 3), merge=add)", input_shape=(3, 8, 8))
    assert message == (
        "inline spec: layer 3 (parallel1.add): parallel add needs shapes that are equal or "
        "broadcast (as PyTorch's +), got branch 0 [1, 4, 8, 8], branch 1 [1, 4, 6, 6]"
    )
    message = error_of("parallel(conv2d(4, 1), conv2d(4, 3))", input_shape=(3, 8, 8))
    assert "parallel concat needs equal shapes except dim 1, got branch 0 [1, 4, 8, 8], branch 1 [1, 4, 6, 6]" in message


def test_define_with_params_and_nested_scopes(tmp_path) -> None:
    path = write(tmp_path, """
        input: [64, 8, 8]
        define:
          inner:
            params: {c: 8}
            layers:
              - conv2d: {out_channels: "${c}", kernel_size: 1}
          bottleneck:
            params: {width: 64, stride: 1}
            layers:
              - conv2d: {out_channels: "${width}", kernel_size: 1, bias: false}
              - conv2d: {out_channels: "${width}", kernel_size: 3, stride: "${stride}", padding: 1}
              - inner: {c: "${width * 4 // 2 - (1 + 1)}"}
              - conv_relu
          conv_relu: [relu]
        layers:
          - bottleneck: {width: 16, stride: 2}
            name: b1
          - bottleneck
    """)
    assert shapes_of(path) == [
        ("b1.conv2d1", (1, 16, 8, 8)),
        ("b1.conv2d2", (1, 16, 4, 4)),
        # inner3 keeps its segment: its conv2d1 would clash with the bottleneck's own;
        # conv_relu4 adds none, and neither does the unnamed second bottleneck
        ("b1.inner3.conv2d1", (1, 30, 4, 4)),
        ("b1.relu1", (1, 30, 4, 4)),
        ("conv2d1", (1, 64, 4, 4)),
        ("conv2d2", (1, 64, 4, 4)),
        ("inner3.conv2d1", (1, 126, 4, 4)),
        ("relu1", (1, 126, 4, 4)),
    ]


@pytest.mark.parametrize(
    ("define", "use", "message"),
    [
        ("a: {layers: [b]}\n  b: {layers: [a]}", "a",
         "model.yaml:4: layer 1 (a1): defined block a uses itself (a -> b -> a)"),
        ("a: {params: {w: 1}, layers: [relu]}", "a: {x: 2}",
         "model.yaml:6: layer 1 (a1): a has no parameter 'x' (parameters: w)"),
        ("a: {params: {w: 1}, layers: [{linear: '${v}'}]}", "a",
         "model.yaml:3: layer 1 (linear1): ${v}: unknown parameter 'v' (parameters: w)"),
        ("a: {params: {w: 1}, layers: [{linear: '${w / 2}'}]}", "a",
         "model.yaml:3: layer 1 (linear1): ${w / 2}: unexpected '/'; only parameter names, "
         "integers (digits 0-9), + - * // and parentheses are allowed"),
        ("a: {params: {w: 1}, layers: [{linear: '${w // 0}'}]}", "a",
         "model.yaml:3: layer 1 (linear1): ${w // 0}: division by zero"),
        ("a: {params: {w: 1}, layers: [{linear: '${__import__}'}]}", "a",
         "model.yaml:3: layer 1 (linear1): ${__import__}: unknown parameter '__import__' (parameters: w)"),
        ("conv2d: [relu]", "relu", "model.yaml:3: define name 'conv2d' is already a layer type"),
    ],
)
def test_define_errors(tmp_path, define, use, message) -> None:
    path = write(tmp_path, f"input: [4]\ndefine:\n  {define}\nlayers:\n  - {use}\n".replace("\nlayers", "\n\nlayers"))
    assert error_of(path) == message.replace("model.yaml", path)


def test_inline_grammar() -> None:
    spec = (
        "conv2d(8, 3, padding=1) -> residual(conv2d(8, 3, padding='same') -> relu, merge=add) "
        "-> parallel(conv2d(4, 1), maxpool2d(3, 1, 1) -> conv2d(4, 1)) -> 2 * (conv2d(8, 3, stride=2) -> relu)"
        " -> flatten -> linear(10, name=head, trainable=false)"
    )
    report = analyse(load_model(spec, input_shape=(3, 32, 32)))
    assert report.error is None
    assert report.output_shape == (1, 10)
    assert report.rows[-1].name == "head" and not report.rows[-1].trainable
    assert [r.name for r in report.rows if r.type in ("add", "concat")] == ["residual2.add", "parallel3.concat"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv2d(6, 5", "inline spec, column 12: conv2d( is never closed: expected ')'"),
        ("conv2d(6, 5 -> relu", "inline spec, column 13: expected ',' or ')' in the arguments of conv2d, found '->'"),
        ("relu relu", "inline spec, column 6: unexpected 'relu'; layers are joined with '->'"),
        ("conv2d(6, 5) ->", "inline spec, column 16: expected a layer, found the end"),
        ("conv2d(6, $)", "inline spec, column 11: unexpected character '$'"),
        ("conv2d(out_channels=6, 5)", "inline spec, column 24: a positional argument follows a keyword argument"),
        ("2 * ", "inline spec, column 5: expected a layer, found the end"),
        ("", "inline spec, column 1: the spec is empty"),
        ("nosuch(3)", "inline spec: layer 1 (nosuch1): unknown layer type 'nosuch'; `cnncalc layers` lists them"),
        ("conv2dd(3, 3)", "inline spec: layer 1 (conv2dd1): unknown layer type 'conv2dd' (did you mean conv2d?); `cnncalc layers` lists them"),
    ],
)
def test_inline_errors(spec, message) -> None:
    assert error_of(spec, input_shape=(3, 8, 8)) == message


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("input: [1, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3\n",
         "model.yaml:4:1: YAML syntax error: did not find expected ',' or '}'"),
        ("input: [1, 8, 8]\nlayers: relu\n", "model.yaml: expected a list of layers, got str"),
        ("input: [1, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4}\n  - relu\n",
         "model.yaml:3: layer 1 (conv2d1): conv2d needs kernel_size"),
        ("input: [1, 8, 8]\nlayers:\n  - relu\n  - conv2d: {out_channels: 4, kernel_size: 3, kernel_size: 5}\n",
         "model.yaml:4: duplicate key 'kernel_size'"),
        ("input: [1, 8, 8]\nlayers:\n  - relu\n  - conv2d: [4, 3]\n    relu: {}\n",
         "model.yaml:4: layer 2 (conv2d2): entry has more than one layer type (conv2d, relu); start each layer with its own '- '"),
        ("input: [1, 8, 8]\nlayers:\n  - relu:\n    repeat: 0\n",
         "model.yaml:3: layer 1 (relu1): repeat must be an integer >= 1, got 0"),
        ("input: [0, 8]\nlayers: [relu]\n", "model.yaml:1: input sizes must be integers >= 1, got 0 in [0, 8]"),
        ("input_shape: [1, 8]\nlayers: [relu]\n",
         "model.yaml: unknown top-level key 'input_shape'; a model file has name, input, inputs, "
         "define, layers, outputs"),
        ("inputs: [1, 8]\nlayers: [relu]\n",
         "model.yaml:1: inputs maps input names to shapes: {image: [3, 224, 224], ...}"),
        ("- relu\n", "model.yaml: a model file is a mapping with input and layers (see SPEC §1), got a list"),
        ("layers: [relu]\n", "model.yaml: no input shape: give `input: [C, H, W]` in the model or --input 3x224x224"),
    ],
)
def test_yaml_errors(tmp_path, yaml_text, message) -> None:
    path = write(tmp_path, yaml_text)
    assert error_of(path).replace(path, "model.yaml") == message


def test_yaml_syntax_error_has_line_and_column(tmp_path) -> None:
    path = write(tmp_path, "input: [1, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3\n")
    assert error_of(path) == f"{path}:4:1: YAML syntax error: did not find expected ',' or '}}'"


def test_json_model_file(tmp_path) -> None:
    path = write(tmp_path, '{"name": "tiny", "input": [3, 8, 8], "layers": [{"conv2d": [4, 3]}, "flatten", {"linear": 2}]}', "m.json")
    report = analyse(load_model(path))
    assert report.model == "tiny" and report.output_shape == (1, 2)


def test_missing_file() -> None:
    assert error_of("no/such/model.yaml") == "no/such/model.yaml: no such file"


def test_input_override_and_keras_activation(tmp_path) -> None:
    path = write(tmp_path, "input: [3, 8, 8]\nlayers:\n  - Conv2D: {filters: 2, kernel_size: 3}\n  - Activation: relu\n")
    report = analyse(load_model(path, input_shape=(3, 10, 10)), batch=4)
    assert [(r.type, r.output_shape) for r in report.rows] == [("conv2d", (4, 2, 8, 8)), ("relu", (4, 2, 8, 8))]


def test_keras_layers_with_keras_semantics() -> None:
    spec = "ZeroPadding2D(((1, 2), (3, 4))) -> UpSampling2D(2) -> MaxPooling2D(pool_size=2, strides=1) -> GlobalAveragePooling2D"
    shapes = shapes_of(spec, input_shape=(3, 4, 4))
    assert shapes == [
        ("zeropadding2d1", (1, 3, 4 + 1 + 2, 4 + 3 + 4)),
        ("upsampling2d2", (1, 3, 14, 22)),
        ("maxpool2d3", (1, 3, 13, 21)),
        ("global_avgpool4", (1, 3)),
    ]
