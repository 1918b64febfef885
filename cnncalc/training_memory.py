"""The memory of a training step (or an inference pass) of an analysed model, before anything
runs: ``cnncalc memory``. No torch: every figure comes from the layer types' own rules.

A training step, as PyTorch 2.13 runs it (``zero_grad(set_to_none=True)``, forward,
backward, ``optimizer.step()``), holds at every moment:

    resident   parameters + buffers + optimizer state (they live between steps)
  + saved      what autograd keeps for backward (each layer type's ``saved_bytes``); a
               storage several rows save is counted once, charged to the first row that
               saves it in execution order, and freed once that row's backward has run
  + grads      parameter gradients, made during backward and kept until the next step
  + transient  what lives only for a moment: during forward the outputs nothing saved yet
               that a later row still reads; during backward the gradients of activations
               (of a tensor from the backward of its last reader to that of its producer);
               during the optimizer step its temporaries.

``peak_bytes`` is the largest total over the moments: the forward pass row by row, the
backward pass row by row in reverse, and the optimizer step. At the end of the forward pass
everything saved is alive, so resident + saved ≤ peak ≤ resident + saved + grads +
transient, where ``transient_bytes`` is the largest transient at any moment. The model
input and output are held by the caller throughout.

Inference (``torch.no_grad``): parameters and buffers plus the largest sum of activations
alive at once, each freed after its last reader.

Optimizer state per trainable parameter tensor: sgd none; momentum one buffer; adam and
adamw two moments in the parameter's type, and a 0-dim float32 ``step`` that PyTorch keeps
on the CPU (so it is counted with ``--device cpu`` only). Optimizer temporaries: on CPU
(one tensor at a time) adam holds two temporaries of the largest parameter tensor; on CUDA
(``foreach``) one temporary of every parameter at once.

Every moment is affine in the batch size (shapes scale with it; statistics per channel and
parameters do not), so the largest batch within a budget is solved from the figures at
batch 1 and 2, then confirmed at that batch and the next.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any, NamedTuple

from .errors import CnncalcError, SpecError
from .layers import numel
from .layers.base import NOTHING, SaveContext, Saved
from .layers.strides import contiguous
from .limits import MAX_DIMENSION
from .report import Graph, Report, Row

Shape = tuple[int, ...]
Strides = tuple[int, ...]
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
DEVICES = ("cuda", "cpu")
# The records are named tuples and plain classes, not dataclasses: each dataclass defined
# costs ``memory`` start-up time.


class Precision(NamedTuple):
    """Bytes per element of the model input, of the parameters (and gradients and
    optimizer state), and of autocast's lower precision (None: no autocast)."""

    itemsize: int
    param_itemsize: int
    autocast: int | None = None


PRECISIONS = {
    "fp32": Precision(4, 4),
    "fp16": Precision(2, 2),
    "bf16": Precision(2, 2),
    "amp-fp16": Precision(4, 4, 2),
    "amp-bf16": Precision(4, 4, 2),
}
DTYPE_PRECISION = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


class BudgetError(CnncalcError):
    """A request ``memory`` cannot answer (a budget nothing fits). Exit status 2."""


class Setup(NamedTuple):
    train: bool = True
    optimizer: str = "adam"
    precision: str = "fp32"
    device: str = "cuda"

    def check(self) -> None:
        for what, value, known in (
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("precision", self.precision, tuple(PRECISIONS)),
            ("device", self.device, DEVICES),
        ):
            if value not in known:
                raise SpecError(f"{what} must be one of {', '.join(known)}, got {value!r}")


class Value:
    """An activation tensor of the step; ``strides`` None where it is contiguous."""

    __slots__ = ("storage", "grad_id", "numel", "itemsize", "grad", "strides")

    def __init__(
        self, storage: int, grad_id: int, numel: int, itemsize: int, grad: bool,
        strides: Strides | None = None,
    ) -> None:  # fmt: skip
        self.storage, self.grad_id, self.numel, self.itemsize = storage, grad_id, numel, itemsize
        self.grad, self.strides = grad, strides



class Interval:
    """A storage (or a gradient's) bytes and the steps it lives between; ``saved_by`` the
    row it is charged to, for saved storages; ``pinned`` for the model input and output
    (the caller holds them); ``active``, for gradients, whether this one exists at all."""

    __slots__ = ("nbytes", "created", "last_use", "saved_by", "pinned", "active")

    def __init__(
        self, nbytes: int, created: int, last_use: int, saved_by: int | None = None,
        pinned: bool = False, active: bool = True,
    ) -> None:  # fmt: skip
        self.nbytes, self.created, self.last_use = nbytes, created, last_use
        self.saved_by, self.pinned, self.active = saved_by, pinned, active


class Moment(NamedTuple):
    """One moment of the step: its phase, the row running (None in the optimizer step) and
    the bytes alive, split as the module docstring defines."""

    phase: str
    row: int | None
    saved: int
    grads: int
    transient: int


class TrainingMemory:
    """What ``memory`` prints: per-row saved bytes (training) or activations alive while
    the row runs (inference), and the breakdown. ``moments``: the total at every moment,
    resident bytes included. ``with_budget`` sets the last three."""

    __slots__ = (
        "report", "setup", "saved", "alive", "param_bytes", "buffer_bytes", "grad_bytes",
        "optimizer_bytes", "saved_activation_bytes", "transient_bytes", "peak_bytes", "peak",
        "moments", "budget", "max_batch", "max_batch_peak",
    )  # fmt: skip

    def __init__(
        self, *, report: Report, setup: Setup, saved: dict[int, int], alive: dict[int, int],
        param_bytes: int, buffer_bytes: int, grad_bytes: int, optimizer_bytes: int,
        saved_activation_bytes: int, transient_bytes: int, peak_bytes: int, peak: Moment,
        moments: list[int] | None = None,
    ) -> None:  # fmt: skip
        self.report, self.setup, self.saved, self.alive = report, setup, saved, alive
        self.param_bytes, self.buffer_bytes, self.grad_bytes = param_bytes, buffer_bytes, grad_bytes
        self.optimizer_bytes, self.saved_activation_bytes = optimizer_bytes, saved_activation_bytes
        self.transient_bytes, self.peak_bytes, self.peak = transient_bytes, peak_bytes, peak
        self.moments = [] if moments is None else moments
        self.budget: int | None = None
        self.max_batch: int | None = None
        self.max_batch_peak: int | None = None

    @property
    def resident_bytes(self) -> int:
        return self.param_bytes + self.buffer_bytes + self.optimizer_bytes


class Simulation:
    """Walks the plan once as the step runs it, giving every activation a storage and a
    gradient, and recording which rows save which storages."""

    def __init__(self, report: Report, setup: Setup) -> None:
        self.setup = setup
        self.precision = PRECISIONS[setup.precision]
        self.storages: list[Interval] = []
        self.grads: list[Interval] = []
        self.saved: dict[int, int] = {}
        self.param_grads: dict[int, tuple[int, int]] = {}  # row: (bytes, last use's time)
        self.values: dict[int, Value] = {}
        self.rows_at: dict[int, Row] = {}
        self.weight_copies: dict[tuple[int | None, int], int] = {}
        self.accumulated: list[tuple[int, int]] = []  # (time, bytes) of shared gradients
        self.param_bytes = self.buffer_bytes = self.optimizer_bytes = 0
        self.largest_tensor = self.trainable_bytes = 0
        assert report.graph is not None
        self.steps = len(report.graph.steps)

    # ---- storages and gradients --------------------------------------------------------
    def new_storage(self, nbytes: int, step: int) -> int:
        self.storages.append(Interval(nbytes, step, step))
        return len(self.storages) - 1

    def new_grad(self, nbytes: int, step: int, active: bool) -> int:
        self.grads.append(Interval(nbytes, step, step, active=active))
        return len(self.grads) - 1

    def new_value(self, elements: int, itemsize: int, step: int, grad: bool) -> Value:
        nbytes = elements * itemsize
        return Value(
            self.new_storage(nbytes, step), self.new_grad(nbytes, step, grad), elements, itemsize, grad
        )

    def use(self, value: Value, step: int) -> None:
        storage, grad = self.storages[value.storage], self.grads[value.grad_id]
        storage.last_use = max(storage.last_use, step)
        grad.last_use = max(grad.last_use, step)

    def charge(self, storage: int, row: int) -> None:
        """Count a saved storage once, on the first row that saves it (``row`` is the
        time of that row's step)."""
        interval = self.storages[storage]
        if interval.saved_by is None and self.setup.train:
            interval.saved_by = row
            index = self.rows_at[row].index
            self.saved[index] = self.saved.get(index, 0) + interval.nbytes

    # ---- the walk ----------------------------------------------------------------------
    def run(self, graph: Graph) -> None:
        """Every step of the graph in execution order; time ``t`` is the step's position
        (1-based), so a moment names the row that runs then."""
        p = self.precision
        for tensor in graph.inputs:
            value = self.new_value(numel(tensor.shape), p.itemsize, 0, False)
            self.storages[value.storage].pinned = True
            self.values[tensor.id] = value
        for t, step in enumerate(graph.steps, 1):
            self.rows_at[t] = step.row
            # a shared use's ``shares`` is the row index (so position + 1) of the first use
            owner = step if step.shares is None else graph.steps[step.shares - 1]
            inputs = [self.values[i] for i in step.inputs]
            layer = step.row.layer
            if getattr(layer, "takes_many", False):
                outputs = [self.merge(step.row, inputs, t)]
            elif getattr(layer, "makes_pieces", False):
                outputs = self.split(step.row, inputs[0], t)
            else:
                for extra in inputs[1:]:  # ``size_of``: only the shape is read
                    self.use(extra, t)
                outputs = [self.leaf(step.row, owner.row, inputs[0], t, step.shares is not None)]
            for i, value in zip(step.outputs, outputs, strict=True):
                self.values[i] = value
        for tensor in graph.outputs:  # the caller holds them; the loss reads every one
            value = self.values[tensor.id]
            self.storages[value.storage].pinned = True
            self.use(value, self.steps + 1)

    def unused(self, row: Row, inputs: list[Value], shapes: tuple[Shape, ...], itemsize: int, t: int) -> list[Value]:
        """A row no output needs runs, and its outputs are freed at once: nothing saved, no
        gradient."""
        for value in inputs:
            self.use(value, t)
        return [self.new_value(numel(shape), itemsize, t, False) for shape in shapes]

    def leaf(self, row: Row, owner: Row, x: Value, t: int, shared: bool) -> Value:
        layer = row.layer
        assert layer is not None, f"row {row.index} has no layer type"
        p = self.precision
        shape, out_shape = row.input_shape, row.output_shape
        self.use(x, t)
        trains = self.setup.train and owner.trainable and owner.params > 0 and row.used
        needs = self.setup.train and row.used and (x.grad or trains)
        ctx = SaveContext(
            x.itemsize, p.param_itemsize, p.autocast, self.setup.device, x.grad, trains,
            x.strides,
        )  # fmt: skip
        if not shared:
            self.account_parameters(row, layer.param_tensors(shape), layer.buffer_bytes(shape, p.param_itemsize))
        if trains:
            self.account_training(owner, layer.param_tensors(shape), t)
        if not row.used:
            return self.unused(row, [x], (out_shape,), layer.output_itemsize(shape, ctx), t)[0]
        try:
            saved = layer.saved_bytes(shape, out_shape, ctx) if needs else NOTHING
        except NotImplementedError as exc:
            raise SpecError(f"row {row.index} ({row.name}): {exc}; memory cannot count it") from None
        elements = numel(out_shape)
        view = layer.aliases_input(self.setup.train)
        strides = layer.view_strides(shape, x.strides or contiguous(shape), out_shape) if view else None
        if view and strides is not None:
            grad_id = x.grad_id if saved == NOTHING else self.new_grad(elements * x.itemsize, t, needs)
            out = Value(x.storage, grad_id, elements, x.itemsize, needs, plain(out_shape, strides))
        else:  # a reshape that cannot be a view copies
            itemsize = x.itemsize if view else layer.output_itemsize(shape, ctx)
            out = self.new_value(elements, itemsize, t, needs)
            if not view and x.strides is not None and layer.elementwise:
                out.strides = x.strides
            elif not view:
                out.strides = plain(out_shape, layer.output_strides(out_shape))
        self.keep(saved, x, out, t, owner.index if trains else None)
        workspace = layer.workspace_bytes(shape, ctx, self.setup.train)
        if workspace:
            self.new_storage(workspace, t)
        return out

    def keep(self, saved: Saved, x: Value, out: Value, t: int, owner: int | None) -> None:
        """Charge what a row saves; ``owner`` is the row whose trained parameters it uses
        (autocast's cast copies of them are one storage for every use), None if frozen."""
        if saved.input:
            self.charge(x.storage, t)
        if saved.output:
            self.charge(out.storage, t)
        for nbytes in saved.new:
            self.charge(self.new_storage(nbytes, t), t)
        for i, nbytes in enumerate(saved.weights):
            key = (owner, i)
            if owner is None or key not in self.weight_copies:
                self.weight_copies[key] = self.new_storage(nbytes, t)
            self.charge(self.weight_copies[key], t)

    def merge(self, row: Row, inputs: list[Value], t: int) -> Value:
        """add and concat save nothing (their gradients are the output's, or slices of it);
        mul, folded left to right as ``a * b * …``, saves each factor the other one's
        gradient needs. Each partial result of three or more inputs is a tensor of its own,
        freed by the next fold."""
        itemsize = max(v.itemsize for v in inputs)
        if not row.used:
            return self.unused(row, inputs, (row.output_shape,), itemsize, t)[0]
        for value in inputs:
            self.use(value, t)
        needs = self.setup.train and any(v.grad for v in inputs)
        shapes = row.input_shapes or (row.input_shape,) * len(inputs)
        if row.type in ("add", "mul"):
            product = inputs[0]
            for i, factor in enumerate(inputs[1:], 1):
                if row.type == "mul" and needs:
                    if product.grad:
                        self.charge(factor.storage, t)
                    if factor.grad:
                        self.charge(product.storage, t)
                if i < len(inputs) - 1:
                    grad = product.grad or factor.grad
                    product = self.new_value(numel(partial_broadcast(shapes, i + 1)), itemsize, t, grad and needs)
        out = self.new_value(numel(row.output_shape), itemsize, t, needs)
        same = {v.strides for v in inputs}
        if row.type != "concat" and len(same) == 1:
            out.strides = same.pop()
        return out

    def split(self, row: Row, x: Value, t: int) -> list[Value]:
        """split and chunk: each piece a view of the input (nothing saved); each piece's
        gradient is a tensor of its own until the pieces' gradients are joined."""
        shapes = row.output_shapes or (row.output_shape,)
        if not row.used:
            return self.unused(row, [x], shapes, x.itemsize, t)
        self.use(x, t)
        strides = x.strides or contiguous(row.input_shape)
        needs = self.setup.train and x.grad
        pieces = []
        for shape in shapes:
            elements = numel(shape)
            grad = self.new_grad(elements * x.itemsize, t, needs)
            pieces.append(Value(x.storage, grad, elements, x.itemsize, needs, plain(shape, strides)))
        return pieces

    def account_parameters(self, row: Row, tensors: tuple[int, ...], buffers: int) -> None:
        """Parameters and buffers, once per module (a shared use adds none)."""
        self.param_bytes += row.params * self.precision.param_itemsize
        self.buffer_bytes += buffers

    def account_training(self, owner: Row, tensors: tuple[int, ...], t: int) -> None:
        """A trained use of ``owner``'s parameters: their gradient exists from the backward
        of the last use in execution order (the first backward reaches) to the end of the
        step; gradients and optimizer state are counted once, however many uses."""
        size = self.precision.param_itemsize
        nbytes = owner.params * size
        if owner.index in self.param_grads:
            # the earlier use's backward runs later: its weight gradient and the sum with
            # the one the later use made are tensors of their own (autograd's input buffer
            # adds them out of place) until the sum becomes the parameter's gradient
            self.accumulated.append((self.param_grads[owner.index][1], 2 * nbytes))
            self.param_grads[owner.index] = (nbytes, t)
            return
        self.param_grads[owner.index] = (nbytes, t)
        self.trainable_bytes += nbytes
        self.largest_tensor = max(self.largest_tensor, max(tensors, default=0) * size)
        optimizer = self.setup.optimizer
        if optimizer == "momentum":
            self.optimizer_bytes += nbytes
        elif optimizer in ("adam", "adamw"):
            step = 4 if self.setup.device == "cpu" else 0  # CUDA keeps `step` in host memory
            self.optimizer_bytes += 2 * nbytes + step * len(tensors)

    # ---- the moments -------------------------------------------------------------------
    def optimizer_temporaries(self) -> int:
        if self.setup.optimizer not in ("adam", "adamw"):
            return 0
        if self.setup.device == "cpu":
            return 2 * self.largest_tensor
        return self.trainable_bytes

    def moments(self) -> list[Moment]:
        """Every moment's figures, from difference arrays over the steps (one pass over
        the storages and gradients, whatever the depth of the model)."""
        steps = self.steps
        size = steps + 2
        fwd_saved, fwd_other, bwd_saved, bwd_grads, param_grads = ([0] * size for _ in range(5))
        held_saved = held_other = 0
        for s in self.storages:
            saved = s.saved_by is not None
            if s.pinned:  # alive from its creation to the end of the step
                add_range(fwd_saved if saved else fwd_other, max(s.created, 1), steps, s.nbytes)
                if saved:
                    held_saved += s.nbytes
                else:
                    held_other += s.nbytes
            elif saved:
                add_range(fwd_saved, max(s.created, 1), steps, s.nbytes)
                add_range(bwd_saved, s.saved_by, steps, s.nbytes)  # type: ignore[arg-type]
            else:
                add_range(fwd_other, max(s.created, 1), min(s.last_use, steps), s.nbytes)
        for g in self.grads:
            if g.active:
                add_range(bwd_grads, max(g.created, 1), min(g.last_use, steps), g.nbytes)
        for nbytes, last in self.param_grads.values():
            add_range(param_grads, 1, last, nbytes)
        for t, nbytes in self.accumulated:
            add_range(bwd_grads, t, t, nbytes)
        for array in (fwd_saved, fwd_other, bwd_saved, bwd_grads, param_grads):
            array[:] = accumulate(array)
        result = [Moment("forward", self.rows_at[t].index, fwd_saved[t], 0, fwd_other[t]) for t in range(1, steps + 1)]
        if not self.setup.train:
            return result or [Moment("forward", None, 0, 0, held_other)]
        result += [
            Moment("backward", self.rows_at[t].index, bwd_saved[t] + held_saved, param_grads[t], bwd_grads[t] + held_other)
            for t in range(steps, 0, -1)
        ]
        held = held_saved + held_other
        total_grads = sum(nbytes for nbytes, _ in self.param_grads.values())
        result.append(Moment("optimizer step", None, 0, total_grads, held + self.optimizer_temporaries()))
        return result


def plain(shape: Shape, strides: Strides | None) -> Strides | None:
    """None where ``strides`` are those of a contiguous tensor (as PyTorch judges it: a
    dimension of size 1 may have any stride)."""
    if strides is None:
        return None
    expected = 1
    for n, stride in zip(reversed(shape), reversed(strides), strict=True):
        if n != 1 and stride != expected:
            return strides
        expected *= n
    return None


def add_range(array: list[int], start: int, stop: int, value: int) -> None:
    """Add ``value`` to ``array[start..stop]`` (inclusive), as a difference to be summed."""
    if stop < start:
        return
    array[start] += value
    array[stop + 1] -= value


def partial_broadcast(shapes: tuple[Shape, ...], count: int) -> Shape:
    from .layers.merge import broadcast

    return broadcast(list(shapes[:count])) or shapes[0]


def simulate(report: Report, setup: Setup) -> TrainingMemory:
    """The memory of one step of ``report``'s model as ``setup`` says."""
    setup.check()
    if report.error is not None:
        raise report.error
    sim = Simulation(report, setup)
    sim.run(report.graph)  # type: ignore[arg-type]
    moments = sim.moments()
    resident = sim.param_bytes + sim.buffer_bytes + sim.optimizer_bytes
    totals = [resident + m.saved + m.grads + m.transient for m in moments]
    peak_index = max(range(len(totals)), key=totals.__getitem__)
    alive = {m.row: m.saved + m.transient for m in moments if m.phase == "forward" and m.row}
    return TrainingMemory(
        report=report, setup=setup, saved=sim.saved, alive=alive, param_bytes=sim.param_bytes,
        buffer_bytes=sim.buffer_bytes, grad_bytes=sum(n for n, _ in sim.param_grads.values()),
        optimizer_bytes=sim.optimizer_bytes, saved_activation_bytes=sum(sim.saved.values()),
        transient_bytes=max(m.transient for m in moments), peak_bytes=totals[peak_index],
        peak=moments[peak_index], moments=totals,
    )  # fmt: skip


# ---- the largest batch within a budget -------------------------------------------------------
def with_budget(memory: TrainingMemory, budget: int, at_batch: Any) -> TrainingMemory:
    """Add the largest batch whose peak fits ``budget``, and the peak at it.

    ``at_batch(n)`` is the analysis of the same model at batch ``n`` as a TrainingMemory.
    Each moment is ``a·batch + c``; the figures at batch 1 and 2 give ``a`` and ``c``, and
    the largest batch is ``min over moments of floor((budget − c) / a)``. It is confirmed by
    the peaks at that batch and the next; where a model is not affine in the batch (a
    layer whose shape does not scale with it), a bisection between confirmed figures
    settles it.
    """
    one = at_batch(1)
    if one.peak_bytes > budget:
        raise BudgetError(not_even_one(one, budget))
    two = at_batch(2)
    candidate = MAX_DIMENSION
    for m1, m2 in zip(one.moments, two.moments, strict=True):
        slope = m2 - m1
        if slope > 0:
            candidate = min(candidate, (budget - (m1 - slope)) // slope)
    candidate = max(candidate, 1)
    fits = at_batch(candidate).peak_bytes <= budget
    beyond = candidate >= MAX_DIMENSION or at_batch(candidate + 1).peak_bytes > budget
    if not (fits and beyond):
        candidate = bisect(at_batch, budget)
    memory.budget = budget
    memory.max_batch = candidate
    memory.max_batch_peak = at_batch(candidate).peak_bytes
    return memory


def bisect(at_batch: Any, budget: int) -> int:
    low, high = 1, 2
    while high < MAX_DIMENSION and at_batch(high).peak_bytes <= budget:
        low, high = high, min(high * 2, MAX_DIMENSION)
    if at_batch(high).peak_bytes <= budget:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if at_batch(middle).peak_bytes <= budget:
            low = middle
        else:
            high = middle
    return low


def not_even_one(one: TrainingMemory, budget: int) -> str:
    from .render import human_bytes

    fixed = one.resident_bytes
    if fixed > budget:
        what = "parameters and optimizer state" if one.setup.train else "parameters"
        return (
            f"not even batch 1 fits the budget of {human_bytes(budget)} ({budget:,} bytes): "
            f"{what} alone need {human_bytes(fixed)} ({fixed:,} bytes)"
        )
    return (
        f"not even batch 1 fits the budget of {human_bytes(budget)} ({budget:,} bytes): its "
        f"peak is {human_bytes(one.peak_bytes)} ({one.peak_bytes:,} bytes), of which "
        f"parameters, buffers and optimizer state {human_bytes(fixed)}"
    )
