"""The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro body."""

from __future__ import annotations

import struct

__all__ = ["HEADER_SIZE", "MAGIC_BYTE", "WireFormatError", "frame", "unframe"]

MAGIC_BYTE = 0
"""First byte of every Confluent-framed value (version 0 of the wire format)."""

HEADER_SIZE = 5
"""Magic byte plus the schema id."""

_HEADER = struct.Struct(">bI")


class WireFormatError(ValueError):
    """Bytes that are not Confluent-framed; `reason` is `bad-magic-byte` or `truncated`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def frame(schema_id: int, body: bytes) -> bytes:
    """Prefix an Avro body with the magic byte and the schema id."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + body


def unframe(data: bytes) -> tuple[int, bytes]:
    """The schema id and the Avro body of a framed value."""
    if len(data) < HEADER_SIZE:
        raise WireFormatError(
            f"a framed value has at least {HEADER_SIZE} bytes (magic byte and schema id), this one {len(data)}",
            "truncated",
        )
    if data[0] != MAGIC_BYTE:
        raise WireFormatError(
            f"magic byte is {data[0]}, not {MAGIC_BYTE}: not produced with a Confluent schema registry serializer",
            "bad-magic-byte",
        )
    return _HEADER.unpack_from(data)[1], data[HEADER_SIZE:]
