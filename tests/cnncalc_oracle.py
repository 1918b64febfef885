"""cnncalc's answer for one layer, in the same form as ``torch_oracle``."""

from __future__ import annotations

from cnncalc import analyse, load_model

Shape = tuple[int, ...]
REFUSED = "refused"


def render_value(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(render_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def inline_call(type_name: str, *positional: object, **keywords: object) -> str:
    """A layer as inline-spec text, ready to paste into ``cnncalc shapes``."""
    parts = [render_value(v) for v in positional]
    parts += [f"{k}={render_value(v)}" for k, v in keywords.items()]
    return f"{type_name}({', '.join(parts)})"


def cnncalc_shape(spec: str, shape: Shape) -> Shape | str:
    """The output shape cnncalc computes for an inline spec on a batched input ``shape``."""
    report = analyse(load_model(spec, input_shape=shape[1:]), batch=shape[0])
    return REFUSED if report.error is not None else report.output_shape


def repro(spec: str, shape: Shape) -> str:
    dims = "x".join(str(d) for d in shape[1:])
    return f'cnncalc shapes --batch {shape[0]} --input {dims} "{spec}"'
