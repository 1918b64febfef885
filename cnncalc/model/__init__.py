"""Reading models: files, standard input and inline specs, into a ``Model`` tree."""

from __future__ import annotations

import os
import stat
import sys
from typing import Any

from ..errors import LimitError, Location, SpecError
from ..limits import MAX_FILE_BYTES
from .document import build_model, make_model, parse_dims
from .nodes import BlockNode, FailedNode, LayerNode, Model, Node, ShareNode, collector_paused

__all__ = [
    "BlockNode", "FailedNode", "LayerNode", "Model", "Node", "ShareNode", "collector_paused",
    "load_document",
    "load_model", "parse_dims", "read_text",
]  # fmt: skip

InputOverride = tuple[int, ...] | dict[str, tuple[int, ...]] | None


NOT_REGULAR = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def refuse_kind(mode: int, where: Location) -> None:
    """Only regular files are read: a FIFO or device would block or never end."""
    if not stat.S_ISREG(mode):
        kind = NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
        raise SpecError(
            f"is {kind}, not a model file; cnncalc reads regular files, and standard input "
            "as -",
            where,
        )


def read_file(path: str, where: Location) -> bytes:
    """Up to MAX_FILE_BYTES + 1 bytes of a regular file. The kind is checked before the
    open, which would block on a FIFO, and again on the open descriptor (opened without
    blocking), so that a file swapped in between is refused too."""
    refuse_kind(os.stat(path).st_mode, where)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as handle:
        refuse_kind(os.fstat(fd).st_mode, where)
        return handle.read(MAX_FILE_BYTES + 1)


def read_text(source: str) -> str:
    """The text of a model file, or of standard input for ``-``, within MAX_FILE_BYTES."""
    where = Location(source="<stdin>" if source == "-" else printable_path(source))
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            data = read_file(source, where)
    except FileNotFoundError:
        raise SpecError("no such file", where) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", where) from None
    except ValueError:  # a NUL byte in the path
        raise SpecError("not a usable file name", where) from None
    if len(data) > MAX_FILE_BYTES:
        raise LimitError(
            f"the model is larger than {MAX_FILE_BYTES:,} bytes (limit MAX_FILE_BYTES)", where
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", where) from None


def is_existing_path(source: str) -> bool:
    """Whether ``source`` names something on disk (a file, or a directory, FIFO or device
    that ``read_text`` then refuses); an inline spec too long or too odd to be a path is
    not one."""
    try:
        return os.path.lexists(source)
    except (OSError, ValueError):
        return False


def printable_path(path: str) -> str:
    """A path as text that can be printed: bytes of the name that are not UTF-8 (which
    Python keeps as surrogates) shown as U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def load_model(
    source: str,
    input_shape: InputOverride = None,
    model_args: dict[str, Any] | None = None,
) -> Model:
    """Parse a model from a path, ``-`` (standard input) or an inline spec; an ``.onnx``
    file or a PyTorch module (``file.py:Name``, ``package.module:Name``, called with
    ``model_args``) is translated into a model document first (``cnncalc.interop``).

    ``input_shape`` (one sample, no batch) overrides the file's ``input``; a mapping of
    names to shapes overrides those of ``inputs`` (a plain shape only fits a model with one
    input).
    """
    from ..interop import foreign_document

    document = foreign_document(source, input_shape, model_args)
    if document is not None:
        return load_document(document, printable_path(source), input_shape)
    with collector_paused():
        return _load_model(source, input_shape)


def load_document(document: Any, source: str, input_shape: InputOverride = None) -> Model:
    """A Model from a document already in memory: the mapping a model file holds
    (``name``, ``input``/``inputs``, ``define``, ``layers``, ``outputs``)."""
    with collector_paused():
        model = build_model(document, source)
    override_inputs(model, input_shape)
    return model


def _load_model(source: str, input_shape: tuple[int, ...] | None) -> Model:
    if source == "-" or is_existing_path(source) or not is_inline(source):
        from .yaml_loader import load_yaml

        name = "<stdin>" if source == "-" else printable_path(source)
        try:
            document = load_yaml(read_text(source))
        except SpecError as exc:
            raise exc.with_location(source=name) from None
        model = build_model(document, name)
    else:
        from .inline import SOURCE, parse_inline

        model = make_model(parse_inline(source), {}, SOURCE, None, None)
    override_inputs(model, input_shape)
    return model


def is_inline(source: str) -> bool:
    """Whether a source that is no file reads as an inline spec (the parser loads only then:
    a model file never needs it)."""
    from .inline import looks_inline

    return looks_inline(source)


def override_inputs(model: Model, given: InputOverride) -> None:
    """Put ``--input`` values in place of the file's input shapes."""
    if given is None:
        return
    where = Location(source=model.source)
    if not isinstance(given, dict):
        if len(model.inputs) > 1:
            names = ", ".join(model.inputs)
            raise SpecError(
                f"the model has {len(model.inputs)} inputs ({names}); give each as "
                f"--input NAME=DIMS", where
            )
        model.input_shape = tuple(given)
        return
    for name, shape in given.items():
        if name not in model.inputs:
            names = ", ".join(model.inputs)
            raise SpecError(f"--input {name}=...: the model has no input {name!r} (inputs: {names})", where)
        model.inputs = {**model.inputs, name: tuple(shape)}
