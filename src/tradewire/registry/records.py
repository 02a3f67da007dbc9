"""The records of the registry's `_schemas` topic, in Confluent's exact JSON formats.

Every change to the registry is one or more records: a JSON key and a JSON value (or a
tombstone). Keys are written with Confluent's fixed property order, so that the topic's
compaction treats our records and Confluent's alike and either server can replay the
other's topic:

* `{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}` -> a stored version
  `{"subject","version","id","schema","deleted"[,"schemaType"][,"references"]}`;
  soft delete rewrites the same key with `"deleted":true`, hard delete is a tombstone.
* `{"keytype":"CONFIG","subject":s,"magic":0}` -> `{"subject",compatibilityLevel,...}`.
* `{"keytype":"MODE","subject":s,"magic":0}` -> `{"subject","mode"}`.
* `{"keytype":"DELETE_SUBJECT","subject":s,"magic":0}` -> `{"subject","version"}`: every
  version up to `version` is soft-deleted.
* `{"keytype":"NOOP","magic":0}`: carries nothing (Confluent uses it to find the log end).

Global CONFIG and MODE keys omit `subject` (Confluent's `@JsonInclude(NON_EMPTY)`); a
null or empty subject read from the topic also means global. `schemaType` is omitted for
Avro, as CP 7.x writes it (CP 8 writes `"AVRO"`; both read back the same).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

from tradewire.registry.client import SchemaReference
from tradewire.registry.jsontext import loads

__all__ = [
    "AVRO",
    "JsonObject",
    "Record",
    "SchemaIdentity",
    "SchemaVersion",
    "config_record",
    "decode",
    "delete_subject_record",
    "encode",
    "guid_of",
    "mode_record",
    "noop_record",
    "reference_from_json",
    "schema_key",
    "schema_record",
    "schema_tombstone",
    "schema_version_from_json",
]

AVRO = "AVRO"

JsonObject = dict[str, Any]
SchemaIdentity = tuple[str, str, tuple[SchemaReference, ...]]
"""What makes two schemas "the same schema": schema type, normalised text, references."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the `_schemas` topic: a JSON key and a JSON value (`None` = tombstone)."""

    key: JsonObject
    value: JsonObject | None


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One version of a subject as the registry stores it (the value of a SCHEMA record)."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[SchemaReference, ...] = ()
    schema_type: str = AVRO
    deleted: bool = False

    @property
    def identity(self) -> SchemaIdentity:
        """The identity of the schema this version holds (shared by every version holding it)."""
        return (self.schema_type, self.schema, self.references)

    @property
    def guid(self) -> str:
        """A UUID derived from the identity (CP 8 reports one; it is stable across restarts)."""
        return guid_of(self.identity)

    def soft_deleted(self) -> SchemaVersion:
        """This version marked as soft-deleted."""
        return replace(self, deleted=True)


def guid_of(identity: SchemaIdentity) -> str:
    """The MD5 of a schema identity, formatted as a UUID string."""
    schema_type, schema, references = identity
    material = encode({"schemaType": schema_type, "schema": schema, "references": [r.to_json() for r in references]})
    return str(uuid.UUID(bytes=hashlib.md5(material, usedforsecurity=False).digest()))


def encode(value: JsonObject) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order (how Jackson writes Confluent's records)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(raw: bytes | None) -> JsonObject | None:
    """The JSON object of a key or value; `None` for a tombstone. ValueError when it is not an object.

    Records come from a topic anyone with access may write to: text nested deeper than
    `jsontext.MAX_JSON_DEPTH` is a ValueError too, never a RecursionError that would stop a replay.
    """
    if raw is None:
        return None
    value = loads(raw.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _subject_key(keytype: str, subject: str | None) -> JsonObject:
    key: JsonObject = {"keytype": keytype}
    if subject:
        key["subject"] = subject
    key["magic"] = 0
    return key


def schema_key(subject: str, version: int) -> JsonObject:
    """The key of one subject version."""
    return {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}


def schema_record(stored: SchemaVersion) -> Record:
    """A SCHEMA record registering (or soft-deleting, when `stored.deleted`) one version."""
    value: JsonObject = {
        "subject": stored.subject,
        "version": stored.version,
        "id": stored.id,
        "schema": stored.schema,
        "deleted": stored.deleted,
    }
    if stored.schema_type != AVRO:
        value["schemaType"] = stored.schema_type
    if stored.references:
        value["references"] = [reference.to_json() for reference in stored.references]
    return Record(schema_key(stored.subject, stored.version), value)


def schema_tombstone(subject: str, version: int) -> Record:
    """The tombstone that hard-deletes one version."""
    return Record(schema_key(subject, version), None)


def config_record(subject: str | None, config: JsonObject | None) -> Record:
    """Set (or, with `None`, remove) the configuration of a subject or, with subject `None`, the global one."""
    if config is None:
        return Record(_subject_key("CONFIG", subject), None)
    value: JsonObject = {"subject": subject} if subject else {}
    value.update(config)
    return Record(_subject_key("CONFIG", subject), value)


def mode_record(subject: str | None, mode: str | None) -> Record:
    """Set (or, with `None`, remove) the mode of a subject or, with subject `None`, the global one."""
    if mode is None:
        return Record(_subject_key("MODE", subject), None)
    value: JsonObject = {"subject": subject} if subject else {}
    value["mode"] = mode
    return Record(_subject_key("MODE", subject), value)


def delete_subject_record(subject: str, version: int) -> Record:
    """Soft-delete every version of `subject` up to `version` (Confluent's DELETE_SUBJECT)."""
    return Record(_subject_key("DELETE_SUBJECT", subject), {"subject": subject, "version": version})


def noop_record() -> Record:
    """A NOOP record (Confluent writes one to find the end of the log; it changes nothing)."""
    return Record({"keytype": "NOOP", "magic": 0}, None)


def reference_from_json(value: Any) -> SchemaReference:
    """A reference from its JSON form; ValueError when it is not `{name, subject, version}`."""
    if not isinstance(value, dict):
        raise ValueError(f"a reference must be an object, not {value!r}")
    name, subject, version = value.get("name"), value.get("subject"), value.get("version")
    if not isinstance(name, str) or not isinstance(subject, str) or isinstance(version, bool):
        raise ValueError(f"invalid reference {value!r}: needs a string name and subject and an integer version")
    if not isinstance(version, int):
        raise ValueError(f"invalid reference {value!r}: needs a string name and subject and an integer version")
    return SchemaReference(name, subject, version)


def schema_version_from_json(value: JsonObject) -> SchemaVersion:
    """The stored version held by a SCHEMA record value; ValueError when it is malformed."""
    subject, version, schema_id = value.get("subject"), value.get("version"), value.get("id")
    schema = value.get("schema")
    if not isinstance(subject, str) or not isinstance(schema, str):
        raise ValueError("a SCHEMA value needs a string subject and schema")
    if not isinstance(version, int) or not isinstance(schema_id, int):
        raise ValueError("a SCHEMA value needs an integer version and id")
    schema_type = value.get("schemaType") or AVRO
    references = tuple(reference_from_json(item) for item in value.get("references") or ())
    return SchemaVersion(subject, version, schema_id, schema, references, str(schema_type), bool(value.get("deleted")))
