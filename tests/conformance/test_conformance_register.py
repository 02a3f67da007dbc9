"""Conformance: registering schemas (ids, versions, normalisation, references) and looking them up."""

from __future__ import annotations

import json

import pytest
from conformance_helpers import INCOMPATIBLE_CODES, Registry, field, quote, record


def compact(schema: object) -> str:
    """Avro Java's compact `Schema.toString()` of a schema whose keys are already in Java's order."""
    return json.dumps(schema, separators=(",", ":"))


def test_register_answers_an_id_and_stores_the_compact_form(registry: Registry, subject: str, unique: str) -> None:
    """A registered schema gets an id and version 1, and is returned in Avro Java's compact form."""
    schema = record(f"Order{unique}", field("id", "string"), field("qty", "int"))
    schema_id = registry.register_id(subject, json.dumps(schema, indent=4))
    reply = registry.call("GET", f"/subjects/{quote(subject)}/versions/1")
    expected = {"subject": subject, "version": 1, "id": schema_id, "schema": compact(schema)}
    assert 200 == reply.status
    assert expected == {name: reply.body[name] for name in expected}
    assert "AVRO" == reply.body.get("schemaType", "AVRO")


def test_register_response_names_the_version_when_it_has_one(registry: Registry, subject: str, unique: str) -> None:
    """The registration answer has the id; CP 8 also gives version and schema (older servers only the id)."""
    schema = record(f"Order{unique}", field("id", "string"))
    reply = registry.register(subject, schema)
    assert 200 == reply.status
    assert isinstance(reply.body["id"], int)
    assert 1 == reply.body.get("version", 1)
    assert compact(schema) == reply.body.get("schema", compact(schema))


def test_reregistering_the_same_schema_is_idempotent(registry: Registry, subject: str, unique: str) -> None:
    """Registering an identical schema again answers the same id and creates no new version."""
    schema = record(f"Order{unique}", field("id", "string"))
    first = registry.register_id(subject, schema)
    second = registry.register_id(subject, schema)
    assert first == second
    assert [1] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body


def test_whitespace_only_differences_reuse_the_id(registry: Registry, subject: str, unique: str) -> None:
    """A schema differing only in whitespace is the same schema: same id, no new version."""
    schema = record(f"Order{unique}", field("id", "string"))
    first = registry.register_id(subject, json.dumps(schema))
    second = registry.register_id(subject, json.dumps(schema, indent=2))
    assert first == second
    assert [1] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body


def test_same_schema_under_two_subjects_shares_one_id(
    registry: Registry, subject: str, other_subject: str, unique: str
) -> None:
    """One schema registered under two subjects has one global id and version 1 in each."""
    schema = record(f"Order{unique}", field("id", "string"))
    assert registry.register_id(subject, schema) == registry.register_id(other_subject, schema)
    assert [1] == registry.call("GET", f"/subjects/{quote(other_subject)}/versions").body


def test_a_changed_schema_gets_a_new_id_and_version(registry: Registry, subject: str, unique: str) -> None:
    """A compatible change is version 2 with an id different from version 1's."""
    first = registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    second = registry.register_id(
        subject, record(f"Order{unique}", field("id", "string"), field("note", "string", default=""))
    )
    assert first != second
    assert [1, 2] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body


def test_incompatible_schema_is_refused_with_409(registry: Registry, subject: str, unique: str) -> None:
    """Under the default BACKWARD level, adding a field without a default is refused with 409."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.register(subject, record(f"Order{unique}", field("id", "string"), field("qty", "int")))
    assert 409 == reply.status
    assert reply.body["error_code"] in INCOMPATIBLE_CODES
    assert reply.body["message"].startswith(
        f'Schema being registered is incompatible with an earlier schema for subject "{subject}", details: ['
    )
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in reply.body["message"]


@pytest.mark.parametrize(
    "schema_text",
    [
        '{"type": "record", "name": "Bad", "fields": [{"name": "a", "type": "no.such.Type"}]}',
        '{"type": "record", "name": "Bad", "fields": [{"name": "a", "type": "int", "default": "x"}]}',
        '{"type": "record", "name": "Bad"',
        '{"type": "enum", "name": "Bad", "symbols": ["A", "A"]}',
    ],
    ids=["unknown-type", "invalid-default", "not-json", "duplicate-symbol"],
)
def test_invalid_schema_is_refused_with_42201(registry: Registry, subject: str, schema_text: str) -> None:
    """A schema that does not parse (including a default that does not match its type) is 422 / 42201."""
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", {"schema": schema_text})
    assert 422 == reply.status
    assert 42201 == reply.body["error_code"]


def test_unknown_schema_type_is_refused_with_42201(registry: Registry, subject: str) -> None:
    """A schemaType the registry does not know is 422 / 42201 'Invalid schema type'."""
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", {"schema": '"string"', "schemaType": "XML"})
    assert 422 == reply.status
    assert 42201 == reply.body["error_code"]
    assert "Invalid schema type" in reply.body["message"]


def test_register_with_references(registry: Registry, subject: str, other_subject: str, unique: str) -> None:
    """A schema may use a type registered under another subject, named by a reference."""
    address = record(f"Address{unique}", field("street", "string"))
    registry.register_id(subject, address)
    references = [{"name": f"tw.conformance.Address{unique}", "subject": subject, "version": 1}]
    person = record(f"Person{unique}", field("home", f"Address{unique}"))  # same namespace: Java writes the short name
    person_id = registry.register_id(other_subject, person, references)
    version = registry.call("GET", f"/subjects/{quote(other_subject)}/versions/1").body
    by_id = registry.call("GET", f"/schemas/ids/{person_id}").body
    assert (compact(person), references) == (version["schema"], version["references"])
    assert (compact(person), references) == (by_id["schema"], by_id["references"])
    assert [person_id] == registry.call("GET", f"/subjects/{quote(subject)}/versions/1/referencedby").body


def test_reference_to_a_missing_version_is_an_invalid_schema(
    registry: Registry, subject: str, other_subject: str, unique: str
) -> None:
    """A reference to a version that does not exist makes the schema invalid (42201)."""
    registry.register_id(subject, record(f"Address{unique}", field("street", "string")))
    references = [{"name": f"tw.conformance.Address{unique}", "subject": subject, "version": 7}]
    person = record(f"Person{unique}", field("home", f"tw.conformance.Address{unique}"))
    reply = registry.register(other_subject, person, references)
    assert (422, 42201) == (reply.status, reply.body["error_code"])


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json"],
)
def test_every_schema_registry_media_type_is_accepted(
    registry: Registry, subject: str, unique: str, content_type: str
) -> None:
    """Requests with any of the schema registry's media types are understood."""
    body = {"schema": json.dumps(record(f"Order{unique}", field("id", "string")))}
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", body, content_type=content_type)
    assert 200 == reply.status


def test_subject_with_a_slash_is_percent_encoded(registry: Registry, unique: str) -> None:
    """A subject containing '/' travels as %2F and is listed with its slash."""
    name = f"team/conformance-{unique}-value"
    try:
        registry.register_id(name, record(f"Order{unique}", field("id", "string")))
        assert [name] == registry.call("GET", "/subjects", query={"subjectPrefix": f"team/conformance-{unique}"}).body
        assert [1] == registry.call("GET", f"/subjects/{quote(name)}/versions").body
    finally:
        registry.call("DELETE", f"/subjects/{quote(name)}")
        registry.call("DELETE", f"/subjects/{quote(name)}", query={"permanent": "true"})


def test_lookup_finds_the_version_holding_a_schema(registry: Registry, subject: str, unique: str) -> None:
    """POST /subjects/{s} with a registered schema (any whitespace) answers its subject, version and id."""
    schema = record(f"Order{unique}", field("id", "string"))
    schema_id = registry.register_id(subject, schema)
    reply = registry.call("POST", f"/subjects/{quote(subject)}", {"schema": json.dumps(schema, indent=3)})
    expected = {"subject": subject, "version": 1, "id": schema_id, "schema": compact(schema)}
    assert 200 == reply.status
    assert expected == {name: reply.body[name] for name in expected}


def test_lookup_of_an_unregistered_schema_is_40403(registry: Registry, subject: str, unique: str) -> None:
    """Looking up a schema the subject does not hold answers 40403."""
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    reply = registry.call(
        "POST", f"/subjects/{quote(subject)}", {"schema": json.dumps(record(f"Other{unique}", field("x", "int")))}
    )
    assert (404, 40403) == (reply.status, reply.body["error_code"])


def test_lookup_in_an_unknown_subject_is_40401(registry: Registry, subject: str, unique: str) -> None:
    """Looking up a schema in a subject that does not exist answers 40401."""
    reply = registry.call(
        "POST", f"/subjects/{quote(subject)}", {"schema": json.dumps(record(f"Order{unique}", field("id", "int")))}
    )
    assert (404, 40401) == (reply.status, reply.body["error_code"])


def test_lookup_of_soft_deleted_schema_needs_deleted_flag(registry: Registry, subject: str, unique: str) -> None:
    """After a soft delete, lookup answers 40401 unless deleted=true is given."""
    schema = record(f"Order{unique}", field("id", "string"))
    registry.register_id(subject, schema)
    registry.call("DELETE", f"/subjects/{quote(subject)}")
    body = {"schema": json.dumps(schema)}
    hidden = registry.call("POST", f"/subjects/{quote(subject)}", body)
    found = registry.call("POST", f"/subjects/{quote(subject)}", body, query={"deleted": "true"})
    assert (404, 40401) == (hidden.status, hidden.body["error_code"])
    assert (200, 1) == (found.status, found.body["version"])
