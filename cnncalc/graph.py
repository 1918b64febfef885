"""Shape propagation through layers and blocks (sequential, residual, parallel, repeat).

Walks the model tree in execution order and makes one row per leaf layer and per merge,
carrying the receptive field (Araujo et al., Distill 2019) along each spatial dimension:
    r_out = r_in + (dilation·(k − 1))·j_in,  j_out = j_in·stride,  start_out = start_in − pad_left·j_in
A merge takes the union of its branches' fields.
"""

from __future__ import annotations

from typing import Any

from .errors import CnncalcError, LimitError, Location, ShapeError, SpecError
from .layers import LayerType, Window, numel, show_shape
from .limits import MAX_DIMENSION
from .report import DTYPE_BYTES, Merge, Report, Row, totals_of
from .spec import BlockNode, FailedNode, LayerNode, Model, Node, collector_paused
from .spec.nodes import OWN_NAME

Shape = tuple[int, ...]
# Per spatial dimension (size, jump, start) of the field of the first output element.
Field = tuple[tuple[int, int, int], ...] | None
# A layer on one input: output shape, params, buffers, MACs, FLOPs, window.
Counts = tuple[Shape, int, int, int, int, Window | None]


def apply_window(field: Field, window: Window) -> Field:
    if field is None or len(field) != len(window.kernel):
        return None
    return tuple(
        (r + d * (k - 1) * j, j * s, start - left * j)
        for (r, j, start), k, s, left, d in zip(
            field, window.kernel, window.stride, window.pad_left, window.dilation, strict=True
        )
    )


def field_columns(field: Field, out: Shape) -> tuple[Any, Any, Any]:
    """A row's (receptive_field, jump, rf_start), or Nones where the output has no spatial
    dimensions or the field is unknown."""
    if field is None or len(out) < 3 or len(field) != len(out) - 2:
        return None, None, None
    return tuple(zip(*field, strict=True))  # type: ignore[return-value]


def union(fields: list[Field]) -> Field:
    if any(f is None for f in fields) or len({len(f) for f in fields}) != 1:  # type: ignore[arg-type]
        return None
    merged = []
    for per_dim in zip(*fields, strict=True):  # type: ignore[misc]
        start = min(s for _, _, s in per_dim)
        end = max(s + r - 1 for r, _, s in per_dim)
        merged.append((end - start + 1, max(j for _, j, _ in per_dim), start))
    return tuple(merged)


def broadcast(shapes: list[Shape]) -> Shape | None:
    """PyTorch's broadcasting of several shapes, or None where they do not broadcast."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        sizes = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0} - {1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


class Propagation:
    def __init__(self, model: Model, batch: int) -> None:
        self.model = model
        self.batch = batch
        self.rows: list[Row] = []
        self.known: dict[tuple[LayerType, Shape], Counts] = {}

    def fail(self, error: CnncalcError, name: str, line: int | None) -> CnncalcError:
        return error.with_location(
            source=self.model.source, line=line, index=len(self.rows) + 1, layer=name
        )

    def sequence(
        self, nodes: list[Node], shape: Shape, field: Field, prefix: str, trainable: bool
    ) -> tuple[Shape, Field, list[Any]]:
        plan: list[Any] = []
        for position, node in enumerate(nodes, 1):
            if node.rows == 0:  # an empty block, however often repeated, passes x through
                continue
            base = node.name or f"{node.type_name}{position}"
            for copy in range(node.repeat):
                name = f"{prefix}{base}.{copy}" if node.repeat > 1 else f"{prefix}{base}"
                if node.name == OWN_NAME:
                    name = prefix[:-1]
                shape, field = self.node(node, name, shape, field, trainable and node.trainable, plan)
        return shape, field, plan

    def node(
        self, node: Node, name: str, shape: Shape, field: Field, trainable: bool, plan: list[Any]
    ) -> tuple[Shape, Field]:
        if isinstance(node, LayerNode):
            row, field = self.leaf(node, name, shape, field, trainable)
            plan.append(row)
            return row.output_shape, field
        if isinstance(node, FailedNode):
            raise self.fail(node.error or SpecError("invalid entry"), name, node.line)
        assert isinstance(node, BlockNode)
        if node.merge is None:
            shape, field, inner = self.sequence(node.branches[0], shape, field, f"{name}.", trainable)
            plan.extend(inner)
            return shape, field
        return self.merge(node, name, shape, field, trainable, plan)

    def leaf(
        self, node: LayerNode, name: str, shape: Shape, field: Field, trainable: bool
    ) -> tuple[Row, Field]:
        layer: LayerType = node.layer  # type: ignore[assignment]
        out, params, buffers, macs, flops, window = self.counted(layer, shape, name, node.line)
        if len(out) != len(shape) or layer.receptive == "reset":
            field = None
        elif layer.receptive == "window":
            field = None if window is None else apply_window(field, window)
        sizes, jumps, starts = field_columns(field, out)
        row = Row(
            index=len(self.rows) + 1, name=name, type=layer.type_name,
            input_shape=shape, output_shape=out, params=params, trainable=trainable,
            buffers=buffers, macs=macs, flops=flops, window=window, receptive_field=sizes,
            jump=jumps, rf_start=starts, layer=layer, line=node.line,
        )  # fmt: skip
        self.rows.append(row)
        return row, field

    def counted(self, layer: LayerType, shape: Shape, name: str, line: int | None) -> Counts:
        """What a layer makes of an input shape. Remembered per (layer, shape): a generated
        network meets the same layer on the same shape many times. A ``FlatShape`` input,
        whose factors may change the wording of an error, is not remembered."""
        plain = type(shape) is tuple
        if plain and (known := self.known.get((layer, shape))) is not None:
            return known
        try:
            out = layer.output_shape(shape)
            if max(out, default=0) > MAX_DIMENSION:
                raise ShapeError(
                    f"{layer.type_name} output {show_shape(out)} has a dimension above "
                    f"{MAX_DIMENSION:,} (limit MAX_DIMENSION)"
                )
            window = layer.window(shape) if layer.receptive == "window" else None
        except CnncalcError as exc:
            raise self.fail(exc, name, line) from None
        counts = (
            out, layer.params(shape), layer.buffers(shape), layer.macs(shape, out),
            layer.flops(shape, out), window,
        )  # fmt: skip
        if plain:
            self.known[(layer, shape)] = counts
        return counts

    def merge(
        self, node: BlockNode, name: str, shape: Shape, field: Field, trainable: bool, plan: list[Any]
    ) -> tuple[Shape, Field]:
        shapes, fields, plans, labels = [], [], [], []
        for i, branch in enumerate(node.branches):
            if node.kind == "residual":
                prefix, label = (f"{name}.", "body") if i == 0 else (f"{name}.shortcut.", "shortcut")
            else:
                prefix, label = f"{name}.{i}.", f"branch {i}"
            out, out_field, inner = self.sequence(branch, shape, field, prefix, trainable)
            shapes.append(out)
            fields.append(out_field)
            plans.append(inner)
            labels.append(label)
        how = node.merge or "add"
        merged = self.merged_shape(how, shapes)
        if merged is None:
            listed = ", ".join(f"{lab} {show_shape(s)}" for lab, s in zip(labels, shapes, strict=True))
            rule = {
                "add": "equal shapes",
                "concat": "equal shapes except the channel dimension (dim 1)",
                "mul": "shapes that broadcast",
            }[how]
            raise self.fail(
                ShapeError(f"{node.kind} {how} needs {rule}, got {listed}"), f"{name}.{how}", node.line
            )
        field = union(fields) if all(len(s) == len(merged) for s in shapes) else None
        sizes, jumps, starts = field_columns(field, merged)
        row = Row(
            index=len(self.rows) + 1, name=f"{name}.{how}", type=how, input_shape=shapes[0],
            output_shape=merged, params=0, trainable=trainable, buffers=0, macs=0,
            flops=0 if how == "concat" else (len(shapes) - 1) * numel(merged),
            receptive_field=sizes, jump=jumps, rf_start=starts, input_shapes=tuple(shapes),
            line=node.line,
        )  # fmt: skip
        self.rows.append(row)
        plan.append(Merge(tuple(plans), row, how))
        return merged, field

    @staticmethod
    def merged_shape(how: str, shapes: list[Shape]) -> Shape | None:
        first = shapes[0]
        if how == "add":
            return first if all(s == first for s in shapes) else None
        if how == "mul":
            return broadcast(shapes)
        if len(first) < 2 or any(
            len(s) != len(first) or s[:1] + s[2:] != first[:1] + first[2:] for s in shapes
        ):
            return None
        return (first[0], sum(s[1] for s in shapes), *first[2:])


def analyse(model: Model, batch: int = 1, dtype: str = "float32") -> Report:
    """Propagate shapes through the model and count everything.

    An impossible layer does not raise: the report carries the rows before it and the
    error, so a caller can show both.
    """
    if model.input_shape is None:
        raise SpecError(
            "no input shape: give `input: [C, H, W]` in the model or --input 3x224x224",
            Location(source=model.source),
        )
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be an integer >= 1, got {batch!r}")
    if batch > MAX_DIMENSION:
        raise LimitError(f"batch {batch} is above {MAX_DIMENSION:,} (limit MAX_DIMENSION)")
    shape = (batch, *model.input_shape)
    field: Field = tuple((1, 1, 0) for _ in shape[2:]) if len(shape) >= 3 else None
    run = Propagation(model, batch)
    error = None
    plan: list[Any] = []
    try:
        with collector_paused():
            output, _, plan = run.sequence(model.layers, shape, field, "", True)
    except CnncalcError as exc:
        output, error = None, exc
        if not run.rows:  # the first layer refused the input: say how it may have been meant
            from .hints import with_input_hint

            error = with_input_hint(exc, model, shape)
    return Report(
        model=model.name, source=model.source, input_shape=shape, output_shape=output,
        rows=run.rows, totals=totals_of(run.rows, shape, dtype), dtype=dtype, plan=plan,
        error=error,
    )  # fmt: skip
