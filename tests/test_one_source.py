"""A formula is written once: ``shapes``, ``conv``, ``solve`` and ``explain`` all ask the layer
types, so breaking the output-size rule in one place changes every command, and the
single-layer helpers accept, size and refuse exactly as ``shapes`` does."""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import invoke_json, outcome

from cnncalc import arithmetic

LOCATION = re.compile(r"^error: inline spec: layer 1 \([^)]*\): ")


def answers() -> dict[str, object]:
    """What each command says about a convolution of 9 with kernel 3 and stride 2."""
    solutions = invoke_json("solve", "--input", "9", "--output", "4")["solutions"]
    return {
        "shapes": invoke_json("shapes", "--input", "1x9", "conv1d(1, 3, stride=2)")["output_shape"],
        "conv": invoke_json("conv", "--input", "9", "--kernel", "3", "--stride", "2")[
            "output_size"
        ],
        "solve": {tuple(s.values()) for s in solutions},
        "explain": invoke_json("explain", "--values", "0..8", "--weight", "1,1,1", "--stride", "2")[
            "output_shape"
        ],
    }


def test_breaking_the_convolution_formula_changes_every_command(monkeypatch) -> None:
    right = answers()
    assert right["shapes"] == [1, 1, (9 - 3) // 2 + 1] and right["conv"] == [(9 - 3) // 2 + 1]
    assert right["explain"] == [(9 - 3) // 2 + 1] and (3, 2, 0, 1) in right["solve"]
    original = arithmetic.conv_output_size
    monkeypatch.setattr(
        arithmetic, "conv_output_size", lambda *args, **kw: original(*args, **kw) + 1
    )
    wrong = answers()
    assert wrong["shapes"] == [1, 1, 5] and wrong["conv"] == [5] and wrong["explain"] == [5]
    assert (3, 2, 0, 1) not in wrong["solve"] and wrong["solve"] != right["solve"]


def test_breaking_the_pooling_formula_changes_every_command(monkeypatch) -> None:
    def pool_answers() -> tuple[object, object, object]:
        spec = "maxpool1d(2, padding=1, ceil_mode=true)"
        return (
            invoke_json("shapes", "--input", "1x5", spec)["output_shape"],
            invoke_json(
                "conv", "--input", "5", "--kernel", "2", "--padding", "1", "--pool", "--ceil"
            )["output_size"],
            invoke_json(
                "explain", "--op", "maxpool", "--kernel", "2", "--padding", "1", "--values", "0..4"
            )["output_shape"],
        )

    # ceil((5 + 2 - 2) / 2) + 1 = 4, less the window starting in the right padding: 3
    assert pool_answers() == ([1, 1, 3], [3], [3])
    original = arithmetic.pool_output_size
    monkeypatch.setattr(
        arithmetic, "pool_output_size", lambda *args, **kw: original(*args, **kw) - 1
    )
    assert pool_answers() == ([1, 1, 2], [2], [2])


# ---- conv and shapes agree on a grid of geometries ------------------------------------------
def geometry(rng: random.Random) -> tuple[list[str], str, str]:
    """One random layer as ``conv`` options, the same layer as an inline spec, and the
    input for ``shapes``."""
    nd = rng.choice((1, 1, 1, 2))
    op = rng.choice(("conv", "conv", "conv_transpose", "maxpool", "avgpool"))

    def values(low: int, high: int) -> tuple[str, str]:
        picked = [rng.randint(low, high) for _ in range(nd if rng.random() < 0.3 else 1)]
        option = "x".join(map(str, picked))
        inline = str(picked[0]) if len(picked) == 1 else "(" + ", ".join(map(str, picked)) + ")"
        return option, inline

    sizes = [str(rng.randint(1, 10)) for _ in range(nd)]
    kernel, stride = values(1, 5), values(1, 3)
    args = ["--input", "x".join(sizes), "--kernel", kernel[0], "--stride", stride[0]]
    keywords = [f"stride={stride[1]}"]
    if rng.random() < 0.25:
        word = rng.choice(("same", "valid", "full"))
        args += ["--padding", word]
        keywords.append(f"padding='{word}'")
    else:
        padding = values(0, 3)
        args += ["--padding", padding[0]]
        keywords.append(f"padding={padding[1]}")
    if op != "avgpool":
        dilation = values(1, 3)
        args += ["--dilation", dilation[0]]
        keywords.append(f"dilation={dilation[1]}")
    if op == "conv_transpose":
        output_padding = values(0, 2)
        args += ["--transposed", "--output-padding", output_padding[0]]
        keywords.append(f"output_padding={output_padding[1]}")
    if op.endswith("pool"):
        args += ["--pool", op[:3]]
        if rng.random() < 0.5:
            args.append("--ceil")
            keywords.append("ceil_mode=true")
    channels = "1, " if op.startswith("conv") else ""
    spec = f"{op}{nd}d({channels}{kernel[1]}, {', '.join(keywords)})"
    return args, spec, "1x" + "x".join(sizes)


CASES = 2000


def test_conv_and_shapes_agree_on_every_geometry_of_a_grid() -> None:
    rng = random.Random(9)
    accepted = refused = 0
    for _ in range(CASES):
        args, spec, sample = geometry(rng)
        code, out, err = outcome("conv", *args, "--format", "json")
        shapes_code, shapes_out, shapes_err = outcome(
            "shapes", "--input", sample, spec, "--format", "json"
        )
        where = f'cnncalc conv {" ".join(args)}  vs  cnncalc shapes --input {sample} "{spec}"'
        assert code == shapes_code, where
        if code == 0:
            accepted += 1
            size = json.loads(out)["output_size"]
            assert json.loads(shapes_out)["output_shape"] == [1, 1, *size], where
        else:
            refused += 1
            assert code == 2 and shapes_err.startswith("error: inline spec: layer 1 ("), where
            assert err == LOCATION.sub("error: ", shapes_err), where
    assert accepted > CASES // 4 and refused > CASES // 10  # both sides of the rules are walked


@pytest.mark.parametrize(
    ("explain_args", "spec", "sample"),
    [
        (["--op", "maxpool", "--kernel", "2", "--padding", "same", "--values", "0..6"],
         "maxpool1d(2, padding='same')", "1x7"),
        (["--op", "avgpool", "--kernel", "3", "--stride", "2", "--padding", "same", "--values", "0..7"],
         "avgpool1d(3, stride=2, padding='same')", "1x8"),
    ],
)  # fmt: skip
def test_explain_takes_what_shapes_takes(explain_args, spec, sample) -> None:
    """Pooling with padding 'same' is accepted by every command alike."""
    explained = invoke_json("explain", *explain_args)
    assert [1, 1, *explained["output_shape"]] == invoke_json("shapes", "--input", sample, spec)[
        "output_shape"
    ]
