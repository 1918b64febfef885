"""How much memory a PyTorch run of a model needs, and how much it may have.

``execute`` checks the estimate against its limit before it allocates anything, so a model
that would not fit is refused with the figure instead of being killed by the kernel. This
module needs no torch: the figures come from the analysis alone.

The estimate of one inference pass (``torch.inference_mode``, nothing kept for autograd):
    parameters and buffers, in the run's element type
  + one more copy of the largest layer's parameters: CPU kernels reorder weights into
    their own layout, and a module is built in float32 before it is converted
  + the peak of the activations alive at once.
Activations alive while a layer runs: the tensors it reads, its outputs and, for a
sliding-window layer, one (padded) copy of its input; the model inputs (the caller holds
them); and every tensor that a later step still reads or that is a model output (a block
input the later branches need, the finished outputs of earlier branches waiting for the
merge, a skip connection waiting for its concat). Workspace that kernels allocate
internally is not counted; the default limit leaves room for it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from math import prod
from pathlib import Path

from .report import DTYPE_BYTES, Graph, Report, Row

FALLBACK_LIMIT = 2 * 1024**3
"""The default limit where the available memory cannot be read."""

UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip
SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from ``2GiB``, ``500MB``, ``1.5G`` or ``1048576``.

    kB/MB/GB/TB are powers of 1000; KiB/MiB/GiB/TiB and the bare K/M/G/T powers of 1024.
    Raises ValueError with the accepted forms.
    """
    match = SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in UNITS:
        raise ValueError(f"expected a size such as 2GiB, 500MB or 1048576 (bytes), got {text!r}")
    number = match.group(1)
    whole, _, fraction = number.partition(".")
    # Exact integer arithmetic: no float rounding on a count of bytes.
    scale = 10 ** len(fraction)
    value = (int(whole or "0") * scale + int(fraction or "0")) * UNITS[unit] // scale
    if value < 1:
        raise ValueError(f"the size must be at least 1 byte, got {text!r}")
    return value


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    """MemAvailable from /proc/meminfo, in bytes."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    """What the container's memory limit still allows (cgroup v2, then v1), if it has one."""
    for limit_path, usage_path in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit = _read_int(limit_path)  # None for "max": no limit
        if limit is not None and limit < 1 << 60:
            return max(limit - (_read_int(usage_path) or 0), 0)
    return None


def available_memory() -> int | None:
    """Bytes this process could still allocate without swapping, or None if unknown: the
    smaller of the system's MemAvailable and the container's remaining limit."""
    known = [v for v in (_meminfo_available(), _cgroup_headroom()) if v is not None]
    if not known:
        try:
            known.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            return None
    return min(known)


def default_limit() -> int:
    """Half of the available memory, or FALLBACK_LIMIT where that cannot be read."""
    available = available_memory()
    return FALLBACK_LIMIT if available is None else available // 2


@dataclass(frozen=True)
class Estimate:
    """The peak bytes of one inference pass, in two parts."""

    parameter_bytes: int  # parameters and buffers, plus one copy of the largest layer's
    activation_bytes: int  # the most activation bytes alive at once

    @property
    def total(self) -> int:
        return self.parameter_bytes + self.activation_bytes


def estimate(report: Report, dtype: str | None = None) -> Estimate:
    """The peak memory of running ``report``'s model once in ``dtype`` (the report's by
    default)."""
    size = DTYPE_BYTES[dtype or report.dtype]
    largest = max((row.params + row.buffers for row in report.rows), default=0)
    # The largest layer's weights once more, in float32: the kernels' reordered copy, or
    # the float32 original of a module built before its conversion to ``dtype``.
    parameters = (report.totals.params + report.totals.buffers) * size
    parameters += largest * DTYPE_BYTES["float32"]
    held = sum(prod(t.shape) for t in report.inputs) * size
    peak = _peak(report.graph, size) if report.graph is not None else 0
    return Estimate(parameter_bytes=parameters, activation_bytes=max(peak, held))


def _scratch(row: Row) -> int:
    """Elements of the copy a sliding-window layer may make of its input: padded
    explicitly, or reordered into the layout the CPU kernels (oneDNN) work in."""
    window = row.window
    if window is None or len(row.input_shape) != len(window.kernel) + 2:
        return 0
    padded = (
        n + lo + hi
        for n, lo, hi in zip(row.input_shape[2:], window.pad_left, window.pad_right, strict=True)
    )
    return prod(row.input_shape[:2]) * prod(padded)


def _peak(graph: Graph, size: int) -> int:
    """The most activation bytes alive at once when the steps run in order: a tensor lives
    from the step that makes it to the last step that reads it; model inputs and outputs
    live throughout."""
    last_read: dict[int, int] = {}
    for position, step in enumerate(graph.steps):
        for t in step.inputs:
            last_read[t] = position
    kept = {t.id for t in graph.inputs} | {t.id for t in graph.outputs}
    shapes: dict[int, int] = {t.id: prod(t.shape) for t in graph.inputs}
    alive = sum(shapes.values())
    peak = alive
    for position, step in enumerate(graph.steps):
        row = step.row
        made = row.output_shapes or (row.output_shape,)
        out = sum(prod(s) for s in made)
        peak = max(peak, alive + out + _scratch(row))
        for t, s in zip(step.outputs, made, strict=True):
            if t in kept or last_read.get(t, -1) > position:
                shapes[t] = prod(s)
                alive += shapes[t]
        for t in set(step.inputs):
            if last_read.get(t) == position and t not in kept:
                alive -= shapes.pop(t, 0)
    return peak * size
