"""Conformance: the seven compatibility levels (set per subject) and the compatibility test endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance_helpers import INCOMPATIBLE_CODES, Registry, field, quote, record

LEVELS = ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"]


def _accepted(registry: Registry, subject: str, schema: dict[str, Any]) -> bool:
    reply = registry.register(subject, schema)
    assert reply.status in (200, 409), reply.text
    if reply.status == 409:
        assert reply.body["error_code"] in INCOMPATIBLE_CODES
    return reply.status == 200


@pytest.mark.parametrize(
    ("level", "accepted"),
    list(zip(LEVELS, [False, False, True, True, False, False, True], strict=True)),
)
def test_adding_a_field_without_default(
    registry: Registry, subject: str, unique: str, level: str, accepted: bool
) -> None:
    """A new required field breaks new readers of old data: refused by BACKWARD and FULL levels only."""
    registry.set_level(subject, level)
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    assert accepted == _accepted(registry, subject, record(f"Order{unique}", field("id", "string"), field("q", "int")))


@pytest.mark.parametrize(
    ("level", "accepted"),
    list(zip(LEVELS, [True, True, False, False, False, False, True], strict=True)),
)
def test_removing_a_field_without_default(
    registry: Registry, subject: str, unique: str, level: str, accepted: bool
) -> None:
    """Removing a required field breaks old readers of new data: refused by FORWARD and FULL levels only."""
    registry.set_level(subject, level)
    registry.register_id(subject, record(f"Order{unique}", field("id", "string"), field("q", "int")))
    assert accepted == _accepted(registry, subject, record(f"Order{unique}", field("id", "string")))


@pytest.mark.parametrize("level", LEVELS)
def test_adding_an_optional_field_is_compatible_at_every_level(
    registry: Registry, subject: str, unique: str, level: str
) -> None:
    """A new field with a default is backward and forward compatible."""
    registry.set_level(subject, level)
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    schema = record(f"Order{unique}", field("id", "string"), field("q", ["null", "int"], default=None))
    assert _accepted(registry, subject, schema)


def test_none_accepts_a_type_change(registry: Registry, subject: str, unique: str) -> None:
    """NONE checks nothing: even changing a field's type registers."""
    registry.set_level(subject, "NONE")
    registry.register_id(subject, record(f"Order{unique}", field("id", "string")))
    assert _accepted(registry, subject, record(f"Order{unique}", field("id", "boolean")))


@pytest.mark.parametrize(("level", "accepted"), [("BACKWARD", True), ("BACKWARD_TRANSITIVE", False)])
def test_backward_transitive_checks_every_version(
    registry: Registry, subject: str, unique: str, level: str, accepted: bool
) -> None:
    """v3 drops the default v2 gave a new field: fine against v2, not against v1 which lacks the field."""
    registry.set_level(subject, level)
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    registry.register_id(subject, record(f"Order{unique}", field("a", "int"), field("b", "string", default="x")))
    assert accepted == _accepted(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "string")))


@pytest.mark.parametrize(
    ("level", "accepted"),
    [("FORWARD", True), ("FORWARD_TRANSITIVE", False), ("FULL", True), ("FULL_TRANSITIVE", False)],
)
def test_forward_and_full_transitive_check_every_version(
    registry: Registry, subject: str, unique: str, level: str, accepted: bool
) -> None:
    """v3 removes a field v2 defaulted but v1 required: fine for v2's readers, not for v1's."""
    registry.set_level(subject, level)
    registry.register_id(subject, record(f"Order{unique}", field("a", "int"), field("b", "string")))
    registry.register_id(subject, record(f"Order{unique}", field("a", "int"), field("b", "string", default="x")))
    assert accepted == _accepted(registry, subject, record(f"Order{unique}", field("a", "int")))


def test_soft_deleted_versions_are_not_checked(registry: Registry, subject: str, unique: str) -> None:
    """Transitive checks skip soft-deleted versions: without v1, v3 only has to suit v2."""
    registry.set_level(subject, "BACKWARD_TRANSITIVE")
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    registry.register_id(subject, record(f"Order{unique}", field("a", "int"), field("b", "string", default="x")))
    registry.call("DELETE", f"/subjects/{quote(subject)}/versions/1")
    assert _accepted(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "string")))


def test_subject_level_overrides_global(registry: Registry, subject: str, unique: str) -> None:
    """Removing the subject's level (DELETE /config/{s}) brings back the global one."""
    registry.set_level(subject, "NONE")
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    registry.call("DELETE", f"/config/{quote(subject)}")
    global_level = registry.call("GET", "/config").body["compatibilityLevel"]
    accepted = _accepted(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "int")))
    assert (global_level in ("NONE", "FORWARD", "FORWARD_TRANSITIVE")) == accepted


def _test(registry: Registry, subject: str, schema: Any, version: str | None, **query: str) -> Any:
    path = f"/compatibility/subjects/{quote(subject)}/versions" + (f"/{version}" if version else "")
    text = schema if isinstance(schema, str) else json.dumps(schema)
    return registry.call("POST", path, {"schema": text}, query=query or None)


def test_compatibility_endpoint_verdicts(registry: Registry, subject: str, unique: str) -> None:
    """The test endpoint answers is_compatible true or false without registering anything."""
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    good = _test(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "int", default=0)), "latest")
    bad = _test(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "int")), "1")
    assert (200, {"is_compatible": True}) == (good.status, good.body)
    assert (200, {"is_compatible": False}) == (bad.status, bad.body)
    assert [1] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body


def test_verbose_compatibility_messages(registry: Registry, subject: str, unique: str) -> None:
    """verbose=true explains an incompatibility: the error type and field, then the old version."""
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    reply = _test(
        registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "int")), "latest", verbose="true"
    )
    messages = reply.body["messages"]
    assert (200, False) == (reply.status, reply.body["is_compatible"])
    assert messages[0].startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b'")
    assert "{oldSchemaVersion: 1}" in messages


def test_verbose_compatible_has_empty_messages(registry: Registry, subject: str, unique: str) -> None:
    """A compatible verbose check answers an empty message list."""
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    reply = _test(registry, subject, record(f"Order{unique}", field("a", "int")), "latest", verbose="true")
    assert (200, {"is_compatible": True, "messages": []}) == (reply.status, reply.body)


def test_invalid_schema_in_compatibility_test(registry: Registry, subject: str, unique: str) -> None:
    """An invalid schema is 42201, but with verbose=true a 200 answer saying why it is not compatible."""
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    plain = _test(registry, subject, '{"type": "nonsense"}', "latest")
    verbose = _test(registry, subject, '{"type": "nonsense"}', "latest", verbose="true")
    assert (422, 42201) == (plain.status, plain.body["error_code"])
    assert (200, False) == (verbose.status, verbose.body["is_compatible"])
    assert verbose.body["messages"][0].startswith("Invalid schema")


def test_latest_of_an_empty_subject_is_compatible(registry: Registry, subject: str, unique: str) -> None:
    """Testing against `latest` of a subject without versions answers compatible."""
    reply = _test(registry, subject, record(f"Order{unique}", field("a", "int")), "latest")
    assert (200, {"is_compatible": True}) == (reply.status, reply.body)


def test_missing_explicit_version_is_40402(registry: Registry, subject: str, unique: str) -> None:
    """Testing against a version that does not exist is 40402, even for an unknown subject."""
    reply = _test(registry, subject, record(f"Order{unique}", field("a", "int")), "3")
    assert (404, 40402) == (reply.status, reply.body["error_code"])


def test_all_versions_endpoint_applies_the_level(registry: Registry, subject: str, unique: str) -> None:
    """POST /compatibility/subjects/{s}/versions checks as registration would (here transitively)."""
    registry.set_level(subject, "BACKWARD_TRANSITIVE")
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    registry.register_id(subject, record(f"Order{unique}", field("a", "int"), field("b", "string", default="x")))
    reply = _test(registry, subject, record(f"Order{unique}", field("a", "int"), field("b", "string")), None)
    assert (200, {"is_compatible": False}) == (reply.status, reply.body)
