"""cnncalc: exact shapes, parameters and compute of convolutional networks, before any model
code is written.

    >>> from cnncalc import load_model, analyse
    >>> report = analyse(load_model("conv2d(6, 5) -> relu", input_shape=(1, 32, 32)))
    >>> report.output_shape
    (1, 6, 28, 28)
"""

from .errors import CnncalcError, LimitError, ShapeError, SpecError
from .graph import analyse
from .report import Report, Row, Totals
from .spec import Model, load_model

__all__ = [
    "CnncalcError", "LimitError", "Model", "Report", "Row", "ShapeError", "SpecError",
    "Totals", "analyse", "load_model",
]  # fmt: skip
__version__ = "0.1.0"
