"""cnncalc: exact shapes, parameters and compute of convolutional networks, before any model
code is written.

    >>> from cnncalc import load_model, analyse
    >>> report = analyse(load_model("conv2d(6, 5) -> relu", input_shape=(1, 32, 32)))
    >>> report.output_shape
    (1, 6, 28, 28)

The names below are imported on first use, so ``python -m cnncalc conv`` or ``--help`` do not
load the model reader and the graph they never touch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .errors import CnncalcError, LimitError, ShapeError, SpecError
    from .graph import analyse
    from .model import Model, load_model
    from .report import Report, Row, Totals

EXPORTS = {
    "CnncalcError": ".errors", "LimitError": ".errors", "ShapeError": ".errors",
    "SpecError": ".errors", "analyse": ".graph", "Report": ".report", "Row": ".report",
    "Totals": ".report", "Model": ".model", "load_model": ".model",
}  # fmt: skip
__all__ = [
    "CnncalcError", "LimitError", "Model", "Report", "Row", "ShapeError", "SpecError",
    "Totals", "analyse", "load_model",
]  # fmt: skip
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    return getattr(import_module(EXPORTS[name], __name__), name)
