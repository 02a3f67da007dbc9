"""Specification of `tradewire.registry.compatibility`: Confluent's seven levels and its verbose messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tradewire.avro.model import AvroType
from tradewire.errors import RegistryError
from tradewire.registry.compatibility import (
    CompatibilityLevel,
    PreviousSchema,
    check,
    parse_level,
    versions_to_check,
)
from tradewire.registry.schemas import parse_schema

L = CompatibilityLevel


def _record(*fields: dict[str, Any], name: str = "R") -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields)}, separators=(",", ":"))


def _node(text: str, path: str = "registry:new") -> AvroType:
    return parse_schema(text, (), lambda _subject, _version: None, path=path).node


def _previous(version: int, text: str) -> PreviousSchema:
    normalised = parse_schema(text, (), lambda *_: None).schema
    return PreviousSchema(version, normalised, _node(text, f"registry:s/v{version}"))


A = {"name": "a", "type": "int"}
B = {"name": "b", "type": "string"}
B_DEFAULT = {"name": "b", "type": "string", "default": "x"}


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (L.BACKWARD, False),
        (L.BACKWARD_TRANSITIVE, False),
        (L.FORWARD, True),
        (L.FORWARD_TRANSITIVE, True),
        (L.FULL, False),
        (L.FULL_TRANSITIVE, False),
        (L.NONE, True),
    ],
)
def test_adding_a_required_field(level: CompatibilityLevel, compatible: bool) -> None:
    """A new field without a default breaks backward compatibility only."""
    assert compatible == (not check(level, _node(_record(A, B)), [_previous(1, _record(A))]))


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (L.BACKWARD, True),
        (L.BACKWARD_TRANSITIVE, True),
        (L.FORWARD, False),
        (L.FORWARD_TRANSITIVE, False),
        (L.FULL, False),
        (L.FULL_TRANSITIVE, False),
        (L.NONE, True),
    ],
)
def test_removing_a_required_field(level: CompatibilityLevel, compatible: bool) -> None:
    """Removing a field without a default breaks forward compatibility only."""
    assert compatible == (not check(level, _node(_record(A)), [_previous(1, _record(A, B))]))


def test_versions_to_check() -> None:
    """Plain levels check the latest version, transitive ones all (newest first), NONE none."""
    versions = [1, 2, 3]
    assert [3] == versions_to_check(L.FULL, versions)
    assert [3, 2, 1] == versions_to_check(L.BACKWARD_TRANSITIVE, versions)
    assert [] == versions_to_check(L.NONE, versions)
    assert [] == versions_to_check(L.BACKWARD, [])


def test_backward_messages_have_confluents_shape() -> None:
    """A BACKWARD failure lists each difference, then the old version and schema, then the level."""
    old = _previous(1, _record(A))
    expected = [
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the new "
        "schema has no default value and is missing in the old schema', additionalInfo:'b'}",
        "{oldSchemaVersion: 1}",
        "{oldSchema: '" + _record(A) + "'}",
        "{validateFields: 'false', compatibility: 'BACKWARD'}",
    ]
    assert expected == check(L.BACKWARD, _node(_record(A, B)), [old])


def test_forward_messages_swap_new_and_old() -> None:
    """FORWARD reads new data with the old schema, so the old schema is the one lacking the default."""
    expected = [
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path '/fields/1' in the old "
        "schema has no default value and is missing in the new schema', additionalInfo:'b'}",
        "{oldSchemaVersion: 1}",
        "{oldSchema: '" + _record(A, B) + "'}",
        "{validateFields: 'false', compatibility: 'FORWARD'}",
    ]
    assert expected == check(L.FORWARD, _node(_record(A)), [_previous(1, _record(A, B))])


def test_full_lists_forward_then_backward_messages() -> None:
    """FULL reports the forward differences first and appends the old schema after the backward ones."""
    new = _record({"name": "a", "type": "boolean"})
    expected = [
        "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the old schema does "
        "not match with the new schema', additionalInfo:'reader type: INT not compatible with writer type: BOOLEAN'}",
        "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in the new schema does "
        "not match with the old schema', additionalInfo:'reader type: BOOLEAN not compatible with writer type: INT'}",
        "{oldSchemaVersion: 4}",
        "{oldSchema: '" + _record(A) + "'}",
        "{validateFields: 'false', compatibility: 'FULL'}",
    ]
    assert expected == check(L.FULL, _node(new), [_previous(4, _record(A))])


def test_transitive_stops_at_the_first_failing_version() -> None:
    """Transitive checks go newest first and report only the first failing version's messages."""
    v1, v2, v3 = _previous(1, _record(A)), _previous(2, _record(A, B_DEFAULT)), _previous(3, _record(A, B_DEFAULT))
    ordered = versions_to_check(L.BACKWARD_TRANSITIVE, [v1, v2, v3])
    messages = check(L.BACKWARD_TRANSITIVE, _node(_record(A, B)), ordered)
    assert "{oldSchemaVersion: 1}" == messages[1]
    assert [] == check(L.BACKWARD, _node(_record(A, B)), versions_to_check(L.BACKWARD, [v1, v2, v3]))


@pytest.mark.parametrize(
    ("old", "new", "info"),
    [
        (_record(A, name="R"), _record(A, name="S"), "expected: R"),
        (
            '{"type":"fixed","name":"F","size":4}',
            '{"type":"fixed","name":"F","size":8}',
            "expected: 4, found: 8",
        ),
        (
            '{"type":"enum","name":"E","symbols":["X","Y","Z"]}',
            '{"type":"enum","name":"E","symbols":["X"]}',
            "[Y, Z]",
        ),
        ('["null","string"]', '["null"]', "reader union lacking writer type: STRING"),
    ],
    ids=["name", "fixed-size", "enum-symbols", "union-branch"],
)
def test_additional_info_is_avro_javas_message(old: str, new: str, info: str) -> None:
    """Each incompatibility's additionalInfo is Avro Java's message for it."""
    messages = check(L.BACKWARD, _node(new), [_previous(1, old)])
    assert messages[0].endswith(f"additionalInfo:'{info}'}}")


def test_ambiguous_alias_is_an_unexpected_exception() -> None:
    """A reader field whose aliases match two writer fields makes Java throw; Confluent reports the exception."""
    old = _record(A, {"name": "c", "type": "int"})
    new = _record({"name": "x", "type": "int", "aliases": ["a", "c"]}, A, {"name": "c", "type": "int"})
    messages = check(L.BACKWARD, _node(new), [_previous(1, old)])
    expected = (
        "Unexpected exception during compatibility check: Reader record field x matches multiple fields in writer "
        "record schema"
    )
    assert [expected, "{oldSchemaVersion: 1}"] == messages[:2]


def test_other_schema_type_is_incompatible() -> None:
    """An old version of another schema type is incompatible 'because of different schema type'."""
    old = PreviousSchema(1, "syntax = 'proto3';", None, "PROTOBUF")
    assert "Incompatible because of different schema type" == check(L.BACKWARD, _node('"int"'), [old])[0]


def test_validate_fields_is_reported() -> None:
    """The closing message says whether field validation is on."""
    messages = check(L.BACKWARD, _node(_record(A, B)), [_previous(1, _record(A))], validate_fields=True)
    assert "{validateFields: 'true', compatibility: 'BACKWARD'}" == messages[-1]


def test_long_old_schema_is_truncated() -> None:
    """An old schema longer than 10 KiB is truncated in the message, as Confluent does."""
    doc = "d" * 11000
    old_text = json.dumps({"type": "record", "name": "R", "doc": doc, "fields": [A]}, separators=(",", ":"))
    messages = check(L.BACKWARD, _node(_record(A, B)), [_previous(1, old_text)])
    assert messages[2] == "{oldSchema: <truncated to 10240 characters> '" + old_text[:10240] + "'}"


@pytest.mark.parametrize("name", ["full_transitive", "Full_Transitive", " NONE "])
def test_levels_parse_in_any_case(name: str) -> None:
    """Level names are case-insensitive."""
    assert name.strip().upper() == parse_level(name).value


@pytest.mark.parametrize("value", ["SOMETIMES", None, 3])
def test_invalid_level_is_42203(value: object) -> None:
    """Anything else is 422 / 42203 with Confluent's message."""
    with pytest.raises(RegistryError) as raised:
        parse_level(value)
    assert (422, 42203) == (raised.value.http_status, raised.value.error_code)
    assert raised.value.message.startswith("Invalid compatibility level. Valid values are none, backward")
