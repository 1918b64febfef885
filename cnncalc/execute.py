"""Run the analysed model in PyTorch and confirm every row of the analysis.

The only module of cnncalc that imports torch at the top (layer types import it inside
``to_torch``). ``execute`` builds one module per row of the report's graph with the row's
own ``to_torch`` (a shared use calls its first use's module), joins them in a
``GraphModule`` whose forward follows the graph, runs random inputs through it under
``torch.inference_mode()`` and, around each step, records the shape PyTorch produced, the
parameters the module holds and the time it took; then compares the model's outputs.

Where PyTorch raises (building a module or running it) the run stops at that row, which
is then reported with PyTorch's error: a shape cnncalc computed that PyTorch refuses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .errors import RunError
from .memory import Estimate, default_limit, estimate
from .report import Graph, Report, Row, Step
from .text import human_bytes

Shape = tuple[int, ...]
Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``, phase ``"building"`` or ``"running"``."""

RUN_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
DEVICES = ("cpu", "cuda")
MAX_ERROR_CHARS = 600


@dataclass(frozen=True)
class Check:
    """What PyTorch did at one row. ``error`` is set where PyTorch raised there; the shape
    and parameter count are then unknown."""

    row: Row
    actual_shape: Shape | None
    actual_params: int | None
    seconds: float | None
    error: str | None = None
    actual_shapes: tuple[Shape, ...] | None = None  # every piece of a split

    @property
    def shape_matches(self) -> bool:
        if self.row.output_shapes is not None or self.actual_shapes is not None:
            return self.actual_shapes == self.row.output_shapes
        return self.actual_shape == tuple(self.row.output_shape)

    @property
    def params_match(self) -> bool:
        return self.actual_params == self.row.params

    @property
    def match(self) -> bool:
        return self.error is None and self.shape_matches and self.params_match


@dataclass(frozen=True)
class Execution:
    """The confirmation of a report by PyTorch: one ``Check`` per row that ran."""

    report: Report
    checks: dict[int, Check]  # by row index; rows after the one where PyTorch raised are absent
    device: str
    seed: int
    estimate: Estimate
    limit: int
    unsupported: bool = False  # the run stopped at a kernel PyTorch lacks for this dtype/device
    outputs: tuple[Shape, ...] = ()  # the shapes of the model's outputs, as PyTorch returned them

    @property
    def outputs_match(self) -> bool:
        return self.outputs == tuple(t.shape for t in self.report.outputs)

    def check(self, row: Row) -> Check | None:
        return self.checks.get(row.index)

    def match(self, row: Row) -> bool | None:
        """Whether PyTorch agrees with the row; None where the run never reached it."""
        check = self.checks.get(row.index)
        return None if check is None else check.match

    @property
    def failed(self) -> Check | None:
        """The row where PyTorch raised, if it did."""
        return next((c for c in self.checks.values() if c.error is not None), None)

    @property
    def differing(self) -> list[Check]:
        return [c for c in self.checks.values() if not c.match]

    @property
    def ok(self) -> bool:
        rows = self.report.rows
        return (
            len(self.checks) == len(rows)
            and all(c.match for c in self.checks.values())
            and self.outputs_match
        )


# ---- building --------------------------------------------------------------------------
class BuildError(Exception):
    """PyTorch (or a ``to_torch``) refused to build a row's module; the text says how."""


class Refused(nn.Module):
    """Stands in for a row whose module could not be built: running it raises that error,
    so the run confirms every row before it and stops here."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = BuildError(f"{describe(error)} (while building the module)")

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        raise self.error


def describe(error: BaseException) -> str:
    """An exception as one line: ``RuntimeError: Calculated padded input size ...``."""
    text = " ".join(str(error).split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    if isinstance(error, BuildError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Observer:
    """Called around each step of a ``GraphModule`` run."""

    def before(self, step: Step) -> None:  # pragma: no cover - interface
        pass

    def after(self, step: Step, output: Any) -> None:  # pragma: no cover - interface
        pass


class GraphModule(nn.Module):
    """The model as one ``nn.Module`` whose forward follows the graph: each step calls its
    row's module on the tensors it reads and keeps what it makes until the last step that
    reads it. A shared layer is one module object, called at every use; ``layers`` holds
    each module once, so ``parameters()`` counts shared weights once.

    ``forward(*inputs)`` takes the model inputs in order and returns the output, or a tuple
    of the outputs for a model with several."""

    def __init__(self, graph: Graph, modules: dict[int, nn.Module]) -> None:
        super().__init__()
        order = list(dict.fromkeys(modules[s.shares or s.row.index] for s in graph.steps))
        self.layers = nn.ModuleList(order)
        self.graph = graph
        self.modules_by_row = modules
        last: dict[int, int] = {}
        for position, step in enumerate(graph.steps):
            for t in step.inputs:
                last[t] = position
        kept = {t.id for t in graph.outputs}
        self.program = [
            (
                step, modules[step.shares or step.row.index],
                tuple(t for t in dict.fromkeys(step.inputs) if last[t] == position and t not in kept),
            )
            for position, step in enumerate(graph.steps)
        ]
        self.observer: Observer | None = None

    def forward(self, *inputs: torch.Tensor) -> Any:
        env: dict[int, Any] = {t.id: x for t, x in zip(self.graph.inputs, inputs, strict=True)}
        observer = self.observer
        for step, module, done in self.program:
            if observer is not None:
                observer.before(step)
            out = module(*(env[t] for t in step.inputs))
            if observer is not None:
                observer.after(step, out)
            if step.row.output_shapes is None:
                env[step.outputs[0]] = out
            else:  # a split: a tuple of pieces, even of one
                for t, piece in zip(step.outputs, out, strict=True):
                    env[t] = piece
            for t in done:
                del env[t]
        outputs = tuple(env[t.id] for t in self.graph.outputs)
        return outputs[0] if len(outputs) == 1 else outputs


class Builder:
    """Builds one module per row (a shared use reuses its first use's), and the model."""

    def __init__(
        self, device: str, dtype: torch.dtype, total: int, progress: Progress | None
    ) -> None:
        self.device = device
        self.dtype = dtype
        self.total = total
        self.progress = progress
        self.modules: dict[int, nn.Module] = {}

    def model(self, graph: Graph) -> GraphModule:
        for step in graph.steps:
            if step.shares is None:
                self.row(step.row)
            elif self.progress:
                self.progress("building", step.row.index, self.total)
        return GraphModule(graph, self.modules)

    def row(self, row: Row) -> None:
        layer = row.layer
        assert layer is not None, f"row {row.index} has no layer type"
        try:
            module = self.make(row).to(device=self.device, dtype=self.dtype)
        except Exception as exc:  # noqa: BLE001 - any refusal is reported on the row
            module = Refused(exc)
        self.modules[row.index] = module
        if self.progress:
            self.progress("building", row.index, self.total)

    @staticmethod
    def make(row: Row) -> nn.Module:
        if row.type == "upsample" and len(row.sources) == 2:  # upsample: {size_of: NAME}
            from .layers.graph_modules import UpsampleTo

            args = row.layer.args  # type: ignore[union-attr]
            return UpsampleTo(args.mode, args.align_corners)
        return row.layer.to_torch(row.input_shape)  # type: ignore[union-attr]


# ---- running ---------------------------------------------------------------------------
class Recorder(Observer):
    """Around every step: the output shape, the parameters and the wall time of each row
    as it runs, and which row was running when PyTorch raised. A shared use holds no
    parameters of its own when it calls the very module of its first use."""

    def __init__(self, model: GraphModule, device: str, progress: Progress | None) -> None:
        self.total = len(model.graph.steps)
        self.cuda = device == "cuda"
        self.progress = progress
        self.checks: dict[int, Check] = {}
        self.running: Row | None = None
        self.started = 0.0
        self.params: dict[int, int | None] = {}
        for step in model.graph.steps:
            module = model.modules_by_row[step.shares or step.row.index]
            if isinstance(module, Refused):
                self.params[step.row.index] = None
            elif step.shares is not None:
                own = model.modules_by_row.get(step.row.index)
                self.params[step.row.index] = 0 if own is None else count(module)
            else:
                self.params[step.row.index] = count(module)

    def before(self, step: Step) -> None:
        self.running = step.row
        self.sync()
        self.started = time.perf_counter()

    def after(self, step: Step, output: Any) -> None:
        self.sync()
        seconds = time.perf_counter() - self.started
        row = step.row
        if isinstance(output, tuple | list):
            shapes = tuple(tuple(piece.shape) for piece in output)
            check = Check(row, shapes[0] if shapes else None, self.params[row.index], seconds,
                          actual_shapes=shapes)  # fmt: skip
        else:
            check = Check(row, tuple(output.shape), self.params[row.index], seconds)
        self.checks[row.index] = check
        self.running = None
        if self.progress:
            self.progress("running", len(self.checks), self.total)

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def raised(self, error: Exception, rows: list[Row]) -> Check:
        """Record PyTorch's error on the row that was running (or the first not run)."""
        row = self.running or next((r for r in rows if r.index not in self.checks), rows[-1])
        check = Check(row, None, None, None, describe(error))
        self.checks[row.index] = check
        return check


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def missing_kernel(error: str) -> bool:
    """Whether PyTorch raised because it has no kernel for this element type or device
    (``"avg_pool3d_out_frame" not implemented for 'Half'``), not because of a shape."""
    return "not implemented for '" in error


# ---- the run ---------------------------------------------------------------------------
def check_request(report: Report, device: str) -> torch.dtype:
    """Refuse what PyTorch cannot run; the element type to run in."""
    if report.error is not None:
        raise report.error
    if report.dtype not in RUN_DTYPES:
        raise RunError(
            f"--dtype {report.dtype} cannot run: PyTorch has no {report.dtype} kernels for "
            "convolution, pooling or normalisation in eager mode; run with "
            f"{', '.join(RUN_DTYPES)} ({report.dtype} still gives the memory figures of "
            "shapes and params)"
        )
    if device not in DEVICES:
        raise RunError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise RunError("CUDA is not available on this machine (torch.cuda.is_available() is False)")
    return RUN_DTYPES[report.dtype]


def memory_limit(device: str) -> int:
    """The default limit: half of the memory free on the device."""
    if device == "cuda":
        free, _total = torch.cuda.mem_get_info()
        return free // 2
    return default_limit()


def check_memory(report: Report, limit: int) -> Estimate:
    """The run's estimated peak; a RunError naming it where it exceeds ``limit``."""
    needed = estimate(report)
    if needed.total > limit:
        raise RunError(
            f"the run would need about {human_bytes(needed.total)} ({needed.total:,} bytes: "
            f"parameters {human_bytes(needed.parameter_bytes)}, activations "
            f"{human_bytes(needed.activation_bytes)}), more than the {human_bytes(limit)} it "
            "may use; raise --max-memory, or run a smaller --input or --batch"
        )
    return needed


def execute(
    report: Report,
    *,
    seed: int = 0,
    device: str = "cpu",
    max_memory: int | None = None,
    progress: Progress | None = None,
) -> Execution:
    """Build the report's model in PyTorch, run random input through it once and compare
    every row: output shape and parameter count.

    ``max_memory`` bounds the estimated peak of the run (default: half the memory free on
    the device). Raises the report's own error where its analysis failed, and RunError for
    a run PyTorch cannot make as asked; where PyTorch raises, the result says so instead.
    """
    dtype = check_request(report, device)
    limit = memory_limit(device) if max_memory is None else max_memory
    needed = check_memory(report, limit)
    rng_devices = [torch.cuda.current_device()] if device == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(seed)
        graph = report.graph
        assert graph is not None
        model = Builder(device, dtype, len(report.rows), progress).model(graph).eval()
        recorder = Recorder(model, device, progress)
        model.observer = recorder
        unsupported = False
        outputs: tuple[Shape, ...] = ()
        with torch.inference_mode():
            try:
                inputs = [torch.randn(t.shape, dtype=dtype, device=device) for t in graph.inputs]
                result = model(*inputs)
                results = result if isinstance(result, tuple) else (result,)
                outputs = tuple(tuple(r.shape) for r in results)
            except Exception as exc:  # noqa: BLE001 - PyTorch's refusal is the finding
                unsupported = missing_kernel(recorder.raised(exc, report.rows).error or "")
    checks = dict(sorted(recorder.checks.items()))
    return Execution(report, checks, device, seed, needed, limit, unsupported, outputs)
