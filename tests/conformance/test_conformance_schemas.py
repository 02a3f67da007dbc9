"""Conformance: schemas by global id, and the list of schema types."""

from __future__ import annotations

import json

from conformance_helpers import Registry, field, quote, record

UNLIKELY_ID = 2_147_000_123


def test_schema_by_id(registry: Registry, subject: str, unique: str) -> None:
    """GET /schemas/ids/{id} answers the schema (no id field), whatever `subject` is passed."""
    schema = record(f"Order{unique}", field("id", "string"))
    schema_id = registry.register_id(subject, schema)
    plain = registry.call("GET", f"/schemas/ids/{schema_id}")
    with_subject = registry.call("GET", f"/schemas/ids/{schema_id}", query={"subject": "some-other-subject"})
    compact = json.dumps(schema, separators=(",", ":"))
    assert (200, compact) == (plain.status, plain.body["schema"])
    assert "id" not in plain.body
    assert "AVRO" == plain.body.get("schemaType", "AVRO")
    assert (200, compact) == (with_subject.status, with_subject.body["schema"])


def test_raw_schema_by_id(registry: Registry, subject: str, unique: str) -> None:
    """GET /schemas/ids/{id}/schema answers the schema document itself."""
    schema = record(f"Order{unique}", field("id", "string"))
    schema_id = registry.register_id(subject, schema)
    assert schema == registry.call("GET", f"/schemas/ids/{schema_id}/schema").body


def test_subjects_and_versions_of_an_id(registry: Registry, subject: str, other_subject: str, unique: str) -> None:
    """An id shared by two subjects lists both subjects and both subject versions."""
    schema = record(f"Order{unique}", field("id", "string"))
    schema_id = registry.register_id(subject, schema)
    registry.register_id(other_subject, schema)
    subjects = registry.call("GET", f"/schemas/ids/{schema_id}/subjects").body
    versions = registry.call("GET", f"/schemas/ids/{schema_id}/versions").body
    assert sorted([subject, other_subject]) == sorted(subjects)
    expected = [{"subject": subject, "version": 1}, {"subject": other_subject, "version": 1}]
    assert sorted(expected, key=lambda item: item["subject"]) == sorted(versions, key=lambda item: item["subject"])


def test_unknown_id_is_40403(registry: Registry) -> None:
    """An id nobody registered answers 404 / 40403 'Schema N not found'."""
    reply = registry.call("GET", f"/schemas/ids/{UNLIKELY_ID}")
    assert 404 == reply.status
    assert {"error_code": 40403, "message": f"Schema {UNLIKELY_ID} not found"} == reply.body


def test_soft_deleted_schema_is_still_served_by_id(registry: Registry, subject: str, unique: str) -> None:
    """Deserializers keep working after a soft delete: the id still resolves to the schema."""
    schema = record(f"Order{unique}", field("id", "string"))
    schema_id = registry.register_id(subject, schema)
    registry.call("DELETE", f"/subjects/{quote(subject)}")
    reply = registry.call("GET", f"/schemas/ids/{schema_id}")
    assert (200, json.dumps(schema, separators=(",", ":"))) == (reply.status, reply.body["schema"])


def test_schema_types_include_avro(registry: Registry) -> None:
    """GET /schemas/types lists AVRO."""
    reply = registry.call("GET", "/schemas/types")
    assert 200 == reply.status
    assert "AVRO" in reply.body
