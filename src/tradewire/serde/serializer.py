"""Typed event -> framed bytes, with the schema id found (or registered) once per event type."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tradewire.avro.canonical import dumps
from tradewire.avro.markers import FixedSpec
from tradewire.avro.record import AvroEnum, Contract
from tradewire.errors import ProduceSerializationError, RegistryError, RegistryUnavailableError
from tradewire.registry.client import RegistryClient, SchemaReference
from tradewire.serde.subjects import topic_subject
from tradewire.serde.wire import frame

__all__ = ["EventSerializer"]

SubjectNamer = Callable[..., str]


class EventSerializer:
    """`serializer(event) -> bytes` in Confluent's wire format.

    With `auto_register` off (the production default: CI pushes schemas), the schema must
    already be registered under the subject; with it on (development), it is registered,
    references first. Ids are cached per class, so the registry is asked once per type and
    later sends work while it is down.
    """

    def __init__(
        self, registry: RegistryClient, *, auto_register: bool = False, subject_name: SubjectNamer = topic_subject
    ) -> None:
        self.registry = registry
        self.auto_register = auto_register
        self.subject_name = subject_name
        self._ids: dict[type[Contract], int] = {}
        self._versions: dict[object, int] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Contract, topic: str | None = None) -> bytes:
        cls = type(event)
        schema_id = self._ids.get(cls)
        if schema_id is None:
            schema_id = self.schema_id(cls, topic)
        return frame(schema_id, event.encode())

    def schema_id(self, cls: type[Contract], topic: str | None = None) -> int:
        """The registered id of a contract class's schema (looked up or registered, then cached)."""
        with self._lock:
            cached = self._ids.get(cls)
            if cached is not None:
                return cached
            topic = topic or getattr(cls, "TOPIC", None)
            subject = self.subject_name(topic, cls.__avro_name__) if topic else cls.SUBJECT
            try:
                references = [self._reference(ref) for ref in cls.__avro_references__]
                schema_id = self._resolve(cls, subject, cls.__avro_schema__, references)
            except (RegistryError, RegistryUnavailableError) as error:
                raise ProduceSerializationError(f"no schema id for {cls.__avro_name__}: {error}") from error
            self._ids[cls] = schema_id
            return schema_id

    def _reference(self, reference: type[Contract] | type[AvroEnum] | FixedSpec) -> SchemaReference:
        if isinstance(reference, FixedSpec):
            name, subject, schema = reference.fullname, reference.fullname, _fixed_text(reference)
            nested: list[SchemaReference] = []
        else:
            name = reference.__avro_name__
            subject = getattr(reference, "SUBJECT", name)
            schema = reference.__avro_schema__
            nested = [self._reference(r) for r in getattr(reference, "__avro_references__", ())]
        version = self._versions.get(reference)
        if version is None:
            registered = self.registry.lookup(subject, schema, nested)
            if registered is None and self.auto_register:
                self.registry.register(subject, schema, nested)
                registered = self.registry.lookup(subject, schema, nested)
            if registered is None:
                raise ProduceSerializationError(
                    f"the shared schema {name} is not registered under subject {subject}; "
                    "run `tradewire registry push` (auto.register.schemas is off)"
                )
            version = self._versions[reference] = registered.version
        return SchemaReference(name, subject, version)

    def _resolve(self, cls: type[Contract], subject: str, schema: str, references: list[SchemaReference]) -> int:
        if self.auto_register:
            return self.registry.register(subject, schema, references)
        registered = self.registry.lookup(subject, schema, references)
        if registered is None:
            raise ProduceSerializationError(
                f"{cls.__avro_name__} (fingerprint {cls.__avro_fingerprint__}) is not registered under subject "
                f"{subject}; run `tradewire registry push` (auto.register.schemas is off)"
            )
        return registered.id


def _fixed_text(spec: FixedSpec) -> str:
    return dumps(spec.schema())
