"""Reading an .onnx file without its weights.

Protobuf's wire format: each field is a varint key (number << 3 | wire type) and a value;
wire type 2 is a length and that many bytes. The file is walked field by field with
``pread``; an initializer's values (TensorProto fields 4-7 and 9-11) are skipped by their
length, so they are never read, and everything else is copied and parsed by onnx's own
message classes. A 553 MB VGG-16 file is read in 36 MiB.
"""

from __future__ import annotations

import os
from typing import Any

from .onnx_values import messages

MODEL_GRAPH, GRAPH_INITIALIZER = 7, 5
TENSOR_NAME, TENSOR_DATA = 8, frozenset({4, 5, 6, 7, 9, 10, 11})
KEEP_BYTES = 64 * 1024  # values up to this size are kept: shapes, scales, small constants


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message (a truncated or foreign file)."""


def varint(buffer: Any, position: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= end or shift > 63:
            raise WireError(f"a number runs past the end of its message at byte {position}")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def fields(buffer: Any, start: int, end: int) -> Any:
    """(number, wire type, start of the field, start of its value, end of the field)."""
    position = start
    while position < end:
        key, value = varint(buffer, position, end)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, after = varint(buffer, value, end)
        elif wire == 1:
            after = value + 8
        elif wire == 2:
            length, value = varint(buffer, value, end)
            after = value + length
        elif wire == 5:
            after = value + 4
        else:
            raise WireError(f"wire type {wire} at byte {position}")
        if after > end or number == 0:
            raise WireError(f"field {number} at byte {position} runs past the end of its message")
        yield number, wire, position, value, after
        position = after


def slim_tensor(buffer: Any, start: int, end: int) -> tuple[bytes, str | None]:
    """A TensorProto without its values where they are large; the name if they were."""
    kept, dropped, name = bytearray(), False, None
    for number, _wire, first, value, after in fields(buffer, start, end):
        if number in TENSOR_DATA and after - value > KEEP_BYTES:
            dropped = True
            continue
        if number == TENSOR_NAME:
            name = bytes(buffer[value:after]).decode("utf-8", "replace")
        kept += buffer[first:after]
    return bytes(kept), name if dropped else None


def length_delimited(number: int, payload: bytes) -> bytes:
    key, out = (number << 3) | 2, bytearray()
    for value in (key, len(payload)):
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out) + payload


class FileBytes:
    """A file read as bytes on demand: single bytes through a small window, slices with
    ``pread``. Unlike a memory map, pages the walk skips are never read into the process."""

    WINDOW = 64 * 1024

    def __init__(self, descriptor: int, size: int) -> None:
        self.descriptor = descriptor
        self.size = size
        self.start = 0
        self.window = b""

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            return os.pread(self.descriptor, key.stop - key.start, key.start)
        if not self.start <= key < self.start + len(self.window):
            self.start = key
            self.window = os.pread(self.descriptor, self.WINDOW, key)
        return self.window[key - self.start]


def load_slim(path: str) -> tuple[Any, set[str]]:
    """The ModelProto of ``path`` with the large initializer values left out (never read
    from the file), and the names of those initializers."""
    slimmed: set[str] = set()
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise WireError("the file is empty")
        buffer = FileBytes(handle.fileno(), size)
        model = bytearray()
        for number, wire, first, value, after in fields(buffer, 0, size):
            if number != MODEL_GRAPH or wire != 2:
                model += buffer[first:after]
                continue
            graph = bytearray()
            for inner, inner_wire, g_first, g_value, g_after in fields(buffer, value, after):
                if inner == GRAPH_INITIALIZER and inner_wire == 2:
                    tensor, name = slim_tensor(buffer, g_value, g_after)
                    if name is not None:
                        slimmed.add(name)
                    graph += length_delimited(GRAPH_INITIALIZER, tensor)
                else:
                    graph += buffer[g_first:g_after]
            model += length_delimited(MODEL_GRAPH, bytes(graph))
    proto = messages().ModelProto()
    proto.ParseFromString(bytes(model))
    return proto, slimmed
