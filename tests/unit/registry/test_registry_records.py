"""Specification of `tradewire.registry.records`: the `_schemas` topic's keys and values, byte for byte."""

from __future__ import annotations

import uuid

import pytest

from tradewire.registry.client import SchemaReference
from tradewire.registry.records import (
    Record,
    SchemaVersion,
    config_record,
    decode,
    delete_subject_record,
    encode,
    mode_record,
    noop_record,
    reference_from_json,
    schema_record,
    schema_tombstone,
    schema_version_from_json,
)

ORDER = '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}'


def _bytes(record: Record) -> tuple[bytes, bytes | None]:
    return encode(record.key), None if record.value is None else encode(record.value)


def test_schema_record_key_and_value() -> None:
    """A registration is a SCHEMA key in Confluent's property order and the stored version as value."""
    record = schema_record(SchemaVersion("orders-value", 1, 7, ORDER))
    expected = (
        b'{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}',
        b'{"subject":"orders-value","version":1,"id":7,"schema":"{\\"type\\":\\"record\\",\\"name\\":\\"Order\\",'
        b'\\"fields\\":[{\\"name\\":\\"id\\",\\"type\\":\\"string\\"}]}","deleted":false}',
    )
    assert expected == _bytes(record)


def test_schema_record_with_references_and_soft_delete() -> None:
    """References follow `deleted`; a soft delete rewrites the same key with deleted true."""
    stored = SchemaVersion("p", 2, 9, '"string"', (SchemaReference("tw.Address", "address", 3),), deleted=True)
    expected = (
        b'{"keytype":"SCHEMA","subject":"p","version":2,"magic":1}',
        b'{"subject":"p","version":2,"id":9,"schema":"\\"string\\"","deleted":true,'
        b'"references":[{"name":"tw.Address","subject":"address","version":3}]}',
    )
    assert expected == _bytes(schema_record(stored))


def test_non_avro_schema_type_is_written() -> None:
    """schemaType is written for other types (omitted for AVRO, as CP 7 does)."""
    value = schema_record(SchemaVersion("p", 1, 1, "syntax = 'proto3';", schema_type="PROTOBUF")).value
    assert value is not None
    assert "PROTOBUF" == value["schemaType"]


def test_hard_delete_is_a_tombstone() -> None:
    """A permanent version delete is the SCHEMA key with no value."""
    assert (b'{"keytype":"SCHEMA","subject":"s","version":4,"magic":1}', None) == _bytes(schema_tombstone("s", 4))


def test_config_records() -> None:
    """CONFIG keys carry the subject (omitted for the global config); values the level and other fields."""
    assert (
        b'{"keytype":"CONFIG","subject":"s","magic":0}',
        b'{"subject":"s","compatibilityLevel":"FULL","normalize":true}',
    ) == _bytes(config_record("s", {"compatibilityLevel": "FULL", "normalize": True}))
    assert (
        b'{"keytype":"CONFIG","magic":0}',
        b'{"compatibilityLevel":"NONE"}',
    ) == _bytes(config_record(None, {"compatibilityLevel": "NONE"}))
    assert (b'{"keytype":"CONFIG","subject":"s","magic":0}', None) == _bytes(config_record("s", None))


def test_mode_records() -> None:
    """MODE keys like CONFIG keys; values `{"subject","mode"}`; removal is a tombstone."""
    assert (
        b'{"keytype":"MODE","subject":"s","magic":0}',
        b'{"subject":"s","mode":"READONLY"}',
    ) == _bytes(mode_record("s", "READONLY"))
    assert (b'{"keytype":"MODE","magic":0}', b'{"mode":"IMPORT"}') == _bytes(mode_record(None, "IMPORT"))
    assert (b'{"keytype":"MODE","subject":"s","magic":0}', None) == _bytes(mode_record("s", None))


def test_delete_subject_and_noop_records() -> None:
    """DELETE_SUBJECT names the highest version deleted; NOOP has only keytype and magic."""
    assert (
        b'{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}',
        b'{"subject":"s","version":3}',
    ) == _bytes(delete_subject_record("s", 3))
    assert (b'{"keytype":"NOOP","magic":0}', None) == _bytes(noop_record())


def test_non_ascii_is_written_as_utf8() -> None:
    """Text is UTF-8, not \\u escapes (as Jackson writes it)."""
    assert '{"keytype":"MODE","subject":"prix-€","magic":0}'.encode() == encode(mode_record("prix-€", "READONLY").key)


def test_decode_reads_any_property_order_and_tombstones() -> None:
    """Keys written in another order (older Karapace) decode to the same object; None stays None."""
    assert {"subject": "s", "magic": 1, "keytype": "SCHEMA", "version": 1} == decode(
        b'{"subject":"s","magic":1,"keytype":"SCHEMA","version":1}'
    )
    assert decode(None) is None


def test_decode_refuses_non_objects() -> None:
    """A key or value that is not a JSON object is a ValueError."""
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        decode(b"[1]")


def test_schema_value_round_trip() -> None:
    """A SCHEMA value read back is the stored version; a missing schemaType means AVRO."""
    stored = SchemaVersion("p", 2, 9, '"string"', (SchemaReference("tw.A", "a", 1),), deleted=True)
    value = schema_record(stored).value
    assert value is not None
    assert stored == schema_version_from_json(decode(encode(value)) or {})


def test_schema_value_must_be_complete() -> None:
    """A SCHEMA value without an integer id is a ValueError."""
    with pytest.raises(ValueError, match="a SCHEMA value needs an integer version and id"):
        schema_version_from_json({"subject": "s", "version": 1, "schema": '"int"'})


def test_reference_from_json_validates() -> None:
    """A reference needs a string name and subject and an integer version."""
    assert SchemaReference("n", "s", 2) == reference_from_json({"name": "n", "subject": "s", "version": 2})
    with pytest.raises(ValueError, match="invalid reference"):
        reference_from_json({"name": "n", "subject": "s", "version": "2"})


def test_guid_is_a_uuid_of_the_identity() -> None:
    """The guid is a valid UUID, equal for equal schemas and different for different ones."""
    first = SchemaVersion("a", 1, 1, ORDER)
    same = SchemaVersion("b", 4, 1, ORDER)
    other = SchemaVersion("a", 2, 2, '"string"')
    assert str(uuid.UUID(first.guid)) == first.guid
    assert first.guid == same.guid
    assert first.guid != other.guid


def test_a_record_nested_too_deep_is_a_value_error() -> None:
    """A key or value nested 5,000 deep (anyone may write to the topic) is a ValueError, never a RecursionError."""
    with pytest.raises(ValueError, match=r"^JSON nesting depth 5001 exceeds the maximum allowed \(500\)$"):
        decode(b'{"keytype": ' + b"[" * 5000 + b"]" * 5000 + b"}")
