"""Differential test: random models through cnncalc's analysis and through execute's
PyTorch path (each layer type's ``to_torch``, the blocks, the merges). They must agree.

- Where cnncalc computes a model, PyTorch must produce every row's shape and parameter
  count (``Execution.ok``).
- Where cnncalc refuses a single layer, PyTorch must refuse it too (construction or
  forward raises, or an empty output), except where cnncalc is stricter by design; each
  such case is listed in ``stricter_by_design`` with its reason.

- Random graphs of named tensors (skips, splits, several outputs, shared layers, merges
  with broadcasting) must compute exactly what an interpreter written here in plain torch
  computes, or be refused at the entry where torch raises.

A failure prints the case as a ready-to-paste ``cnncalc execute`` command (for graphs, the
model file). The example
count is the hypothesis profile's (tests/conftest.py): 300 a test by default, about a
minute for the file on two cores; ``HYPOTHESIS_PROFILE=long`` runs 20,000 a test.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from cnncalc_oracle import inline_call  # noqa: E402

from cnncalc import analyse, load_model  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.execute import execute  # noqa: E402
from cnncalc.render import verdict  # noqa: E402

Shape = tuple[int, ...]
ACTIVATIONS = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "sigmoid",
    "hardsigmoid", "hardswish", "tanh", "identity",
)  # fmt: skip


def command(spec: str, sample: Shape, batch: int) -> str:
    """The case as a command to paste into a shell."""
    dims = "x".join(map(str, sample))
    extra = f"--batch {batch} " if batch > 1 else ""
    return f'cnncalc execute {extra}--input {dims} "{spec}"'


def per_dim(nd: int, low: int, high: int) -> st.SearchStrategy[Any]:
    """An int, or a tuple of ``nd`` ints, in [low, high]."""
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * nd))


def optional(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments, each present or left at its default."""
    return st.fixed_dictionaries({}, optional=strategies)


# ---- single layers, valid or not ---------------------------------------------------------
def conv(nd: int) -> st.SearchStrategy[str]:
    keywords = optional(
        stride=per_dim(nd, 1, 3),
        padding=st.one_of(per_dim(nd, 0, 2), st.sampled_from(["valid", "same", "full"])),
        dilation=per_dim(nd, 1, 2),
        groups=st.sampled_from([1, 2]),
        bias=st.booleans(),
        padding_mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    )
    return st.builds(
        lambda out, k, kw: inline_call(f"conv{nd}d", out, k, **kw),
        st.integers(1, 4), per_dim(nd, 1, 4), keywords,
    )  # fmt: skip


def conv_transpose(nd: int) -> st.SearchStrategy[str]:
    keywords = optional(
        stride=per_dim(nd, 1, 3),
        padding=per_dim(nd, 0, 2),
        output_padding=per_dim(nd, 0, 2),
        dilation=per_dim(nd, 1, 2),
        groups=st.sampled_from([1, 2]),
        bias=st.booleans(),
    )
    return st.builds(
        lambda out, k, kw: inline_call(f"conv_transpose{nd}d", out, k, **kw),
        st.integers(1, 4), per_dim(nd, 1, 4), keywords,
    )  # fmt: skip


def pool(nd: int) -> st.SearchStrategy[str]:
    common = {
        "stride": st.one_of(st.none(), per_dim(nd, 1, 3)),
        "padding": st.one_of(per_dim(nd, 0, 2), st.sampled_from(["valid", "same"])),
        "ceil_mode": st.booleans(),
    }
    max_keywords = optional(**common, dilation=per_dim(nd, 1, 2))
    avg_extra = {"count_include_pad": st.booleans()}
    if nd > 1:
        avg_extra["divisor_override"] = st.sampled_from([None, 1, 3])
    avg_keywords = optional(**common, **avg_extra)
    return st.one_of(
        st.builds(lambda k, kw: inline_call(f"maxpool{nd}d", k, **kw), per_dim(nd, 1, 4), max_keywords),
        st.builds(lambda k, kw: inline_call(f"avgpool{nd}d", k, **kw), per_dim(nd, 1, 4), avg_keywords),
        st.builds(
            lambda kind, size: inline_call(f"adaptive_{kind}pool{nd}d", size),
            st.sampled_from(["avg", "max"]),
            st.one_of(st.integers(1, 5), st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=nd, max_size=nd).map(tuple)),
        ),
    )  # fmt: skip


def reshaping(nd: int) -> st.SearchStrategy[str]:
    pair = st.tuples(st.integers(-1, 2), st.integers(-1, 2))
    pads = st.one_of(
        st.integers(-1, 2),
        st.lists(pair, min_size=1, max_size=nd).map(lambda pairs: sum(pairs, ())),
    )
    choices = [
        st.builds(lambda p: inline_call(f"zeropad{nd}d", p), pads),
        st.builds(lambda p: inline_call(f"zeropadding{nd}d", p), st.integers(0, 2)),
        st.builds(lambda s: inline_call(f"upsampling{nd}d", s), per_dim(nd, 1, 3)),
        st.builds(
            lambda factor, mode: inline_call("upsample", scale_factor=factor, mode=mode),
            st.sampled_from([0.5, 1.5, 2, 2.5, 3]),
            st.sampled_from(["nearest", "nearest-exact", "area", {1: "linear", 2: "bicubic", 3: "trilinear"}[nd]]),
        ),
        st.builds(lambda size: inline_call("upsample", size=size), per_dim(nd, 1, 6)),
        st.builds(lambda keep: inline_call("global_avgpool", keepdims=keep), st.booleans()),
        st.builds(lambda keep: inline_call("global_maxpool", keepdims=keep), st.booleans()),
        st.builds(lambda p: inline_call(f"dropout{nd}d", p), st.sampled_from([0.0, 0.5])),
        st.builds(lambda: inline_call(f"batchnorm{nd}d")),
        st.builds(lambda affine: inline_call(f"instancenorm{nd}d", affine=affine), st.booleans()),
    ]  # fmt: skip
    if nd == 2:
        choices += [
            st.builds(lambda r: inline_call("pixel_shuffle", r), st.integers(1, 3)),
            st.builds(lambda r: inline_call("pixel_unshuffle", r), st.integers(1, 3)),
        ]
    return st.one_of(choices)


def any_rank() -> st.SearchStrategy[str]:
    """Layers that take any rank."""
    return st.one_of(
        st.builds(lambda out, bias: inline_call("linear", out, bias=bias), st.integers(1, 5), st.booleans()),
        st.builds(lambda s, e: inline_call("flatten", s, e), st.integers(-3, 3), st.integers(-3, 3)),
        st.builds(lambda d: inline_call("softmax", d), st.integers(-3, 3)),
        st.builds(lambda d: inline_call("log_softmax", d), st.integers(-3, 3)),
        st.builds(lambda n: inline_call("prelu", n), st.integers(1, 4)),
        st.builds(lambda g: inline_call("groupnorm", g), st.integers(1, 4)),
        st.builds(lambda shape: inline_call("layernorm", shape), st.one_of(st.none(), st.integers(1, 5))),
        st.builds(lambda: inline_call("batchnorm")),
        st.builds(lambda p: inline_call("dropout", p), st.sampled_from([0.0, 0.5])),
        st.sampled_from(ACTIVATIONS),
        st.builds(lambda dims: inline_call("permute", *dims), st.integers(2, 5).flatmap(lambda n: st.permutations(range(n)))),
        st.builds(lambda a, b: inline_call("transpose", a, b), st.integers(-3, 3), st.integers(-3, 3)),
        st.builds(lambda affine: inline_call("layernorm2d", elementwise_affine=affine), st.booleans()),
        st.builds(lambda value: inline_call("layer_scale", value), st.sampled_from([1e-6, 0.5])),
        st.builds(lambda p, mode: inline_call("drop_path", p, mode), st.sampled_from([0.0, 0.2, 1.0]), st.sampled_from(["row", "batch"])),
    )  # fmt: skip


@st.composite
def single_layer_cases(draw: st.DrawFn) -> tuple[str, Shape, int]:
    nd = draw(st.integers(0, 3))
    channels = draw(st.integers(1, 4))
    sample = (channels, *draw(st.tuples(*[st.integers(1, 9 if nd < 3 else 6)] * nd)))
    # Mostly a layer made for the input's rank; sometimes one made for another rank.
    layer_nd = draw(st.sampled_from([nd, nd, nd, 1, 2, 3])) or 1
    families = [conv, conv_transpose, pool, reshaping]
    layers = [family(layer_nd) for family in families] if nd or layer_nd != 1 else []
    spec = draw(st.one_of(*layers, any_rank()))
    return spec, sample, draw(st.integers(1, 2))


# ---- PyTorch's verdict on a layer cnncalc refuses -----------------------------------------
def torch_output(spec: str, shape: Shape) -> Shape | None:
    """The shape the layer's own ``to_torch`` module gives on zeros of ``shape``, or None
    where PyTorch refuses it (construction or forward raises)."""
    layer = load_model(spec, shape[1:]).layers[0].layer
    try:
        module = layer.to_torch(shape).eval()
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's notes on inputs it reinterprets
            return tuple(module(torch.zeros(shape)).shape)
    except CnncalcError:
        raise
    except Exception:  # noqa: BLE001 - any refusal by PyTorch
        return None


def stricter_by_design(spec: str, shape: Shape, out: Shape) -> bool:
    """Cases PyTorch runs that cnncalc refuses on purpose (SPEC §3, §4)."""
    name = spec.split("(")[0]
    nd = int(name[-2]) if name[-1] == "d" and name[-2].isdigit() else None
    return (
        # an output size below 1: some backends return empty tensors, cnncalc refuses
        0 in out
        # an N-d layer takes (N, C, *N spatial) in cnncalc; PyTorch also reads rank N + 1
        # as unbatched, and global average pooling as a mean over the last N dims of any rank
        or (nd is not None and len(shape) != nd + 2)
        # pixel shuffle on more than one leading dimension, or padding and normalising
        # that would reach into the batch dimension
        or name in ("pixel_shuffle", "pixel_unshuffle", "layernorm")
        or name.startswith("zeropad")
        # TensorFlow's 'same' pooling has no ceil mode; cnncalc refuses the mixture
        or ("pool" in name and "padding='same'" in spec and "ceil_mode=true" in spec)
    )


# ---- multi-layer models that mostly compute --------------------------------------------
@st.composite
def chain_cases(draw: st.DrawFn) -> tuple[str, Shape, int]:
    """2 to 5 steps on a 1-, 2- or 3-D input, with residual, parallel and repeated blocks.
    Channels are tracked so the blocks mostly fit; sizes are left to chance."""
    nd = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 4))
    sample = (channels, *draw(st.tuples(*[st.integers(3, 12 if nd < 3 else 6)] * nd)))
    c = channels
    steps = []
    for _ in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(["conv", "pool", "act", "norm", "residual", "down", "parallel", "gate", "repeat", "pad"]))  # fmt: skip
        out = draw(st.integers(1, 6))
        same = draw(st.sampled_from(["'same'", 1, "'full'", 0]))
        k = draw(st.sampled_from([1, 2, 3]))
        if kind == "conv":
            stride = draw(st.integers(1, 2))
            steps.append(f"conv{nd}d({out}, {k}, stride={stride}, padding={same})")
            c = out
        elif kind == "pool":
            steps.append(draw(st.sampled_from([
                f"maxpool{nd}d(2, ceil_mode=True)", f"avgpool{nd}d(3, 1, 1)",
                f"maxpool{nd}d(3, 2, padding='same')", f"adaptive_avgpool{nd}d(2)",
            ])))  # fmt: skip
        elif kind == "act":
            steps.append(draw(st.sampled_from(ACTIVATIONS)))
        elif kind == "norm":
            steps.append(draw(st.sampled_from([f"batchnorm{nd}d", f"instancenorm{nd}d", "groupnorm(1)", f"dropout{nd}d(0.1)"])))  # fmt: skip
        elif kind == "residual":
            merge = draw(st.sampled_from(["add", "concat"]))
            steps.append(f"residual(conv{nd}d({c}, 3, padding='same') -> relu -> conv{nd}d({c}, {k}, padding='same'), merge='{merge}')")  # fmt: skip
            c = 2 * c if merge == "concat" else c
        elif kind == "down":
            steps.append(f"residual(conv{nd}d({out}, 3, stride=2, padding=1) -> relu, shortcut=conv{nd}d({out}, 1, stride=2))")  # fmt: skip
            c = out
        elif kind == "parallel":
            merge = draw(st.sampled_from(["concat", "add", "mul"]))
            branches = [f"conv{nd}d({out}, 1)", f"conv{nd}d({out}, 3, padding=1)", f"conv{nd}d({out}, 5, padding='same', dilation={k})"]  # fmt: skip
            steps.append(f"parallel({', '.join(branches)}, merge='{merge}')")
            c = 3 * out if merge == "concat" else out
        elif kind == "gate":  # squeeze and excitation: (N, C, 1, ...) × (N, C, ...)
            steps.append(f"residual(global_avgpool(keepdims=True) -> conv{nd}d({c}, 1) -> sigmoid, merge='mul')")  # fmt: skip
        elif kind == "repeat":
            steps.append(f"2 * (conv{nd}d({out}, 3, padding={same}) -> relu)")
            c = out
        else:
            steps.append(f"zeropad{nd}d({k - 1})")
    if draw(st.booleans()):
        steps += ["flatten", f"linear({draw(st.integers(1, 10))})", "softmax"]
    return " -> ".join(steps), sample, draw(st.integers(1, 2))


# ---- the tests -------------------------------------------------------------------------
def check_agreement(spec: str, sample: Shape, batch: int) -> Any:
    """Analyse and run the case; where cnncalc computes it, PyTorch must agree row by row.
    Returns the report."""
    report = analyse(load_model(spec, sample), batch=batch)
    if report.error is None:
        result = execute(report, seed=0)
        assert result.ok, f"{command(spec, sample, batch)}\n{verdict(result)}"
    return report


@given(single_layer_cases())
def test_single_layers_agree_with_pytorch(case: tuple[str, Shape, int]) -> None:
    spec, sample, batch = case
    note(command(spec, sample, batch))  # printed with any failure, crashes included
    report = check_agreement(spec, sample, batch)
    event("cnncalc refuses" if report.error else "cnncalc computes")
    if report.error is None:
        return
    shape = (batch, *sample)
    out = torch_output(spec, shape)
    assert out is None or stricter_by_design(spec, shape, out), (
        f"{command(spec, sample, batch)}\ncnncalc refuses ({report.error}) "
        f"but PyTorch gives {list(out)}"
    )


@given(chain_cases())
def test_small_models_agree_with_pytorch(case: tuple[str, Shape, int]) -> None:
    note(command(*case))
    report = check_agreement(*case)
    event("cnncalc refuses" if report.error else "cnncalc computes")


@pytest.mark.parametrize(
    ("spec", "sample"),
    [
        ("conv2d(4, 3, stride=2, padding='same')", (3, 17, 17)),  # TensorFlow's strided same
        ("conv2d(4, (2, 4), stride=(3, 1), padding='same', dilation=2)", (2, 9, 10)),
        ("conv1d(2, 4, padding='same', padding_mode='reflect')", (1, 7)),
        ("conv3d(2, 2, padding='full', dilation=2)", (1, 3, 3, 3)),
        ("maxpool2d(3, 2, padding='same')", (2, 8, 9)),
        ("avgpool1d(2, 3, padding='same')", (1, 10)),
        ("Conv2D(filters=4, kernel_size=3, strides=2, padding='same') -> MaxPooling2D(pool_size=2)"
         " -> BatchNormalization -> GlobalAveragePooling2D -> Dense(units=3)", (3, 15, 15)),
        ("ZeroPadding2D(((1, 2), (0, 3))) -> UpSampling2D(2) -> Flatten -> Dropout(0.5)", (2, 3, 3)),
        ("residual(conv2d(4, 3, padding=1), shortcut=conv2d(4, 1), merge='concat')", (2, 6, 6)),
        ("parallel(maxpool2d(2), avgpool2d(2), conv2d(3, 2, stride=2), merge='add')", (3, 8, 8)),
        ("residual(adaptive_avgpool2d(1) -> conv2d(3, 1) -> hardsigmoid, merge='mul')", (3, 5, 5)),
        ("3 * (conv2d(4, 3, padding=1) -> relu) -> adaptive_maxpool2d((None, 2))", (1, 6, 7)),
        ("global_maxpool(keepdims=True) -> flatten -> linear(2)", (2, 3, 4, 5)),
        # found by this test: to_torch passed a lone None to AdaptiveAvgPool1d, and global
        # pooling over more than 3 spatial dimensions had no PyTorch module
        ("adaptive_avgpool1d((None,))", (2, 5)),
        ("unflatten(2, (2, 2)) -> global_avgpool(keepdims=True)", (2, 4, 4, 4)),
        ("unflatten(2, (2, 2)) -> global_maxpool", (2, 4, 4, 4)),
        # ConvNeXt's block: channels-last in the middle, layer scale and drop path at the end
        ("residual(conv2d(4, 7, padding=3, groups=4) -> permute(0, 2, 3, 1) -> layernorm -> linear(16)"
         " -> gelu -> linear(4) -> permute(0, 3, 1, 2) -> layer_scale -> drop_path(0.1))", (4, 9, 9)),
        ("layernorm2d(1e-6) -> conv2d(6, 2, stride=2) -> transpose(1, -1) -> flatten -> layer_scale", (3, 4, 4)),
    ],
)  # fmt: skip
def test_known_cases_agree_with_pytorch(spec: str, sample: Shape) -> None:
    """The constructions the issue names, each once, so a regression names its case."""
    report = check_agreement(spec, sample, 1)
    assert report.error is None, str(report.error)


@pytest.mark.parametrize(
    ("spec", "sample"),
    [
        # found by this test: PyTorch computes group and instance statistics from the input
        # and refuses a group or channel holding a single value (F.group_norm,
        # F.instance_norm), even in eval mode
        ("groupnorm(4)", (4, 1, 1)),
        ("groupnorm(2)", (2,)),
        ("instancenorm2d", (4, 1, 1)),
        ("instancenorm1d(affine=true)", (3, 1)),
    ],
)
def test_known_refusals_agree_with_pytorch(spec: str, sample: Shape) -> None:
    report = check_agreement(spec, sample, 1)
    assert report.error is not None
    assert torch_output(spec, (1, *sample)) is None


# ---- random graphs: skips, splits, several outputs, shared layers, broadcasting merges ------
# Each case is a model file of named entries reading earlier tensors. An interpreter written
# here in plain torch (not cnncalc's ``to_torch``) runs it; cnncalc must compute exactly what
# it computes (every row's shape, the params, the outputs, the MACs of what the outputs
# need) or refuse the entry where it raises; and cnncalc's own execute must confirm it.
GRAPH_KINDS = ("conv", "conv", "relu", "pool", "gate", "add", "mul", "concat", "chunk", "split", "share")


def graph_yaml(inputs: dict[str, Shape], entries: list[dict[str, Any]], outputs: list[str]) -> str:
    """The case as a model file, ready to paste."""
    lines = ["inputs: {" + ", ".join(f"{n}: {list(s)}" for n, s in inputs.items()) + "}", "layers:"]
    for entry in entries:
        if entry["kind"] == "share":
            lines.append(f"  - share: {entry['share']}")
        else:
            args = entry["args"]
            lines.append(f"  - {entry['type']}: " + ("{" + ", ".join(f"{k}: {v}" for k, v in args.items()) + "}" if args else "{}"))
        lines.append(f"    name: {entry['name']}")
        sources = entry["from"]
        lines.append(f"    from: {sources[0] if len(sources) == 1 else '[' + ', '.join(sources) + ']'}")
    lines.append(f"outputs: [{', '.join(outputs)}]")
    return "\n".join(lines) + "\n"


class GraphRun:
    """Runs a case's entries in torch, eagerly, keeping every module and tensor."""

    def __init__(self, inputs: dict[str, torch.Tensor]) -> None:
        self.tensors: dict[str, Any] = dict(inputs)
        self.modules: dict[str, Any] = {}

    def read(self, name: str) -> Any:
        base, _, piece = name.rpartition(".")
        if base and piece.isdigit() and base in self.tensors:
            return self.tensors[base][int(piece)]
        return self.tensors[name]

    def module(self, entry: dict[str, Any], first: torch.Tensor) -> Any:
        args, kind = entry["args"], entry["kind"]
        if kind == "share":
            return self.modules[entry["share"]]
        if kind == "conv":
            return torch.nn.Conv2d(first.shape[1], args["out_channels"], args["kernel_size"], args["stride"], args["padding"])
        if kind == "relu":
            return torch.nn.ReLU()
        if kind == "pool":
            return torch.nn.MaxPool2d(2)
        if kind == "gate":
            return torch.nn.AdaptiveAvgPool2d(1)
        return None

    def step(self, entry: dict[str, Any]) -> Any:
        reads = [self.read(n) for n in entry["from"]]
        flat = [t for r in reads for t in (r if isinstance(r, tuple) else (r,))]
        kind, args = entry["kind"], entry["args"]
        if kind not in ("add", "mul", "concat") and (len(reads) != 1 or isinstance(reads[0], tuple)):
            raise ValueError("one tensor expected")  # as torch.relu((t,)) refuses
        if kind == "add":
            out = flat[0]
            for t in flat[1:]:
                out = out + t
        elif kind == "mul":
            out = flat[0]
            for t in flat[1:]:
                out = out * t
        elif kind == "concat":
            out = torch.cat(flat, dim=1)
        elif kind == "chunk":
            out = torch.chunk(flat[0], args["chunks"], dim=1)
        elif kind == "split":
            out = torch.split(flat[0], args["split_size_or_sections"], dim=1)
        else:
            module = self.modules.setdefault(entry["name"], self.module(entry, flat[0]))
            out = module(flat[0])
        pieces = out if isinstance(out, tuple) else (out,)
        if any(0 in p.shape for p in pieces) or (kind in ("add", "mul", "concat") and len(flat) < 2):
            raise ValueError("an empty tensor, or a merge of one tensor")
        self.tensors[entry["name"]] = out
        return out


@st.composite
def graph_cases(draw: st.DrawFn) -> tuple[dict[str, Shape], list[dict[str, Any]], list[str], int]:
    """Up to 8 entries on one or two 2-D inputs. Shapes are tracked by running the entries
    in torch while drawing, so most merges fit; some are left to chance."""
    inputs = {"x": (draw(st.integers(1, 4)), draw(st.integers(3, 9)), draw(st.integers(3, 9)))}
    if draw(st.booleans()):
        inputs["y"] = (draw(st.integers(1, 4)), *draw(st.sampled_from([inputs["x"][1:], (1, 1), (3, 3)])))
    batch = draw(st.integers(1, 2))
    run = GraphRun({n: torch.zeros(batch, *s) for n, s in inputs.items()})
    tensors = list(inputs)  # names of single tensors that can be read
    entries: list[dict[str, Any]] = []
    with torch.inference_mode():
        for index in range(draw(st.integers(1, 8))):
            name = f"t{index + 1}"
            kind = draw(st.sampled_from(GRAPH_KINDS))
            if kind == "share" and not any(e["kind"] == "conv" for e in entries):
                kind = "relu"
            source = draw(st.sampled_from(tensors[-4:]))
            entry: dict[str, Any] = {"name": name, "kind": kind, "args": {}, "from": [source]}
            if kind == "conv":
                entry["type"] = "conv2d"
                entry["args"] = {"out_channels": draw(st.integers(1, 6)), "kernel_size": draw(st.sampled_from([1, 3])),
                                 "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, 1))}  # fmt: skip
            elif kind in ("relu", "pool", "gate"):
                entry["type"] = {"relu": "relu", "pool": "maxpool2d", "gate": "adaptive_avgpool2d"}[kind]
                entry["args"] = {"kernel_size": 2} if kind == "pool" else {"output_size": 1} if kind == "gate" else {}
            elif kind in ("add", "mul", "concat"):
                entry["type"] = kind
                shape = getattr(run.read(source), "shape", None)
                same = [n for n in tensors if getattr(run.read(n), "shape", ()) == shape]
                pool = (same or tensors) if draw(st.booleans()) else tensors
                others = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2))
                entry["from"] = [source, *others]
            elif kind == "chunk":
                entry["type"], entry["args"] = "chunk", {"chunks": draw(st.integers(1, 3))}
            elif kind == "split":
                entry["type"], entry["args"] = "split", {"split_size_or_sections": draw(st.integers(1, 3))}
            else:
                entry["share"] = draw(st.sampled_from([e["name"] for e in entries if e["kind"] == "conv"]))
            entries.append(entry)
            try:
                out = run.step(entry)
            except Exception:  # noqa: BLE001 - a case torch refuses ends here
                break
            if isinstance(out, tuple):
                tensors += [f"{name}.{i}" for i in range(len(out))]
                if kind == "split" or draw(st.booleans()):  # a merge may read the whole split
                    continue
            tensors.append(name)
    names = [e["name"] for e in entries if e["kind"] not in ("chunk", "split")] or [entries[-1]["name"]]
    outputs = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    return inputs, entries, outputs, batch


def torch_graph(inputs: dict[str, Shape], entries: list[dict[str, Any]], outputs: list[str],
                batch: int) -> tuple[GraphRun, int | None, int]:  # fmt: skip
    """Run the case in torch: the run, the index of the entry torch refused (None if
    none), and the MACs of computing the outputs alone (conv only: half torch's FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    run = GraphRun({n: torch.randn(batch, *s) for n, s in inputs.items()})
    with torch.inference_mode():
        for index, entry in enumerate(entries):
            try:
                run.step(entry)
            except Exception:  # noqa: BLE001 - torch's refusal is the verdict
                return run, index, 0
        # the MACs of what the outputs need: the entries they reach, run again
        by_name = {e["name"]: e for e in entries}
        needed: list[str] = []

        def need(name: str) -> None:
            base = name.rpartition(".")[0] if name not in by_name and "." in name else name
            if base in by_name and base not in needed:
                for source in by_name[base]["from"]:
                    need(source)
                needed.append(base)

        for name in outputs:
            need(name)
        counter = FlopCounterMode(display=False)
        with counter:
            for name in needed:
                run.step(by_name[name])
    return run, None, counter.get_total_flops() // 2


@given(graph_cases())
def test_random_graphs_agree_with_pytorch(case: tuple[dict[str, Shape], list[dict[str, Any]], list[str], int]) -> None:
    from cnncalc.model.document import build_model
    from cnncalc.model.yaml_loader import load_yaml

    inputs, entries, outputs, batch = case
    text = graph_yaml(inputs, entries, outputs)
    note(f"cnncalc execute --batch {batch} model.yaml, where model.yaml is:\n{text}")
    report = analyse(build_model(load_yaml(text), "model.yaml"), batch=batch)
    run, refused, macs = torch_graph(inputs, entries, outputs, batch)
    event("torch refuses" if refused is not None else "torch computes")
    if refused is not None:
        assert report.error is not None, f"torch refuses entry {refused + 1}, cnncalc computes it"
        assert len(report.rows) == refused, str(report.error)
        return
    unread = [n for n in inputs if all(n not in e["from"] for e in entries)]
    if len(inputs) > 1 and unread:  # an input nobody reads is refused, by design
        assert report.error is not None and "is read by no entry" in str(report.error)
        return
    assert report.error is None, str(report.error)
    for row, entry in zip(report.rows, entries, strict=True):
        out = run.tensors[entry["name"]]
        pieces = tuple(tuple(p.shape) for p in (out if isinstance(out, tuple) else (out,)))
        assert (row.output_shapes or (row.output_shape,)) == pieces, row.name
    params = sum(p.numel() for m in {id(m): m for m in run.modules.values()}.values() for p in m.parameters())
    assert report.totals.params == params
    assert report.totals.macs == macs
    expected = [run.read(n) for n in outputs]
    assert [t.shape for t in report.outputs] == [
        tuple(t.shape) for value in expected for t in (value if isinstance(value, tuple) else (value,))
    ]
    result = execute(report, seed=0)
    assert result.ok, result.verdict
