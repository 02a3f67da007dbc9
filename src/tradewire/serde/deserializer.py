"""Framed bytes -> typed event: the writer's schema from the registry (cached by id), the
reader's from the generated class; the generated fast decoder when they are the same schema,
fastavro's schema resolution when a producer wrote another compatible version.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import fastavro

from tradewire.avro.canonical import dumps, to_json
from tradewire.avro.catalog import Catalog
from tradewire.avro.markers import FixedSpec
from tradewire.avro.model import Named
from tradewire.avro.record import Contract
from tradewire.errors import DecodeError, RegistryError
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
            record = fastavro.schemaless_reader(
                io.BytesIO(body),
                writer.parsed,
                parsed_reader,
                return_record_name=True,
                return_record_name_override=True,
            )
            return cls.from_avro(cast(dict[str, Any], record))
        except DecodeError as error:
            raise DecodeFailure(str(error), "undecodable") from None
        except (ValueError, TypeError, KeyError, IndexError, EOFError, StopIteration) as error:
            raise DecodeFailure(f"{schema_id}: {type(error).__name__}: {error}", "undecodable") from None

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
            except RegistryError as error:
                if error.error_code == 40403:
                    raise DecodeFailure(f"schema id {schema_id} is unknown to the registry", "unknown-schema") from None
                raise
            remote = fetch_schema(self.registry, RegisteredSchema("id", schema_id, schema_id, text, references))
            node = remote.schema_file.node
            if not isinstance(node, Named):
                raise DecodeFailure(f"schema id {schema_id} is not a named record", "wrong-type")
            expanded = dumps(to_json(node, expand=True))
            writer = self._writers[schema_id] = _Writer(
                node.fullname, expanded, fastavro.parse_schema(json.loads(expanded))
            )
            return writer
