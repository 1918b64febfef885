"""Forward plus backward FLOPs of one training step, from a report's graph alone.

Apart from ``training_memory`` so that ``params`` (whose totals carry the figure) does not
load the training-memory simulation.
"""

from __future__ import annotations

from .report import Report


def training_flops(report: Report) -> int:
    """Forward plus backward FLOPs of one training step: each used row's forward FLOPs,
    plus its ``backward_flops`` (convolution and linear: 2·MACs for each of the input's and
    the weight's gradients, and one per output element for the bias's; other layers their
    forward FLOPs again where a gradient passes through them; merges: add and concat
    none, mul twice its forward). Nothing upstream of every trainable layer needs a
    gradient, so the first layer computes no gradient of its input; a shared use trains
    its first use's parameters."""
    graph = report.graph
    if graph is None:
        return 0
    grad: dict[int, bool] = {t.id: False for t in graph.inputs}
    trainable = {s.row.index: s.row.trainable and s.row.params > 0 for s in graph.steps if s.shares is None}
    total = 0
    for step in graph.steps:
        row, layer = step.row, step.row.layer
        many = getattr(layer, "takes_many", False)
        reads = step.inputs if many else step.inputs[:1]  # ``size_of`` reads only a shape
        needs = any(grad[t] for t in reads)
        trains = trainable.get(step.shares if step.shares is not None else row.index, False)
        if row.used:
            total += row.flops
            if many:
                total += 2 * row.flops if needs and row.type == "mul" else 0
            elif layer is not None:
                total += layer.backward_flops(row.input_shape, row.output_shape, needs, trains)
        for t in step.outputs:
            grad[t] = row.used and (needs or trains)
    return total
