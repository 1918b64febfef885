"""Measure a real PyTorch training step of an analysed model: what autograd saves for
backward, per row, and the memory the step allocates.

The model is built by cnncalc's own ``execute.Builder`` (the module of every row from its
``to_torch``), in train mode, with the parameters of rows marked ``trainable: false``
frozen. During the forward pass ``torch.autograd.graph.saved_tensors_hooks`` sees every
tensor autograd saves; a saved tensor is reduced to its storage
(``untyped_storage().data_ptr()``) so views and in-place results of one storage count
once, at their storage's full ``nbytes``, and storages of parameters and buffers are left
out. Each storage is charged to the row that was running when it was first saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnncalc.execute import Builder, Observer
from cnncalc.report import Report, Step

TORCH_DTYPES = {
    "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
    "amp-fp16": torch.float32, "amp-bf16": torch.float32,
}  # fmt: skip
AUTOCAST = {"amp-fp16": torch.float16, "amp-bf16": torch.bfloat16}


@dataclass
class Saved:
    """One storage autograd saved: its bytes, element type and how it relates to the row
    that first saved it (``input``, ``output`` or ``new``)."""

    row: int
    nbytes: int
    dtype: str
    kind: str


@dataclass
class Measurement:
    saved: list[Saved] = field(default_factory=list)

    def per_row(self) -> dict[int, int]:
        rows: dict[int, int] = {}
        for s in self.saved:
            rows[s.row] = rows.get(s.row, 0) + s.nbytes
        return rows

    @property
    def total(self) -> int:
        return sum(s.nbytes for s in self.saved)


def storage(t: Any) -> int | None:
    return t.untyped_storage().data_ptr() if isinstance(t, torch.Tensor) else None


def build(
    report: Report, precision: str = "fp32", seed: int = 0, device: str = "cpu"
) -> tuple[nn.Module, Builder]:
    """The report's model as ``execute`` builds it, in train mode, frozen rows frozen."""
    torch.manual_seed(seed)
    assert report.graph is not None
    builder = Builder(device, TORCH_DTYPES[precision], len(report.rows), None)
    model = builder.model(report.graph).train()
    rows = {row.index: row for row in report.rows}
    for index, module in builder.modules.items():
        if not rows[index].trainable:
            for p in module.parameters():
                p.requires_grad_(False)
    return model, builder


def autocast(precision: str, device: str = "cpu") -> Any:
    if precision in AUTOCAST:
        return torch.autocast(device, dtype=AUTOCAST[precision])
    return nullcontext()


def example_inputs(report: Report, precision: str, device: str = "cpu") -> list[torch.Tensor]:
    """One random tensor for each model input."""
    assert report.graph is not None
    dtype = TORCH_DTYPES[precision]
    return [torch.randn(t.shape, dtype=dtype, device=device) for t in report.graph.inputs]


def loss(out: Any) -> torch.Tensor:
    """The sum of squares of every output, so each output gets a gradient."""
    outputs = out if isinstance(out, tuple) else (out,)
    return sum(o.float().square().sum() for o in outputs)  # type: ignore[return-value]


def measure_saved(report: Report, precision: str = "fp32", device: str = "cpu") -> Measurement:
    """What autograd saves in the forward pass of a training step, then the backward pass
    (so a model whose saved tensors torch cannot use fails here)."""
    model, _ = build(report, precision, device=device)
    excluded = {storage(t) for t in (*model.parameters(), *model.buffers())}
    running: list[int] = [0]
    unused = [False]
    edges: dict[int, tuple[set[int | None], set[int | None]]] = {}

    class Edges(Observer):
        """Which row runs, and the storages it makes."""

        def before(self, step: Step) -> None:
            running[0] = step.row.index
            unused[0] = not step.row.used
            edges[step.row.index] = (set(), set())

        def after(self, step: Step, output: Any) -> None:
            pieces = output if isinstance(output, tuple | list) else (output,)
            edges[step.row.index][1].update(storage(p) for p in pieces)

    def reads(_module: nn.Module, inputs: Any) -> None:
        edges[running[0]][0].update(storage(x) for x in inputs)

    for module in model.layers:
        module.register_forward_pre_hook(reads)
    model.observer = Edges()
    seen: dict[int, Saved] = {}
    pending: list[tuple[int, int, Any]] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        ptr = storage(t)
        # a row no output needs: what it saves is freed with its output at once
        if ptr not in excluded and ptr not in seen and not unused[0]:
            s = t.untyped_storage()
            seen[ptr] = Saved(running[0], s.nbytes(), str(t.dtype).removeprefix("torch."), "")
            pending.append((ptr, running[0], t))
        return t

    xs = example_inputs(report, precision, device)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast(precision, device):
        out = model(*xs)
    for ptr, index, _t in pending:
        inputs, outputs = edges[index]
        seen[ptr].kind = "input" if ptr in inputs else "output" if ptr in outputs else "new"
    loss(out).backward()
    return Measurement(list(seen.values()))


@dataclass
class StepMemory:
    """The memory of a steady-state training step: ``resident`` is what lives between
    steps (parameters, buffers, optimizer state), ``peak`` the most allocated at once
    during the step (``resident`` included)."""

    resident: int
    peak: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int


def tensor_bytes(t: torch.Tensor) -> int:
    return t.untyped_storage().nbytes()


OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=1e-3),
    "momentum": lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-3),
}


@contextmanager
def allocations() -> Iterator[list[int]]:
    """The CPU bytes allocated at once, at most, while the block runs (beyond what was
    allocated before), from the profiler's memory events in time order."""
    from torch.profiler import ProfilerActivity, profile

    peak = [0]
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        yield peak
    events = sorted(
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU
    )
    current = 0
    for _, delta in events:
        current += delta
        peak[0] = max(peak[0], current)


def measure_step(report: Report, precision: str = "fp32", optimizer: str = "adam") -> StepMemory:
    """Two training steps; the second one's peak is measured (the first creates the
    optimizer state lazily)."""
    model, _ = build(report, precision)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = OPTIMIZERS[optimizer](trainable)
    xs = example_inputs(report, precision)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(precision):
            out = model(*xs)
        loss(out).backward()
        opt.step()

    step()
    params = sum(tensor_bytes(p) for p in model.parameters())
    buffers = sum(tensor_bytes(b) for b in model.buffers())
    grads = sum(tensor_bytes(p.grad) for p in trainable if p.grad is not None)
    state = sum(
        tensor_bytes(v) for s in opt.state.values() for v in s.values() if isinstance(v, torch.Tensor)
    )
    opt.zero_grad(set_to_none=True)
    with allocations() as peak:
        step()
    resident = params + buffers + state + sum(tensor_bytes(x) for x in xs)
    return StepMemory(resident, resident + peak[0], params, grads, state)


def measure_inference(report: Report, precision: str = "fp32") -> int:
    """The peak of one inference pass (``eval()``, ``torch.no_grad``): parameters, buffers
    and the input, plus the most the pass allocates at once."""
    model, _ = build(report, precision)
    model.eval()
    xs = example_inputs(report, precision)
    held = sum(tensor_bytes(t) for t in (*model.parameters(), *model.buffers()))
    held += sum(tensor_bytes(x) for x in xs)
    with torch.no_grad(), autocast(precision):
        model(*xs)  # warm-up: first-call caches stay out of the measured pass
        with allocations() as peak:
            out = model(*xs)
    del out
    return held + peak[0]
