"""Framed bytes -> typed event: the writer's schema from the registry (cached by id), the
reader's from the generated class; the generated fast decoder when they are the same schema,
fastavro's schema resolution when a producer wrote another compatible version.

Bytes from the wire are untrusted: whatever a decoder raises on them (DecodeError, but also
OverflowError from a timestamp out of range, RecursionError, MemoryError from a huge length,
...) means these bytes can never become an event, so it is a `DecodeFailure` (poison), never
an exception that escapes to the consumer's loop. What the registry answers is checked the
same way: a schema no decoder can use is poison, an answer that is not a schema is the
registry being unavailable (retried). A writer schema with a recursive type is resolved with
fastavro's pure-Python reader, whose recursion Python bounds (RecursionError: poison); its
compiled reader would overflow the C stack on deeply nested data and kill the process.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import fastavro
from fastavro._read_py import schemaless_reader as bounded_schemaless_reader

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.markers import FixedSpec
from tradewire.avro.model import Named
from tradewire.avro.record import Contract
from tradewire.errors import DecodeError, RegistryError, RegistryUnavailableError
from tradewire.registry.client import RegisteredSchema, RegistryClient
from tradewire.registry.remote import fetch_schema
from tradewire.serde.wire import WireFormatError, unframe

__all__ = ["DecodeFailure", "EventDeserializer", "reader_schema"]


class DecodeFailure(Exception):  # noqa: N818 - a reason carrier, turned into PoisonMessageError by the consumer
    """Bytes that can never become an event of the topic; `reason` names the poison kind."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Writer:
    """What is known about a schema id: its full name and how to decode its bytes."""

    fullname: str
    expanded: str
    parsed: Any
    recursive: bool = False


def reader_schema(cls: type[Contract]) -> str:
    """The expanded (self-contained) schema text of a generated contract class."""
    texts = {"reader": cls.__avro_schema__}
    pending: list[Any] = list(cls.__avro_references__)
    while pending:
        reference = pending.pop()
        if isinstance(reference, FixedSpec):
            texts[reference.fullname] = dumps(reference.schema())
            continue
        if reference.__avro_name__ not in texts:
            texts[reference.__avro_name__] = reference.__avro_schema__
            pending.extend(getattr(reference, "__avro_references__", ()))
    catalog = Catalog.from_texts(texts)
    node = catalog.files["reader"].node
    assert node is not None, catalog.problems()
    return dumps(to_json(node, expand=True))


def _describe(error: BaseException) -> str:
    """The error's message, or what it is when even that cannot be had."""
    try:
        return str(error)
    except Exception:  # an exception whose __str__ raises still makes its bytes poison
        return f"<{type(error).__qualname__}>"


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _recursive(schema: Any, enclosing: frozenset[str] = frozenset(), namespace: str = "") -> bool:
    """Whether a (parsed JSON) schema has a named type that contains itself."""
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return False
        fullname = schema if "." in schema or not namespace else f"{namespace}.{schema}"
        return fullname in enclosing
    if isinstance(schema, list):
        return any(_recursive(branch, enclosing, namespace) for branch in schema)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind in ("record", "error"):
        name = str(schema.get("name", ""))
        space = str(schema.get("namespace", namespace)) if "." not in name else name.rpartition(".")[0]
        fullname = name if "." in name or not space else f"{space}.{name}"
        inner = enclosing | {fullname}
        return any(_recursive(item.get("type"), inner, space) for item in schema.get("fields", ()))
    if kind == "array":
        return _recursive(schema.get("items"), enclosing, namespace)
    if kind == "map":
        return _recursive(schema.get("values"), enclosing, namespace)
    return isinstance(kind, (dict, list)) and _recursive(kind, enclosing, namespace)


def _same_type(writer_fullname: str, cls: type[Contract]) -> bool:
    """Avro's record matching: unqualified names equal, or the writer's name among the reader's aliases."""
    return writer_fullname.rpartition(".")[2] == cls.__avro_name__.rpartition(".")[2] or (
        writer_fullname in cls.__avro_aliases__
    )


class EventDeserializer:
    """`deserializer(data, topic) -> event` for the event types a consumer handles.

    Writer schemas are fetched once per id and cached, so decoding goes on while the
    registry is down. `DecodeFailure` means the bytes are poison; `RegistryError` /
    `RegistryUnavailableError` mean the id could not be resolved *now* (not poison).
    """

    def __init__(self, registry: RegistryClient, types: Iterable[type[Contract]], *, topic_prefix: str = "") -> None:
        self.registry = registry
        self.by_topic: dict[str, type[Contract]] = {}
        self._readers: dict[type[Contract], tuple[str, Any]] = {}
        for cls in types:
            topic = getattr(cls, "TOPIC", None)
            if topic:
                self.by_topic[topic_prefix + topic] = cls
        self._writers: dict[int, _Writer] = {}
        self._lock = threading.Lock()

    def __call__(self, data: bytes, topic: str) -> Contract:
        cls = self.by_topic.get(topic)
        if cls is None:
            raise DecodeFailure(f"no event type is handled for topic {topic}", "wrong-type")
        try:
            schema_id, body = unframe(data)
        except WireFormatError as error:
            raise DecodeFailure(str(error), error.reason) from None
        writer = self._writers.get(schema_id) or self._writer(schema_id)
        expanded, parsed_reader = self._reader(cls)
        if not _same_type(writer.fullname, cls):
            raise DecodeFailure(
                f"schema id {schema_id} is {writer.fullname}, not {cls.__avro_name__} (the type of {topic})",
                "wrong-type",
            )
        try:
            if writer.expanded == expanded:
                return cls.decode(body)
            read = bounded_schemaless_reader if writer.recursive else fastavro.schemaless_reader
            record = read(
                io.BytesIO(body),
                writer.parsed,
                parsed_reader,
                return_record_name=True,
                return_record_name_override=True,
            )
            return cls.from_avro(cast(dict[str, Any], record))
        except DecodeError as error:
            raise DecodeFailure(str(error), "undecodable") from None
        except Exception as error:  # untrusted bytes: anything a decoder raises on them makes them poison
            raise DecodeFailure(f"{schema_id}: {type(error).__name__}: {_describe(error)}", "undecodable") from None

    def _reader(self, cls: type[Contract]) -> tuple[str, Any]:
        cached = self._readers.get(cls)
        if cached is None:
            expanded = reader_schema(cls)
            cached = self._readers[cls] = (expanded, fastavro.parse_schema(json.loads(expanded)))
        return cached

    def _writer(self, schema_id: int) -> _Writer:
        with self._lock:
            cached = self._writers.get(schema_id)
            if cached is not None:
                return cached
            try:
                text, references = self.registry.schema_by_id(schema_id)
                remote = fetch_schema(self.registry, RegisteredSchema("id", schema_id, schema_id, text, references))
            except RegistryError as error:
                if error.error_code == 40403:
                    raise DecodeFailure(f"schema id {schema_id} is unknown to the registry", "unknown-schema") from None
                raise
            except (ValueError, KeyError, TypeError, AttributeError) as error:  # a proxy's page, a truncated answer
                raise RegistryUnavailableError(
                    f"the schema registry's answer for schema id {schema_id} is not a schema: "
                    f"{type(error).__name__}: {_describe(error)}"
                ) from None
            node = remote.schema_file.node
            if not isinstance(node, Named):
                raise DecodeFailure(f"schema id {schema_id} is not a named record", "wrong-type")
            try:
                expanded = dumps(to_json(node, expand=True))
                parsed_json = json.loads(expanded)
                parsed = fastavro.parse_schema(parsed_json)
                recursive = _recursive(parsed_json)
            except Exception as error:  # a registered schema fastavro cannot use: its records never decode
                raise DecodeFailure(
                    f"schema id {schema_id} cannot be used to decode: {type(error).__name__}: {_describe(error)}",
                    "undecodable",
                ) from None
            writer = self._writers[schema_id] = _Writer(node.fullname, expanded, parsed, recursive)
            return writer
