"""Producing a record whose header names are arbitrary bytes (not UTF-8), as a client in another language can.

confluent-kafka's `produce()` takes header names as `str` only, so this goes to the librdkafka that
confluent-kafka bundles, through ctypes: `rd_kafka_headers_new`, `rd_kafka_header_add` (names with
an explicit length) and `rd_kafka_producev`.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import confluent_kafka

_VTYPE_END, _VTYPE_TOPIC, _VTYPE_PARTITION, _VTYPE_VALUE, _VTYPE_KEY, _VTYPE_HEADERS = 0, 1, 3, 4, 5, 10
_PRODUCER = 0


def _librdkafka() -> ctypes.CDLL:
    libs = Path(confluent_kafka.__file__).resolve().parent.parent / "confluent_kafka.libs"
    [path] = sorted(libs.glob("librdkafka*"))
    lib = ctypes.CDLL(str(path))
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.rd_kafka_conf_set.argtypes += [ctypes.c_size_t]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_headers_new.restype = ctypes.c_void_p
    lib.rd_kafka_headers_new.argtypes = [ctypes.c_size_t]
    lib.rd_kafka_header_add.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ssize_t]
    lib.rd_kafka_header_add.argtypes += [ctypes.c_char_p, ctypes.c_ssize_t]
    lib.rd_kafka_producev.restype = ctypes.c_int
    lib.rd_kafka_flush.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_flush.restype = ctypes.c_int
    lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_err2str.restype = ctypes.c_char_p
    lib.rd_kafka_err2str.argtypes = [ctypes.c_int]
    return lib


def produce_with_raw_header_names(
    bootstrap: str,
    topic: str,
    *,
    partition: int,
    key: bytes,
    value: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Produce one record whose header names are the given bytes; wait (30 s at most) for the broker."""
    lib = _librdkafka()
    error = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    for name, setting in ((b"bootstrap.servers", bootstrap.encode()), (b"acks", b"all")):
        assert 0 == lib.rd_kafka_conf_set(conf, name, setting, error, len(error)), error.value
    handle = lib.rd_kafka_new(_PRODUCER, conf, error, len(error))
    assert handle, error.value
    try:
        native = lib.rd_kafka_headers_new(len(headers))
        for name, data in headers:
            lib.rd_kafka_header_add(native, name, len(name), data, len(data))
        code = lib.rd_kafka_producev(
            ctypes.c_void_p(handle),
            ctypes.c_int(_VTYPE_TOPIC),
            ctypes.c_char_p(topic.encode()),
            ctypes.c_int(_VTYPE_PARTITION),
            ctypes.c_int32(partition),
            ctypes.c_int(_VTYPE_KEY),
            ctypes.c_char_p(key),
            ctypes.c_size_t(len(key)),
            ctypes.c_int(_VTYPE_VALUE),
            ctypes.c_char_p(value),
            ctypes.c_size_t(len(value)),
            ctypes.c_int(_VTYPE_HEADERS),
            ctypes.c_void_p(native),  # owned by the message once produced
            ctypes.c_int(_VTYPE_END),
        )
        assert 0 == code, lib.rd_kafka_err2str(code)
        assert 0 == lib.rd_kafka_flush(ctypes.c_void_p(handle), 30_000), "not delivered within 30 s"
    finally:
        lib.rd_kafka_destroy(ctypes.c_void_p(handle))
