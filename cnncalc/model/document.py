"""The top level of a model file: ``name``, ``input``, ``define`` and ``layers``."""

from __future__ import annotations

import re
from typing import Any

from ..errors import LimitError, Location, SpecError
from ..layers import find_type
from ..limits import MAX_DIMENSION, MAX_LAYERS
from ..quote import quote
from .build import BLOCK_KINDS, Builder, Define, checked_name
from .nodes import Model, collector_paused

TOP_KEYS = ("name", "input", "inputs", "define", "layers", "outputs")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_dims(value: Any, what: str = "input", sample: bool = True) -> tuple[int, ...]:
    """``[3, 224, 224]``, ``3x224x224`` or ``3,224,224`` as a tuple of positive ints; with
    ``sample``, one sample's shape, at most 4 dimensions (no layer type takes more than 3
    spatial ones)."""
    if isinstance(value, str):
        parts = [p.strip() for p in re.split(r"[x×,]", value.strip().lower())]
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise SpecError(f"{what} must look like 3x224x224 or 3,224,224, got {quote(value)}")
        for p in parts:  # refused before int(), which is slow on (and refuses) huge numbers
            if len(p.lstrip("0")) > len(str(MAX_DIMENSION)):
                raise LimitError(
                    f"{what} size {p[:20]}... is above {MAX_DIMENSION:,} (limit MAX_DIMENSION)"
                )
        value = [int(p) for p in parts]
    elif isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise SpecError(f"{what} must be a list of sizes like [3, 224, 224], got {quote(value)}")
    if sample and len(value) > 4:
        raise SpecError(
            f"{what} has {len(value)} dimensions; one sample is [F], [C, L], [C, H, W] or "
            "[C, D, H, W] (the batch comes from --batch)"
        )
    for size in value:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise SpecError(f"{what} sizes must be integers >= 1, got {quote(size)} in {quote(list(value))}")
        if size > MAX_DIMENSION:
            raise LimitError(f"{what} size {size} is above {MAX_DIMENSION:,} (limit MAX_DIMENSION)")
    return tuple(value)


def parse_defines(raw: Any, source: str) -> dict[str, Define]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError("define must map block names to blocks", Location(source=source))
    defines = {}
    for name, body in raw.items():
        where = Location(source=source, line=getattr(body, "line", None) or getattr(raw, "line", None))
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            raise SpecError(f"define name {quote(name)} must be a plain identifier", where)
        if find_type(name) is not None or name.lower() in BLOCK_KINDS or name.lower() == "activation":
            raise SpecError(f"define name {quote(name)} is already a layer type", where)
        if isinstance(body, list):
            body = {"layers": body}
        if not isinstance(body, dict) or "layers" not in body:
            raise SpecError(f"define {name} needs layers (and optional params)", where)
        if body["layers"] is None or body["layers"] == []:
            raise SpecError(f"define {name} needs at least one layer", where)
        extra = [k for k in body if k not in ("params", "layers")]
        if extra:
            raise SpecError(f"define {name} has no key {quote(extra[0])}; it takes params and layers", where)
        params = body.get("params") or {}
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and IDENTIFIER.match(k) for k in params
        ):
            raise SpecError(f"define {name} params must map parameter names to defaults", where)
        defines[name] = Define(name, dict(params), body["layers"], where.line)
    return defines


def build_model(document: Any, source: str) -> Model:
    """A Model from a loaded YAML/JSON document."""
    if not isinstance(document, dict):
        raise SpecError(
            "a model file is a mapping with the keys layers (a list of entries) and, if "
            "wanted, input, name and define, such as 'input: [3, 32, 32]' and 'layers: "
            "[conv2d: [16, 3], relu]'; got "
            f"{'a list' if isinstance(document, list) else type(document).__name__}",
            Location(source=source),
        )
    unknown = [k for k in document if k not in TOP_KEYS]
    if unknown:
        raise SpecError(
            f"unknown top-level key {quote(unknown[0])}; a model file has {', '.join(TOP_KEYS)}",
            Location(source=source),
        )
    name = None
    if "name" in document:
        try:
            name = checked_name(document["name"])
        except SpecError as exc:
            raise exc.with_location(source=source, line=getattr(document, "line", None)) from None
    inputs = parse_inputs(document, source)
    if "layers" not in document:
        raise SpecError("the model has no layers", Location(source=source))
    defines = parse_defines(document.get("define"), source)
    model = make_model(document["layers"], defines, source, name, None)
    model.inputs = inputs
    model.several_inputs = "inputs" in document
    model.outputs = parse_outputs(document.get("outputs"), source)
    return model


def parse_inputs(document: dict[str, Any], source: str) -> dict[str, tuple[int, ...] | None]:
    """``input: DIMS`` (the input named ``input``) or ``inputs: {NAME: DIMS, ...}``."""
    if "inputs" not in document:
        raw = document.get("input")
        try:
            return {"input": None if raw is None else parse_dims(raw)}
        except SpecError as exc:
            raise exc.with_location(source=source, line=getattr(raw, "line", None)) from None
    raw = document["inputs"]
    where = Location(source=source, line=getattr(raw, "line", None))
    if "input" in document:
        raise SpecError("give input or inputs, not both", where)
    if not isinstance(raw, dict) or not raw:
        raise SpecError("inputs maps input names to shapes: {image: [3, 224, 224], ...}", where)
    inputs: dict[str, tuple[int, ...] | None] = {}
    for key, dims in raw.items():
        if isinstance(key, bool) or not isinstance(key, str | int) or str(key) == "":
            raise SpecError(f"input names must be text, got {quote(key)}", where)
        try:
            inputs[str(key)] = None if dims is None else parse_dims(dims, f"inputs {key}")
        except SpecError as exc:
            raise exc.with_location(source=source, line=getattr(dims, "line", where.line)) from None
    return inputs


def parse_outputs(raw: Any, source: str) -> list[str] | None:
    """``outputs: [A, B]`` (or one name): the tensors the model returns."""
    if raw is None:
        return None
    names = raw if isinstance(raw, list) else [raw]
    where = Location(source=source, line=getattr(raw, "line", None))
    if not names:
        raise SpecError("outputs must name at least one tensor", where)
    for item in names:
        if isinstance(item, bool) or not isinstance(item, str | int) or str(item) == "":
            raise SpecError(f"outputs takes tensor names, got {quote(item)}", where)
    return [str(item) for item in names]


def make_model(
    entries: Any,
    defines: dict[str, Define],
    source: str,
    name: str | None,
    input_shape: tuple[int, ...] | None,
) -> Model:
    with collector_paused():
        layers = Builder(defines, source).nodes(entries, None, (), getattr(entries, "line", None))
    if not layers:
        raise SpecError("the model has no layers", Location(source=source))
    rows = sum(node.rows for node in layers)
    if rows > MAX_LAYERS:
        raise LimitError(
            f"the model expands to {rows:,} layers after repeat, more than {MAX_LAYERS:,} "
            "(limit MAX_LAYERS)",
            Location(source=source),
        )
    return Model(name, {"input": input_shape}, layers, source, rows)
