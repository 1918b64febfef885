"""Run the analysed model in PyTorch and confirm every row of the analysis.

The only module of cnncalc that imports torch at the top (layer types import it inside
``to_torch``). ``execute`` builds one module per row of ``Report.plan`` with the row's own
``to_torch``, joins them the way the blocks run (every branch of a residual or parallel
block takes the block input, then ``torch_modules.Merge``), runs random input through the
whole model under ``torch.inference_mode()`` and, through forward hooks on each row's
module, records the shape PyTorch produced, the parameters it holds and the time it took.

Where PyTorch raises (building a module or running it) the run stops at that row, which
is then reported with PyTorch's error: a shape cnncalc computed that PyTorch refuses.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    # torch needs no NumPy here, but without it every run would warn "Failed to initialize
    # NumPy" on stderr (torch does not depend on NumPy, so a plain install lacks it).
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch
    from torch import nn

from .errors import CnncalcError
from .layers.torch_modules import Merge as MergeModule
from .memory import Estimate, default_limit, estimate, limit_reason
from .render import human_bytes, shape_text
from .report import Merge, Report, Row

Shape = tuple[int, ...]
Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``, phase ``"building"`` or ``"running"``."""

RUN_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
DEVICES = ("cpu", "cuda")
MAX_ERROR_CHARS = 600
MAX_LISTED = 5  # differing rows named in the verdict


class RunError(CnncalcError):
    """A run PyTorch cannot make as asked: an element type without kernels, a device that
    is absent, or more memory than the run may have. Exit status 2."""


@dataclass(frozen=True)
class Check:
    """What PyTorch did at one row. ``error`` is set where PyTorch raised there; the shape
    and parameter count are then unknown."""

    row: Row
    actual_shape: Shape | None
    actual_params: int | None
    seconds: float | None
    error: str | None = None

    @property
    def shape_matches(self) -> bool:
        return self.actual_shape == tuple(self.row.output_shape)

    @property
    def params_match(self) -> bool:
        return self.actual_params == self.row.params

    @property
    def match(self) -> bool:
        return self.error is None and self.shape_matches and self.params_match

    def difference(self) -> str:
        """What differs, in words: ``shape [1, 4, 3, 3] vs PyTorch [1, 4, 4, 4]``."""
        if self.error is not None:
            return f"PyTorch raised {self.error}"
        parts = []
        if not self.shape_matches:
            parts.append(
                f"shape {shape_text(self.row.output_shape)} vs PyTorch {shape_text(self.actual_shape)}"
            )
        if not self.params_match:
            parts.append(f"params {self.row.params:,} vs PyTorch {self.actual_params:,}")
        return ", ".join(parts)


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
        return len(self.checks) == len(rows) and all(c.match for c in self.checks.values())

    @property
    def verdict(self) -> str:
        """One line: ``all 53 layers confirmed``, or what differs and where."""
        total = len(self.report.rows)
        if self.ok:
            return f"all {total} layer{'' if total == 1 else 's'} confirmed"
        failed = self.failed
        confirmed = sum(1 for c in self.checks.values() if c.match)
        if failed is not None and self.unsupported:
            return (
                f"PyTorch has no {self.report.dtype} kernel on {self.device} for row "
                f"{failed.row.index} ({failed.row.name}): {failed.error}; the run stopped "
                f"there ({confirmed} rows confirmed); run with --dtype float32 to confirm "
                "the rest"
            )
        differing = [c for c in self.differing if c.error is None]
        listed = "; ".join(
            f"row {c.row.index} ({c.row.name}): {c.difference()}" for c in differing[:MAX_LISTED]
        )
        more = f"; and {len(differing) - MAX_LISTED} more" if len(differing) > MAX_LISTED else ""
        text = (
            f"{len(differing)} of {total} layers differ from PyTorch: {listed}{more}"
            if differing
            else ""
        )
        if failed is None:
            return text
        stop = (
            f"PyTorch raised at row {failed.row.index} ({failed.row.name}) where cnncalc "
            f"computed {shape_text(failed.row.output_shape)}: {failed.error}; the run stopped "
            f"there ({confirmed} rows confirmed, {total - len(self.checks)} not run)"
        )
        return f"{stop}; {text}" if text else stop


# ---- building --------------------------------------------------------------------------
class Block(nn.Module):
    """A residual or parallel block: every branch takes the block input, then the merge
    module joins their outputs. An empty branch (a residual's absent shortcut) is the
    identity, as an empty ``nn.Sequential`` is."""

    def __init__(self, branches: list[nn.Module], merge: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(*[branch(x) for branch in self.branches])


class AllocationFailed(Exception):
    """PyTorch could not allocate memory while building or running a row."""

    def __init__(self, row: Row | None, error: BaseException) -> None:
        super().__init__(describe(error))
        self.row = row
        self.error = error


def allocation_failure(error: BaseException) -> bool:
    """Whether ``error`` is PyTorch (or Python) running out of memory: ``MemoryError``,
    ``torch.OutOfMemoryError``, or the CPU allocator's ``RuntimeError`` ("can't allocate
    memory"). That is the machine's limit, not a shape PyTorch refuses."""
    out_of_memory = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch < 2.5
    if isinstance(error, MemoryError | out_of_memory):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and (
        "can't allocate memory" in text or "DefaultCPUAllocator" in text
    )


class BuildError(Exception):
    """PyTorch (or a ``to_torch``) refused to build a row's module; the text says how."""


class Refused(nn.Module):
    """Stands in for a row whose module could not be built: running it raises that error,
    so the run confirms every row before it and stops here."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = BuildError(f"{describe(error)} (while building the module)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise self.error


def describe(error: BaseException) -> str:
    """An exception as one line: ``RuntimeError: Calculated padded input size ...``."""
    text = " ".join(str(error).split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    if isinstance(error, BuildError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Builder:
    """Builds the model from the plan, one module per row, and keeps each row's module."""

    def __init__(
        self, device: str, dtype: torch.dtype, total: int, progress: Progress | None
    ) -> None:
        self.device = device
        self.dtype = dtype
        self.total = total
        self.progress = progress
        self.modules: dict[int, tuple[Row, nn.Module]] = {}

    def sequence(self, plan: list[Any]) -> nn.Sequential:
        return nn.Sequential(*(self.step(step) for step in plan))

    def step(self, step: Row | Merge) -> nn.Module:
        if isinstance(step, Merge):
            branches = [self.sequence(branch) for branch in step.branches]
            return Block(branches, self.row(step.row, lambda: MergeModule(step.how)))
        assert step.layer is not None, f"row {step.index} has no layer type"
        layer = step.layer
        return self.row(step, lambda: layer.to_torch(step.input_shape))

    def row(self, row: Row, make: Callable[[], nn.Module]) -> nn.Module:
        try:
            module = make().to(device=self.device, dtype=self.dtype)
        except Exception as exc:  # noqa: BLE001 - any refusal is reported on the row
            if allocation_failure(exc):
                raise AllocationFailed(row, exc) from None
            module = Refused(exc)
        self.modules[row.index] = (row, module)
        if self.progress:
            self.progress("building", len(self.modules), self.total)
        return module


# ---- running ---------------------------------------------------------------------------
class Recorder:
    """Forward hooks on every row's module: the output shape, the parameters and the wall
    time of each row as it runs, and which row was running when PyTorch raised."""

    def __init__(self, total: int, device: str, progress: Progress | None) -> None:
        self.total = total
        self.cuda = device == "cuda"
        self.progress = progress
        self.checks: dict[int, Check] = {}
        self.running: Row | None = None
        self.started = 0.0

    def attach(self, row: Row, module: nn.Module) -> None:
        params = (
            None if isinstance(module, Refused) else sum(p.numel() for p in module.parameters())
        )

        def before(_module: nn.Module, _inputs: Any) -> None:
            self.running = row
            self.sync()
            self.started = time.perf_counter()

        def after(_module: nn.Module, _inputs: Any, output: Any) -> None:
            self.sync()
            seconds = time.perf_counter() - self.started
            self.checks[row.index] = Check(row, tuple(output.shape), params, seconds)
            self.running = None
            if self.progress:
                self.progress("running", len(self.checks), self.total)

        module.register_forward_pre_hook(before)
        module.register_forward_hook(after)

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def raised(self, error: Exception, rows: list[Row]) -> Check:
        """Record PyTorch's error on the row that was running (or the first not run)."""
        row = self.running or next((r for r in rows if r.index not in self.checks), rows[-1])
        check = Check(row, None, None, None, describe(error))
        self.checks[row.index] = check
        return check


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


def memory_limit(device: str) -> tuple[int, str]:
    """The default limit and where it comes from: half of the memory free on the device
    (on the CPU, the least of the system's, the container's and the process's limits)."""
    if device == "cuda":
        free, _total = torch.cuda.mem_get_info()
        return free // 2, "half of the free GPU memory"
    return default_limit(), limit_reason()


def check_memory(report: Report, limit: int, reason: str = "--max-memory") -> Estimate:
    """The run's estimated peak; a RunError naming it where it exceeds ``limit``."""
    needed = estimate(report)
    if needed.total > limit:
        raise RunError(
            f"the run would need about {human_bytes(needed.total)} ({needed.total:,} bytes: "
            f"parameters {human_bytes(needed.parameter_bytes)}, activations "
            f"{human_bytes(needed.activation_bytes)}), more than the {human_bytes(limit)} it "
            f"may use ({reason}); raise --max-memory, or run a smaller --input or --batch"
        )
    return needed


def out_of_memory(failed: AllocationFailed, needed: Estimate, limit: int) -> RunError:
    """The refusal for a run PyTorch could not allocate, with PyTorch's figure and ours."""
    where = "" if failed.row is None else f" at row {failed.row.index} ({failed.row.name})"
    return RunError(
        f"PyTorch could not allocate memory{where}: {describe(failed.error)}; the run was "
        f"estimated at about {human_bytes(needed.total)} ({needed.total:,} bytes) against "
        f"a limit of {human_bytes(limit)}, more than this process could get; lower "
        "--max-memory, raise the process's memory limit, or run a smaller --input or --batch"
    )


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
    limit, reason = memory_limit(device) if max_memory is None else (max_memory, "--max-memory")
    needed = check_memory(report, limit, reason)
    try:
        return run(report, seed, device, dtype, needed, limit, progress)
    except AllocationFailed as failed:
        raise out_of_memory(failed, needed, limit) from None


def run(
    report: Report, seed: int, device: str, dtype: torch.dtype, needed: Estimate, limit: int,
    progress: Progress | None,
) -> Execution:  # fmt: skip
    """Build and run the model once; AllocationFailed where PyTorch ran out of memory."""
    rng_devices = [torch.cuda.current_device()] if device == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(seed)
        builder = Builder(device, dtype, len(report.rows), progress)
        model = builder.sequence(report.plan).eval()
        recorder = Recorder(len(report.rows), device, progress)
        for row, module in builder.modules.values():
            recorder.attach(row, module)
        unsupported = False
        with torch.inference_mode():
            try:
                model(torch.randn(report.input_shape, dtype=dtype, device=device))
            except Exception as exc:  # noqa: BLE001 - PyTorch's refusal is the finding
                if allocation_failure(exc):
                    raise AllocationFailed(recorder.running, exc) from None
                unsupported = missing_kernel(recorder.raised(exc, report.rows).error or "")
    checks = dict(sorted(recorder.checks.items()))
    return Execution(report, checks, device, seed, needed, limit, unsupported)
