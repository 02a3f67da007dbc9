"""Specification of `tradewire.registry.schemas`: parsing with references, the normalised form, requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tradewire.errors import RegistryError
from tradewire.registry.client import SchemaReference
from tradewire.registry.records import SchemaVersion
from tradewire.registry.schemas import SchemaRequest, check_schema_type, parse_schema, parse_stored

ADDRESS = SchemaVersion(
    "address", 1, 1, '{"type":"record","name":"Address","namespace":"tw","fields":[{"name":"street","type":"string"}]}'
)
COUNTRY = SchemaVersion("country", 2, 2, '{"type":"enum","name":"Country","namespace":"tw","symbols":["FR","DE"]}')
PLACE = SchemaVersion(
    "place",
    1,
    3,
    '{"type":"record","name":"Place","namespace":"tw","fields":[{"name":"country","type":"Country"}]}',
    (SchemaReference("tw.Country", "country", 2),),
)
STORED = {(s.subject, s.version): s for s in (ADDRESS, COUNTRY, PLACE)}


def _resolve(subject: str, version: int) -> SchemaVersion | None:
    if version == -1:
        candidates = [s for (name, _), s in STORED.items() if name == subject]
        return max(candidates, key=lambda s: s.version) if candidates else None
    return STORED.get((subject, version))


def _error(text: str, references: tuple[SchemaReference, ...] = ()) -> RegistryError:
    with pytest.raises(RegistryError) as raised:
        parse_schema(text, references, _resolve)
    return raised.value


def test_normalised_form_is_javas_compact_to_string() -> None:
    """Whitespace and key order of the request do not matter: the schema is stored in Java's toString order."""
    fields = [{"type": "int", "default": 0, "name": "qty"}]
    text = json.dumps({"fields": fields, "namespace": "tw", "name": "Order", "type": "record"}, indent=2)
    expected = '{"type":"record","name":"Order","namespace":"tw","fields":[{"name":"qty","type":"int","default":0}]}'
    assert expected == parse_schema(text, (), _resolve).schema


def test_references_resolve_recursively() -> None:
    """A schema can use types of its references and of their references."""
    text = json.dumps(
        {
            "type": "record",
            "name": "Shop",
            "namespace": "tw",
            "fields": [{"name": "address", "type": "Address"}, {"name": "place", "type": "tw.Place"}],
        }
    )
    references = (SchemaReference("tw.Address", "address", 1), SchemaReference("tw.Place", "place", 1))
    parsed = parse_schema(text, references, _resolve)
    expected = (
        '{"type":"record","name":"Shop","namespace":"tw","fields":[{"name":"address","type":"Address"},'
        '{"name":"place","type":"Place"}]}'
    )
    assert (expected, references) == (parsed.schema, parsed.references)


def test_latest_reference_is_resolved_to_its_version() -> None:
    """A reference to version -1 names the latest version, and is stored with that number."""
    text = '{"type":"record","name":"R","fields":[{"name":"c","type":"tw.Country"}]}'
    parsed = parse_schema(text, (SchemaReference("tw.Country", "country", -1),), _resolve)
    assert (SchemaReference("tw.Country", "country", 2),) == parsed.references


def test_missing_reference_is_invalid() -> None:
    """A reference to a version that does not exist is 42201 naming the subject and version."""
    error = _error('"string"', (SchemaReference("tw.X", "nowhere", 4),))
    expected = (422, 42201, 'Invalid schema: No schema reference found for subject "nowhere" and version 4')
    assert expected == (error.http_status, error.error_code, error.message)


def test_unresolved_name_is_invalid() -> None:
    """A type name nothing defines is 42201 naming the name and where it is used."""
    error = _error('{"type":"record","name":"R","fields":[{"name":"a","type":"tw.Address"}]}')
    assert "Invalid schema: unknown type 'tw.Address'" in error.message
    assert "(at /fields/0/type)" in error.message


def test_invalid_default_is_invalid() -> None:
    """A default that does not match its type is refused, as Avro Java does for new schemas."""
    error = _error('{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}')
    expected = "Invalid schema: default 'x' of field 'a' does not match its type int (at /fields/0/default)"
    assert expected == error.message


def test_union_default_may_match_any_branch() -> None:
    """As in Avro 1.12, a union default may match any branch, not only the first."""
    text = '{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":3}]}'
    assert '"default":3' in parse_schema(text, (), _resolve).schema


def test_redefining_a_referenced_type_is_invalid() -> None:
    """A schema may not define again a type one of its references defines."""
    text = '{"type":"record","name":"Address","namespace":"tw","fields":[]}'
    error = _error(text, (SchemaReference("tw.Address", "address", 1),))
    assert "type 'tw.Address' is already defined" in error.message


def test_parse_stored_uses_its_references() -> None:
    """A stored version parses with its own references."""
    assert PLACE.schema == parse_stored(PLACE, _resolve).schema


def test_identity_is_type_text_and_references() -> None:
    """Two parses of differently spaced text have the same identity."""
    first = parse_schema('{"type": "string"}', (), _resolve)
    second = parse_schema('"string"', (), _resolve)
    assert ("AVRO", '"string"', ()) == first.identity == second.identity


@pytest.mark.parametrize("value", [None, "AVRO", "avro"])
def test_avro_schema_type(value: str | None) -> None:
    """A missing schemaType or AVRO (any case) is Avro."""
    assert "AVRO" == check_schema_type(value)


@pytest.mark.parametrize("value", ["JSON", "PROTOBUF", 3])
def test_other_schema_types_are_invalid(value: object) -> None:
    """Any other schemaType is 42201 'Invalid schema type X'."""
    with pytest.raises(RegistryError) as raised:
        check_schema_type(value)
    assert (42201, f"Invalid schema type {value}") == (raised.value.error_code, raised.value.message)


def test_schema_request_reads_the_body() -> None:
    """A request body gives the schema, its type, references and the import id and version; the rest is ignored."""
    body = {
        "schema": '"int"',
        "schemaType": "AVRO",
        "references": [{"name": "n", "subject": "s", "version": 1}],
        "id": 5,
        "version": 2,
        "metadata": {"properties": {}},
    }
    expected = SchemaRequest('"int"', "AVRO", (SchemaReference("n", "s", 1),), 5, 2)
    assert expected == SchemaRequest.from_json(body)


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ([], 400, 400, "Expected a JSON object as the request body, got list"),
        ({}, 422, 42201, "Empty schema"),
        ({"schema": {"type": "int"}}, 400, 400, "'schema' must be a string holding the schema's JSON"),
        ({"schema": '"int"', "references": {}}, 400, 400, "'references' must be an array"),
        ({"schema": '"int"', "id": "5"}, 400, 400, "'id' must be an integer"),
    ],
)
def test_schema_request_errors(body: Any, status: int, code: int, message: str) -> None:
    """Bodies of the wrong shape are 400; an empty schema is 42201."""
    with pytest.raises(RegistryError) as raised:
        SchemaRequest.from_json(body)
    assert (status, code, message) == (raised.value.http_status, raised.value.error_code, raised.value.message)
