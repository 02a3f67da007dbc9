"""Conformance: compatibility configuration (/config) and modes (/mode), global and per subject."""

from __future__ import annotations

import json

import pytest
from conformance_helpers import Registry, field, quote, record

LEVELS = {"BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"}


def test_global_config_names_a_level(registry: Registry) -> None:
    """GET /config answers the global compatibilityLevel."""
    reply = registry.call("GET", "/config")
    assert 200 == reply.status
    assert reply.body["compatibilityLevel"] in LEVELS


def test_global_level_can_be_changed_and_restored(registry: Registry) -> None:
    """PUT /config {"compatibility"} changes the global level; GET shows it as compatibilityLevel."""
    original = registry.call("GET", "/config").body["compatibilityLevel"]
    wanted = "FULL" if original != "FULL" else "FORWARD"
    try:
        put = registry.call("PUT", "/config", {"compatibility": wanted})
        assert (200, wanted) == (put.status, put.body["compatibility"])
        assert wanted == registry.call("GET", "/config").body["compatibilityLevel"]
    finally:
        registry.call("PUT", "/config", {"compatibility": original})
    assert original == registry.call("GET", "/config").body["compatibilityLevel"]


def test_subject_without_own_level_is_40408(registry: Registry, subject: str) -> None:
    """GET /config/{s} for a subject without its own level is 40408; defaultToGlobal=true answers the global."""
    missing = registry.call("GET", f"/config/{quote(subject)}")
    merged = registry.call("GET", f"/config/{quote(subject)}", query={"defaultToGlobal": "true"})
    global_level = registry.call("GET", "/config").body["compatibilityLevel"]
    assert 404 == missing.status
    expected = {
        "error_code": 40408,
        "message": f"Subject '{subject}' does not have subject-level compatibility configured",
    }
    assert expected == missing.body
    assert (200, global_level) == (merged.status, merged.body["compatibilityLevel"])


@pytest.mark.parametrize("spelling", ["full_transitive", "Full_Transitive", "FULL_TRANSITIVE"])
def test_subject_level_names_are_case_insensitive(registry: Registry, subject: str, spelling: str) -> None:
    """PUT /config/{s} accepts level names in any case (even for a subject without schemas)."""
    put = registry.call("PUT", f"/config/{quote(subject)}", {"compatibility": spelling})
    got = registry.call("GET", f"/config/{quote(subject)}")
    assert 200 == put.status
    assert (200, "FULL_TRANSITIVE") == (got.status, got.body["compatibilityLevel"])


def test_invalid_level_is_42203(registry: Registry, subject: str) -> None:
    """An unknown level name is 422 / 42203."""
    reply = registry.call("PUT", f"/config/{quote(subject)}", {"compatibility": "SOMETIMES"})
    assert (422, 42203) == (reply.status, reply.body["error_code"])


def test_deleting_subject_config(registry: Registry, subject: str) -> None:
    """DELETE /config/{s} answers the removed config; after it GET is 40408 and DELETE 40401."""
    registry.set_level(subject, "FORWARD")
    deleted = registry.call("DELETE", f"/config/{quote(subject)}")
    after = registry.call("GET", f"/config/{quote(subject)}")
    again = registry.call("DELETE", f"/config/{quote(subject)}")
    assert (200, "FORWARD") == (deleted.status, deleted.body["compatibilityLevel"])
    assert (404, 40408) == (after.status, after.body["error_code"])
    assert (404, 40401) == (again.status, again.body["error_code"])


def test_global_mode_is_readwrite(registry: Registry) -> None:
    """GET /mode answers the global mode (READWRITE on a registry that accepts registrations)."""
    assert {"mode": "READWRITE"} == registry.call("GET", "/mode").body


def test_subject_without_own_mode_is_40409(registry: Registry, subject: str) -> None:
    """GET /mode/{s} without a subject mode is 40409; defaultToGlobal=true answers the global mode."""
    missing = registry.call("GET", f"/mode/{quote(subject)}")
    merged = registry.call("GET", f"/mode/{quote(subject)}", query={"defaultToGlobal": "true"})
    assert (404, 40409) == (missing.status, missing.body["error_code"])
    assert (200, {"mode": "READWRITE"}) == (merged.status, merged.body)


def test_read_only_subject_refuses_new_schemas_but_not_known_ones(
    registry: Registry, subject: str, unique: str
) -> None:
    """In READONLY a new schema is 42205, while re-registering an existing one still answers its id."""
    schema = record(f"Order{unique}", field("a", "int"))
    schema_id = registry.register_id(subject, schema)
    put = registry.call("PUT", f"/mode/{quote(subject)}", {"mode": "READONLY"})
    known = registry.register(subject, schema)
    new = registry.register(subject, record(f"Order{unique}", field("a", "int"), field("b", "int", default=0)))
    deleted = registry.call("DELETE", f"/mode/{quote(subject)}")
    assert (200, {"mode": "READONLY"}) == (put.status, put.body)
    assert (200, schema_id) == (known.status, known.body["id"])
    assert (422, 42205) == (new.status, new.body["error_code"])
    assert (200, {"mode": "READONLY"}) == (deleted.status, deleted.body)


def test_invalid_mode_is_42204(registry: Registry, subject: str) -> None:
    """An unknown mode is 422 / 42204."""
    reply = registry.call("PUT", f"/mode/{quote(subject)}", {"mode": "SOMETIMES"})
    assert (422, 42204) == (reply.status, reply.body["error_code"])


def test_import_mode_needs_force_on_a_subject_with_schemas(registry: Registry, subject: str, unique: str) -> None:
    """Switching a subject with versions to IMPORT is 42205 unless force=true."""
    registry.register_id(subject, record(f"Order{unique}", field("a", "int")))
    refused = registry.call("PUT", f"/mode/{quote(subject)}", {"mode": "IMPORT"})
    forced = registry.call("PUT", f"/mode/{quote(subject)}", {"mode": "IMPORT"}, query={"force": "true"})
    assert (422, 42205) == (refused.status, refused.body["error_code"])
    assert (200, {"mode": "IMPORT"}) == (forced.status, forced.body)


def test_import_mode_registers_with_given_id(registry: Registry, subject: str, other_subject: str, unique: str) -> None:
    """In IMPORT a schema is registered with the id and version given; without an id it is 42205.

    The id is one the same schema already has (allowed in IMPORT), so the registry's id counter is left alone.
    """
    schema = record(f"Imported{unique}", field("a", "int"))
    schema_id = registry.register_id(other_subject, schema)
    put = registry.call("PUT", f"/mode/{quote(subject)}", {"mode": "IMPORT"})
    without_id = registry.register(subject, schema)
    imported = registry.call(
        "POST",
        f"/subjects/{quote(subject)}/versions",
        {"schema": json.dumps(schema), "id": schema_id, "version": 3},
    )
    assert 200 == put.status
    assert (422, 42205) == (without_id.status, without_id.body["error_code"])
    assert (200, schema_id) == (imported.status, imported.body["id"])
    assert [3] == registry.call("GET", f"/subjects/{quote(subject)}/versions").body
