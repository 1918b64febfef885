"""Models from elsewhere, and back: ONNX files and PyTorch modules in (as model documents,
which the ordinary loader reads), readable PyTorch code out.

Heavy packages are imported inside the one function that needs them: ``onnx`` in
``onnx_in``, ``torch`` in ``fx_in`` and in the tests of ``torch_out``'s code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MODULE_SOURCE = re.compile(
    r"(?P<path>.+\.py|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):(?P<name>[A-Za-z_]\w*)\Z"
)


def kind_of(source: str) -> str | None:
    """``"onnx"`` for an .onnx file, ``"module"`` for ``file.py:Name`` or
    ``package.module:Name``, else None (a model file or an inline spec)."""
    if source.lower().endswith(".onnx"):
        return "onnx"
    if MODULE_SOURCE.match(source) and not _is_file(source):
        return "module"
    return None


def _is_file(source: str) -> bool:
    try:
        return Path(source).is_file()
    except (OSError, ValueError):
        return False


def foreign_graph(source: str, input_shape: Any, model_args: dict[str, Any] | None) -> Any:
    """The imported ``Graph`` of an ONNX file or PyTorch module, None for other sources."""
    kind = kind_of(source)
    if isinstance(input_shape, dict):  # --input NAME=DIMS
        input_shape = next(iter(input_shape.values())) if len(input_shape) == 1 else input_shape
    if kind == "onnx":
        from .onnx_in import read_onnx

        return read_onnx(source, input_shape)
    if kind == "module":
        from .fx_in import read_module

        return read_module(source, input_shape, model_args or {})
    return None


def foreign_document(
    source: str, input_shape: Any, model_args: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The model document of an ONNX file or PyTorch module, None for other sources."""
    graph = foreign_graph(source, input_shape, model_args)
    if graph is None:
        return None
    from .document import document

    return document(graph)
